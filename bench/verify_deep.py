"""`cms verify --deep` over the demo year scaled x100 (issue 14, item 4): is it fast enough to run nightly?

The demo year (`cms_workflows.demo`: the company, a handover, two years of activity data for two plants
calculated and approved, the document register through its routes) is built once through the services;
then it is replicated `--scale - 1` times straight into the tables, each copy with its own users,
document numbers, sites and imported files, and each row with a matching event appended to the chain
(`audit.recording.record`), so the copies are as consistent with the trail as the original. Runs of a
copy are recomputed with the engine for their (renamed) sites before being stored.

Timed, interleaved, medians of `--repeats`: plain `cms verify` (chain with MACs and the file store) and
the deep check, over the same database in the same run. Prints rows checked per second by the deep check
and its time as a ratio of plain verify's.

    python bench/verify_deep.py [--scale 100] [--repeats 3] [--database-url URL]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pandas as pd  # noqa: E402
from sqlalchemy import func, insert, select  # noqa: E402

from bench.common import fmt, scratch_database, scratch_postgres  # noqa: E402
from cms_workflows.access import Grant  # noqa: E402
from cms_workflows.accounting import calculation  # noqa: E402
from cms_workflows.accounting.factors import Options  # noqa: E402
from cms_workflows.accounting.integrity import _frame_for, rows_digest  # noqa: E402
from cms_workflows.accounting.models import Activity, CalculationResult, CalculationRun, ImportBatch  # noqa: E402
from cms_workflows.accounting.queries import input_hash, library  # noqa: E402
from cms_workflows.audit import recording  # noqa: E402
from cms_workflows.audit.models import AuditEvent  # noqa: E402
from cms_workflows.documents.models import Decision, Document, Revision, RouteStep  # noqa: E402
from cms_workflows.org.models import Assignment, User  # noqa: E402

EV = AuditEvent.__table__


def demo_year(db, folder: Path) -> None:
    """The demo's year through the services, as `cms demo` runs it (without its evidence pack)."""
    from cms_workflows.bootstrap import configure
    from cms_workflows.demo import accounting as demo_accounting
    from cms_workflows.demo import company as demo_company
    from cms_workflows.demo import documents as demo_documents
    from cms_workflows.org import queries as org_queries
    from cms_workflows.org import service as org

    configure()
    year = db.clock.today().year - 1
    with db.unit_of_work() as s:
        demo_company.seed(s, valid_from=date(year, 1, 1))
    with db.unit_of_work() as s:
        row = next(a for a, _u in org_queries.list_assignments(s, "energy_data_admin.hn02") if a.valid_to is None)
        org.end_assignment(s, "admin", row.id, date(year, 6, 30), "调岗 / transferred")
        org.create_user(s, "admin", "energy_data_admin2.hn02", "新能源数据员", None)
        org.assign(s, "admin", "energy_data_admin2.hn02", "energy_data_admin", "HN02", date(year, 7, 1))
    demo_accounting.run(db, year, folder / "accounting", echo=lambda _line: None)
    demo_documents.run(db, year, folder / "documents", echo=lambda _line: None)


def _rows(s, model) -> list[dict]:
    return [dict(r._mapping) for r in s.execute(select(model.__table__).order_by(model.__table__.c.id))]


def _events(s, object_type: str) -> list:
    return list(s.execute(select(EV).where(EV.c.object_type == object_type).order_by(EV.c.seq)))


def _record(s, e, object_id, payload: dict) -> None:
    recording.record(s, Grant(e.actor, e.position, e.site), e.action, e.object_type, object_id, payload)


class Copier:
    """Copy k of the original rows: new ids past the largest, renamed users, numbers and sites."""

    def __init__(self, s, k: int) -> None:
        self.s, self.k = s, k
        self.next = {}

    def new_id(self, model) -> int:
        if model not in self.next:
            self.next[model] = (self.s.execute(select(func.max(model.__table__.c.id))).scalar() or 0) + 1
        self.next[model] += 1
        return self.next[model] - 1

    def user(self, name: str) -> str:
        return name if name in ("admin", "system") else f"{name}.k{self.k}"

    def site(self, site: str) -> str:
        return site if site == "*" else f"{site}K{self.k}"


