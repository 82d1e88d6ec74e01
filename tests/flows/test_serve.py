"""`cms serve` (X-3, issue 12): starts the web app and Prefect's own server as a child process on SQLite in the data folder, serves
the daily sweep's deployment on it, says where the logs go, and on Ctrl-C (SIGINT) stops serving and
stops the server — no process of the server's group is left, its port is free again."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from tests.smtp_server import free_port

ROOT = Path(__file__).resolve().parents[2]


def _group_members(pgid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            found.append(int(stat.parent.name))
    return found


def _deployments(api_url: str) -> list[str]:
    request = urllib.request.Request(api_url + "/deployments/filter", data=b"{}", method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=5) as answer:
        return [d["name"] for d in json.load(answer)]


def _wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except OSError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.slow
def test_x3_cms_serve_starts_prefects_server_serves_the_sweep_and_stops_both_on_ctrl_c(db, cli_env):
    port, web_port = free_port(), free_port()
    env = {**os.environ, **cli_env, "CMS_LOCALE": "en", "PYTHONPATH": str(ROOT)}
    env.pop("PREFECT_API_URL", None)
    proc = subprocess.Popen([sys.executable, "-m", "cms_workflows.cli", "serve", "--prefect-port", str(port),
                             "--port", str(web_port)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    lines: list[str] = []
    readers = [threading.Thread(target=lambda s=s: lines.extend(s), daemon=True) for s in (proc.stdout, proc.stderr)]
    for reader in readers:
        reader.start()
    try:
        started = _wait_for(lambda: next((l for l in lines if "Starting Prefect's server" in l), None), 60, "start")
        server_pid = int(re.search(r"pid (\d+)", started).group(1))
        log = Path(re.search(r"its log: (\S+)", started).group(1))
        assert log == (Path(cli_env["CMS_DATA_DIR"]) / "prefect" / "server.log").resolve()
        _wait_for(lambda: any(f"The web app is up at http://127.0.0.1:{web_port}/" in l for l in lines), 60, "the web app")
        with urllib.request.urlopen(f"http://127.0.0.1:{web_port}/login", timeout=10) as answer:
            assert answer.status == 200 and "Sign in" in answer.read().decode()  # the sign-in page, in CMS_LOCALE
        _wait_for(lambda: any("Serving the daily sweep" in l for l in lines), 180, "the server to be healthy")
        api = f"http://127.0.0.1:{port}/api"
        # every deployment registered (the sweep's first, then one per process) before Ctrl-C: a Ctrl-C while
        # Prefect's serve() is still registering them is not the case under test
        from cms_workflows.flows.cases import FLOWS

        expected = {"daily-sweep", *(f.deployment for f in FLOWS)}
        assert _wait_for(lambda: expected <= set(_deployments(api)), 120, "the deployments"), lines
        assert (Path(cli_env["CMS_DATA_DIR"]) / "prefect" / "prefect.db").exists()  # Prefect's SQLite, in the data folder
        proc.send_signal(signal.SIGINT)  # Ctrl-C
        assert proc.wait(timeout=90) == 0, "".join(lines)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    for reader in readers:
        reader.join(timeout=5)
    assert any("stopped" in l for l in lines), "".join(lines)
    assert _group_members(server_pid) == []  # the server and anything it started are gone
    for freed in (port, web_port):
        with socket.socket() as s:
            assert s.connect_ex(("127.0.0.1", freed)) != 0  # nothing listens on its ports any more
    assert "Traceback" not in "".join(lines), "".join(lines)
