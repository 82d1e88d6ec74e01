"""`cms verify --deep` replays the cases' events (X-1; issue 11): a case's stage, kind or site edited in the
database, a text rewritten, an item slipped in, or a case without its opening event is named."""

from __future__ import annotations

import pytest

from cms_workflows.bootstrap import configure, verify_deep
from cms_workflows.processes import corrective_action
from tests.processes.helpers import do
from tests.test_verify_deep import _sql

LEAD, OWNER = "strategy_manager.hn01", "energy_engineer.hn01"


@pytest.fixture
def number(db, company) -> str:
    configure()
    number = do(db, corrective_action.raise_nonconformity, LEAD, site="HN01", source="other",
                description="供应商碳数据缺少核查声明", owner_position="energy_engineer").number
    do(db, corrective_action.contain, OWNER, number, "暂停使用该数据", "要求供应商补交")
    return number


def test_untouched_cases_pass(db, number):
    report = verify_deep(db)
    assert report.ok and report.checked["processes.deep.count_cases"] == 1


@pytest.mark.parametrize(("statement", "key"), [
    ("UPDATE proc_case SET status = 'closed'", "processes.deep.case_differs"),
    ("UPDATE proc_case SET site = 'HN02'", "processes.deep.case_differs"),
    ("UPDATE proc_case_text SET text = '无问题' WHERE field = 'description'", "processes.deep.text_differs"),
    ("INSERT INTO proc_case_item (case_id, kind, seq, data, status, created_by, created_at) "
     "SELECT id, 'action', 9, '{}', '', 'admin', opened_at FROM proc_case", "processes.deep.items_differ"),
    ("UPDATE proc_case SET number = 'NC-1999-01'", "processes.deep.case_without_event"),
])
def test_an_edit_in_the_database_is_named(db, number, statement, key):
    _sql(db, statement)
    report = verify_deep(db)
    assert not report.ok and report.problem.key == key
