<?php
// Writes ?bytes= bytes: "0123456789abcdef" repeated.
header('Content-Type: application/octet-stream');
$left = (int) ($_GET['bytes'] ?? 0);
$block = str_repeat('0123456789abcdef', 4096);
while ($left > 0) {
    $piece = $left >= strlen($block) ? $block : substr($block, 0, $left);
    echo $piece;
    $left -= strlen($piece);
}
