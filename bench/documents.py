"""Document benchmark (issue 4): render, hash, store and audit controlled documents through the service.

N record forms (default 200), each with a 50-row table of Chinese text, are created, submitted and
reviewed (untimed); then the timed step is the final approval through `documents.approval.decide`: one
unit of work that builds the context, renders the docxtpl template, fixes the zip timestamps and core
properties, hashes and stores template and file, records the approval in the audit trail and commits.
The baseline is a bare docxtpl render (DocxTemplate(...).render(context) and save) of the same
template and the very same context, measured in the same run before and after. Goal: full path within
1.5x of the bare render. Prints docs/s of both and the ratio of per-document medians.

Run: python bench/documents.py [--docs N] [--rows R] [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/test]
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
import time
from contextlib import nullcontext
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from docxtpl import DocxTemplate  # noqa: E402

from bench.common import scratch_database, scratch_postgres  # noqa: E402
from cms_workflows.demo import company as demo_company  # noqa: E402
from cms_workflows.documents import registry  # noqa: E402
from cms_workflows.documents import approval as doc_approval  # noqa: E402
from cms_workflows.documents import queries as doc_queries  # noqa: E402
from cms_workflows.documents import service as docs  # noqa: E402

AUTHOR, REVIEWER, APPROVER = "strategy_manager.hn01", "quality_system_engineer.hn01", "strategy_manager.hn02"


def form_content(rows: int, n: int) -> dict:
    return {"instructions": "本表用于登记能源计量器具的配备、检定和使用情况，每月由能源管理员更新，年度碳排放核算时作为数据来源的证据。",
            "rows": [{"no": str(i), "item": f"{n}号厂区蒸汽流量计FT-{i:03d}",
                      "requirement": "按GB 17167配备，准确度等级不低于1.0级，每年检定一次",
                      "record": f"检定证书编号JD2025-{i:04d}，有效期至2026年6月", "remark": "已贴合格标识"}
                     for i in range(1, rows + 1)]}


def bare_render(template: bytes, context: dict) -> bytes:
    tpl = DocxTemplate(io.BytesIO(template))
    tpl.render(context, autoescape=True)
    out = io.BytesIO()
    tpl.save(out)
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=200)
    parser.add_argument("--rows", type=int, default=50)
    parser.add_argument("--postgres", default=None, metavar="URL",
                        help="run on a new database of this PostgreSQL server (dropped afterwards); default SQLite")
    args = parser.parse_args()
    with scratch_postgres(args.postgres) if args.postgres else nullcontext(None) as url:
        run(args, url)


def run(args, url: str | None) -> None:
    db = scratch_database(url, company_name=demo_company.COMPANY_NAME[0])
    with db.unit_of_work() as session:
        demo_company.seed(session)
    # a record form approved by the strategy manager of the other plant: give the approver rights at HN01 too
    from cms_workflows.org import service as org

    with db.unit_of_work() as session:
        org.assign(session, "admin", APPROVER, "strategy_manager", "HN01")
    numbers = []
    for n in range(args.docs):
        with db.unit_of_work() as session:
            rev = docs.create(session, AUTHOR, doc_type="record_form", site="HN01", title=f"能源计量器具台账（{n + 1}号厂区）",
                              owner_department="energy_management", content=form_content(args.rows, n + 1))
            number = doc_queries.document_number(session, rev.document_id)
        with db.unit_of_work() as session:
            docs.submit(session, AUTHOR, number)
        with db.unit_of_work() as session:
            doc_approval.decide(session, REVIEWER, number, "approve")
        numbers.append(number)

    template = registry.template("record_form").path().read_bytes()
    full_times = []
    for number in numbers:
        start = time.perf_counter()
        with db.unit_of_work() as session:
            doc_approval.decide(session, APPROVER, number, "approve", "同意")
        full_times.append(time.perf_counter() - start)
    with db.read() as session:
        contexts = [json.loads(doc_queries.open_revision(session, doc_queries.get_document(session, n)).rendered_context) for n in numbers]
    bare_times = []
    for _round in range(2):  # before and after in effect: twice over, all medians together
        for context in contexts:
            start = time.perf_counter()
            bare_render(template, context)
            bare_times.append(time.perf_counter() - start)

    full_med, bare_med = statistics.median(full_times), statistics.median(bare_times)
    print(f"documents: {args.docs} record forms, {args.rows}-row table, Chinese text, database {db.dialect}")
    print(f"  bare docxtpl render               : {1 / bare_med:6.1f} docs/s  (median {bare_med * 1000:.1f} ms/doc)")
    print(f"  service (render+hash+store+audit) : {1 / full_med:6.1f} docs/s  (median {full_med * 1000:.1f} ms/doc)")
    print(f"  ratio full/bare (medians)         : {full_med / bare_med:.2f}x   goal <= 1.5x")
    print(f"  totals: full {sum(full_times):.1f} s, bare {sum(bare_times) / 2:.1f} s per pass")
    db.dispose()


if __name__ == "__main__":
    main()
