<?php
// Which worker answered; ?sleep= ms first.
usleep(1000 * (int) ($_GET['sleep'] ?? 0));
echo getmypid();