def copy_org(c: Copier, orig: dict) -> None:
    s = c.s
    users = {}
    for u in orig["users"]:
        if u["username"] in ("admin", "system"):
            users[u["id"]] = u["id"]
            continue
        users[u["id"]] = c.new_id(User)
        s.execute(insert(User.__table__), {**u, "id": users[u["id"]], "username": c.user(u["username"])})
    ids = {}
    for a in orig["assignments"]:
        ids[a["id"]] = c.new_id(Assignment)
        s.execute(insert(Assignment.__table__), {**a, "id": ids[a["id"]], "user_id": users[a["user_id"]],
                                                 "site_code": c.site(a["site_code"])})
    for e in orig["events"]:
        p = json.loads(e.payload)
        if e.action == "org.assignment.create":
            _record(s, e, ids[int(e.object_id)], {**p, "username": c.user(p["username"]), "site": c.site(p["site"])})
        elif e.action == "org.assignment.end":
            _record(s, e, ids[int(e.object_id)], p)


def copy_documents(c: Copier, orig: dict) -> None:
    s = c.s
    docs, revs, steps = {}, {}, {}
    for d in orig["documents"]:
        docs[d["id"]] = c.new_id(Document)
        s.execute(insert(Document.__table__), {**d, "id": docs[d["id"]], "number": f"{d['number']}-K{c.k}",
                                               "effective_revision_id": None})
    for r in orig["revisions"]:
        revs[r["id"]] = c.new_id(Revision)
        s.execute(insert(Revision.__table__), {**r, "id": revs[r["id"]], "document_id": docs[r["document_id"]]})
    for st in orig["steps"]:
        steps[st["id"]] = c.new_id(RouteStep)
        s.execute(insert(RouteStep.__table__), {**st, "id": steps[st["id"]], "revision_id": revs[st["revision_id"]]})
    for d in orig["decisions"]:
        s.execute(insert(Decision.__table__), {**d, "id": c.new_id(Decision), "revision_id": revs[d["revision_id"]],
                                               "step_id": steps[d["step_id"]], "username": c.user(d["username"])})
    for e in orig["events"]:
        p = json.loads(e.payload)
        if "number" in p:
            p["number"] = f"{p['number']}-K{c.k}"
        if "revision_id" in p:
            p["revision_id"] = revs[p["revision_id"]]
        actor = c.user(e.actor)
        recording.record(s, Grant(actor, e.position, e.site), e.action, e.object_type, docs[int(e.object_id)], p)


def copy_accounting(c: Copier, orig: dict, files) -> None:
    s = c.s
    batches = {}
    frames = []
    for b in orig["imports"]:
        data = files.get(b["sha256"]) + b"\n" * c.k  # a file of its own, stored, its hash in the trail
        stored = files.put(data)
        batches[b["id"]] = c.new_id(ImportBatch)
        s.execute(insert(ImportBatch.__table__), {**b, "id": batches[b["id"]], "sha256": stored.sha256})
        rows = orig["activity"][orig["activity"]["import_id"] == b["id"]].drop(columns=["id"]).assign(
            import_id=batches[b["id"]], site=lambda f: f["site"].map(c.site))
        s.execute(insert(Activity.__table__), rows.to_dict("records"))
        frames.append(rows)
        e = orig["import_events"][b["id"]]
        _record(s, e, batches[b["id"]], {**json.loads(e.payload), "sha256": stored.sha256, "rows_sha256": rows_digest(rows),
                                         "sites": [c.site(x) for x in json.loads(e.payload)["sites"]]})
    activity = pd.concat(frames).assign(replaced_by_import=None)
    for r in orig["runs"]:
        run = dict(r, id=c.new_id(CalculationRun), max_import_id=batches[r["max_import_id"]],
                   sites=",".join(c.site(x) for x in r["sites"].split(",")))
        view = type("Run", (), {"first_period": run["first_period"], "last_period": run["last_period"],
                                "max_import_id": run["max_import_id"], "sites": run["sites"]})
        frame = _frame_for(activity, view)
        calc = calculation.calculate(frame, library(s, Options(**json.loads(r["options"]))))
        run.update(input_hash=input_hash(frame), total_tco2e=calc.total)
        s.execute(insert(CalculationRun.__table__), run)
        s.execute(insert(CalculationResult.__table__), calc.results.assign(run_id=run["id"]).to_dict("records"))
        e = orig["run_events"][r["id"]]
        _record(s, e, run["id"], {**json.loads(e.payload), "sites": run["sites"], "input_hash": run["input_hash"],
                                  "total_tco2e": run["total_tco2e"]})


