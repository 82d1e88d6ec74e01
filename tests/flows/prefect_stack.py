"""The scale path's Prefect side for tests (docs/scale.md): a Prefect server on a PostgreSQL database of
its own, a work pool of type `process`, process workers, and deployments of the repository's flows.

`prefect_stack(...)` creates the Prefect database fresh (named per run, so parallel tests and runs never
share one), starts the server with flows/server.py (the same start, health wait and stop as `cms serve`,
only the database differs), creates the pool, starts one worker in a session of its own with the
installation's CMS_* settings in its environment, and on the way out — test failed or not — stops the
workers before the server (a worker whose server is gone hangs on its way out), each process group with
SIGTERM then SIGKILL, then kills any flow run still going (a worker starts each in a session of its own;
they are known by the stack's API address in their environment), and drops the Prefect database.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from cms_workflows.flows import server as prefect_server
from tests.smtp_server import free_port

ROOT = Path(__file__).resolve().parents[2]
STOP_TIMEOUT = 30  # seconds a worker or the server gets after SIGTERM before SIGKILL
POOL = "cms"  # the pool prefect.yaml names; each stack has a server of its own, so no clash
# what the worker reads from the test process's environment must not leak into the flow runs it starts
NOT_INHERITED = ("CMS_", "PREFECT_", "PYTEST_")


@dataclass(frozen=True)
class FlowToDeploy:
    """A flow of the repository and the deployment it gets: `entrypoint` is `path.py:function` from the
    repository root, as in prefect.yaml."""

    entrypoint: str
    deployment: str
    parameters: dict = field(default_factory=dict)

    @property
    def path(self) -> Path:
        return ROOT / self.entrypoint.partition(":")[0]


@dataclass
class PrefectStack:
    server: prefect_server.PrefectServer
    admin_url: str
    database: str  # the Prefect database's name on the PostgreSQL server
    pool: str
    workers: list[subprocess.Popen]
    worker_logs: list[Path]
    timings: dict[str, float] = field(default_factory=dict)  # seconds per phase, for the record (-s shows them)

    def timed(self, phase: str, started: float) -> None:
        self.timings[phase] = self.timings.get(phase, 0.0) + round(time.monotonic() - started, 1)

    @property
    def api_url(self) -> str:
        return self.server.api_url

    def client_settings(self) -> dict:
        """Prefect settings for this process to talk to the stack (for `temporary_settings`)."""
        from prefect.settings import PREFECT_API_URL

        return {PREFECT_API_URL: self.api_url}

    def deploy(self, flows: list[FlowToDeploy]) -> dict[str, str]:
        """Deploy `flows` from the repository directory to the pool: {deployment name: deployment id}. The
        worker's flow runs work in the repository (the deployment's pull step), as with prefect.yaml."""
        from prefect import flow
        from prefect.settings import temporary_settings

        ids, started = {}, time.monotonic()
        with temporary_settings(self.client_settings()):
            for spec in flows:
                loaded = flow.from_source(source=str(ROOT), entrypoint=spec.entrypoint)
                ids[spec.deployment] = str(loaded.deploy(name=spec.deployment, work_pool_name=self.pool,
                                                         parameters=spec.parameters, build=False, push=False,
                                                         print_next_steps=False, ignore_warnings=True))
        self.timed("deploy", started)
        return ids

    def run(self, deployment_id: str, parameters: dict | None = None, timeout: float = 240):
        """Run a deployment through the pool's workers and wait for a final state (or `timeout`): its flow run."""
        from prefect.deployments import run_deployment
        from prefect.settings import temporary_settings

        started = time.monotonic()
        with temporary_settings(self.client_settings()):
            run = run_deployment(deployment_id, parameters=parameters or {}, timeout=timeout, poll_interval=1,
                                 as_subflow=False)
        self.timed("runs", started)
        return run

    def leftovers(self) -> list[str]:
        """What the stack started and is still there (nothing, once it has been left)."""
        found = [f"process {pid}" for pid in processes_of(self.api_url)]
        admin = _admin_engine(self.admin_url)
        with admin.connect() as conn:
            if conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": self.database}).first():
                found.append(f"database {self.database}")
        admin.dispose()
        return found

    def logs(self) -> str:
        """The server's and the workers' logs, ends only: for an assertion's message."""
        parts = []
        for path in (self.server.log_path, *self.worker_logs):
            if path.exists():
                parts.append(f"--- {path.name}\n" + path.read_text(errors="replace")[-4000:])
        return "\n".join(parts)


def prefect_database_url(admin_url: str, name: str) -> str:
    """The asyncpg URL Prefect's server needs for database `name` on the server of `admin_url`."""
    return make_url(admin_url).set(drivername="postgresql+asyncpg", database=name).render_as_string(hide_password=False)


