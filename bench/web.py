"""Web benchmark (issue 12): authorized API reads against a hello-world route of the same app.

A demo installation (`cms demo`'s year, through the services) is served by uvicorn with one worker on
127.0.0.1, in its own process; this process is the load generator: an aiohttp loop holding 50
concurrent keep-alive connections for a fixed number of requests per route (aiohttp rather than httpx:
an httpx loop could not send more than about 200 requests per second here, less than the server takes).
Routes, each measured in the same run (the rounds interleave the routes, so machine noise hits all of them
alike):
- hello:     GET /api/v1/health (no sign-in, no database, no worker thread: an async route; the app's first
             route): the baseline;
- my tasks:  GET /api/v1/tasks as the company's compliance lead (bearer token), whose open tasks the demo year
             leaves (the energy data administrator it asked before had none open: an empty list);
- documents: GET /api/v1/documents?page=1 as the carbon management lead (bearer token).
A read's answer is kept until the installation changes (web/read_cache.py: the sign-in statement reads the audit
chain's head too), and a token's repeat while nothing changed is answered on the event loop, which reads the head
with SQLite's own driver (no worker thread, no second sign-in or decision: the module says why none is needed).
A second server on the same installation keeps nothing (CMS_WEB_READ_CACHE_MB=0): its rows, "(read each time)",
are what a read costs when something changed since the last one, or on a user's first read: signed in,
authorized and read in a worker thread.
Printed per route: requests per second, p50/p99 latency and the server process's CPU time per request (medians
over the rounds), and each read's ratio to hello. Goal: reads at least 0.5 of hello's requests per second, p99
under 50 ms.
The load generator shares the machine's cores with the server: the ratios are the figure to quote.
The load is closed (each connection sends its next request when the last one is answered), so a route's p50 is
about concurrency / its requests per second (Little's law): at 50 connections, p99 under 50 ms needs a route to
serve well over 1,000 requests per second on one worker. A p99 far above the p50 is a stall of the whole server:
the garbage collector's full collections were one (100-300 ms each before the app froze its start-up objects,
web/app.py).

Run: pip install -e ".[bench]"; python bench/web.py [--requests 2000] [--concurrency 50] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
READS = {"my tasks": ("/api/v1/tasks", "compliance.lead"),
         "documents": ("/api/v1/documents?page=1", "carbon.lead")}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _installation(folder: Path) -> dict[str, str]:
    """The demo year on SQLite in `folder`; a bearer token per reading user."""
    sys.path.insert(0, str(ROOT))
    from cms_workflows import demo
    from cms_workflows.core.config import get_settings
    from cms_workflows.core.db import Database
    from cms_workflows.identity import service as identity

    demo.run(folder, echo=lambda _line: None, via_flows=False)
    db = Database.from_settings(get_settings(data_dir=folder, database_url=None, audit_key=None))
    tokens = {}
    for username in {user for _path, user in READS.values()}:
        with db.unit_of_work() as uow:
            tokens[username] = identity.create_token(uow, username, username, label="bench", days=1)[1]
    db.dispose()
    return tokens


async def _load(session: aiohttp.ClientSession, url: str, headers: dict, requests: int,
                concurrency: int) -> tuple[float, list[float]]:
    """(requests per second, latencies in ms) of `requests` GETs over `concurrency` connections."""
    latencies: list[float] = []
    remaining = iter(range(requests))

    async def worker() -> None:
        for _ in remaining:
            started = time.perf_counter()
            async with session.get(url, headers=headers) as answer:
                await answer.read()
                if answer.status != 200:
                    raise SystemExit(f"{url}: HTTP {answer.status}")
            latencies.append((time.perf_counter() - started) * 1000)

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return requests / (time.perf_counter() - began), latencies


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _cpu_seconds(pid: int) -> float | None:
    """The CPU time a process has used (user and system; Linux's /proc), None where there is no /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


async def _measure(servers: dict[str, tuple[int, str]], tokens: dict, requests: int, concurrency: int,
                   rounds: int) -> dict[str, dict]:
    """Per route: requests per second, p50 and p99 latency, and the server's CPU time per request, each round."""
    routes = {"hello": (servers["kept"], "/api/v1/health", {})}
    for server, suffix in (("kept", ""), ("read each time", " (read each time)")):
        routes.update({name + suffix: (servers[server], path, {"Authorization": f"Bearer {tokens[user]}"})
                       for name, (path, user) in READS.items()})
    results = {name: {"rps": [], "p50": [], "p99": [], "cpu": []} for name in routes}
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=60)) as session:
        for name, ((_pid, base), path, headers) in routes.items():  # warm-up: imports, first queries, caches
            await _load(session, base + path, headers, concurrency * 2, concurrency)
            async with session.get(base + path, headers=headers) as answer:
                body = await answer.json()
            rows = f"{len(body['items'])} of {body['total']} rows" if "items" in body else "no rows"
            print(f"{name}: {base + path} answers {rows}", flush=True)
        for _ in range(rounds):
            for name, ((pid, base), path, headers) in routes.items():
                cpu_before = _cpu_seconds(pid)
                rps, latencies = await _load(session, base + path, headers, requests, concurrency)
                cpu_after = _cpu_seconds(pid)
                results[name]["rps"].append(rps)
                results[name]["p50"].append(_p(latencies, 0.50))
                results[name]["p99"].append(_p(latencies, 0.99))
                if cpu_before is not None and cpu_after is not None:
                    results[name]["cpu"].append((cpu_after - cpu_before) * 1000 / requests)
    return results