def scale_up(db, copies: int) -> None:
    with db.read() as s:
        orig = {
            "users": _rows(s, User), "assignments": _rows(s, Assignment),
            "events": [e for e in _events(s, "assignment") if e.action in ("org.assignment.create", "org.assignment.end")],
        }
        docs = {"documents": _rows(s, Document), "revisions": _rows(s, Revision), "steps": _rows(s, RouteStep),
                "decisions": _rows(s, Decision), "events": _events(s, "doc_document")}
        acc = {"imports": _rows(s, ImportBatch), "runs": _rows(s, CalculationRun),
               "activity": pd.DataFrame(_rows(s, Activity)),
               "import_events": {int(e.object_id): e for e in _events(s, "acc_import")},
               "run_events": {int(e.object_id): e for e in _events(s, "acc_run") if e.action == "accounting.run.calculate"}}
    for k in range(1, copies + 1):
        with db.unit_of_work() as s:
            c = Copier(s, k)
            copy_org(c, orig)
            copy_documents(c, docs)
            copy_accounting(c, acc, s.files)


def timed(fn, repeats: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def run(db, scale: int, repeats: int) -> None:
    from cms_workflows.bootstrap import verify_deep, verify_installation

    start = time.perf_counter()
    demo_year(db, Path(tempfile.mkdtemp(prefix="cms-bench-demo-")))
    built = time.perf_counter() - start
    scale_up(db, scale - 1)
    print(f"database: {db.dialect}; demo year built in {built:.1f} s, scaled x{scale} in "
          f"{time.perf_counter() - start - built:.1f} s")
    plain_times, deep_times = [], []
    for _ in range(repeats):  # interleaved, so machine noise hits both alike
        t, plain = timed(lambda: verify_installation(db, record_anchor=False), 1)
        plain_times.append(t)
        t, deep = timed(lambda: verify_deep(db), 1)
        deep_times.append(t)
        assert plain.ok, plain.lines
        assert deep.ok, deep.lines
    rows = sum(deep.checked.values())
    p, d = statistics.median(plain_times), statistics.median(deep_times)
    events = plain.chain.events if plain.chain else 0
    print("deep check: " + ", ".join(f"{k.split('.')[-1].removeprefix('count_')} {n:,}" for k, n in deep.checked.items()))
    print(f"plain verify: {p:.2f} s ({fmt(events / p)} events/s over {events:,} events and the file store)")
    print(f"deep verify:  {d:.2f} s ({fmt(rows / d)} rows/s over {rows:,} rows); "
          f"deep / plain = {d / p:.2f} (medians of {repeats})")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--database-url", default=None, help="a PostgreSQL server (a scratch database is made on it); "
                                                             "default: a SQLite file in a temp folder")
    args = parser.parse_args()
    from cms_workflows.demo import company as demo_company

    options = {"company_name": demo_company.COMPANY_NAME[0]}
    if args.database_url:
        with scratch_postgres(args.database_url) as url:
            db = scratch_database(url, **options)
            run(db, args.scale, args.repeats)
            db.dispose()
    else:
        db = scratch_database(None, **options)
        run(db, args.scale, args.repeats)
        db.dispose()


if __name__ == "__main__":
    main()
