<?php
// ?code= sets the status; ?to= redirects.
if (isset($_GET['to'])) {
    header('Location: ' . $_GET['to']);
    exit;
}
http_response_code((int) ($_GET['code'] ?? 200));
echo 'status ' . http_response_code();
