"""PDCA year benchmark (issue 11): the demo year end to end, with and without orchestration, and at scale.

Measured, every run in a fresh Python process (so the interpreter, the imports and Prefect's start-up are
counted as a user of `cms demo` pays them), each on a new SQLite database in a temp folder:
- the demo year as `cms demo` plays it (`demo.run(via_flows=True)`): the daily sweep and the processes'
  flows as real Prefect flow runs in local mode (an ephemeral Prefect server, fresh in each run);
- the same year through the services alone (`via_flows=False`): the baseline, measured in the same run;
  their ratio is the orchestration overhead (flows / services);
- a 10-site company (`demo.run(sites=10)`: five cement and five stamping plants, each with its people,
  data, audit and review) through the services, against the 2-site services run: how the year's cost grows
  (with `--with-flows-at-scale` also via Prefect).

Printed per configuration: the median over `--repeats` runs (the modes interleaved) of the process wall
time, split into start-up (the interpreter and the first imports, until `demo.run` is called), set-up (installation, organisation, accounting,
documents and registers: everything before `demo.year.play`), the year itself (`demo.year.play`: the PDCA
year day by day) and close (the Word files written, `verify`, `verify --deep`, the evidence pack checked,
a checkpoint signed); and what the run made (audit events, cases, activity data rows), read afterwards.
Goal: the demo year (`cms demo`, via Prefect) under 60 s on this machine.

Run: python bench/cycle.py [--repeats 3] [--quick] [--sites 10] [--with-flows-at-scale]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PARTS = ("startup", "setup", "year", "close")


def one(directory: Path, via_flows: bool, sites: int) -> None:
    """In the child process: one demo run, its phases timed; prints one JSON line."""
    started = time.perf_counter()
    sys.path.insert(0, str(ROOT))
    from cms_workflows import demo
    from cms_workflows.demo import year as demo_year

    marks: dict[str, float] = {}
    play = demo_year.play

    def timed_play(*args, **kwargs):  # the year itself, apart from the set-up before it and the close after it
        marks["year_start"] = time.perf_counter()
        try:
            return play(*args, **kwargs)
        finally:
            marks["year_end"] = time.perf_counter()

    demo_year.play = timed_play
    begin = time.perf_counter()
    result = demo.run(directory, echo=lambda _line: None, via_flows=via_flows, sites=sites)
    end = time.perf_counter()
    with sqlite3.connect(directory / "cms.db") as conn:
        made = {table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                for table in ("audit_event", "proc_case", "acc_activity")}
    print(json.dumps({"imports": begin - started, "setup": marks["year_start"] - begin,
                      "year": marks["year_end"] - marks["year_start"], "close": end - marks["year_end"],
                      "run": end - started, "events": result["events"], **made}))


def measure(via_flows: bool, sites: int) -> dict:
    """One demo run in a fresh process; the process wall time beside the child's own phases."""
    folder = Path(tempfile.mkdtemp(prefix="cms-bench-cycle-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CMS_", "PREFECT_"))}
    command = [sys.executable, str(Path(__file__).resolve()), "--one", str(folder / "demo"),
               "--mode", "flows" if via_flows else "services", "--sites", str(sites)]
    try:
        start = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT)
        wall = time.perf_counter() - start
        if done.returncode != 0:
            raise SystemExit(f"demo run failed ({'flows' if via_flows else 'services'}, {sites} sites):\n"
                             + done.stdout[-2000:] + done.stderr[-4000:])
        child = json.loads(done.stdout.strip().splitlines()[-1])
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    # start-up: the interpreter and the imports, i.e. everything the child's own clock did not see of `run`
    return {"wall": wall, "startup": wall - child["run"] + child["imports"], **child}


def medians(runs: list[dict]) -> dict:
    return {key: statistics.median(r[key] for r in runs) for key in runs[0]}


def show(label: str, m: dict, n: int) -> None:
    parts = "  ".join(f"{part} {m[part]:6.1f}" for part in PARTS)
    print(f"  {label:<26} {m['wall']:7.1f} s  ({parts})  events {m['audit_event']:,.0f}, "
          f"cases {m['proc_case']:.0f}, activity rows {m['acc_activity']:,.0f}  [n={n}]")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="one run of each")
    parser.add_argument("--sites", type=int, default=10, help="the larger company's plants (even, up to 20)")
    parser.add_argument("--with-flows-at-scale", action="store_true", help="the larger company via Prefect too")
    parser.add_argument("--one", type=Path, help=argparse.SUPPRESS)  # the child process: one run into this folder
    parser.add_argument("--mode", choices=("flows", "services"), default="flows", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        one(args.one, args.mode == "flows", args.sites)
        return
    repeats = 1 if args.quick else args.repeats
    configs = [("flows", True, 2), ("services", False, 2), ("services_scaled", False, args.sites)]
    if args.with_flows_at_scale:
        configs.append(("flows_scaled", True, args.sites))
    runs: dict[str, list[dict]] = {name: [] for name, _f, _s in configs}
    for i in range(repeats):  # interleaved, so drift in the machine's load touches every mode alike
        for name, via_flows, sites in configs:
            runs[name].append(measure(via_flows, sites))
            print(f"  run {i + 1}/{repeats} {name:<16} {runs[name][-1]['wall']:6.1f} s", file=sys.stderr, flush=True)
    m = {name: medians(found) for name, found in runs.items()}

    print(f"PDCA year benchmark (issue 11): medians of {repeats} fresh process(es) per configuration; seconds")
    show("2 sites via Prefect", m["flows"], repeats)
    show("2 sites services alone", m["services"], repeats)
    print(f"  orchestration overhead (flows / services): wall {m['flows']['wall'] / m['services']['wall']:.2f}x, "
          f"the year itself {m['flows']['year'] / m['services']['year']:.2f}x "
          f"(+{m['flows']['year'] - m['services']['year']:.1f} s in the year, "
          f"+{m['flows']['wall'] - m['services']['wall']:.1f} s in all)")
    goal = "met" if m["flows"]["wall"] < 60 else "NOT met"
    print(f"  goal: the demo year (`cms demo`, via Prefect) under 60 s: {m['flows']['wall']:.1f} s, {goal}")
    scaled = m["services_scaled"]
    show(f"{args.sites} sites services alone", scaled, repeats)
    if args.with_flows_at_scale:
        show(f"{args.sites} sites via Prefect", m["flows_scaled"], repeats)
    base = m["services"]
    print(f"  growth ({args.sites} sites / 2 sites, services): {args.sites / 2:.1f}x the plants, "
          f"{scaled['acc_activity'] / base['acc_activity']:.1f}x the activity rows, "
          f"{scaled['proc_case'] / base['proc_case']:.1f}x the cases, {scaled['audit_event'] / base['audit_event']:.1f}x "
          f"the events -> wall {scaled['wall'] / base['wall']:.2f}x, set-up {scaled['setup'] / base['setup']:.2f}x, "
          f"year {scaled['year'] / base['year']:.2f}x, close {scaled['close'] / base['close']:.2f}x")
    if args.with_flows_at_scale:
        flows = m["flows_scaled"]
        print(f"  orchestration overhead at {args.sites} sites: wall {flows['wall'] / scaled['wall']:.2f}x, "
              f"the year itself {flows['year'] / scaled['year']:.2f}x")


if __name__ == "__main__":
    main()
