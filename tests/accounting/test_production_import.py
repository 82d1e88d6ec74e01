"""Production and output value through the same template and import as activity data (issue 15, item 4
and "found" point 5; R-9.1, Annex F): the template's production sheet filled and imported with
`cms accounting import` / the service, alone or beside activity rows, in one transaction; bad cells reported
by sheet, row and field with nothing written; the output value optional everywhere (service, CLI, web)."""

from __future__ import annotations

import io
import json

import pytest
from openpyxl import load_workbook
from sqlmodel import select

from cms_workflows import audit
from cms_workflows.accounting import queries as q
from cms_workflows.accounting import service as acc
from cms_workflows.accounting.models import Activity, ImportBatch, ProductionOutput
from cms_workflows.accounting.reports import text
from cms_workflows.core.errors import AccessDenied, ValidationFailed

from .conftest import DATA_ADMIN, DATA_ADMIN2
from .test_cli_and_outputs import cms
from .test_template_workbook import _fill, _save, columns

PERIODS = ["2024-01", "2024-02", "2024-03"]


def template(db, monkeypatch, locale="zh-CN", site="HN01") -> bytes:
    monkeypatch.setenv("CMS_LOCALE", locale)
    with db.read() as s:
        return q.template(s, DATA_ADMIN if site == "HN01" else DATA_ADMIN2, PERIODS, site)


def with_outputs(data: bytes, values: dict[int, tuple], book=None) -> bytes:
    """The production sheet with (product_t, value_10k_cny) written in the given rows (2 = first month)."""
    book = book or load_workbook(io.BytesIO(data))
    ws = book[book.sheetnames[2]]
    for n, (product, value) in values.items():
        ws.cell(row=n, column=3, value=product)
        ws.cell(row=n, column=4, value=value)
    return _save(book)


def outputs(db) -> dict[tuple[str, str], tuple]:
    with db.read() as s:
        return {(o.site, o.period): (o.product_t, o.value_10k_cny, o.recorded_by) for o in s.exec(select(ProductionOutput))}


def written(db) -> tuple[int, int, int, int]:
    with db.read() as s:
        return (len(s.exec(select(ProductionOutput)).all()), len(s.exec(select(Activity)).all()),
                len(s.exec(select(ImportBatch)).all()), len(audit.events_for(s)))


def test_a_template_with_only_production_filled_records_the_outputs_with_their_events(db, plan, monkeypatch):
    data = with_outputs(template(db, monkeypatch), {2: (12000, 3600.5), 4: ("11,500", None)})  # March: no value
    with db.unit_of_work() as s:
        result = acc.import_activity(s, DATA_ADMIN, data, "production.xlsx")
    assert (result.rows, result.outputs, result.skipped) == (0, 2, 4 * len(PERIODS))
    assert outputs(db) == {("HN01", "2024-01"): (12000.0, 3600.5, DATA_ADMIN),
                           ("HN01", "2024-03"): (11500.0, None, DATA_ADMIN)}
    with db.read() as s:
        recorded = audit.events_for(s, "acc_output", event="accounting.production_output.record")
        (imported,) = audit.events_for(s, "acc_import", event="accounting.import_batch.create")
    assert sorted((json.loads(e.payload)["period"], json.loads(e.payload)["file_row"], e.actor) for e in recorded) == \
        [("2024-01", 2, DATA_ADMIN), ("2024-03", 4, DATA_ADMIN)]
    assert {json.loads(e.payload)["import_id"] for e in recorded} == {result.import_id}
    assert [o["period"] for o in json.loads(imported.payload)["outputs"]] == ["2024-01", "2024-03"]
    # the same file again is the earlier import: nothing new, no event
    before = written(db)
    with db.unit_of_work() as s:
        again = acc.import_activity(s, DATA_ADMIN, data, "production.xlsx")
    assert again.duplicate and again.import_id == result.import_id and written(db) == before


def test_the_template_updates_a_recorded_month_and_shows_what_was_recorded(db, plan, monkeypatch):
    with db.unit_of_work() as s:
        acc.record_output(s, DATA_ADMIN, "HN01", "2024-02", 900.0, 300.0)
    data = template(db, monkeypatch)
    sheet = load_workbook(io.BytesIO(data))["产量与产值"]
    assert sheet["E3"].value == "已登记：产量 900 吨，产值 300 万元；再次导入将更新" and sheet["E2"].value is None
    with db.unit_of_work() as s:
        acc.import_activity(s, DATA_ADMIN, with_outputs(data, {3: (950, None)}), "fix.xlsx")
    assert outputs(db) == {("HN01", "2024-02"): (950.0, None, DATA_ADMIN)}


