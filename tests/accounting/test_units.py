from __future__ import annotations

import pytest

from cms_workflows.accounting import units


@pytest.mark.parametrize("a,b,f", [("kg", "t", 1e-3), ("Nm3", "10^4Nm3", 1e-4), ("kWh", "MWh", 1e-3), ("MWh", "GJ", 3.6),
                                   ("tce", "GJ", 29.3076), ("TJ", "GJ", 1000.0)])
def test_conversions(a, b, f):
    assert units.factor(a, b) == pytest.approx(f)
    assert units.factor(b, a) == pytest.approx(1 / f)


def test_across_dimensions_is_refused_and_aliases_normalise():
    with pytest.raises(units.UnitError):
        units.factor("t", "MWh")
    assert units.normalize("万Nm3") == "10^4Nm3" and units.normalize("千瓦时") == "kWh" and units.normalize("furlong") is None
