<?php
// 16 KiB as 8 chunks of 2 KiB, each flushed to the web server.
header("Content-Type: application/octet-stream");
while (ob_get_level() > 0) ob_end_flush();
$chunk = str_repeat("y", 2048);
for ($i = 0; $i < 8; $i++) {
    echo $chunk;
    flush();
}
