<?php
// Hashes the raw request body (php://input), which PHP reads by CONTENT_LENGTH.
$hash = hash_init('sha256');
$length = hash_update_stream($hash, fopen('php://input', 'rb'));
header('Content-Type: application/json');
echo json_encode([
    'length' => $length,
    'sha256' => hash_final($hash),
    'content_length' => $_SERVER['CONTENT_LENGTH'] ?? null,
]);
