"""The demo's document control (R-7.5, R-5.2, X-4): the carbon policy through its committee route, a
procedure through a rejection and an added reviewer and then a second revision, an existing Word file
and an external standard registered, distribution and read acknowledgements; at the end of the year
every controlled file written out (the processes' reports among them, `demo.processes`)."""

from __future__ import annotations

import io
import json
from datetime import date, timedelta
from pathlib import Path

from dateutil.relativedelta import relativedelta

from cms_workflows.documents import distribution, imports, registry, renditions
from cms_workflows.documents import approval as doc_approval
from cms_workflows.documents import queries as doc_queries
from cms_workflows.documents import service as docs
from cms_workflows.core.i18n import t

POLICY_AUTHOR, COMPLIANCE, LEGAL, GM, DOC_CONTROL = "carbon.lead", "compliance.lead", "legal.lead", "gm", "doccontrol"
HN01_AUTHOR, HN01_REVIEWER, HN01_ENERGY = "strategy_manager.hn01", "quality_system_engineer.hn01", "energy_engineer.hn01"
HN02_AUTHOR, HN02_REVIEWER = "strategy_manager.hn02", "quality_system_engineer.hn02"


def _do(db, fn, *args, **kwargs):
    """One command, one unit of work (as the CLI and the API run them)."""
    with db.unit_of_work() as session:
        return fn(session, *args, **kwargs)


def _number(db, rev) -> str:
    with db.read() as session:
        return doc_queries.document_number(session, rev.document_id)


def _route(db, number: str, author: str, reviews: list[tuple[str, str]], approval: str = "批准发布") -> None:
    """Submit, the reviews (reviewer, comment) in order, the GM's approval, release by document control."""
    _do(db, docs.submit, author, number)
    for reviewer, comment in reviews:
        _do(db, doc_approval.decide, reviewer, number, "approve", comment, expect="review")
    _do(db, doc_approval.decide, GM, number, "approve", approval, expect="approve")
    _do(db, docs.make_effective, DOC_CONTROL, number)


def _word_file(title: str, paragraphs: list[str]) -> bytes:
    from docx import Document as new_docx

    document = new_docx()
    document.add_heading(title, 1)
    for text in paragraphs:
        document.add_paragraph(text)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def run(db, year: int, out_dir: Path, echo) -> dict:
    out_dir.mkdir(parents=True, exist_ok=True)
    policy = _carbon_policy(db, echo)
    procedure = _procedure(db, echo)
    _existing_and_external(db, out_dir, echo)
    return {"policy": policy, "procedure": procedure}


