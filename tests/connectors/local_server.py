"""A threaded http.server on a free loopback port: the base of the fake platform APIs."""

from __future__ import annotations

import threading
from http.server import ThreadingHTTPServer


class LocalServer:
    base_path = ""  # what the platform's base URL ends in (Telegram's "/bot", WeCom's "/cgi-bin")

    def listen(self, handler) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{self.base_path}"

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
