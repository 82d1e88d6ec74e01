"""The web app under uvicorn in a thread of `cms serve`, beside the scheduler (one process, one worker)."""

from __future__ import annotations

import socket
import threading
import time

import uvicorn

from cms_workflows.core.errors import CmsError


class WebServer:
    """uvicorn serving the app until `stop()`; it runs outside the main thread, so the main thread's
    Ctrl-C stays the scheduler's (uvicorn installs no signal handler there)."""

    def __init__(self, app, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, workers=1, log_level="warning",
                                                    proxy_headers=True, server_header=False))
        self.thread = threading.Thread(target=self.server.run, name="cms-web", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    def start(self, timeout: float = 30.0) -> "WebServer":
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise CmsError("web.server.not_started", host=self.host, port=self.port)
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def require_free_port(host: str, port: int) -> None:
    """A clear message before anything starts, rather than a traceback when uvicorn cannot bind."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            raise CmsError("web.server.port_in_use", host=host, port=port) from None


def start(db, host: str, port: int) -> WebServer:
    from cms_workflows.web.app import create_app

    require_free_port(host, port)
    return WebServer(create_app(db), host, port).start()
