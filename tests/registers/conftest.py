"""Shared rows and helpers of the register tests (issue 10, item 3)."""

from __future__ import annotations

from datetime import date

import pytest

from cms_workflows.registers import instruments, obligations, parties, risks, swot

# one valid row per register, and the user (demo company) who keeps it
ROWS = {
    "swot": dict(code="S-01", context="internal", kind="strength", description="余热回收技术成熟，已在窑线应用",
                 source="2024 年能源审计", analysed_on=date(2025, 1, 10), next_analysis=date(2026, 1, 10)),
    "parties": dict(code="IP-01", name="湖南省生态环境厅", side="external", category="regulator", needs="按时报送排放报告",
                    expectations="数据真实准确", compliance_obligation=True, comm_what="年度排放报告",
                    comm_when="每年 3 月", comm_how="全国碳市场管理平台", comm_who="carbon_accountant"),
    "risks": dict(code="RO-101", nature="risk", category="market", description="出口客户要求提供产品碳足迹",
                  likelihood=4, impact=4, response="开展 LCA", owner_position="strategy_manager", owner_user="carbon.lead",
                  review_date=date(2025, 12, 31)),
    "obligations": dict(code="CO-01", kind="regulation", title="碳排放权交易管理暂行条例", issuer="国务院",
                        clause="第十一条", applicability="重点排放单位", source_document="HN-EX-001",
                        owner_position="compliance_officer", next_review=date(2025, 12, 1)),
    "instruments": dict(code="MI-001", name="1# 进线电能表", accuracy_class="0.5S", site="HN01", location="总配电室",
                        measures="电力（外购）", interval_months=12, last_calibrated=date(2025, 1, 15),
                        certificate="JL-2025-0001"),
}
KEEPER = {"swot": "carbon.lead", "parties": "carbon.lead", "risks": "compliance.lead", "obligations": "compliance.lead",
          "instruments": "energy_engineer.hn01"}
ADD = {"swot": swot.add_issue, "parties": parties.add_party, "risks": risks.add_risk,
       "obligations": obligations.add_obligation, "instruments": instruments.add_instrument}
CHANGE = {"swot": swot.change_issue, "parties": parties.change_party, "risks": risks.change_risk,
          "obligations": obligations.change_obligation, "instruments": instruments.change_instrument}
IMPORT = {"swot": swot.import_issues, "parties": parties.import_parties, "risks": risks.import_risks,
          "obligations": obligations.import_obligations, "instruments": instruments.import_instruments}
# a change per register: (column, new value)
CHANGES = {"swot": ("source", "2025 年能源审计"), "parties": ("comm_how", "书面报告"), "risks": ("impact", 2),
           "obligations": ("clause", "第十二条"), "instruments": ("location", "2# 配电室")}
REGISTERS = sorted(ROWS)


@pytest.fixture(params=REGISTERS)
def register(request) -> str:
    return request.param


def add(db, name: str, actor: str | None = None, **overrides):
    with db.unit_of_work() as uow:
        obj = ADD[name](uow, actor or KEEPER[name], **{**ROWS[name], **overrides})
    return obj


def events(db, prefix: str) -> list:
    from cms_workflows import audit

    with db.read() as uow:
        return [e for e in audit.events_for(uow) if e.action.startswith(prefix)]
