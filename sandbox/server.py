"""`python -m sandbox --port N [--scenario PATH]`: the sandbox over HTTP on 127.0.0.1."""

from __future__ import annotations

import argparse
import logging
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from sandbox.core import Sandbox
from sandbox.embedded import env_timing
from sandbox.errors import HostNotFoundError, SimulatedTimeoutError
from sandbox.httpapi import serve_http

_log = logging.getLogger("sandbox.server")


def make_handler(sb: Sandbox) -> type[BaseHTTPRequestHandler]:
    """A request handler class bound to one sandbox."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in two writes: with Nagle on, the body waits for the client's
        # delayed ACK of the headers (~40 ms on Linux), which would swamp injected latency.
        disable_nagle_algorithm = True

        def _serve(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            query = dict(parse_qsl(parts.query, keep_blank_values=True))
            try:
                status, headers, payload = serve_http(
                    sb, self.command, parts.path, query, dict(self.headers.items()), body
                )
            except SimulatedTimeoutError:
                self.close_connection = True  # the client sees the connection drop
                return
            except HostNotFoundError as err:
                status, headers, payload = 502, {"Content-Type": "text/plain"}, str(err).encode()
            self.send_response(status)
            for key, value in headers.items():
                if key.lower() != "content-length":
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_HEAD = do_PUT = do_PATCH = do_POST = do_DELETE = _serve  # noqa: N815

        def log_message(self, format: str, *args: object) -> None:
            _log.debug(format, *args)

    return Handler


class _Server(ThreadingHTTPServer):
    """One thread per connection (keep-alive), and a listen backlog deep enough for a burst of
    concurrent clients (the default of 5 drops SYNs, which TCP retries only after a second)."""

    request_queue_size = 128
    daemon_threads = True


def serve(sb: Sandbox, port: int, host: str = "127.0.0.1") -> ThreadingHTTPServer:
    """Create (not start) a threaded HTTP server for `sb`."""
    return _Server((host, port), make_handler(sb))


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__)
    parser.add_argument("--port", type=int, default=7072)
    parser.add_argument("--scenario", default=None)
    args = parser.parse_args(argv)
    sb = Sandbox(args.scenario)
    sb.set_timing(**env_timing())
    server = serve(sb, args.port)
    print(f"sandbox listening on http://127.0.0.1:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
