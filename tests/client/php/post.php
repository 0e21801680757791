<?php
// Echoes a form POST as PHP parsed it.
header('Content-Type: application/json');
echo json_encode([
    'post' => $_POST,
    'files' => array_map(fn ($f) => ['name' => $f['name'], 'size' => $f['size'], 'body' => file_get_contents($f['tmp_name'])], $_FILES),
    'content_type' => $_SERVER['CONTENT_TYPE'] ?? null,
    'content_length' => $_SERVER['CONTENT_LENGTH'] ?? null,
]);
