"""Operation (issue 10, item 3): R-8.1–8.5 operating criteria and their record forms as document types,
R-8.6 the carbon data quality control plan, R-8.7 carbon assets with holdings recomputed from movements."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest

from cms_workflows.core.errors import AccessDenied, NotFound, ValidationFailed
from cms_workflows.registers import assets, instruments, operations_queries, quality, queries, tabular

from .conftest import events

PLAN_LINE = dict(code="DQ-01", site="HN01", facility="K1", material="electricity", data_source="meter",
                 source_detail="总配电室进线电能表月度抄表，与供电公司结算单核对", instrument="MI-001",
                 qa_qc="抄表双人复核；与结算单偏差超过 2% 时查明原因并记录", missing_data="按上月日均值补足并注明",
                 responsible_position="energy_data_admin", check_frequency="monthly")
HOLDING = dict(code="CA-01", kind="allowance", vintage=2024, registry_account="HNCEA-0001", description="2024 年度配额")
TRADER = "carbon.trader"
DATA_ADMIN = "energy_data_admin.hn01"


@pytest.fixture
def meter(db, company):
    with db.unit_of_work() as uow:
        instruments.add_instrument(uow, "energy_engineer.hn01", code="MI-001", name="1# 进线电能表", accuracy_class="0.5S",
                                   site="HN01", measures="电力（外购）", interval_months=12)


def _line(db, actor=DATA_ADMIN, **overrides):
    with db.unit_of_work() as uow:
        return quality.add_line(uow, actor, **{**PLAN_LINE, **overrides})


def _holding(db, **overrides):
    with db.unit_of_work() as uow:
        return assets.add_holding(uow, TRADER, **{**HOLDING, **overrides})


def _move(db, code="CA-01", actor=TRADER, **values):
    with db.unit_of_work() as uow:
        return assets.move(uow, actor, code, **values)


def _quantity(db, code: str) -> int:
    with db.read() as uow:
        return {h.code: h.quantity for h in queries.rows(uow, TRADER, "assets")}[code]


def _csv(rows) -> bytes:
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    return buf.getvalue().encode("utf-8-sig")


# ------------------------------------------------------------------ data quality control plan


def test_quality_plan_line_create_and_change_R_8_6(db, meter):
    line = _line(db)
    assert (line.code, line.instrument, line.check_frequency) == ("DQ-01", "MI-001", "monthly")
    with db.unit_of_work() as uow:
        changed = quality.change_line(uow, "carbon_accountant.hn01", "DQ-01", check_frequency="weekly")
    assert changed.check_frequency == "weekly"
    created, change = events(db, "registers.quality_plan.")[-2:]
    assert created.action.endswith(".create") and change.action.endswith(".change") and "weekly" in change.payload


def test_quality_plan_checks_instrument_site_and_one_line_per_plan_line_R_8_6_R_9_1(db, meter, company):
    with pytest.raises(ValidationFailed) as raised, db.unit_of_work() as uow:
        quality.add_line(uow, DATA_ADMIN, **{**PLAN_LINE, "instrument": "MI-404"})
    assert raised.value.problems[0]["key"] == "registers.problem.unknown_instrument"
    with pytest.raises(ValidationFailed) as raised, db.unit_of_work() as uow:
        quality.add_line(uow, DATA_ADMIN, **{**PLAN_LINE, "instrument": ""})  # metered: names its meter
    assert "计量器具编号" in raised.value.message("zh-CN") and "metering instrument" in raised.value.message("en")
    with db.unit_of_work() as uow:
        instruments.add_instrument(uow, "energy_engineer.hn02", code="MI-201", name="表", accuracy_class="1.0",
                                   site="HN02", measures="电", interval_months=12)
    with pytest.raises(ValidationFailed) as raised, db.unit_of_work() as uow:
        quality.add_line(uow, "carbon_accountant.hn01", **{**PLAN_LINE, "instrument": "MI-201"})
    assert raised.value.problems[0]["key"] == "registers.problem.instrument_elsewhere"
    _line(db)
    with pytest.raises(ValidationFailed) as raised, db.unit_of_work() as uow:  # the same plan line twice
        quality.add_line(uow, DATA_ADMIN, **{**PLAN_LINE, "code": "DQ-02"})
    assert raised.value.problems[0]["key"] == "registers.problem.plan_line_taken"


def test_quality_plan_data_sources_are_the_accounting_plans_R_8_6():
    from cms_workflows.accounting.quality import TIER

    assert set(quality.DATA_SOURCES) == set(TIER)


# ------------------------------------------------------------------ frame: round trip and bad rows


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
@pytest.mark.parametrize("name", ["quality", "assets"])
def test_export_import_round_trip_changes_nothing_R_8_6_R_8_7(db, meter, name, fmt):
    keeper = DATA_ADMIN if name == "quality" else TRADER
    (_line if name == "quality" else _holding)(db)
    if name == "assets":
        _move(db, moved_on="2025-01-10", kind="issue", quantity="1000")
    importer = quality.import_lines if name == "quality" else assets.import_holdings
    for locale in ("zh-CN", "en"):
        with db.read() as uow:
            data = queries.export(uow, keeper, name, fmt, locale)
        before = len(events(db, "registers."))
        with db.unit_of_work() as uow:
            result = importer(uow, keeper, data, f"x.{fmt}")
        assert (result.created, result.updated, result.unchanged) == ([], [], 1)
        assert len(events(db, "registers.")) == before
    if name == "assets":  # the quantity is exported, never read back
        assert _quantity(db, "CA-01") == 1000


def test_import_creates_then_the_same_file_again_creates_nothing_R_8_7(db, company):
    header = tabular.header(assets.REGISTER, "zh-CN")
    rows = [header, ["CA-01", "碳排放配额", "2024", "HNCEA-0001", "", "999"], ["CA-02", "CCER", "2023", "CCER-01", "", ""]]
    for expected in (["CA-01", "CA-02"], []):
        with db.unit_of_work() as uow:
            result = assets.import_holdings(uow, TRADER, _csv(rows), "a.csv")
        assert result.created == expected
    assert _quantity(db, "CA-01") == 0  # a quantity in the file is ignored: holdings move by movements only


def test_one_bad_row_writes_nothing_and_names_row_and_column_in_zh_and_en_R_8_6(db, meter):
    header = tabular.header(quality.REGISTER, "en")
    good = ["DQ-01", "HN01", "K1", "electricity", "Metered", "", "MI-001", "double reading", "", "energy_data_admin", "Monthly"]
    bad = ["DQ-02", "HN01", "K2", "natural_gas", "guess", "", "", "", "", "chief_dreamer", "hourly"]
    with pytest.raises(ValidationFailed) as raised, db.unit_of_work() as uow:
        quality.import_lines(uow, DATA_ADMIN, _csv([header, good, bad]), "q.csv")
    fields = {(p["row"], str(p["field"])) for p in raised.value.problems}
    assert {(3, "data_source"), (3, "qa_qc"), (3, "check_frequency")} <= fields
    assert "第 3 行 字段 数据来源" in raised.value.message("zh-CN") and "row 3 field Data source" in raised.value.message("en")
    with db.read() as uow:
        assert queries.rows(uow, DATA_ADMIN, "quality") == []


# ------------------------------------------------------------------ access per position (Annex A)


def test_who_keeps_and_reads_the_quality_plan_R_8_6(db, meter):
    _line(db)
    _line(db, actor="carbon_accountant.hn01", code="DQ-02", material="natural_gas", data_source="invoice", instrument="")
    for user in ("carbon_trader.hn01", "purchaser.hn01", "gm", "verifier", "energy_data_admin.hn02"):
        with pytest.raises(AccessDenied), db.unit_of_work() as uow:
            quality.change_line(uow, user, "DQ-01", qa_qc="x")
    for user in ("gm", "verifier", "auditor1", "energy_engineer.hn01", "carbon.lead"):
        with db.read() as uow:
            assert [r.code for r in queries.rows(uow, user, "quality")] == ["DQ-01", "DQ-02"]
    with db.read() as uow:  # a site holder reads their own site's lines
        assert queries.rows(uow, "energy_data_admin.hn02", "quality") == []
    for user in ("purchaser.hn01", "carbon_trader.hn01"):
        with pytest.raises(AccessDenied), db.read() as uow:
            queries.rows(uow, user, "quality")


def test_only_the_carbon_trader_keeps_carbon_assets_and_the_verifier_reads_them_R_8_7(db, company):
    for user in ("carbon.lead", "gm", "verifier", "carbon_accountant.hn01", "carbon_trader.hn01"):
        with pytest.raises(AccessDenied), db.unit_of_work() as uow:
            assets.add_holding(uow, user, **HOLDING)
    _holding(db)
    for user in ("gm", "verifier", "carbon_accountant.hn01"):
        with pytest.raises(AccessDenied), db.unit_of_work() as uow:
            assets.move(uow, user, "CA-01", moved_on="2025-01-10", kind="issue", quantity="10")
    for user in ("gm", "verifier", "auditor1", "carbon.lead", "carbon_accountant.hn01"):
        with db.read() as uow:
            queries.export(uow, user, "assets", "csv")
            operations_queries.holdings_by_kind_and_vintage(uow, user)
    for user in ("purchaser.hn01", "energy_data_admin.hn01"):
        with pytest.raises(AccessDenied), db.read() as uow:
            operations_queries.movements(uow, user)


# ------------------------------------------------------------------ movements and balances


def test_movements_recompute_holdings_and_totals_per_kind_and_vintage_R_8_7(db, company):
    _holding(db)
    _holding(db, code="CA-02", registry_account="HNCEA-0002")
    _holding(db, code="CA-03", kind="ccer", vintage=2023, registry_account="CCER-01")
    _move(db, moved_on="2025-01-10", kind="issue", quantity="10000", counterparty="湖南省生态环境厅", document="HN-2025-001")
    _move(db, moved_on="2025-02-01", kind="purchase", quantity="500", counterparty="某电力公司")
    _move(db, moved_on="2025-03-01", kind="sale", quantity="1500")
    _move(db, moved_on="2025-04-01", kind="transfer", quantity="2000", to_holding="CA-02")
    _move(db, "CA-03", moved_on="2025-04-02", kind="purchase", quantity="300")
    _move(db, "CA-02", moved_on="2025-06-30", kind="surrender", quantity="1200")
    assert (_quantity(db, "CA-01"), _quantity(db, "CA-02"), _quantity(db, "CA-03")) == (7000, 800, 300)
    with db.read() as uow:
        totals = [(t.kind, t.vintage, t.quantity, t.holdings)
                  for t in operations_queries.holdings_by_kind_and_vintage(uow, "verifier")]
        assert totals == [("allowance", 2024, 7800, 2), ("ccer", 2023, 300, 1)]
        assert operations_queries.quantities_that_disagree(uow) == []
        rows = operations_queries.movements(uow, "verifier", "CA-02")
        data = operations_queries.export_movements(uow, "verifier", "csv", "zh-CN")
    assert [(r["kind"], r["holding"], r["to_holding"]) for r in rows] == [("transfer", "CA-01", "CA-02"), ("surrender", "CA-02", "")]
    assert "划转" in data.decode("utf-8-sig") and "履约清缴" in data.decode("utf-8-sig")
    move = events(db, "registers.carbon_asset.move")[-1]
    assert '"quantities":{"CA-02":800}' in move.payload


def test_a_movement_below_zero_is_refused_and_nothing_is_written_R_8_7(db, company):
    _holding(db)
    _move(db, moved_on="2025-01-10", kind="issue", quantity="100")
    _move(db, moved_on="2025-03-01", kind="sale", quantity="100")
    before = len(events(db, "registers."))
    with pytest.raises(ValidationFailed) as raised:
        _move(db, moved_on="2025-03-02", kind="surrender", quantity="1")
    assert raised.value.key == "registers.asset_below_zero"
    assert "2025-03-02" in raised.value.message("zh-CN") and "不能为负" in raised.value.message("zh-CN")
    assert "below zero" in raised.value.message("en")
    with pytest.raises(ValidationFailed):  # dated back to a day with 100 held, but the recorded sale of
        _move(db, moved_on="2025-02-01", kind="sale", quantity="50")  # 2025-03-01 would then leave -50
    assert len(events(db, "registers.")) == before and _quantity(db, "CA-01") == 0
    with db.read() as uow:
        assert len(operations_queries.movements(uow, TRADER)) == 2


@pytest.mark.parametrize("values,key", [
    (dict(moved_on="2999-01-01", kind="issue", quantity="1"), "registers.problem.in_future"),
    (dict(moved_on="2025-01-01", kind="issue", quantity="0"), "registers.problem.out_of_range"),
    (dict(moved_on="2025-01-01", kind="gift", quantity="1"), "registers.problem.not_a_choice"),
    (dict(moved_on="2025-01-01", kind="transfer", quantity="1"), "registers.problem.required"),
    (dict(moved_on="2025-01-01", kind="transfer", quantity="1", to_holding="CA-03"), "registers.problem.transfer_mismatch"),
    (dict(moved_on="2025-01-01", kind="transfer", quantity="1", to_holding="CA-01"), "registers.problem.unknown_holding"),
    (dict(moved_on="2025-01-01", kind="sale", quantity="1", to_holding="CA-03"), "registers.problem.only_for_transfer"),
    (dict(moved_on="2025-01-01", kind="issue", quantity="1", document="=cmd|' /C calc'!A0"), "registers.problem.bad_movement_reference"),
])
def test_bad_movements_are_clear_errors_R_8_7(db, company, values, key):
    _holding(db)
    _holding(db, code="CA-03", kind="ccer", vintage=2023, registry_account="CCER-01")
    with pytest.raises(ValidationFailed) as raised:
        _move(db, **values)
    assert key in {p["key"] for p in raised.value.problems}
    assert _quantity(db, "CA-01") == 0
    with pytest.raises(NotFound):
        _move(db, "CA-404", **values)


# ------------------------------------------------------------------ –8.5 document types


OPERATING = {  # type -> (drafter at HN01, reviewer at HN01)
    "design_criteria": ("product_rd_engineer.hn01", "lca_engineer.hn01"),
    "design_record": ("lca_engineer.hn01", "quality_system_engineer.hn01"),
    "procurement_criteria": ("purchaser.hn01", "green_supply_manager.hn01"),
    "procurement_record": ("purchase_planner.hn01", "green_supply_manager.hn01"),
    "operation_criteria": ("process_engineer.hn01", "energy_engineer.hn01"),
    "operation_record": ("maintenance_engineer.hn01", "process_quality_engineer.hn01"),
    "storage_transport_criteria": ("purchase_planner.hn01", "energy_engineer.hn01"),
    "storage_transport_record": ("green_supply_manager.hn01", "quality_system_engineer.hn01"),
}
DEPARTMENT = {"design": "rnd", "procurement": "procurement", "operation": "production", "storage": "procurement"}


@pytest.mark.parametrize("doc_type", sorted(OPERATING))
def test_operating_criteria_and_record_forms_walk_their_route_R_8_1_to_R_8_5(db, company, doc_type):
    """Each type of R-8.2–8.5 is created by its own department, reviewed, approved by the carbon management
    department and made effective, numbered by its own scheme; another department may not draft it."""
    from cms_workflows.documents import approval, registry
    from cms_workflows.documents import queries as doc_queries
    from cms_workflows.documents import service as docs

    dt = registry.doc_type(doc_type)
    assert dt.name("zh-CN") and dt.name("en") and dt.review_months > 0 and dt.retention_years > 0
    drafter, reviewer = OPERATING[doc_type]
    content = dict(registry.template(dt.template).example)
    with db.unit_of_work() as uow:
        rev = docs.create(uow, drafter, doc_type=doc_type, site="HN01", title=dt.name_zh,
                          owner_department=DEPARTMENT[doc_type.split("_")[0]], content=content)
        number = doc_queries.document_number(uow, rev.document_id)
    assert number == f"HN01-{dt.abbr}-001"
    with db.unit_of_work() as uow:
        docs.submit(uow, drafter, number)
    with pytest.raises(AccessDenied), db.unit_of_work() as uow:  # not a reviewer of these types …
        approval.decide(uow, "iqc_inspector.hn01", number, "approve", "x", expect="review")
    with db.unit_of_work() as uow:
        approval.decide(uow, reviewer, number, "approve", "符合运行准则要求", expect="review")
    with db.unit_of_work() as uow:
        approval.decide(uow, "strategy_manager.hn01", number, "approve", "同意发布", expect="approve")
    with db.unit_of_work() as uow:
        docs.make_effective(uow, "doccontrol", number)
    with db.read() as uow:
        assert doc_queries.effective_revision(uow, doc_queries.get_document(uow, number)).label == "A"
    with pytest.raises(AccessDenied), db.unit_of_work() as uow:  # … and a verifier drafts nothing
        docs.create(uow, "verifier", doc_type=doc_type, site="HN01", title="x", owner_department="rnd", content=content)


# ------------------------------------------------------------------ CLI


def test_quality_and_assets_through_the_cli_R_8_6_R_8_7(db, meter, cli_env, tmp_path):
    from tests.test_cli import cms

    r = cms(cli_env, "registers", "quality", "add", "site=HN01", "facility=K1", "material=electricity", "数据来源=计量器具实测",
            "instrument=MI-001", "qa_qc=双人复核", "responsible_position=energy_data_admin", "核查频次=每月", user=DATA_ADMIN)
    assert r.returncode == 0 and "DQ-001" in r.stdout, r.stderr
    listed = cms(cli_env, "registers", "quality", "list", user="verifier", locale="en")
    assert "Monthly" in listed.stdout and "MI-001" in listed.stdout
    r = cms(cli_env, "registers", "assets", "add", "kind=allowance", "vintage=2024", "registry_account=HNCEA-0001", user=TRADER)
    assert r.returncode == 0 and "CA-001" in r.stdout, r.stderr
    r = cms(cli_env, "registers", "assets", "move", "CA-001", "--date", "2025-01-10", "--kind", "签发", "--quantity", "1000",
            user=TRADER)
    assert r.returncode == 0 and "1,000" in r.stdout, r.stderr
    refused = cms(cli_env, "registers", "assets", "move", "CA-001", "--date", "2025-02-01", "--kind", "sale",
                  "--quantity", "1001", user=TRADER, locale="en")
    assert refused.returncode == 2 and "below zero" in refused.stderr and "Traceback" not in refused.stderr
    totals = cms(cli_env, "registers", "assets", "totals", user="verifier", locale="en")
    assert "Emission allowance" in totals.stdout and "1,000" in totals.stdout
    out = tmp_path / "moves.csv"
    assert cms(cli_env, "registers", "assets", "movements", "--out", str(out), user="verifier").returncode == 0
    assert "签发" in out.read_text(encoding="utf-8-sig")
    assert "CA-001" in cms(cli_env, "registers", "assets", "movements", "CA-001", user=TRADER).stdout
