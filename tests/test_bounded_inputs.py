"""Bounded inputs everywhere (issue 14, item 7; R-8.6, X-1): each finding of the review rebuilt as the
attacker's file or value, then shown refused with a message that names the limit, quickly and in bounded
memory. Memory is proved in a child process (address space capped with RLIMIT_AS, peak resident memory read
from /proc/self/status), never with timing assertions."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlmodel import select

from cms_workflows.accounting import importing
from cms_workflows.accounting import queries as acc_queries
from cms_workflows.accounting import service as acc
from cms_workflows.accounting.factors import FactorLibrary, categories
from cms_workflows.accounting.models import ImportBatch
from cms_workflows.audit.models import AuditEvent
from cms_workflows.core.errors import ValidationFailed
from cms_workflows.core.limits import Limits, limits
from cms_workflows.core.text import forbidden_char, shown
from cms_workflows.documents import imports as doc_imports
from cms_workflows.documents import rendering
from cms_workflows.documents import service as docs
from cms_workflows.org import service as org
from cms_workflows.org.models import Site, User

from .accounting.conftest import DATA_ADMIN, PLAN, csv_bytes, plan, row  # noqa: F401  (plan: a fixture)
from .bounded_files import GOOD_ROW, MAIN, docx_replacing, docx_with, repeated, row_xml, sheet, workbook

ROOT = Path(__file__).resolve().parents[1]
CHILD_ADDRESS_SPACE = 1536 * 2**20  # a regression fails with MemoryError in the child, not by swapping the machine
CHILD_PEAK_MB = 450  # the interpreter with pandas, openpyxl and python-docx loaded is ~100 MB


def ctx() -> importing.Context:
    return importing.Context(sites={"HN01", "HN02"}, facilities={(p[0], p[2]): p[1] for p in PLAN},
                             materials=FactorLibrary().materials(), categories=set(categories()))


_CHILD = r"""
import json, resource, sys
from pathlib import Path
resource.setrlimit(resource.RLIMIT_AS, ({cap}, {cap}))
from cms_workflows.core.errors import CmsError
from cms_workflows.accounting import importing
from cms_workflows.accounting.factors import FactorLibrary, categories
from cms_workflows.documents import rendering

def ctx():
    return importing.Context(sites={{"HN01"}}, facilities={{("HN01", "GRID"): "U1"}},
                             materials=FactorLibrary().materials(), categories=set(categories()))

data = Path(sys.argv[1]).read_bytes()
out = {{}}
try:
    if sys.argv[2].endswith(".docx"):
        rendering.check_docx(data, sys.argv[2])
    else:
        parsed = importing.parse(data, sys.argv[2], ctx())
        out["rows"], out["problems"] = len(parsed.frame), [p["key"] for p in parsed.problems]
except CmsError as exc:
    out["key"], out["message"] = exc.key, exc.message("en")
