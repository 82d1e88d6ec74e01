"""R-4.3 scope versions (approve twice keeps both; nobody approves their own draft), R-6.2.1 Annex B table B.1
seed in both languages and the likelihood × impact assessment, R-9.1 calibration dates, and what falls due
for the duties generator."""

from __future__ import annotations

from datetime import date

import pytest

from cms_workflows.core.errors import AccessDenied, Conflict, InvalidTransition, NotFound, ValidationFailed
from cms_workflows.core.i18n import t
from cms_workflows.org import service as org
from cms_workflows.registers import instruments, queries, risks, scope

from .conftest import add, events

LEAD, GM = "carbon.lead", "gm"


def _draft(db, elements, actor=LEAD):
    with db.unit_of_work() as uow:
        scope.draft(uow, actor, note="年度范围更新")
    for code, kind, name, site in elements:
        with db.unit_of_work() as uow:
            scope.add_element(uow, actor, code=code, kind=kind, name=name, site=site)
    with db.unit_of_work() as uow:
        scope.submit(uow, actor)


def test_scope_versions_are_numbered_dated_and_kept_R_4_3(db, company):
    _draft(db, [("HN01", "site", "长沙工厂", ""), ("KILN1", "source", "1# 回转窑", "HN01")])
    with db.unit_of_work() as uow:
        first = scope.approve(uow, GM)
    assert (first.version, first.status, first.approved_by) == (1, "approved", GM)
    _draft(db, [("HN02", "site", "株洲工厂", "")])  # starts from version 1: its elements are carried over
    with db.unit_of_work() as uow:
        second = scope.approve(uow, GM)
    with db.read() as uow:
        v1, e1 = queries.scope_version(uow, "verifier", 1)
        v2, e2 = queries.scope_version(uow, "verifier")
        versions = queries.scope_versions(uow, "verifier")
    assert (v1.status, v2.version, second.version) == ("superseded", 2, 2)
    assert [e.code for e in e1] == ["HN01", "KILN1"] and sorted(e.code for e in e2) == ["HN01", "HN02", "KILN1"]
    assert v1.approved_on is not None and [v.version for v in versions] == [2, 1]
    approvals = events(db, "registers.scope.approve")
    assert [e.payload for e in approvals][-1].count('"supersedes":1') == 1


def test_approved_versions_never_change_only_the_draft_does(db, company):
    _draft(db, [("HN01", "site", "长沙工厂", "")])
    with db.unit_of_work() as uow:
        scope.approve(uow, GM)
    with pytest.raises(NotFound), db.unit_of_work() as uow:  # nothing open: an approved version is not edited
        scope.add_element(uow, LEAD, code="X", kind="activity", name="运输", site="")
    with db.unit_of_work() as uow:
        scope.draft(uow, LEAD)
    with pytest.raises(Conflict), db.unit_of_work() as uow:
        scope.draft(uow, LEAD)
    with db.unit_of_work() as uow:
        scope.submit(uow, LEAD)
    with pytest.raises(InvalidTransition), db.unit_of_work() as uow:  # submitted: no more edits
        scope.remove_element(uow, LEAD, "HN01")
    with db.read() as uow:
        _v, elements = queries.scope_version(uow, LEAD, 1)
    assert [e.code for e in elements] == ["HN01"]


def test_nobody_approves_their_own_scope_draft_R_4_3_X_2(db, company):
    """A user who holds top management and drafts the scope themselves is refused approval (SoD)."""
    with db.unit_of_work() as uow:
        org.assign(uow, "admin", "gm", "strategy_manager", "*", valid_from=date(2020, 1, 1))
    _draft(db, [("HN01", "site", "长沙工厂", "")], actor=GM)
    with pytest.raises(AccessDenied) as raised, db.unit_of_work() as uow:
        scope.approve(uow, GM)
    assert raised.value.key == "access.sod_own_work"
    with pytest.raises(AccessDenied), db.unit_of_work() as uow:  # and only top management approves
        scope.approve(uow, LEAD)
    with pytest.raises(AccessDenied), db.unit_of_work() as uow:  # top management does not draft (without the post)
        scope.draft(uow, "verifier")


def test_scope_draft_import_replaces_the_elements_and_the_same_file_twice_changes_nothing(db, company):
    with db.unit_of_work() as uow:
        scope.draft(uow, LEAD)
    header = ["code", "kind", "name", "site", "note"]
    data = "\n".join([",".join(header), "HN01,站点,长沙工厂,,", "P1,product,水泥熟料,HN01,", "SINK1,碳汇,厂区绿地,HN01,"])
    with db.unit_of_work() as uow:
        plan = scope.import_draft(uow, LEAD, data.encode("utf-8"), "scope.csv")
    assert len(plan.adds) == 3
    with db.unit_of_work() as uow:
        again = scope.import_draft(uow, LEAD, data.encode("utf-8"), "scope.csv")
    assert again.empty() and len(events(db, "registers.scope.import")) == 1
    with db.read() as uow:
        exported = queries.export_scope(uow, LEAD, fmt="csv", locale="zh-CN", draft=True)
    with db.unit_of_work() as uow:
        assert scope.import_draft(uow, LEAD, exported, "scope.csv").empty()
    bad = data + "\nHN09,site,不存在的工厂,,"
    with pytest.raises(ValidationFailed) as raised, db.unit_of_work() as uow:
        scope.import_draft(uow, LEAD, bad.encode("utf-8"), "scope.csv")
    assert raised.value.problems[0]["row"] == 5 and "HN09" in raised.value.message("en")


