"""`cms serve`: Prefect's own server as a child process, then the deployments served (X-3).

Prefect refuses to schedule on its temporary (ephemeral) server, so schedules need a real one. With
nothing to install, that is `prefect server start` on a SQLite database in the data folder
(`<data>/prefect/`), as a child process in a session of its own: Ctrl-C reaches `cms serve` only,
which stops serving (Prefect's `serve()` returns on KeyboardInterrupt) and then stops the server's
whole process group, waiting for it. The server writes its log to `<data>/prefect/server.log`; flow
runs log to this terminal and to the server (its API lists the runs).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from cms_workflows.core.errors import CmsError
from cms_workflows.flows.schedule import CRON  # noqa: F401  (shown by cms serve)

STARTUP_TIMEOUT = 180  # seconds: a fresh server migrates its database first (about 20 s measured)
STOP_TIMEOUT = 30


@dataclass
class PrefectServer:
    process: subprocess.Popen
    api_url: str
    home: Path
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid


def server_env(home: Path, api_url: str, database_url: str | None = None) -> dict[str, str]:
    """The Prefect settings of the server and of the serving process: all state under `home`, the server's
    database SQLite in `home` unless `database_url` names another (postgresql+asyncpg://…, docs/scale.md)."""
    return {
        "PREFECT_HOME": str(home),
        "PREFECT_API_DATABASE_CONNECTION_URL": database_url or f"sqlite+aiosqlite:///{home / 'prefect.db'}",
        "PREFECT_API_URL": api_url,
        "PREFECT_UI_ENABLED": "false",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",  # its telemetry raced the database migration (FACTS.md)
    }


def _port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def _prefect_command() -> list[str]:
    script = Path(sys.executable).with_name("prefect")
    return [str(script)] if script.exists() else [sys.executable, "-m", "prefect"]


def start(data_dir: Path, host: str = "127.0.0.1", port: int = 4200, database_url: str | None = None) -> PrefectServer:
    """Start `prefect server start` on SQLite under `<data_dir>/prefect`, or on `database_url` (does not wait)."""
    if not _port_free(host, port):
        raise CmsError("duties.serve.port_in_use", host=host, port=port)
    home = (Path(data_dir) / "prefect").resolve()
    home.mkdir(parents=True, exist_ok=True)
    api_url = f"http://{host}:{port}/api"
    log_path = home / "server.log"
    env = {**os.environ, **server_env(home, api_url, database_url)}
    with open(log_path, "ab") as log:
        process = subprocess.Popen([*_prefect_command(), "server", "start", "--host", host, "--port", str(port)],
                                   env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   start_new_session=True)
    return PrefectServer(process, api_url, home, log_path)


def wait_healthy(server: PrefectServer, timeout: float = STARTUP_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise CmsError("duties.serve.server_exited", code=server.process.returncode, log=str(server.log_path))
        try:
            with urllib.request.urlopen(server.api_url + "/health", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    stop(server)
    raise CmsError("duties.serve.server_timeout", seconds=int(timeout), log=str(server.log_path))


def stop(server: PrefectServer, timeout: float = STOP_TIMEOUT) -> int | None:
    """Stop the server's process group (SIGTERM, then SIGKILL after `timeout`); its exit code."""
    if server.process.poll() is not None:
        return server.process.returncode
    try:
        os.killpg(server.process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return server.process.wait()
    try:
        return server.process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(server.process.pid, signal.SIGKILL)
        return server.process.wait()


def serve(server: PrefectServer, timezone: str | None = None) -> None:
    """Serve the deployments (the daily sweep, each process flow: prefect.yaml's) against `server` until
    Ctrl-C (Prefect's serve() returns then)."""
    os.environ.update(server_env(server.home, server.api_url))  # before Prefect reads its settings
    from prefect import serve as prefect_serve

    from cms_workflows.flows.cases import deployments as process_deployments
    from cms_workflows.flows.daily_sweep import deployment

    prefect_serve(deployment(timezone), *process_deployments(timezone))  # the sweep and one flow per process