def test_activity_and_production_are_imported_together_in_one_transaction(db, plan, monkeypatch):
    data = template(db, monkeypatch, locale="en")
    book, _ws = _fill(data, {("BOILER1", "2024-01"): 10.0, ("GRID", "2024-01"): 1000})
    with db.unit_of_work() as s:
        result = acc.import_activity(s, DATA_ADMIN, with_outputs(data, {2: (12000, 3600)}, book), "both.xlsx")
    assert (result.rows, result.outputs) == (2, 1)
    assert outputs(db) == {("HN01", "2024-01"): (12000.0, 3600.0, DATA_ADMIN)}
    # an error on either sheet: nothing of the file is written
    before = written(db)
    book, ws = _fill(data, {("KILN1", "2024-02"): 100})
    bad = with_outputs(data, {3: (500, 10)}, book)
    book = load_workbook(io.BytesIO(bad))
    book["activity_data"].cell(row=3, column=columns(book["activity_data"])["quantity"], value=-1)
    with pytest.raises(ValidationFailed) as refused, db.unit_of_work() as s:
        acc.import_activity(s, DATA_ADMIN, _save(book), "bad.xlsx")
    assert refused.value.key == "accounting.import_rejected"
    assert [(p["row"], p["field"]) for p in refused.value.problems] == [(3, "quantity")]
    assert written(db) == before


def test_bad_production_cells_are_reported_by_row_and_field_and_nothing_is_written(db, plan, monkeypatch):
    data = template(db, monkeypatch)
    book = load_workbook(io.BytesIO(data))
    ws = book["产量与产值"]
    ws["C2"], ws["D2"] = "lots", -1  # not a number; a negative value
    ws["C3"], ws["D3"] = None, 50  # a value without the product output
    ws["B4"], ws["C4"] = "2024-13", 10  # the locked period edited anyway
    ws.append(["HN01", "2024-01", 5, None])  # a second January
    ws.append(["HN09", "2024-01", 5, None])  # an unknown site
    before = written(db)
    with pytest.raises(ValidationFailed) as refused, db.unit_of_work() as s:
        acc.import_activity(s, DATA_ADMIN, _save(book), "bad.xlsx")
    assert refused.value.key == "accounting.import_rejected"
    assert [(p["row"], p["field"], p["key"].rsplit(".", 1)[1]) for p in refused.value.problems] == [
        (2, "production.product_t", "not_a_number"), (2, "production.value_10k_cny", "negative"),
        (3, "production.product_t", "required"), (4, "production.period", "period_format"),
        (5, "production.period", "duplicate_output"), (6, "production.site", "unknown_site")]
    assert text(refused.value.problems[4], "zh-CN") == "HN01 2024-01 重复（已在第 2 行）"
    assert text(refused.value.problems[4], "en") == "HN01 2024-01 given twice (already in row 2)"
    assert written(db) == before


def test_production_at_another_site_needs_the_permission_there(db, plan, monkeypatch):
    data = template(db, monkeypatch)
    book = load_workbook(io.BytesIO(data))
    book["产量与产值"].append(["HN02", "2024-01", 5, 1])
    before = written(db)
    with pytest.raises(AccessDenied), db.unit_of_work() as s:
        acc.import_activity(s, DATA_ADMIN, _save(book), "hn02.xlsx")
    assert written(db) == before


def test_the_output_value_is_optional_in_the_command_and_the_cli(db, plan, cli_env):
    with db.unit_of_work() as s:
        acc.record_output(s, DATA_ADMIN, "HN01", "2024-01", 1000.0)
    with pytest.raises(ValidationFailed) as negative, db.unit_of_work() as s:
        acc.record_output(s, DATA_ADMIN, "HN01", "2024-02", 1000.0, -3.0)
    assert [(p["field"], p["key"]) for p in negative.value.problems] == [("value_10k_cny", "accounting.problem.negative")]
    r = cms(cli_env, "output", "HN01", "2024-03", "--product-t", "800", user=DATA_ADMIN)
    assert r.returncode == 0, r.stderr
    r = cms(cli_env, "output", "HN01", "2024-04", "--product-t", "700", "--value", "20", user=DATA_ADMIN)
    assert r.returncode == 0, r.stderr
    assert outputs(db) == {("HN01", "2024-01"): (1000.0, None, DATA_ADMIN), ("HN01", "2024-03"): (800.0, None, DATA_ADMIN),
                           ("HN01", "2024-04"): (700.0, 20.0, DATA_ADMIN)}


def test_the_cli_imports_the_production_sheet(db, plan, cli_env, tmp_path):
    tpl = tmp_path / "template.xlsx"
    r = cms(cli_env, "template", str(tpl), "--period", "2024-01", user=DATA_ADMIN)  # the one site of the user
    assert r.returncode == 0, r.stderr
    tpl.write_bytes(with_outputs(tpl.read_bytes(), {2: (12000, None)}))
    r = cms(cli_env, "import", str(tpl), user=DATA_ADMIN)
    assert r.returncode == 0, r.stderr
    assert "已登记 1 个站点月份的产量与产值" in r.stdout and "4 行未填写数量，未导入" in r.stdout
    assert outputs(db) == {("HN01", "2024-01"): (12000.0, None, DATA_ADMIN)}