def _admin_engine(admin_url: str):
    url = make_url(admin_url)
    if url.drivername in ("postgresql", "postgresql+psycopg2", "postgresql+asyncpg"):
        url = url.set(drivername="postgresql+psycopg")
    return create_engine(url, isolation_level="AUTOCOMMIT")


@contextmanager
def _fresh_database(admin_url: str) -> Iterator[str]:
    name = f"prefect_t_{uuid.uuid4().hex[:12]}"
    admin = _admin_engine(admin_url)
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        yield name
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def stop_group(process: subprocess.Popen, timeout: float = STOP_TIMEOUT) -> int:
    """Stop a child that leads its own process group: SIGTERM to the group, SIGKILL after `timeout`."""
    if process.poll() is not None:
        return process.returncode
    try:
        os.killpg(process.pid, signal.SIGTERM)
        return process.wait(timeout=timeout)
    except ProcessLookupError:
        return process.wait()
    except subprocess.TimeoutExpired:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        return process.wait()


def processes_of(api_url: str) -> list[int]:
    """Live processes whose environment points Prefect at `api_url`: the server, its workers, their flow runs."""
    marker = f"PREFECT_API_URL={api_url}".encode()
    found = []
    for environ in Path("/proc").glob("[0-9]*/environ"):
        try:
            if marker in environ.read_bytes().split(b"\0"):  # a zombie's reads as empty
                found.append(int(environ.parent.name))
        except OSError:
            continue
    return found


def _kill_processes_of(api_url: str) -> None:
    for pid in processes_of(api_url):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _prefect(args: list[str], env: dict, timeout: float = 120) -> str:
    done = subprocess.run([*prefect_server._prefect_command(), *args], env=env, capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)
    if done.returncode != 0:
        raise RuntimeError(f"prefect {' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def _worker_ready(log: Path) -> bool:
    return log.exists() and "started!" in log.read_text(errors="replace")


def _wait(predicate, process: subprocess.Popen, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what}: the process exited with {process.returncode}")
        if predicate():
            return
        time.sleep(0.5)
    raise RuntimeError(f"timed out waiting for {what}")


@contextmanager
def prefect_stack(admin_url: str, folder: Path, cms_env: dict[str, str], workers: int = 1,
                  pool: str = POOL) -> Iterator[PrefectStack]:
    """A running stack (see the module's docstring); `admin_url` is a PostgreSQL URL whose user may create
    databases, `folder` a fresh directory for Prefect's home and the logs, `cms_env` the CMS_* settings
    of the flow runs."""
    folder = Path(folder).resolve()
    started = time.monotonic()
    with ExitStack() as cleanup:
        database = cleanup.enter_context(_fresh_database(admin_url))
        server = prefect_server.start(folder, port=free_port(), database_url=prefect_database_url(admin_url, database))
        cleanup.callback(_kill_processes_of, server.api_url)  # callbacks run last in, first out: this after the
        cleanup.callback(prefect_server.stop, server)  # server's stop, which comes after the workers' stops
        prefect_server.wait_healthy(server)
        stack = PrefectStack(server, admin_url, database, pool, [], [])
        stack.timed("server healthy", started)
        started = time.monotonic()
        client_env = {**{k: v for k, v in os.environ.items() if not k.startswith(NOT_INHERITED)},
                      **prefect_server.server_env(server.home, server.api_url)}
        client_env.pop("PREFECT_API_DATABASE_CONNECTION_URL")  # the server's alone
        _prefect(["work-pool", "create", pool, "--type", "process"], client_env)
        worker_env = {**client_env, **cms_env,
                      "PREFECT_WORKER_QUERY_SECONDS": "1"}  # picks a run up within a second (default 10)
        for number in range(1, workers + 1):
            log_path = folder / f"worker-{number}.log"
            with open(log_path, "ab") as log:
                process = subprocess.Popen([*prefect_server._prefect_command(), "worker", "start", "--pool", pool,
                                            "--name", f"{pool}-worker-{number}"],
                                           env=worker_env, cwd=folder, stdout=log, stderr=subprocess.STDOUT,
                                           stdin=subprocess.DEVNULL, start_new_session=True)
            cleanup.callback(stop_group, process)
            stack.workers.append(process)
            stack.worker_logs.append(log_path)
            _wait(lambda: _worker_ready(log_path), process, 120, f"worker {number} to start ({log_path})")
        stack.timed("work pool and workers", started)
        yield stack
        started = time.monotonic()
    stack.timed("stop", started)  # (when the body raised, nobody reads the timings)
