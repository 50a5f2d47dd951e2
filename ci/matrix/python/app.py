"""The matrix application on Python's http.server (ci/matrix/README.md).

BaseHTTPRequestHandler with protocol_version HTTP/1.1 (keep-alive) on a
ThreadingHTTPServer. Like most applications on http.server it reads a body
by Content-Length only (http.server does not decode chunked bodies).
Usage: python3 app.py PORT VARIANT   (VARIANT: 404 or 405)
"""
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PAGE = b"<!doctype html><title>h1spec</title><p>h1spec matrix app\n"
# The methods each route answers; other methods get 404 or 405 + Allow.
ROUTES = {"/": ("GET", "HEAD"), "/echo": ("POST",), "/nocontent": ("GET", "HEAD")}
VARIANT = sys.argv[2] if len(sys.argv) > 2 else "404"
MAX_BODY = 1 << 20  # like nginx's default client_max_body_size


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body=b"", ctype="text/plain", headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        if status != 204:
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD" and status != 204:
            self.wfile.write(body)

    def read_body(self):
        """The body by Content-Length; None after a 400 (not a number) or a
        413 (over MAX_BODY), which close the connection."""
        try:
            n = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            n = -1
        if n < 0:
            self.send_error(400, "bad Content-Length")
            return None
        if n > MAX_BODY:
            self.send_error(413)
            return None
        return self.rfile.read(n) if n > 0 else b""

    def handle_any(self):
        path = self.path.split("?", 1)[0]
        body = self.read_body()
        if body is None:
            return
        allowed = ROUTES.get(path)
        if allowed is None:
            return self.reply(404, b"not found\n")
        if self.command not in allowed:
            if VARIANT == "405":
                return self.reply(405, b"method not allowed\n", headers=[("Allow", ", ".join(allowed))])
            return self.reply(404, b"not found\n")
        if path == "/":
            return self.reply(200, PAGE, "text/html")
        if path == "/nocontent":
            return self.reply(204)
        return self.reply(200, body, "application/octet-stream")

    def __getattr__(self, name):
        # http.server dispatches to do_METHOD; every method goes to handle_any.
        if name.startswith("do_"):
            return self.handle_any
        raise AttributeError(name)


if __name__ == "__main__":
    ThreadingHTTPServer.daemon_threads = True
    ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
