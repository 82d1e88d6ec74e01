"""Reads of the registers (R-4.1, R-4.2, R-4.3, R-6.2.1, R-6.2.2, R-9.1).

Listing and exporting need `read` on the register: company-level registers may be read by a holder at
company level or at any site (the organisation's context is every plant's business), instruments at
the sites the reader may read. The `*_due` functions are what the duties generator calls (as the
system agent): the instruments due for calibration, the obligations and risks due for review, on or
before a day — a row never calibrated, reviewed or assessed counts as due now.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlmodel import or_, select

from cms_workflows import access
from cms_workflows.access import COMPANY_WIDE, Resource
from cms_workflows.core.errors import AccessDenied, NotFound
from cms_workflows.org.queries import site_codes
from cms_workflows.registers import changes, communication, competence, scope, service, tabular
from cms_workflows.registers.instruments import SPEC as INSTRUMENTS
from cms_workflows.registers.models import Calibration, Instrument, Obligation, Risk, ScopeElement, ScopeVersion
from cms_workflows.registers.obligations import SPEC as OBLIGATIONS
from cms_workflows.registers.parties import SPEC as PARTIES
from cms_workflows.registers.risks import SPEC as RISKS
from cms_workflows.registers.swot import SPEC as SWOT
from cms_workflows.registers import assets as _assets, quality as _quality

SPECS = {"swot": SWOT, "parties": PARTIES, "risks": RISKS, "obligations": OBLIGATIONS, "instruments": INSTRUMENTS}

from cms_workflows.registers.actions import SPEC as ACTIONS  # noqa: E402  R-6.3.1, R-6.3.3, R-6.3.4
from cms_workflows.registers.objectives import SPEC as OBJECTIVES  # noqa: E402
from cms_workflows.registers.parameters import SPEC as PARAMETERS  # noqa: E402

SPECS.update({"parameters": PARAMETERS, "objectives": OBJECTIVES, "actions": ACTIONS})
# operation (R-8.6 data quality control plan, R-8.7 carbon assets)
SPECS.update({"quality": _quality.SPEC, "assets": _assets.SPEC})
# planned changes and people
SPECS.update({"changes": changes.SPEC, "competence": competence.COMPETENCE_SPEC, "training": competence.TRAINING_SPEC,
              "communication": communication.PLAN_SPEC, "disclosures": communication.DISCLOSURE_SPEC})


def spec(name: str) -> service.Spec:
    try:
        return SPECS[name]
    except KeyError:
        raise NotFound("registers.unknown_register", name=name) from None


def readable_sites(uow, actor: str, object_type: str) -> set[str]:
    """The sites (and "*" for company level) at which the actor may read this register; refused when none."""
    control = access.get_access()
    sites, refusal = set(), None
    for site in [COMPANY_WIDE, *sorted(site_codes(uow))]:
        found = control.check(uow, actor, "read", Resource(object_type, site=site))
        if isinstance(found, AccessDenied):
            refusal = refusal or found
        else:
            sites.add(site)
    if not sites:
        raise refusal
    return sites


def rows(uow, actor: str, name: str) -> list:
    """A register's rows the actor may read, by code."""
    s = spec(name)
    sites = readable_sites(uow, actor, s.object_type)
    found = list(uow.exec(select(s.model).order_by(s.model.code)))
    if s.site_field and COMPANY_WIDE not in sites:
        found = [o for o in found if getattr(o, s.site_field) in sites]
    return found


def export(uow, actor: str, name: str, fmt: str = "xlsx", locale: str | None = None) -> bytes:
    s = spec(name)
    return tabular.export(s.register, service.rows_for_export(s, rows(uow, actor, name), locale), fmt, locale)


def template(name: str, fmt: str = "xlsx", locale: str | None = None) -> bytes:
    if name == "scope":
        return tabular.template(scope.ELEMENTS, fmt, locale)
    return tabular.template(spec(name).register, fmt, locale)


def shown_rows(uow, actor: str, name: str, locale: str | None = None) -> list[dict]:
    """Rows as the reader sees them (seeded texts in their language)."""
    s = spec(name)
    return service.rows_for_export(s, rows(uow, actor, name), locale)


# ------------------------------------------------------------------ scope


