"""The demo's document control (R-7.5, R-5.2, X-4): the carbon policy through its committee route, a
procedure through a rejection and an added reviewer and then a second revision, an existing Word file
and an external standard registered, distribution and read acknowledgements, the annual carbon
review report (Annex E) filled from the approved emissions, and every controlled file written out."""

from __future__ import annotations

import io
from datetime import date, timedelta
from pathlib import Path

from dateutil.relativedelta import relativedelta

from cms_workflows.documents import distribution, imports, registry
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


def _report_figures(db, year: int, site: str) -> dict:
    """The approved (locked) figures of record for the report: emissions by source category and facility,
    the total, the intensity and the change from the base year."""
    from cms_workflows.accounting import service as acc
    from cms_workflows.accounting.factors import categories

    with db.read() as session:
        results = acc.official_results(session, GM, f"{year}-01", f"{year}-12", site)
        base = acc.official_results(session, GM, f"{year - 1}-01", f"{year - 1}-12", site)
        intensity = acc.intensity(session, GM, f"{year - 1}-01", f"{year}-12")
    by = results.groupby(["category", "facility"], observed=True)["tco2e"].sum().sort_values(ascending=False)
    total, base_total = float(results["tco2e"].sum()), float(base["tco2e"].sum())
    names = categories()
    rows = [{"category": names[c]["name_zh"] if c in names else c, "source": f, "tco2e": f"{v:,.1f}",
             "share": f"{100 * v / total:.1f}"} for (c, f), v in by.items()]
    per_value = intensity.set_index(["site", "year"])["tco2e_per_10k_cny"]
    now, before = per_value[(site, str(year))], per_value[(site, str(year - 1))]
    change = 100 * (total - base_total) / base_total
    top = rows[0]
    return {"emissions": rows, "total_tco2e": f"{total:,.1f} tCO₂e",
            "intensity": f"{now:.3f} tCO₂e/万元产值（基准年 {before:.3f} tCO₂e/万元）",
            "analysis": f"{top['category']}（{top['source']}）是最大的排放源，占排放总量的 {top['share']}%。"
                        f"与基准年相比，排放总量变化 {change:+.1f}%，单位产值碳排放变化 {100 * (now - before) / before:+.1f}%。"}


def run(db, year: int, out_dir: Path, echo) -> dict:
    out_dir.mkdir(parents=True, exist_ok=True)
    policy = _carbon_policy(db, echo)
    procedure = _procedure(db, echo)
    _existing_and_external(db, out_dir, echo)
    report = _review_report(db, year, echo)
    written = _write_files(db, out_dir, procedure, echo)
    return {"documents": written, "policy": policy, "procedure": procedure, "report": report}


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
    _do(db, docs.edit, HN01_AUTHOR, procedure, change_reason="增加电子文件的备份要求",
        content={"sections": [*sections, {"heading": "电子文件的备份", "text": "受控电子文件每日自动备份，备份介质异地保存。"}]})
    _route(db, procedure, HN01_AUTHOR, [(HN01_REVIEWER, "同意")])
    echo(t("demo.doc_procedure", number=procedure))
    return procedure


def _existing_and_external(db, out_dir: Path, echo) -> None:
    # 3. An existing Word file of the company (HN02) and an external standard.
    legacy = _word_file("能源计量管理程序", ["1 目的：规范能源计量器具的配备、检定和使用。",
                                      "2 适用范围：株洲工厂全部能源计量器具。",
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
              issuer="国家质量监督检验检疫总局、中国国家标准化管理委员会", external_version="GB/T 32150-2015",
              external_effective_date=date(2016, 6, 1), applies_to="全公司温室气体排放核算与报告")
    external = _number(db, rev)
    _route(db, external, COMPLIANCE, [(LEGAL, "同意")])
    echo(t("demo.doc_imported", number=imported, external=external))


def _review_report(db, year: int, echo) -> str:
    # 4. The Changsha plant's annual carbon review report (Annex E) with the approved emissions of the year.
    figures = _report_figures(db, year, "HN01")
    report_tpl = registry.template("carbon_review_report")
    content = {**report_tpl.example, **figures, "report_year": str(year), "base_year": f"{year - 1}年",
               "period": f"{year}年1月1日—{year}年12月31日",
               "scope": "组织边界为长沙工厂；运行边界包括化石燃料燃烧、工业生产过程、外购电力和热力排放。",
               "conclusions": "碳管理体系运行基本有效，排放数据经核算批准并锁定；月度偏差超过 10% 的事项已立项调查，"
                              "1号锅炉燃烧器改造已触发基准复核。建议下一年度继续推进空压站与照明节能改造。"}
    rev = _do(db, docs.create, HN01_AUTHOR, doc_type="report", site="HN01", title=f"长沙工厂{year}年度碳评审报告",
              owner_department="carbon_management", template="carbon_review_report", content=content)
    report = _number(db, rev)
    _route(db, report, HN01_AUTHOR, [("carbon_accountant.hn01", "同意")])
    echo(t("demo.doc_report", number=report, total=figures["total_tco2e"].split()[0]))
    return report


def _write_files(db, out_dir: Path, procedure: str, echo) -> list[str]:
    # 5. Every controlled file written out; the register and the reviews due in the next year.
    written = []
    with db.read() as session:
        for doc, _effective, _open in doc_queries.list_documents(session, GM):
            _rev, data = doc_queries.revision_file(session, GM, doc.number)
            path = out_dir / f"{doc.number}-{_rev.label}.docx"
            path.write_bytes(data)
            written.append(path.name)
        superseded, old = doc_queries.revision_file(session, GM, procedure, "A")
        (out_dir / f"{procedure}-A-{superseded.status}.docx").write_bytes(old)
        due = doc_queries.due(session, DOC_CONTROL, db.clock.today() + relativedelta(months=12) + timedelta(days=1))
    echo(t("demo.doc_files", count=len(written), path=str(out_dir), due=len(due)))
    return written
