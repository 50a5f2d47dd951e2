// The matrix application on Node's http module (ci/matrix/README.md).
// Usage: node app.js PORT VARIANT   (VARIANT: 404 or 405)
'use strict';
const http = require('http');

const port = Number(process.argv[2]);
const variant = process.argv[3] || '404';
const PAGE = '<!doctype html><title>h1spec</title><p>h1spec matrix app\n';
// The methods each route answers; other methods get 404 or 405 + Allow.
const ROUTES = { '/': ['GET', 'HEAD'], '/echo': ['POST'], '/nocontent': ['GET', 'HEAD'] };

function readBody(req, done) {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => done(Buffer.concat(chunks)));
}

function send(res, status, body, headers = {}) {
  res.writeHead(status, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

const server = http.createServer((req, res) => {
  let path;
  try {
    path = new URL(req.url, 'http://localhost').pathname;
  } catch (e) {
    path = null;
  }
  const allowed = ROUTES[path];
  if (!allowed) return send(res, 404, 'not found\n');
  if (!allowed.includes(req.method)) {
    if (variant === '405') {
      // Read the whole body, then answer.
      return readBody(req, () => send(res, 405, 'method not allowed\n', { Allow: allowed.join(', ') }));
    }
    return send(res, 404, 'not found\n');
  }
  if (path === '/') return send(res, 200, PAGE, { 'Content-Type': 'text/html' });
  if (path === '/nocontent') {
    res.writeHead(204);
    return res.end();
  }
  // POST /echo: the body back.
  readBody(req, (body) => {
    res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': body.length });
    res.end(body);
  });
});
server.listen(port, '127.0.0.1');