# VmHWM, not ru_maxrss: the latter carries the parent's peak across fork and exec
status = Path("/proc/self/status").read_text()
out["peak_mb"] = int(status.split("VmHWM:")[1].split()[0]) / 1024
print(json.dumps(out))
"""


def in_child(tmp_path: Path, data: bytes, filename: str, **limits_env: int) -> dict:
    """Parse (or check, for .docx) the file in a fresh process with a capped address space; what it said and its
    peak memory. `limits_env` scales limits down (max_cell_chars=1000 → CMS_LIMIT_MAX_CELL_CHARS=1000)."""
    path = tmp_path / filename
    path.write_bytes(data)
    env = {**os.environ, **{f"CMS_LIMIT_{k.upper()}": str(v) for k, v in limits_env.items()}, "CMS_LOCALE": "en"}
    proc = subprocess.run([sys.executable, "-c", _CHILD.format(cap=CHILD_ADDRESS_SPACE), str(path), filename],
                          capture_output=True, text=True, cwd=ROOT, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def refused(result: dict, limit: str) -> str:
    assert "message" in result, result
    assert f"({limit})" in result["message"], result["message"]
    assert result["peak_mb"] < CHILD_PEAK_MB, result
    return result["message"]


# ------------------------------------------------------------------ .xlsx: dimensions, sparse sheets, shared strings

def test_a_well_formed_workbook_still_imports(tmp_path):
    data = workbook(sheet([GOOD_ROW, ["HN01", "U1", "BOILER1", "stationary_combustion", "natural_gas", "2023-01", 10,
                                      "10^4Nm3", "meter", "E-1"]]))
    parsed = importing.parse(data, "ok.xlsx", ctx())
    assert parsed.problems == [] and list(parsed.frame["facility"]) == ["GRID", "BOILER1"]


def test_sparse_workbook_declaring_the_whole_sheet_is_refused_before_loading(tmp_path):
    # the review's 160 KB file: a sheet declaring A1:XFD1048576 with a cell in its far corner (7.8 GB, 93 s before)
    data = workbook(sheet([GOOD_ROW], dimension="A1:XFD1048576",
                          extra=[b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>']))
    message = refused(in_child(tmp_path, data, "sparse.xlsx"), "max_columns")
    assert "16,384 columns" in message and "limit (max_columns) is 200" in message


def test_sparse_rows_far_apart_are_read_without_filling_the_gaps(tmp_path):
    # a valid dimension, but rows 2 and 1,048,576: a reader that fills in the empty rows makes a million of them
    far = ["HN01", "U1", "GRID", "purchased_electricity", "electricity", "2023-02", 900, "MWh", "meter", None]
    between = range(3, 1_000_000, 997)
    data = workbook(sheet([GOOD_ROW], dimension="A1:J1048576", extra=[
        b"".join(b'<row r="%d"><c r="J%d"><v>0</v></c></row>' % (r, r) for r in between), row_xml(1_048_576, far)]))
    result = in_child(tmp_path, data, "sparse-rows.xlsx")
    assert result.get("rows") == 1 + len(between) + 1 and result["peak_mb"] < CHILD_PEAK_MB, result


def test_a_cell_far_right_without_a_dimension_is_refused(tmp_path):
    data = workbook(sheet([GOOD_ROW], dimension="A1", extra=[b'<row r="3"><c r="ZZ3"><v>1</v></c></row>']))
    with pytest.raises(ValidationFailed) as err:
        importing.parse(data, "wide.xlsx", ctx())
    assert "(max_columns)" in err.value.message("en") and "702 columns" in err.value.message("en")


def test_shared_strings_bomb_is_refused_by_its_count_and_by_counting(tmp_path):
    # ~1 MB zipped: four million empty shared strings (3.3 GB before); first with an honest count attribute
    unit = b"<si><t></t></si>"
    honest = workbook(sheet([GOOD_ROW]), repeated(b"<sst " + MAIN + b' count="4000000" uniqueCount="4000000">',
                                                  unit, 4_000_000, b"</sst>"))
    assert len(honest) < 2 * 2**20
    message = refused(in_child(tmp_path, honest, "sst.xlsx"), "max_shared_strings")
    assert "4,000,000 shared strings; the limit (max_shared_strings) is 1,048,576" in message
    # the same with a count attribute that lies: the entries are counted as they stream past (the limit scaled
    # down so the test is quick; the path is the same)
    lying = workbook(sheet([GOOD_ROW]), repeated(b"<sst " + MAIN + b' count="1" uniqueCount="1">',
                                                 unit, 4_000_000, b"</sst>"))
    message = refused(in_child(tmp_path, lying, "sst-lying.xlsx", max_shared_strings=100_000), "max_shared_strings")
    assert "at least 100,001 shared strings" in message


def test_a_200_mb_cell_in_a_workbook_is_refused_while_streaming(tmp_path):
    # 200 MB of text in one shared string, ~200 KB zipped: counted in pieces, never held
    data = workbook(sheet([GOOD_ROW]), repeated(b"<sst " + MAIN + b' count="1" uniqueCount="1"><si><t>',
                                                b"x" * 1024, 200 * 1024, b"</t></si></sst>", batch=1024))
    assert len(data) < 2**20
    message = refused(in_child(tmp_path, data, "cell.xlsx"), "max_cell_chars")
    assert "limit (max_cell_chars) is 32,767" in message


def test_a_long_cell_is_refused_at_a_scaled_down_limit_the_same_way(tmp_path, monkeypatch):
    monkeypatch.setenv("CMS_LIMIT_MAX_CELL_CHARS", "1000")
    data = workbook(sheet([GOOD_ROW[:9] + ["E" * 5000]]))
    with pytest.raises(ValidationFailed) as err:
        importing.parse(data, "cell.xlsx", ctx())
    assert err.value.key == "accounting.bad_file" and "limit (max_cell_chars) is 1,000" in err.value.message("en")


def test_a_workbook_that_unzips_past_the_limit_is_refused_from_its_directory(tmp_path, monkeypatch):
    monkeypatch.setenv("CMS_LIMIT_MAX_UNZIPPED_BYTES", str(2**20))
    data = workbook(sheet([GOOD_ROW], extra=[b" " * (3 * 2**20)]))
    with pytest.raises(ValidationFailed) as err:
        importing.parse(data, "big.xlsx", ctx())
    assert "(max_unzipped_bytes)" in err.value.message("en")


@pytest.mark.parametrize("dtd", [
    b'<!DOCTYPE worksheet [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',  # external entity
    b'<!DOCTYPE worksheet [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>',  # expansion
])
def test_a_workbook_with_a_dtd_gives_a_clear_message(dtd):
    data = workbook(sheet([GOOD_ROW[:9] + ["&xxe;" if b"xxe" in dtd else "&b;"]], prolog=dtd))
    with pytest.raises(ValidationFailed) as err:
        importing.parse(data.replace(b"&amp;", b"&"), "xxe.xlsx", ctx())
    message = err.value.message("en")
    assert err.value.key == "accounting.bad_file" and "xl/worksheets/sheet1.xml contains a DTD" in message
    assert "root:" not in message


def test_a_dtd_hidden_in_a_part_openpyxl_loads_whole_is_refused_too():
    styles = (b'<?xml version="1.0"?><!DOCTYPE s [<!ENTITY e SYSTEM "http://127.0.0.1:9/x">]>'
              b"<styleSheet " + MAIN + b">&e;</styleSheet>")
    data = workbook(sheet([GOOD_ROW]), extra_parts={"xl/styles.xml": styles})
    with pytest.raises(ValidationFailed) as err:
        importing.parse(data, "styles.xlsx", ctx())
    assert "xl/styles.xml contains a DTD" in err.value.message("en")


# ------------------------------------------------------------------ CSV: columns and line length

def test_csv_with_half_a_million_columns_is_refused_before_pandas(tmp_path):
    data = (",".join(importing.FIELDS) + "," * 500_000 + "\n" + ",".join(map(str, GOOD_ROW)) + "\n").encode()
    message = refused(in_child(tmp_path, data, "wide.csv"), "max_columns")
    assert "500,010 columns" in message


def test_the_reviewers_million_column_csv_is_refused_by_its_line_length(tmp_path):
    # 8.9 MB: the header, then a row of a million cells (ran past 400 s before)
    data = (",".join(importing.FIELDS) + "\n" + ",".join(map(str, GOOD_ROW)) + ",7" * 1_000_000 + "\n"
            + "HN01," * 1_000_000 + "\n").encode()
    message = refused(in_child(tmp_path, data, "million.csv"), "max_line_bytes")
    assert message.startswith("The file cannot be read: line 2 is at least")


def test_a_200_mb_csv_cell_is_refused_before_it_is_decoded_twice(tmp_path):
    data = b",".join(f.encode() for f in importing.FIELDS) + b"\n" + b",".join(
        str(v).encode() for v in GOOD_ROW[:9]) + b"," + b"x" * (200 * 10**6) + b"\n"
    result = in_child(tmp_path, data, "cell.csv")
    assert "(max_line_bytes)" in result["message"]
    assert result["peak_mb"] < len(data) / 2**20 + CHILD_PEAK_MB  # the file itself, and no copy of it


def test_csv_rows_and_cells_limits_are_named(monkeypatch):
    rows = [row("HN01", "GRID", "electricity", f"2023-{m:02d}", 5, "MWh") for m in range(1, 13)]
    monkeypatch.setenv("CMS_LIMIT_MAX_ROWS", "10")
    with pytest.raises(ValidationFailed) as err:
        importing.parse(csv_bytes(rows), "rows.csv", ctx())
    assert "(max_rows)" in err.value.message("en")
    monkeypatch.setenv("CMS_LIMIT_MAX_ROWS", "1000")
    monkeypatch.setenv("CMS_LIMIT_MAX_CELLS", "100")
    with pytest.raises(ValidationFailed) as err:
        importing.parse(csv_bytes(rows), "cells.csv", ctx())
    assert "the file has at least 130 cells; the limit (max_cells) is 100" in err.value.message("en")


def test_an_activity_file_larger_than_the_import_limit_is_refused(monkeypatch):
    monkeypatch.setenv("CMS_LIMIT_MAX_IMPORT_BYTES", "100")
    with pytest.raises(ValidationFailed) as err:
        importing.parse(csv_bytes([row("HN01", "GRID", "electricity", "2023-01", 5, "MWh")]), "a.csv", ctx())
    assert "limit (max_import_bytes) is 100" in err.value.message("en")


# ------------------------------------------------------------------ .docx

def test_docx_zip_bomb_is_refused_from_its_directory(tmp_path):
    # 300 MB of zeros in one part, ~300 KB zipped (4.3 GB reached before being refused)
    data = docx_with("word/media/bomb.bin", repeated(b"", b"\0" * 2**20, 300, b"", batch=1))
    assert len(data) < 2**20
    message = refused(in_child(tmp_path, data, "bomb.docx"), "max_unzipped_bytes")
    assert message.startswith("bomb.docx is not a readable Word .docx file: unzipped, the file would be 315,398,960 bytes")


def test_docx_xml_part_too_large_to_load_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("CMS_LIMIT_MAX_XML_PART_BYTES", str(4 * 2**20))  # 32 MiB by default
    data = docx_with("word/bomb.xml", repeated(b"<a>", b"<b/>" * 1024, 2048, b"</a>", batch=1))
    with pytest.raises(ValidationFailed) as err:
        rendering.check_docx(data, "x.docx")
    assert "part word/bomb.xml" in err.value.message("en") and "(max_xml_part_bytes)" in err.value.message("en")


def test_docx_with_a_dtd_is_refused_with_a_message():
    body = (b'<?xml version="1.0"?><!DOCTYPE w [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
            b"<w:p><w:r><w:t>&x;</w:t></w:r></w:p></w:body></w:document>")
    with pytest.raises(ValidationFailed) as err:
        rendering.check_docx(docx_replacing("word/document.xml", body), "xxe.docx")
    assert "word/document.xml contains a DTD" in err.value.message("en")


def test_upload_size_limit_is_named(monkeypatch):
    monkeypatch.setenv("CMS_LIMIT_MAX_UPLOAD_BYTES", "1000")
    with pytest.raises(ValidationFailed) as err:
        rendering.check_upload(b"%PDF" + b"0" * 2000, "standard.pdf")
    assert "the file is 2,004 bytes; the limit (max_upload_bytes) is 1,000" in err.value.message("en")


def test_limits_come_from_settings_with_defaults(monkeypatch):
    assert Limits().max_columns == 200 and limits().max_cell_chars == 32_767
    monkeypatch.setenv("CMS_LIMIT_MAX_COLUMNS", "300")
    assert limits().max_columns == 300


# ------------------------------------------------------------------ field lengths: the same refusal on both databases

LONG_NAME = "名" * 201


def _count(db, model) -> int:
    with db.read() as session:
        return session.exec(select(func.count()).select_from(model)).one()


def test_overlong_name_email_and_site_name_give_the_same_message_on_every_database(db):
    events = _count(db, AuditEvent)
    with pytest.raises(ValidationFailed) as err, db.unit_of_work() as session:
        org.create_user(session, "admin", "long.name", LONG_NAME)
    assert err.value.message("en") == "A value is too long or contains characters that are not allowed\n" \
                                      "  field display_name: 201 characters; the limit is 200"
    with pytest.raises(ValidationFailed) as err, db.unit_of_work() as session:
        org.create_user(session, "admin", "long.mail", "长邮箱", "a" * 240 + "@example.cn")
    assert err.value.message("en").endswith("field email: 251 characters; the limit is 200")
    with pytest.raises(ValidationFailed) as err, db.unit_of_work() as session:
        org.create_site(session, "admin", "HN09", "厂" * 300)
    assert err.value.message("en").endswith("field name_zh: 300 characters; the limit is 200")
    with pytest.raises(ValidationFailed) as err, db.unit_of_work() as session:
        org.create_user(session, "admin", "nul.name", "a\x00b")
    assert err.value.problems[0]["params"]["char"] == "U+0000"
    assert _count(db, User) == 2 and _count(db, Site) == 0 and _count(db, AuditEvent) == events


def test_overlong_import_cell_is_a_row_problem_and_leaves_no_file(db, plan):
    files = set(db.files.root.glob("??/*")) if db.files.root.exists() else set()
    rows = [row("HN01", "GRID", "electricity", "2023-01", 5, "MWh", evidence="E" * 5000)]
    with pytest.raises(ValidationFailed) as err, db.unit_of_work() as session:
        acc.import_activity(session, DATA_ADMIN, csv_bytes(rows), "long.csv")
    assert [(p["row"], p["field"], p["key"]) for p in err.value.problems] == [
        (2, "evidence_ref", "accounting.problem.too_long")]
    assert "5,000 characters; the limit is 200" in err.value.message("en")
    assert _count(db, ImportBatch) == 0
    assert (set(db.files.root.glob("??/*")) if db.files.root.exists() else set()) == files


def test_an_overlong_field_after_the_file_is_stored_leaves_no_orphan(db, company):
    from .documents.conftest import AUTHOR
    from .documents.test_distribution_import_retention import word_file

    data = word_file("一份旧的程序文件。")
    with pytest.raises(ValidationFailed) as err, db.unit_of_work() as session:
        doc_imports.import_file(session, AUTHOR, data, "旧程序.docx", doc_type="procedure", site="HN01",
                                title="旧程序", owner_department="energy_management", legacy_number="Q" * 500)
    assert err.value.message("en").endswith("field legacy_number: 500 characters; the limit is 120")
    assert not db.files.exists(__import__("hashlib").sha256(data).hexdigest())


# ------------------------------------------------------------------ periods

@pytest.mark.parametrize("period", ["0000-01", "9999-12", "1989-12", "2101-01"])
def test_implausible_periods_are_refused(period):
    parsed = importing.parse(csv_bytes([row("HN01", "GRID", "electricity", period, 5, "MWh")]), "p.csv", ctx())
    assert [(p["field"], p["key"]) for p in parsed.problems] == [("period", "accounting.problem.period_range")]
    with pytest.raises(ValidationFailed) as err:
        acc_queries.check_period(period, "first")
    assert "outside the plausible range 1990-01 to 2100-12" in err.value.message("en")


def test_the_edges_of_the_period_range_are_accepted():
    rows = [row("HN01", "GRID", "electricity", p, 5, "MWh") for p in ("1990-01", "2100-12")]
    assert importing.parse(csv_bytes(rows), "p.csv", ctx()).problems == []
    assert acc_queries.check_period("1990-01", "first") == "1990-01"


def test_production_output_for_year_9999_is_refused(db, plan):
    with pytest.raises(ValidationFailed) as err, db.unit_of_work() as session:
        acc.record_output(session, DATA_ADMIN, "HN01", "9999-12", 10.0, 1.0)
    assert err.value.problems[0]["key"] == "accounting.problem.period_range"


def test_factor_years_are_within_the_range(db, company):
    with pytest.raises(ValidationFailed) as err, db.unit_of_work() as session:
        acc.add_factor_override(session, "carbon_accountant.hn01", material="natural_gas", parameter="ncv",
                                value=389.31, evidence="化验报告 2023-01", site="HN01", year_from=0, year_to=9999)
    assert {p["field"] for p in err.value.problems} == {"year_from", "year_to"}


# ------------------------------------------------------------------ control characters and bidi overrides

RLO_NAME = "gm\u202eadmin"
ESC_TITLE = "\x1b[2J\x1b[31m文件控制程序"


@pytest.mark.parametrize("text", [RLO_NAME, "a\u2066b", "a\u200fb", "x\x1b[31m", "x\x85y", "a\nb", "a\tb"])
def test_the_shared_validator_refuses_controls_and_bidi_in_single_line_text(text):
    assert forbidden_char(text) is not None


def test_multi_line_text_keeps_line_breaks_but_not_escapes():
    assert forbidden_char("第一行\n第二行\r\n\t缩进", multiline=True) is None
    assert forbidden_char("原因\x1b[0m", multiline=True) == "U+001B"
    assert shown("a\x1bb\u202ec") == "a\ufffdb\ufffdc"


def test_rtl_override_and_esc_in_display_names_and_site_names_are_refused(db):
    with pytest.raises(ValidationFailed) as err, db.unit_of_work() as session:
        org.create_user(session, "admin", "spoof", RLO_NAME)
    assert (err.value.problems[0]["field"], err.value.problems[0]["params"]["char"]) == ("display_name", "U+202E")
    with pytest.raises(ValidationFailed) as err, db.unit_of_work() as session:
        org.create_site(session, "admin", "HN09", ESC_TITLE)
    assert "\x1b" not in err.value.message("en") and "U+001B" in err.value.message("en")
    assert _count(db, User) == 2


def test_esc_in_titles_and_reasons_of_documents_is_refused(db, company):
    from .documents.conftest import AUTHOR, PROCEDURE_CONTENT, new_procedure

    with pytest.raises(ValidationFailed) as err, db.unit_of_work() as session:
        docs.create(session, AUTHOR, doc_type="procedure", site="HN01", title=ESC_TITLE,
                    owner_department="carbon_management", content=dict(PROCEDURE_CONTENT))
    assert err.value.problems[-1]["field"] == "title" and "U+001B" in err.value.message("en")
    number = new_procedure(db)
    with pytest.raises(ValidationFailed), db.unit_of_work() as session:
        docs.edit(session, AUTHOR, number, title="程序\u202etxt.exe")
    with pytest.raises(ValidationFailed), db.unit_of_work() as session:
        docs.obsolete(session, "doccontrol", number, "作废\x1b]0;pwned\x07")
    with db.unit_of_work() as session:  # a reason on several lines is fine
        docs.obsolete(session, "doccontrol", number, "作废：\n已由新程序取代")


def test_any_stored_text_column_refuses_escapes_at_flush(db, plan):
    # a column no service checks explicitly is still checked before the database sees it
    with pytest.raises(ValidationFailed) as err, db.unit_of_work() as session:
        acc.add_plan_item(session, "carbon_accountant.hn01", site="HN01", production_unit="U9", facility="F9",
                          category="stationary_combustion", material="diesel", unit="t", data_source="meter",
                          facility_name="锅炉\x1b[8m")
    assert err.value.key == "core.bad_field" and err.value.problems[0]["field"] == "facility_name"


def test_import_values_with_escapes_are_reported_without_echoing_them():
    rows = [{**row("HN01", "GRID", "electricity", "2023-01", 5, "MWh"), "site": "\x1b[31mHN01"},
            row("HN01", "GRID", "electricity", "2023-02", 5, "MWh", evidence="E\u202e1")]
    problems = importing.parse(csv_bytes(rows), "esc.csv", ctx()).problems
    assert ("site", "accounting.problem.forbidden_char") in {(p["field"], p["key"]) for p in problems}
    assert ("evidence_ref", "accounting.problem.forbidden_char") in {(p["field"], p["key"]) for p in problems}
    assert not any("\x1b" in str(p["params"]) for p in problems)


# ------------------------------------------------------------------ command line

def test_invalid_utf8_in_arguments_is_a_message_and_exit_2(tmp_path):
    env = {**os.environ, "CMS_DATA_DIR": str(tmp_path / "data"), "CMS_LOCALE": "en"}
    proc = subprocess.run([sys.executable, "-m", "cms_workflows.cli", "users", "add", os.fsdecode(b"ab\xff"),
                           "--name", "x"], capture_output=True, cwd=ROOT, env=env, timeout=120)
    assert proc.returncode == 2
    err = proc.stderr.decode("utf-8")
    assert "argument 3 is not valid UTF-8 text (ab\ufffd)" in err and "Traceback" not in err


def test_a_zip_with_a_huge_directory_is_refused_before_zipfile_reads_it(tmp_path):
    # 200,000 empty members: zipfile would make an object for each before anything could count them
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        for i in range(200_000):
            z.writestr(zipfile.ZipInfo(f"p{i}"), b"")
    message = refused(in_child(tmp_path, buf.getvalue(), "many.docx"), "max_zip_members")
    assert "200,000 parts; the limit (max_zip_members) is 10,000" in message


def test_a_dimension_that_understates_the_sheet_loses_no_rows():
    # the scan finds the real extent; openpyxl's read-only reader would stop at the declared last row
    second = ["HN01", "U1", "GRID", "purchased_electricity", "electricity", "2023-02", 900, "MWh", "meter", None]
    parsed = importing.parse(workbook(sheet([GOOD_ROW, second], dimension="A1:J1")), "short-dim.xlsx", ctx())
    assert parsed.problems == [] and list(parsed.frame["period"]) == ["2023-01", "2023-02"]
