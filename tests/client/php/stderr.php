<?php
// error_log() goes to FCGI_STDERR when php.ini sets no error_log file.
error_log('hello from php stderr');
echo 'logged';
