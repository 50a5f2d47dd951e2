"""The matrix application as a plain ASGI callable (no framework), served by
uvicorn with its pure-Python h11 protocol (ci/matrix/README.md).
MATRIX_VARIANT=404 or 405 in the environment picks the variant.
Usage: uvicorn --app-dir ci/matrix/uvicorn app:app --http h11 ...
"""
import os

PAGE = b"<!doctype html><title>h1spec</title><p>h1spec matrix app\n"
# The methods each route answers; other methods get 404 or 405 + Allow.
ROUTES = {"/": ("GET", "HEAD"), "/echo": ("POST",), "/nocontent": ("GET", "HEAD")}
VARIANT = os.environ.get("MATRIX_VARIANT", "404")


async def read_body(receive):
    body = b""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return body
        body += message.get("body", b"")
        if not message.get("more_body", False):
            return body


async def reply(send, status, body=b"", ctype=b"text/plain", headers=()):
    h = list(headers)
    if status != 204:
        h += [(b"content-type", ctype), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": h})
    await send({"type": "http.response.body", "body": body if status != 204 else b""})


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    path, method = scope["path"], scope["method"]
    allowed = ROUTES.get(path)
    if allowed is None:
        return await reply(send, 404, b"not found\n")
    if method not in allowed:
        if VARIANT == "405":
            await read_body(receive)
            return await reply(send, 405, b"method not allowed\n", headers=[(b"allow", ", ".join(allowed).encode())])
        return await reply(send, 404, b"not found\n")
    if path == "/":
        return await reply(send, 200, PAGE, b"text/html")
    if path == "/nocontent":
        return await reply(send, 204)
    body = await read_body(receive)
    return await reply(send, 200, body, b"application/octet-stream")
