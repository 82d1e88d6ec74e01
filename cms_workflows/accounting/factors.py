"""The emission-factor library (X-5): package defaults, each with its source, plus company overrides.

A factor set = the defaults (package data, hashed) + the company's overrides (each with evidence).
Its version is a hash of both, so a calculation run names exactly the factors it used.
Resolution is per distinct (material, site, year, unit) — a handful per run — never per row.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from functools import cache, lru_cache
from importlib import resources

import yaml

from cms_workflows.accounting import units
from cms_workflows.core.errors import ValidationFailed, problem

C_TO_CO2 = 44.0 / 12.0  # GB/T 32150-2015 formula (2): carbon to CO2
DATA_FILES = ("source_categories.yaml", "sector_standards.yaml", "fuels.yaml", "electricity_heat.yaml", "gwp.yaml",
              "process_materials.yaml", "biomass_fuels.yaml")
# methods whose quantity is of a substance that may be impure: the row's purity (mass or, for CO2 by volume,
# volume fraction) multiplies the factor (GB/T 32150-2015 process emissions and CO2 recovery)
PURITY_METHODS = ("carbonate", "co2", "per_unit")
ELECTRICITY_KINDS = ("statistical", "market")


def _data_dir():
    return resources.files("cms_workflows") / "data" / "accounting"


@cache
def reference(name: str) -> dict:
    return yaml.safe_load((_data_dir() / name).read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def defaults_hash() -> str:
    h = hashlib.sha256()
    for name in DATA_FILES:
        h.update(name.encode())
        h.update((_data_dir() / name).read_bytes())
    return h.hexdigest()


def categories() -> dict[str, dict]:
    return {c["code"]: c for c in reference("source_categories.yaml")["categories"]}


@dataclass(frozen=True)
class Override:
    """A company value replacing a default (e.g. a measured carbon content), with its evidence."""

    material: str
    parameter: str  # ncv | carbon_content | oxidation | ef | cao_fraction | mgo_fraction | calcination | co2_factor
    value: float
    site: str = "*"
    year_from: int | None = None
    year_to: int | None = None
    unit: str | None = None  # for `ef` of a company-defined material: its base unit
    evidence: str = ""
    source: str = ""


@dataclass(frozen=True)
class Options:
    """What a report chooses: electricity factor kind, GWP set (SAR, AR4, AR5, AR6), fuel default table,
    carbonate factor table (printed three-decimal values or the stoichiometric ones)."""

    electricity_kind: str = "statistical"
    gwp_set: str = "AR5"
    fuel_table: str | None = None  # None: the file's default table
    carbonate_table: str | None = None  # None: the file's default table (table_3dp)

    def as_dict(self) -> dict:
        return asdict(self)


def check_options(options: Options) -> Options:
    """A report's choices, refused with field problems when the reference data has no such kind, set or table."""
    fuels, gwp = reference("fuels.yaml"), reference("gwp.yaml")
    carbonates = reference("process_materials.yaml")["carbonates"]
    problems = []
    for fld, value, allowed in (("electricity_kind", options.electricity_kind, ELECTRICITY_KINDS),
                                ("gwp_set", options.gwp_set, tuple(gwp["sets"])),
                                ("fuel_table", options.fuel_table, (None, *fuels["tables"])),
                                ("carbonate_table", options.carbonate_table, (None, *carbonates["tables"]))):
        if value not in allowed:
            problems.append(problem(fld, "accounting.problem.one_of", value=value,
                                    allowed=", ".join(a for a in allowed if a)))
    if problems:
        raise ValidationFailed("accounting.invalid_options", problems=problems)
    return options


@dataclass
class Resolved:
    ef: float  # tCO2e per unit of the quantity's unit
    method: str
    trace: dict = field(default_factory=dict)
    memo: bool = False  # biogenic CO2: reported beside the total, never in it, whatever the row's category

    @property
    def takes_purity(self) -> bool:
        return self.method in PURITY_METHODS


class MissingFactor(Exception):
    """No factor for a material in a year at a site; `key` (accounting.problem.factor.*) and `params` say why."""

    def __init__(self, material: str, year: int, site: str, key: str, **params) -> None:
        self.material, self.year, self.site, self.key, self.params = material, year, site, key, params
        super().__init__(f"{material} {year} {site}: {key} {params}")


def _in_years(year: int, lo, hi) -> bool:
    return (lo is None or year >= lo) and (hi is None or year <= hi)


