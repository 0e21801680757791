<?php
// Echoes what PHP saw of a GET request.
header('Content-Type: application/json');
echo json_encode([
    'get' => $_GET,
    'method' => $_SERVER['REQUEST_METHOD'],
    'uri' => $_SERVER['REQUEST_URI'],
    'query' => $_SERVER['QUERY_STRING'],
    'script_name' => $_SERVER['SCRIPT_NAME'],
    'https' => $_SERVER['HTTPS'] ?? null,
    'host' => $_SERVER['HTTP_HOST'] ?? null,
    'x_test' => $_SERVER['HTTP_X_TEST'] ?? null,
    'cookie' => $_COOKIE,
    'remote_addr' => $_SERVER['REMOTE_ADDR'],
    'document_root' => $_SERVER['DOCUMENT_ROOT'],
]);
