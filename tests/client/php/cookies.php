<?php
setcookie('first', 'one');
setcookie('second', 'two', ['path' => '/app', 'httponly' => true]);
header('X-Multi: a');
header('X-Multi: b', false);
echo 'cookies set';