class FactorLibrary:
    def __init__(self, overrides: Iterable[Override] = (), options: Options | None = None) -> None:
        self.overrides = list(overrides)
        self.options = options or Options()
        check_options(self.options)
        fuels = reference("fuels.yaml")
        self.fuel_tables = fuels["tables"]
        self.fuel_table = self.options.fuel_table or fuels["default_table"]
        self.fuels = fuels["fuels"]
        gwp = reference("gwp.yaml")
        self.gwp = gwp
        self.grid = reference("electricity_heat.yaml")
        self.process = reference("process_materials.yaml")
        carbonates = self.process["carbonates"]
        self.carbonate_table = self.options.carbonate_table or carbonates["default_table"]
        self.biomass = reference("biomass_fuels.yaml")

    # ------------------------------------------------------------------ identity
    def version(self) -> str:
        """defaults hash + overrides + options: equal versions mean equal factors."""
        body = json.dumps({"defaults": defaults_hash(), "options": self.options.as_dict(),
                           "overrides": sorted(json.dumps(asdict(o), sort_keys=True) for o in self.overrides)},
                          sort_keys=True)
        return hashlib.sha256(body.encode()).hexdigest()[:16]

    def materials(self) -> dict[str, dict]:
        """Every material a row may name: code -> {method, base_unit, name_zh}."""
        if getattr(self, "_materials", None) is None:
            self._materials = self._build_materials()
        return self._materials

    def _build_materials(self) -> dict[str, dict]:
        out: dict[str, dict] = {}
        for code, f in self.fuels.items():
            out[code] = {"method": "combustion", "base_unit": f["base_unit"], "name_zh": f["name_zh"]}
        out["electricity"] = {"method": "electricity", "base_unit": "MWh", "name_zh": "电力"}
        out["heat"] = {"method": "heat", "base_unit": "GJ", "name_zh": "热力"}
        out["co2"] = {"method": "co2", "base_unit": "t", "name_zh": "二氧化碳"}
        for code, g in self.gwp["gases"].items():
            out[code] = {"method": "gas", "base_unit": "t", "name_zh": g["name_zh"]}
        for code, m in self.process["carbonates"]["materials"].items():
            out[code] = {"method": "carbonate", "base_unit": "t", "name_zh": m["name_zh"]}
        for code, m in self.process["oxides"]["materials"].items():
            out[code] = {"method": "oxide", "base_unit": "t", "name_zh": m["name_zh"]}
        for code, m in self.biomass["materials"].items():
            out[code] = {"method": "biomass", "base_unit": m["base_unit"], "name_zh": m["name_zh"]}
        for o in self.overrides:  # company-defined materials (biomass fuels, purchased products, waste streams)
            if o.parameter == "ef" and o.material not in out:
                out[o.material] = {"method": "per_unit", "base_unit": o.unit or "t", "name_zh": o.material}
        return out

    # ------------------------------------------------------------------ resolution
    def _override(self, material: str, parameter: str, site: str, year: int) -> Override | None:
        best = None
        for o in self.overrides:
            applies = o.material == material and o.parameter == parameter and o.site in (site, "*") \
                and _in_years(year, o.year_from, o.year_to)
            # a site's own value beats a company-wide one; among equals the newest (listed last) wins
            if applies and (best is None or o.site != "*" or best.site == "*"):
                best = o
        return best

    def _param(self, material: str, parameter: str, site: str, year: int, default, default_source: dict | None,
               trace: dict) -> float:
        o = self._override(material, parameter, site, year)
        if o is not None:
            trace[parameter] = {"value": o.value, "source": o.source or "company override", "evidence": o.evidence}
            return float(o.value)
        if default is None:
            raise MissingFactor(material, year, site, "accounting.problem.factor.no_parameter", parameter=parameter)
        trace[parameter] = {"value": default, **(default_source or {})}
        return float(default)

    def resolve(self, material: str, site: str, year: int, unit: str) -> Resolved:
        """tCO2e per `unit` of `material` at `site` in `year`; MissingFactor names what is missing."""
        info = self.materials().get(material)
        if info is None:
            raise MissingFactor(material, year, site, "accounting.problem.factor.unknown_material")
        method, base = info["method"], info["base_unit"]
        if base not in units.UNITS:  # a company factor stored with a unit no table knows (before issue 15)
            raise MissingFactor(material, year, site, "accounting.problem.factor.override_unit", unit=base,
                                allowed=", ".join(units.UNITS))
        trace: dict = {"method": method}
        if method == "combustion":
            table = self.fuels[material]["values"]
            src = self.fuel_tables[self.fuel_table]
            chosen = table.get(self.fuel_table, {})
            fallback = table.get(next(iter(table)), {})  # a table that lacks a value falls back to the fuel's first table
            def dv(p):
                v = chosen.get(p, fallback.get(p))
                s = src if p in chosen else self.fuel_tables[next(iter(table))]
                return v, s
            cc, ccs = dv("carbon_content")
            ox, oxs = dv("oxidation")
            per_gj = self._param(material, "carbon_content", site, year, cc, ccs, trace) \
                * self._param(material, "oxidation", site, year, ox, oxs, trace) * C_TO_CO2
            if units.dimension(unit) == "energy":  # consumption given as heat: AD is the quantity itself
                return Resolved(per_gj * units.factor(unit, "GJ"), method, trace)
            ncv, ncvs = dv("ncv")
            ncv = self._param(material, "ncv", site, year, ncv, ncvs, trace)
            return Resolved(per_gj * ncv * units.factor(unit, base), method, trace)
        if method in ("electricity", "heat"):
            kind = self.options.electricity_kind
            o = self._override(material, "ef", site, year)
            if o is not None:
                trace["ef"] = {"value": o.value, "source": o.source or "company override", "evidence": o.evidence}
                ef = float(o.value)
            else:
                rows = [r for r in self.grid[material] if r["kind"] == kind and _in_years(year, r["year_from"], r["year_to"])]
                if not rows:
                    raise MissingFactor(material, year, site, "accounting.problem.factor.not_published", kind=kind)
                r = rows[0]
                trace["ef"] = {"value": r["value"], "kind": kind, "document": r["document"], "table": r["table"], "year": r["year"]}
                ef = float(r["value"])
            return Resolved(ef * units.factor(unit, base), method, trace)
        if method == "co2" and units.dimension(unit) == "volume":
            # by volume: 10^4 Nm3 x purity (applied per row) x 19.77 t/10^4 Nm3 (GB/T 32150-2015)
            density = self.process["co2_density"]
            trace["co2_density"] = dict(density)
            return Resolved(float(density["value"]) * units.factor(unit, "10^4Nm3"), method, trace)
        if units.dimension(unit) != units.dimension(base):
            raise MissingFactor(material, year, site, "accounting.problem.factor.unit", unit=unit)
        conv = units.factor(unit, base)
        if method == "gas":
            gset = self.options.gwp_set
            published = self.gwp["gases"][material].get(gset)
            if published is None and self._override(material, "gwp", site, year) is None:
                raise MissingFactor(material, year, site, "accounting.problem.factor.gwp_not_in_set", set=gset)
            v = self._param(material, "gwp", site, year, published, {**self.gwp["sets"][gset], "set": gset}, trace)
            return Resolved(v * conv, method, trace)
        if method == "co2":
            return Resolved(conv, method, trace)
        if method == "carbonate":
            carbonates = self.process["carbonates"]
            table = self.carbonate_table
            ef = self._param(material, "ef", site, year, carbonates["materials"][material]["ef"][table],
                             {**carbonates["tables"][table], "set": table}, trace)
            frac = self._param(material, "calcination", site, year, 1.0, {"document": "complete calcination assumed"}, trace)
            return Resolved(ef * frac * conv, method, trace)
        if method == "biomass":
            m, src = self.biomass["materials"][material], self.biomass["source"]
            ncv = self._param(material, "ncv", site, year, m["ncv"], src, trace)
            co2 = self._param(material, "co2_factor", site, year, m["co2_factor"], src, trace)
            return Resolved(ncv * co2 * conv, method, trace, memo=True)
        if method == "oxide":
            ratio = self.process["oxides"]["molar_ratio"]
            cao = self._param(material, "cao_fraction", site, year, None, None, trace)
            mgo = self._param(material, "mgo_fraction", site, year, None, None, trace)
            trace["formula"] = self.process["oxides"]["source"]
            return Resolved((cao * ratio["cao"] + mgo * ratio["mgo"]) * conv, method, trace)
        ef = self._param(material, "ef", site, year, None, None, trace)  # per_unit
        return Resolved(ef * conv, method, trace)