def _carbon_policy(db, echo) -> str:
    # 1. The carbon policy: drafted by carbon management, countersigned by compliance and legal together,
    #    approved by top management, released, distributed and acknowledged.
    policy_tpl = registry.template("carbon_policy")
    rev = _do(db, docs.create, POLICY_AUTHOR, doc_type="policy", site="*", title="碳方针",
              owner_department="carbon_management", content=dict(policy_tpl.example))
    policy = _number(db, rev)
    _route(db, policy, POLICY_AUTHOR, [(COMPLIANCE, "符合适用法规要求"), (LEGAL, "承诺表述无法律风险")])
    _do(db, distribution.distribute, DOC_CONTROL, policy,
        [("strategy_manager", "*"), ("energy_engineer", "*"), ("carbon_accountant", "*"), ("energy_data_admin", "*")])
    with db.read() as session:
        _rev, holders = distribution.pending(session, GM, policy)
    for holder in holders[: len(holders) // 2]:
        _do(db, distribution.acknowledge, holder.username, policy)
    with db.read() as session:
        _rev, waiting = distribution.pending(session, GM, policy)
    echo(t("demo.doc_policy", number=policy, holders=len(holders), waiting=len(waiting)))
    return policy


def _procedure(db, echo) -> str:
    # 2. A procedure: returned once by the GM, a reviewer added by document control, released; then changed
    #    (revision B) while A stays effective, and released again (A superseded).
    procedure_tpl = registry.template("controlled_document")
    rev = _do(db, docs.create, HN01_AUTHOR, doc_type="procedure", site="HN01", title="文件控制程序",
              owner_department="carbon_management", content=dict(procedure_tpl.example))
    procedure = _number(db, rev)
    _do(db, docs.submit, HN01_AUTHOR, procedure)
    _do(db, doc_approval.decide, HN01_REVIEWER, procedure, "approve", "格式符合要求", expect="review")
    _do(db, doc_approval.decide, GM, procedure, "reject", "请补充外来文件的查新频次")
    sections = [*procedure_tpl.example["sections"]]
    sections[-1] = {**sections[-1], "text": sections[-1]["text"] + "查新结果记录在外来文件清单中。"}
    _do(db, docs.edit, HN01_AUTHOR, procedure, content={"sections": sections})
    _do(db, docs.submit, HN01_AUTHOR, procedure)
    _do(db, doc_approval.add_reviewer, DOC_CONTROL, procedure, HN01_ENERGY, "涉及能源计量文件的发放")
    _do(db, doc_approval.decide, HN01_REVIEWER, procedure, "approve", "已补充", expect="review")
    _do(db, doc_approval.decide, HN01_ENERGY, procedure, "approve", "计量文件条款无异议", expect="review")
    _do(db, doc_approval.decide, GM, procedure, "approve", "同意发布", expect="approve")
    _do(db, docs.make_effective, DOC_CONTROL, procedure)
    _do(db, distribution.distribute, DOC_CONTROL, procedure, [("energy_engineer", "HN01"), ("quality_system_engineer", "HN01")])
    echo(t("demo.doc_procedure", number=procedure))
    return procedure


def revise_procedure(db, procedure: str, echo) -> None:
    """Later in the year (the year's calendar calls it): the procedure is changed (revision B) while A stays
    effective, and released again (A superseded); the revision history carries each revision's own date."""
    with db.read() as session:
        current = doc_queries.effective_revision(session, doc_queries.get_document(session, procedure))
    sections = [*json.loads(current.content)["sections"],
                {"heading": "电子文件的备份", "text": "受控电子文件每日自动备份，备份介质异地保存。"}]
    _do(db, docs.edit, HN01_AUTHOR, procedure, change_reason="增加电子文件的备份要求", content={"sections": sections})
    _route(db, procedure, HN01_AUTHOR, [(HN01_REVIEWER, "同意")])
    echo(t("demo.doc_procedure_revised", number=procedure))


def _existing_and_external(db, out_dir: Path, echo) -> None:
    # 3. An existing Word file of the company (HN02) and an external standard.
    legacy = _word_file("能源计量管理程序", ["1 目的：规范能源计量器具的配备、检定和使用。",
                                      "2 适用范围：株洲冲压厂全部能源计量器具（冲压车间、动力车间及厂区变配电系统）。",
                                      "3 要求：按GB 17167配备计量器具，建立台账，按期检定。"])
    (out_dir / "legacy-能源计量管理程序.docx").write_bytes(legacy)
    rev = _do(db, imports.import_file, HN02_AUTHOR, legacy, "能源计量管理程序.docx", doc_type="procedure", site="HN02",
              title="能源计量管理程序", owner_department="energy_management", label="C", legacy_number="QP-EN-07")
    imported = _number(db, rev)
    _route(db, imported, HN02_AUTHOR, [(HN02_REVIEWER, "同意")])
    standard = _word_file("外来文件登记：GB/T 32150-2015", [
        "标准名称：工业企业温室气体排放核算和报告通则", "标准编号：GB/T 32150-2015",
        "发布机构：国家质量监督检验检疫总局、中国国家标准化管理委员会", "实施日期：2016-06-01"])
    rev = _do(db, imports.import_file, COMPLIANCE, standard, "GBT32150-2015-登记.docx", doc_type="external", site="*",
              title="工业企业温室气体排放核算和报告通则", owner_department="carbon_management",
              issuer="国家质量监督检验检疫总局、中国国家标准化管理委员会", external_number="GB/T 32150-2015",
              external_version="2015", external_published_date=date(2015, 11, 19),
              external_effective_date=date(2016, 6, 1), applies_to="全公司温室气体排放核算与报告")
    external = _number(db, rev)
    _route(db, external, COMPLIANCE, [(LEGAL, "同意")])
    echo(t("demo.doc_imported", number=imported, external=external))


def write_files(db, out_dir: Path, procedure: str, echo) -> list[str]:
    """Every controlled file written out (the processes' approved records among them), the superseded
    revision A of the procedure beside them as its stamped copy; the reviews due in the next 12 months counted."""
    written = []
    with db.read() as session:
        for doc, _effective, _open in doc_queries.list_documents(session, GM):
            _rev, data = doc_queries.revision_file(session, GM, doc.number)
            path = out_dir / f"{doc.number}-{_rev.label}.docx"
            path.write_bytes(data)
            written.append(path.name)
        due = doc_queries.due(session, DOC_CONTROL, db.clock.today() + relativedelta(months=12) + timedelta(days=1))
    # a superseded revision leaves the register only as a copy stamped 作废 / 已替代, recorded (issue 13 item 1)
    superseded = _do(db, renditions.hand_out, DOC_CONTROL, procedure, "A")
    (out_dir / f"{procedure}-A-{superseded.revision.status}.docx").write_bytes(superseded.data)
    echo(t("demo.doc_files", count=len(written), path=str(out_dir), due=len(due)))
    return written
