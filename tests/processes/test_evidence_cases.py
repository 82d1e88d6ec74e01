"""An evidence pack of cases (X-1; issue 11): `--case NUMBER` covers the case, the cases it led to, their
tasks and reports; the pack holds each case's row, texts and items, and the files its items name; a
compliance verdict's evidence file is one `cms verify` checks."""

from __future__ import annotations

import json
from datetime import date

import pytest

from cms_workflows.audit.evidence import Scope
from cms_workflows.bootstrap import configure, export_evidence, verify_installation
from cms_workflows.core.errors import NotFound
from cms_workflows.processes import cases, corrective_action
from cms_workflows.processes.evidence_records import stored_case_files
from tests.processes.helpers import do
from tests.test_evidence_pack import check, events_of, fp, members_of  # noqa: F401  (fp: the signing-key fixture)

LEAD, OWNER = "strategy_manager.hn01", "energy_engineer.hn01"


def _nc(db, description: str, parent: str | None = None) -> str:
    return do(db, corrective_action.raise_nonconformity, LEAD, site="HN01", source="other", description=description,
              owner_position="energy_engineer", parent_number=parent).number


def test_x1_a_pack_scoped_to_a_case_holds_it_and_what_it_led_to(db, company, fp, tmp_path):  # noqa: F811
    configure()
    first = _nc(db, "客户投诉：碳足迹声明与核算不一致")
    child = _nc(db, "复查发现同类声明另有一份", parent=first)
    other = _nc(db, "与本案无关的不符合")
    do(db, corrective_action.contain, OWNER, first, "暂停该声明", "重新核算")

    export_evidence(db, "verifier", tmp_path / "case.zip", Scope(cases=(first,)))
    assert check(tmp_path / "case.zip", "--fingerprint", fp).returncode == 0
    members = members_of(tmp_path / "case.zip")
    events = events_of(members)
    ids = {(e["object_type"], e["object_id"]) for e in events}
    assert {("proc_case", first), ("proc_case", child)} <= ids and ("proc_case", other) not in ids
    assert any(e["object_type"] == "task_task" and e["action"] == "tasks.task.resolve" for e in events)
    assert {f"records/cases/{first}.json", f"records/cases/{child}.json"} <= set(members)
    assert f"records/cases/{other}.json" not in members
    record = json.loads(members[f"records/cases/{first}.json"])
    assert record["case"]["status"] == "analysing" and {t["field"] for t in record["texts"]} >= {"containment"}
    assert json.loads(members["manifest.json"])["scope"]["cases"] == [first]
    with pytest.raises(NotFound):
        export_evidence(db, "verifier", tmp_path / "x.zip", Scope(cases=("NC-1999-99",)))


def test_x1_a_verdicts_evidence_file_is_stored_checked_and_packed(db, company, fp, tmp_path):  # noqa: F811
    from cms_workflows.processes import compliance
    from cms_workflows.registers import obligations

    configure()
    do(db, obligations.add_obligation, "compliance.lead", code="CO-01", kind="regulation", title="碳排放权交易管理暂行条例",
       issuer="国务院", clause="第十一条", applicability="重点排放单位", owner_position="compliance_officer")
    number = do(db, compliance.open_evaluation, "compliance.lead", "*", "internal", "组织机构调整").number
    today = db.clock.today()
    do(db, compliance.start, "compliance.lead", number, date(today.year, 1, 1), today, ["compliance.lead"])
    do(db, compliance.evaluate, "compliance.lead", number, 1, "compliant", "已按时报送",
       evidence_file=("报送回执.pdf", b"%PDF-1.4 receipt"))
    with db.read() as uow:
        [sha] = stored_case_files(uow)
        assert cases.item_data(cases.items(uow, cases.get_case(uow, number), "evaluation")[0])["evidence_file"]["sha256"] == sha
    assert verify_installation(db).ok
    export_evidence(db, "verifier", tmp_path / "ce.zip", Scope(cases=(number,)))
    assert f"files/{sha}" in members_of(tmp_path / "ce.zip")
