"""Explicit unit conversions (X-5: units are tracked, never assumed).

Each unit belongs to one dimension and has a factor to that dimension's reference unit.
Energy covers electricity too (1 MWh = 3.6 GJ; 1 tce = 29.3076 GJ, GB/T 2589-2020).
"""

from __future__ import annotations

from dataclasses import dataclass

from cms_workflows.core.errors import ValidationFailed, problem


@dataclass(frozen=True)
class Unit:
    code: str
    dimension: str
    to_reference: float  # multiply a quantity in this unit by this to get the reference unit


# reference units: mass t, volume 10^4 Nm3, energy GJ
_UNITS = [
    Unit("t", "mass", 1.0),
    Unit("kg", "mass", 1e-3),
    Unit("10^4Nm3", "volume", 1.0),
    Unit("Nm3", "volume", 1e-4),
    Unit("GJ", "energy", 1.0),
    Unit("TJ", "energy", 1000.0),
    Unit("MWh", "energy", 3.6),
    Unit("kWh", "energy", 3.6e-3),
    Unit("tce", "energy", 29.3076),
]
UNITS: dict[str, Unit] = {u.code: u for u in _UNITS}
ALIASES = {"吨": "t", "千克": "kg", "公斤": "kg", "万Nm3": "10^4Nm3", "1e4Nm3": "10^4Nm3", "万Nm³": "10^4Nm3",
           "万标准立方米": "10^4Nm3", "万标方": "10^4Nm3", "万m3(标况)": "10^4Nm3", "万m³(标况)": "10^4Nm3",
           "Nm³": "Nm3", "标准立方米": "Nm3", "标方": "Nm3", "m3(标况)": "Nm3", "m³(标况)": "Nm3",
           "千瓦时": "kWh", "度": "kWh", "兆瓦时": "MWh", "吉焦": "GJ", "吨标准煤": "tce",
           "mwh": "MWh", "kwh": "kWh", "gj": "GJ", "nm3": "Nm3", "10^4nm3": "10^4Nm3"}
# A volume without its conditions (issue 15): a gas meter reads at working pressure and temperature, and the
# factors are per volume at standard conditions, so `m3` is not taken as `Nm3`; the user converts and says so.
UNSTATED_CONDITIONS = {"m3", "m³", "立方米", "方", "万立方米", "万m3", "万m³", "万方", "10^4m3", "1e4m3"}


# what `factor` raises for a unit it does not know or cannot convert (key accounting.unit_mismatch)
UnitError = ValidationFailed


def normalize(code: str) -> str | None:
    """The canonical code of a unit as written in a file, or None when unknown."""
    code = str(code).strip()
    if code in UNITS:
        return code
    return ALIASES.get(code) or ALIASES.get(code.lower())


def conditions_unstated(code: str) -> bool:
    """A volume unit that does not say whether it is at standard conditions (`m3`, `立方米`, `万立方米`)."""
    code = str(code).strip()
    return code in UNSTATED_CONDITIONS or code.lower() in UNSTATED_CONDITIONS


def to_reference(code: str) -> float:
    """Multiply a quantity in the canonical unit `code` by this to express it in its dimension's reference unit."""
    return UNITS[code].to_reference


def dimension(code: str) -> str:
    """The dimension of a canonical unit code; an unknown code (e.g. one stored before units were checked,
    issue 15) is refused as a clear error naming it, never a KeyError."""
    unit = UNITS.get(code)
    if unit is None:
        raise ValidationFailed("accounting.unit_mismatch", problems=[
            problem("unit", "accounting.problem.unknown_unit_allowed", unit=str(code), allowed=", ".join(UNITS))])
    return unit.dimension


def of_dimension(dim: str) -> list[str]:
    """The canonical codes of a dimension's units, in the table's order."""
    return [u.code for u in _UNITS if u.dimension == dim]


def factor(from_unit: str, to_unit: str) -> float:
    """Multiply a quantity in `from_unit` by this to express it in `to_unit`; refuses across dimensions."""
    a, b = UNITS.get(from_unit), UNITS.get(to_unit)
    if a is None or b is None:
        raise ValidationFailed("accounting.unit_mismatch", problems=[problem("unit", "accounting.problem.unknown_unit",
                                          unit=from_unit if a is None else to_unit)])
    if a.dimension != b.dimension:
        raise ValidationFailed("accounting.unit_mismatch", problems=[problem("unit", "accounting.problem.unit_cannot_convert", unit=from_unit,
                                          to_unit=to_unit)])
    return a.to_reference / b.to_reference
