<?php
// A small PHP application for examples/php_proxy.ts: one front controller
// (every URL comes here, as with Laravel or Symfony behind nginx's
// `try_files $uri /index.php?$query_string`).

$path = parse_url($_SERVER['REQUEST_URI'] ?? '/', PHP_URL_PATH);

switch ($path) {
    case '/':
        header('Content-Type: text/plain; charset=utf-8');
        echo 'Hello from PHP ', PHP_MAJOR_VERSION, ' through webfcgi', "\n";
        break;

    case '/form':
        // A classic form post: $_POST, a cookie and a redirect-free answer.
        if ($_SERVER['REQUEST_METHOD'] !== 'POST') {
            http_response_code(405);
            header('Allow: POST');
            break;
        }
        $name = trim($_POST['name'] ?? '');
        setcookie('visitor', $name, ['httponly' => true, 'samesite' => 'Lax']);
        header('Content-Type: text/plain; charset=utf-8');
        echo 'Thanks, ', $name === '' ? 'stranger' : $name, "\n";
        break;

    case '/server':
        // What PHP was told about the request (the CGI params webfcgi sent).
        header('Content-Type: application/json');
        $keys = ['REQUEST_METHOD', 'REQUEST_URI', 'QUERY_STRING', 'SCRIPT_NAME', 'SCRIPT_FILENAME',
            'DOCUMENT_ROOT', 'HTTP_HOST', 'REMOTE_ADDR', 'SERVER_PROTOCOL', 'GATEWAY_INTERFACE'];
        echo json_encode(array_intersect_key($_SERVER, array_flip($keys)) + ['get' => $_GET]);
        break;

    default:
        http_response_code(404);
        header('Content-Type: text/plain; charset=utf-8');
        echo 'No page at ', $path, "\n";
}