def _serve(folder: Path, **settings: str) -> tuple[subprocess.Popen, str]:
    """uvicorn with one worker serving the installation in `folder`, once it answers; and its base URL."""
    port = _free_port()
    env = {**os.environ, "CMS_DATA_DIR": str(folder), "PYTHONPATH": str(ROOT), **settings}
    env.pop("CMS_DATABASE_URL", None)
    server = subprocess.Popen([sys.executable, "-m", "uvicorn", "--factory", "cms_workflows.web.app:create_app",
                               "--host", "127.0.0.1", "--port", str(port), "--workers", "1", "--log-level", "warning",
                               "--timeout-keep-alive", "30"],
                              env=env, cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(base + "/api/v1/health", timeout=2) as answer:
                if answer.status == 200:
                    return server, base
        except OSError:
            pass
        if time.monotonic() > deadline or server.poll() is not None:
            server.terminate()
            raise SystemExit("the web app did not start")
        time.sleep(0.2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="cms-bench-web-")) / "demo"
    print(f"preparing the demo installation in {folder} …", flush=True)
    tokens = _installation(folder)
    servers = {}
    try:
        servers["kept"] = _serve(folder)
        servers["read each time"] = _serve(folder, CMS_WEB_READ_CACHE_MB="0")
        results = asyncio.run(_measure({name: (server.pid, base) for name, (server, base) in servers.items()},
                                       tokens, args.requests, args.concurrency, args.rounds))
    finally:
        for server, _base in servers.values():
            server.terminate()
            server.wait(timeout=20)

    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"\nload average at the end: {load} (other work on the machine slows every route alike)")
    print(f"uvicorn, 1 worker; {args.concurrency} concurrent connections; {args.requests} requests per route "
          f"and round; medians of {args.rounds} rounds")
    hello = statistics.median(results["hello"]["rps"])
    print("server CPU: the server process's CPU time per request (/proc), steadier than the rates here")
    print(f"{'route':<30}{'req/s':>8}{'p50 ms':>9}{'p99 ms':>9}{'vs hello':>10}{'CPU ms':>8}  "
          "goal (>= 0.5, p99 < 50 ms)")
    for name, figures in results.items():
        rps, p50, p99 = (statistics.median(figures[k]) for k in ("rps", "p50", "p99"))
        cpu = f"{statistics.median(figures['cpu']):>8.2f}" if figures["cpu"] else f"{'-':>8}"
        ratio = rps / hello
        goal = "" if name == "hello" else ("met" if ratio >= 0.5 and p99 < 50 else "missed")
        print(f"{name:<30}{rps:>8.0f}{p50:>9.1f}{p99:>9.1f}{ratio:>10.2f}{cpu}  {goal}")


if __name__ == "__main__":
    main()