def scope_versions(uow, actor: str) -> list[ScopeVersion]:
    """Every version, the open draft included, newest first."""
    scope.may_read(uow, actor)
    return list(uow.exec(select(ScopeVersion).order_by(ScopeVersion.id.desc())))


def scope_version(uow, actor: str, version: int | None = None) -> tuple[ScopeVersion, list[ScopeElement]]:
    """An approved version by number (default: the one in force) and its elements."""
    scope.may_read(uow, actor)
    if version is None:
        found = scope.current(uow)
    else:
        found = uow.exec(select(ScopeVersion).where(ScopeVersion.version == version)).first()
    if found is None:
        raise NotFound("registers.scope_unknown_version", version=version if version is not None else "-")
    return found, scope.elements(uow, found.id)


def scope_draft(uow, actor: str) -> tuple[ScopeVersion, list[ScopeElement]]:
    scope.may_read(uow, actor)
    found = scope.open_draft(uow)
    if found is None:
        raise NotFound("registers.scope_no_draft")
    return found, scope.elements(uow, found.id)


def export_scope(uow, actor: str, version: int | None = None, fmt: str = "xlsx", locale: str | None = None,
                 draft: bool = False) -> bytes:
    _v, items = scope_draft(uow, actor) if draft else scope_version(uow, actor, version)
    values = [{f: getattr(e, f) for f in scope.FIELDS} for e in items]
    return tabular.export(scope.ELEMENTS, values, fmt, locale)


# ------------------------------------------------------------------ due (for the duties generator)


def instruments_due(uow, on: date, within_days: int = 0) -> list[Instrument]:
    """Instruments whose calibration falls due on or before `on` + `within_days` (never calibrated: due)."""
    until = on + timedelta(days=within_days)
    q = select(Instrument).where(or_(Instrument.next_due.is_(None), Instrument.next_due <= until))
    return list(uow.exec(q.order_by(Instrument.next_due, Instrument.code)))


def obligations_due(uow, on: date, within_days: int = 0) -> list[Obligation]:
    """Obligations whose review falls due on or before `on` + `within_days` (no review date: due)."""
    until = on + timedelta(days=within_days)
    q = select(Obligation).where(or_(Obligation.next_review.is_(None), Obligation.next_review <= until))
    return list(uow.exec(q.order_by(Obligation.next_review, Obligation.code)))


def risks_due(uow, on: date, within_days: int = 0) -> list[Risk]:
    """Risks and opportunities whose review falls due on or before `on` + `within_days` (no date: due)."""
    until = on + timedelta(days=within_days)
    q = select(Risk).where(or_(Risk.review_date.is_(None), Risk.review_date <= until))
    return list(uow.exec(q.order_by(Risk.review_date, Risk.code)))


def calibrations(uow, actor: str, code: str) -> list[Calibration]:
    """An instrument's calibrations, newest first."""
    inst = service.get(uow, INSTRUMENTS, code)
    access.require(uow, actor, "read", Resource("metering_instrument", site=inst.site))
    return list(uow.exec(select(Calibration).where(Calibration.instrument_id == inst.id)
                         .order_by(Calibration.calibrated_on.desc())))


def stored_certificate_files(uow) -> set[str]:
    """SHA-256 of the calibration certificates kept in the file store (for `cms verify` and evidence packs)."""
    return {h for h in uow.exec(select(Calibration.certificate_sha256).where(Calibration.certificate_sha256.is_not(None)))}


# ------------------------------------------------------------------ one row (the web app's row pages)


def row_site(uow, name: str, code: str) -> str:
    """Where a row belongs (its site, or "*"), for deciding a route about it; NotFound when no such row."""
    s = spec(name)
    return s.site_of(service.get(uow, s, code))


def shown_row(uow, actor: str, name: str, code: str, locale: str | None = None) -> dict:
    """One row as the reader sees it (values by column name), if the reader may read it (as `rows` decides)."""
    s = spec(name)
    obj = service.get(uow, s, code)
    sites = readable_sites(uow, actor, s.object_type)
    if s.site_field and COMPANY_WIDE not in sites and s.site_of(obj) not in sites:
        access.require(uow, actor, "read", Resource(s.object_type, site=s.site_of(obj)))
    return service.rows_for_export(s, [obj], locale)[0]
