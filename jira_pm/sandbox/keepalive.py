"""HTTP/1.1 persistent connections for the sandbox, as Jira Cloud and Data Center serve.

werkzeug's development server answers every request with ``Connection: close``
(its ``run_wsgi`` cannot tell where one request ends and the next begins), so a
client against it opened a new TCP connection per request, which no real Jira
makes it do. ``KeepAliveHandler`` answers in its place, which works because the
sandbox's answers are always whole bodies:

- the request body is read to its ``Content-Length`` (or its last chunk) before
  the app runs, so whatever the app leaves unread cannot be taken for the next
  request line;
- each answer goes out with its exact ``Content-Length``;
- the connection closes when the client asks (``Connection: close``, HTTP/1.0),
  or when an answer could not be sent whole (a dropped connection, an app error).

``Connections`` keeps the open sockets, so stopping a sandbox closes the idle
connections clients keep in their pools: a stopped site stops answering.
"""

from __future__ import annotations

import io
import logging
import socket
import threading

from werkzeug.serving import WSGIRequestHandler

log = logging.getLogger(__name__)

# Answers that never carry a body (RFC 9110 §6.4.1).
_NO_BODY = {204, 304}


class Connections:
    """The sockets a server has open, for closing them all when it stops."""

    def __init__(self):
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._closed = False

    def add(self, sock: socket.socket) -> None:
        with self._lock:
            if not self._closed:
                self._open.add(sock)
                return
        _shut(sock)  # accepted just before the server stopped: it gets no answer

    def discard(self, sock: socket.socket) -> None:
        with self._lock:
            self._open.discard(sock)

    def close_all(self) -> None:
        """Shut every open connection down: its handler thread reads EOF and ends."""
        with self._lock:
            sockets, self._open, self._closed = list(self._open), set(), True
        for sock in sockets:
            _shut(sock)


def _shut(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already closed by the client, or by the dropped-connection fault


class KeepAliveHandler(WSGIRequestHandler):
    """Serves many requests on one connection, each answer with its Content-Length; no
    per-request log lines (the sandbox's counters say what was asked)."""

    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        connections = getattr(self.server, "connections", None)
        if connections is not None:
            connections.add(self.connection)

    def finish(self) -> None:
        connections = getattr(self.server, "connections", None)
        if connections is not None:
            connections.discard(self.connection)
        super().finish()

    def log_request(self, *args, **kwargs) -> None:
        pass

    def run_wsgi(self) -> None:
        if self.headers.get("Expect", "").lower().strip(" \t") == "100-continue":
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        environ = self.environ = self.make_environ()
        try:
            body = self._request_body(environ)
        except (TimeoutError, ConnectionError):
            self.close_connection = True  # a body cut short: nobody left to answer
            return
        except (ValueError, OSError):  # a malformed length or chunk: say so, then hang up
            self.close_connection = True
            try:
                self._send("400 Bad Request", [("Content-Type", "text/plain")],
                           b"Malformed request body", environ["REQUEST_METHOD"])
            except (TimeoutError, ConnectionError):
                pass
            return
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        # The body is whole now: a chunked request must not look chunked to the site,
        # or werkzeug reads no Content-Length and hands it an empty body.
        environ.pop("wsgi.input_terminated", None)
        environ.pop("HTTP_TRANSFER_ENCODING", None)

        started: list = []

        def start_response(status, headers, exc_info=None):
            started[:] = [status, headers]
            return self._no_write

        try:
            chunks = self.server.app(environ, start_response)
            try:
                answer = b"".join(chunks)
            finally:
                if hasattr(chunks, "close"):
                    chunks.close()
            self._send(started[0], started[1], answer, environ["REQUEST_METHOD"])
        except (TimeoutError, ConnectionError):
            # A client gone away, or the drop fault shut the socket on purpose.
            self.close_connection = True
        except Exception:
            self.close_connection = True
            log.exception("sandbox answer to %s %s failed", self.command, self.path)
            try:
                self._send("500 Internal Server Error", [("Content-Type", "text/plain")],
                           b"Internal Server Error", environ["REQUEST_METHOD"])
            except (TimeoutError, ConnectionError, ValueError):
                pass

    def _request_body(self, environ) -> bytes:
        """The whole request body: to its Content-Length, or to its last chunk."""
        if environ.get("wsgi.input_terminated"):  # chunked: werkzeug's DechunkedInput
            return environ["wsgi.input"].read()
        length = environ.get("CONTENT_LENGTH") or "0"
        size = int(length)
        if size < 0:
            raise ValueError(f"negative Content-Length {length!r}")
        data = self.rfile.read(size) if size else b""
        if len(data) != size:
            raise ConnectionError("request body cut short")
        return data

    def _send(self, status: str, headers: list, body: bytes, method: str) -> None:
        code_text, _, reason = status.partition(" ")
        code = int(code_text)
        self.send_response(code, reason)
        stated_length = None
        for name, value in headers:
            lowered = name.lower()
            if lowered == "content-length":
                stated_length = value
                continue
            if lowered in ("connection", "transfer-encoding"):
                continue
            self.send_header(name, value)
        if method == "HEAD":
            # No body goes out; the length is the one a GET would have had, if stated.
            if stated_length is not None:
                self.send_header("Content-Length", stated_length)
            body = b""
        elif code in _NO_BODY or 100 <= code < 200:
            body = b""
        else:
            self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if body:
            self.wfile.write(body)
        self.wfile.flush()

    @staticmethod
    def _no_write(data: bytes) -> None:
        raise AssertionError("the sandbox app returns its body; it never calls write()")
