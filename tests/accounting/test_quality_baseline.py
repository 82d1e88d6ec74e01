"""Pure data-quality and baseline functions (R-6.2.3 c, R-8.6, R-6.3.2, R-9.1.1.3)."""

from __future__ import annotations

import pandas as pd
import pytest

from cms_workflows.accounting import baseline as bl, quality
from cms_workflows.core.errors import ValidationFailed


def results(values: dict[str, float], site="HN01") -> pd.DataFrame:
    return pd.DataFrame({"site": site, "production_unit": "U1", "facility": "B1", "category": "stationary_combustion",
                         "period": list(values), "tco2e": list(values.values()), "memo_tco2e": 0.0})


def test_completeness_consistency_accuracy_and_calibration():
    plan = pd.DataFrame({"site": ["A", "A"], "facility": ["M1", "M2"], "material": ["electricity", "diesel"]})
    act = pd.DataFrame({"site": "A", "facility": ["M1", "M1", "M1", "M2"], "material": ["electricity"] * 3 + ["diesel"],
                        "period": ["2023-01", "2023-02", "2023-03", "2023-01"], "unit": ["MWh", "MWh", "kWh", "t"],
                        "data_source": ["meter", "meter", "meter", "estimate"]})
    r = quality.assess(plan, act, "2023-01", "2023-03", calibration={"M1": False})
    assert r["completeness"] == pytest.approx(4 / 6, abs=1e-4)
    gaps = {(g["kind"], g["facility"], g.get("period")) for g in r["gaps"]}
    assert ("completeness", "M2", "2023-02") in gaps and ("completeness", "M2", "2023-03") in gaps
    assert any(g["kind"] == "consistency" and "kWh" in g["params"]["values"] for g in r["gaps"])
    assert any(g["kind"] == "accuracy" and g["key"] == "accounting.gap.uncalibrated" for g in r["gaps"])
    # tiers: 3 meter + 1 estimate = 3.4/4, halved share for the one uncalibrated metered facility
    assert r["accuracy"] == pytest.approx(0.85 * 0.5, abs=1e-4)
    perfect = quality.assess(plan.iloc[:1], act.iloc[:2], "2023-01", "2023-02", calibration={"M1": True})
    assert perfect["score"] == 100.0 and perfect["gaps"] == []


def test_baseline_methods_and_deviations():
    base = results({f"2022-{m:02d}": 100.0 + m for m in range(1, 13)})
    avg = bl.compute_baseline(base, "site", "HN01", "2022-01", "2022-12", "average")
    assert avg["03"] == pytest.approx(103.0)
    flat = bl.compute_baseline(base, "enterprise", "", "2022-01", "2022-12", "total")
    assert list(flat.values()) == pytest.approx([sum(100.0 + m for m in range(1, 13)) / 12] * 12)
    both = pd.concat([base, results({"2023-01": 101.0, "2023-02": 150.0})])
    table, over = bl.deviations(both, "site", "HN01", avg, "2023-01", "2023-03", threshold=0.1)
    assert [d["period"] for d in over] == ["2023-02", "2023-03"]  # March: no data at all is a deviation too
    feb = table.set_index("period").loc["2023-02"]
    assert feb["deviation"] == pytest.approx(150 / 102 - 1) and feb["vs_last_year"] == pytest.approx(150 / 102 - 1)
    with pytest.raises(ValidationFailed):
        bl.compute_baseline(base, "site", "HN02", "2022-01", "2022-12")
