<?php
// The matrix application for PHP's built-in server (ci/matrix/README.md):
// php -S 127.0.0.1:PORT router.php, with MATRIX_VARIANT=404 or 405 in the
// environment. Every request comes here (the router never returns false).
$variant = getenv('MATRIX_VARIANT') ?: '404';
$page = "<!doctype html><title>h1spec</title><p>h1spec matrix app\n";
// The methods each route answers; other methods get 404 or 405 + Allow.
$routes = ['/' => ['GET', 'HEAD'], '/echo' => ['POST'], '/nocontent' => ['GET', 'HEAD']];

$path = parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH);
$method = $_SERVER['REQUEST_METHOD'];
$body = file_get_contents('php://input');

function reply(int $status, string $body, string $type = 'text/plain'): void {
    http_response_code($status);
    header('Content-Type: ' . $type);
    header('Content-Length: ' . strlen($body));
    echo $body;
}

if (!is_string($path) || !isset($routes[$path])) {
    reply(404, "not found\n");
} elseif (!in_array($method, $routes[$path], true)) {
    if ($variant === '405') {
        header('Allow: ' . implode(', ', $routes[$path]));
        reply(405, "method not allowed\n");
    } else {
        reply(404, "not found\n");
    }
} elseif ($path === '/') {
    reply(200, $page, 'text/html');
} elseif ($path === '/nocontent') {
    http_response_code(204);
} else {
    reply(200, $body, 'application/octet-stream');
}
