"""Start-up cost of simple `cms` commands (issue 15 item 9), against `python -c "import sqlalchemy"`.

On a fresh database in a temporary folder (`cms init`, which signs the administrator in; the
administrator is also made document_controller so that `cms doc list` reads something), each of
`cms positions`, `cms users list`, `cms doc list` is run N times as a new process, interleaved with
the SQLAlchemy import so that both see the same load on a shared machine. Prints each command's
median wall time and its ratio to the import's median (the floor: every command needs SQLAlchemy).

The package runs byte-compiled, as an installed copy does (pip compiles it): a cache folder in the
temporary folder, filled by `cms init`. Under PYTHONDONTWRITEBYTECODE=1 (set on some development
machines) a work tree's modules would otherwise be compiled from source at every start, some 50-100 ms
that no installation pays; `--no-bytecode` measures that way.

    python bench/cli.py [-n 7] [--no-bytecode]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

COMMANDS = (["positions"], ["users", "list"], ["doc", "list"])
BASELINE = "import sqlalchemy"


def environment(folder: Path, bytecode: bool = True) -> dict[str, str]:
    """A clean installation's settings, as tests/test_readme.py sets them: nothing from the caller's CMS_*."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CMS_")}
    env.update(HOME=str(folder / "home"), CMS_DATA_DIR=str(folder / "data"), CMS_LOCALE="en",
               CMS_SIGNING_KEY=str(folder / "keys" / "signing-key.pem"))
    if bytecode:  # compiled once, by the first run, into the temporary folder (not the work tree)
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(folder / "pycache")
    return env


def cms(args: list[str], env: dict[str, str]) -> float:
    """Run `cms ARGS` as a new process; its wall time in seconds (it must succeed)."""
    start = time.perf_counter()
    r = subprocess.run([sys.executable, "-m", "cms_workflows.cli", *args], env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if r.returncode != 0:
        raise SystemExit(f"cms {' '.join(args)} failed ({r.returncode}):\n{r.stdout}{r.stderr}")
    return elapsed


def baseline(env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", BASELINE], env=env, check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=7, help="runs of each command (default 7)")
    parser.add_argument("--no-bytecode", action="store_true",
                        help="keep the caller's PYTHONDONTWRITEBYTECODE (then modules compile at every start)")
    options = parser.parse_args()
    n = options.n
    with tempfile.TemporaryDirectory(prefix="cms-bench-cli-") as tmp:
        env = environment(Path(tmp), bytecode=not options.no_bytecode)
        cms(["init"], env)
        cms(["users", "assign", "admin", "document_controller", "--site", "*"], env)
        times: dict[str, list[float]] = {" ".join(c): [] for c in COMMANDS}
        floor: list[float] = []
        for _ in range(n):  # interleaved: a burst of load elsewhere touches every series alike
            floor.append(baseline(env))
            for command in COMMANDS:
                times[" ".join(command)].append(cms(command, env))
    base = statistics.median(floor)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    compiled = "source compiled at every start" if env.get("PYTHONDONTWRITEBYTECODE") else "byte-compiled"
    print(f"{n} runs each, interleaved; {os.cpu_count()} CPUs, load average {load:.1f}; {compiled}")
    print(f"{'command':<32}{'median ms':>10}{'min ms':>9}{'× import':>10}")
    print(f"{'python -c ' + repr(BASELINE):<32}{base * 1000:>10.0f}{min(floor) * 1000:>9.0f}{1.0:>10.2f}")
    for name, series in times.items():
        median = statistics.median(series)
        print(f"{'cms ' + name:<32}{median * 1000:>10.0f}{min(series) * 1000:>9.0f}{median / base:>10.2f}")


if __name__ == "__main__":
    main()