def test_annex_b_table_b1_is_seeded_in_both_languages_R_6_2_1(db, company):
    with db.read() as uow:
        seeded = [r for r in queries.rows(uow, "verifier", "risks") if r.source == "annex_b"]
        zh = {r["code"]: r["description"] for r in queries.shown_rows(uow, "verifier", "risks", "zh-CN")}
        en = {r["code"]: r["description"] for r in queries.shown_rows(uow, "verifier", "risks", "en")}
    assert len(seeded) == len(risks.annex_b()) == 32
    assert {(r.nature, r.category) for r in seeded} == {(n, c) for n in ("risk", "opportunity")
                                                       for c in ("policy", "technology", "market")}
    assert all(r.description == "" and r.text_key for r in seeded)  # nothing stored in one language
    assert zh["B1-RP-01"] == "国际绿色贸易规则对出口工业产品碳足迹的要求" and zh["B1-OM-05"] == "销售渠道的变化"
    assert en["B1-RT-01"] == "Ageing production equipment"
    for code, _n, _c, key in risks.annex_b():
        assert t(key, "zh-CN") != key and t(key, "en") != key and t(key, "zh-CN") != t(key, "en")


def test_seeding_again_adds_nothing(db, company):
    with db.unit_of_work() as uow:
        assert risks.seed_annex_b(uow) == []


def test_assessment_is_likelihood_times_impact_and_a_seeded_text_stays_bilingual(db, company):
    with db.unit_of_work() as uow:
        r = risks.change_risk(uow, "compliance.lead", "B1-RT-03", likelihood=3, impact=5, owner_position="energy_engineer",
                              review_date=date(2026, 6, 30), description="碳计量设备设施不完善")
    assert (r.score, r.level, r.text_key) == (15, "high", "registers.annex_b.b1_rt_03")  # the same text: kept as key
    with db.unit_of_work() as uow:
        r = risks.change_risk(uow, "compliance.lead", "B1-RT-03", impact=2, description="二车间缺少蒸汽流量计")
    assert (r.score, r.level, r.text_key, r.description) == (6, "low", None, "二车间缺少蒸汽流量计")
    assert [risks.level_of(s) for s in (1, 6, 8, 12, 15, 25)] == ["low", "low", "medium", "medium", "high", "high"]


def test_next_calibration_is_last_plus_interval_and_calibrate_records_it_R_9_1(db, company):
    inst = add(db, "instruments", interval_months=6, last_calibrated=date(2024, 8, 31))
    assert inst.next_due == date(2025, 2, 28)  # end of month: the last day of the shorter month
    never = add(db, "instruments", code="MI-002", last_calibrated=None, certificate="")
    assert never.next_due is None
    with db.unit_of_work() as uow:
        rec = instruments.calibrate(uow, "energy_data_admin.hn01", "MI-001", date(2025, 2, 20), "JL-2025-0099",
                                    file=b"%PDF-1.4 certificate", filename="JL-2025-0099.pdf")
    assert rec.next_due == date(2025, 8, 20) and rec.certificate_sha256
    with db.read() as uow:
        assert queries.stored_certificate_files(uow) == {rec.certificate_sha256}
        assert db.files.exists(rec.certificate_sha256)
        history = queries.calibrations(uow, "verifier", "MI-001")
        row = [i for i in queries.rows(uow, "verifier", "instruments") if i.code == "MI-001"][0]
    assert [h.calibrated_on for h in history] == [date(2025, 2, 20)]
    assert (row.last_calibrated, row.next_due, row.certificate) == (date(2025, 2, 20), date(2025, 8, 20), "JL-2025-0099")
    for when, cert in ((date(2025, 2, 20), "JL-X"), (date(2999, 1, 1), "JL-X"), (date(2025, 3, 1), " ")):
        with pytest.raises(ValidationFailed), db.unit_of_work() as uow:
            instruments.calibrate(uow, "energy_data_admin.hn01", "MI-001", when, cert)


def test_what_falls_due_for_the_duties_generator(db, company):
    """R-9.1 calibrations, R-6.2.2 obligation reviews, R-6.2.1 risk reviews due on or before a day."""
    add(db, "instruments", interval_months=12, last_calibrated=date(2025, 1, 15))  # due 2026-01-15
    add(db, "instruments", code="MI-002", last_calibrated=None, certificate="")  # never calibrated: due
    add(db, "obligations", next_review=date(2025, 12, 1))
    add(db, "obligations", code="CO-02", next_review=date(2027, 1, 1))
    with db.unit_of_work() as uow:
        for code, _n, _c, _k in risks.annex_b():
            risks.change_risk(uow, "compliance.lead", code, review_date=date(2027, 1, 1))
    add(db, "risks", review_date=date(2025, 12, 31))
    with db.read() as uow:
        assert [i.code for i in queries.instruments_due(uow, date(2026, 1, 14))] == ["MI-002"]
        assert sorted(i.code for i in queries.instruments_due(uow, date(2026, 1, 1), within_days=14)) == ["MI-001", "MI-002"]
        assert [o.code for o in queries.obligations_due(uow, date(2025, 12, 1))] == ["CO-01"]
        assert [r.code for r in queries.risks_due(uow, date(2026, 1, 1))] == ["RO-101"]
