"""The register's configuration, all data files: document types (cms_workflows/data/document_types.yaml),
approval routes (policies/approval_routes.yaml) and Word templates (document_templates/templates.yaml).

Each file is checked when loaded; a mistake is a PolicyError naming the file and entry, and
`cms policy check` also proves every route step can be taken under policy.csv (X-2) and lists the
steps that relax segregation of duties across the route (`same_decider_allowed`).
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from cms_workflows.core import yamlfile
from cms_workflows.core.errors import NotFound, PolicyError
from cms_workflows.core.i18n import Message, pick, t

TYPES_FILE = "document_types.yaml"
ROUTES_FILE = "approval_routes.yaml"
TEMPLATES_FILE = "templates.yaml"
LABEL_SCHEMES = ("letters", "numeric", "letter_digit")  # documents/numbering.py
NUMBERING_FIELDS = {"site", "abbr", "year", "seq"}
STEP_ACTIONS = ("review", "approve")
STEP_MODES = ("any", "all")
STEP_KEYS = frozenset({"name", "action", "mode", "positions", "same_decider_allowed"})
# what every template gets besides its own content variables (see rendering.py)
CONTROL_VARIABLES = frozenset({"L", "company", "doc", "history", "approvals"})  # doc: see output.build_context


@dataclass(frozen=True)
class DocType:
    code: str
    name_zh: str
    name_en: str
    abbr: str
    numbering: str
    revision_labels: str
    review_months: int
    retention_years: int
    template: str | None
    # a cover sheet before the text (title, identity, dates, 编制/审核/批准), as a manual has (issue 13 item 3)
    cover_page: bool = False

    @property
    def object_type(self) -> str:
        return f"doc.{self.code}"

    def name(self, locale: str | None = None) -> str:
        return pick(self.name_zh, self.name_en, locale)


@dataclass(frozen=True)
class Step:
    name: str
    action: str
    mode: str
    positions: tuple[str, ...]
    # by default one person decides at most one step of a route; True lets someone who decided an
    # earlier step decide this one too (listed by `cms policy check`)
    same_decider_allowed: bool = False


@dataclass(frozen=True)
class Template:
    name: str
    file: str
    name_zh: str
    name_en: str
    variables: dict[str, str]  # variable -> text | list
    example: dict
    optional: frozenset[str] = frozenset()  # variables that may stay empty (a list printed as a dash)

    def path(self) -> Path:
        return template_dir() / self.file


def template_dir() -> Path:
    return Path(str(resources.files("cms_workflows.document_templates")))


def _bad(file: str, entry: str, problem: str, **params) -> PolicyError:
    """A configuration mistake, naming the file and entry; `problem` is a key under documents.config_problem."""
    return PolicyError("documents.bad_config", file=file, entry=entry,
                       problem=Message(f"documents.config_problem.{problem}", **params))


@lru_cache(maxsize=1)
def _types_data() -> dict:
    return yamlfile.load((resources.files("cms_workflows") / "data" / TYPES_FILE).read_text(encoding="utf-8"))


def company_prefix() -> str:
    return str(_types_data().get("company_prefix", "CMS"))


@lru_cache(maxsize=1)
def doc_types() -> dict[str, DocType]:
    out: dict[str, DocType] = {}
    templates_known = templates()
    for code, raw in (_types_data().get("types") or {}).items():
        try:
            dt = DocType(code=code, name_zh=raw["name_zh"], name_en=raw["name_en"], abbr=raw["abbr"],
                         numbering=raw["numbering"], revision_labels=raw["revision_labels"],
                         review_months=int(raw["review_months"]), retention_years=int(raw["retention_years"]),
                         template=raw.get("template"), cover_page=raw.get("cover_page", False))
        except (KeyError, TypeError, ValueError) as exc:
            raise _bad(TYPES_FILE, code, "missing_field", field=exc) from None
        fields = {f for _lit, f, _spec, _conv in string.Formatter().parse(dt.numbering) if f is not None}
        if "seq" not in fields or not fields <= NUMBERING_FIELDS:
            raise _bad(TYPES_FILE, code, "numbering", numbering=dt.numbering, fields=", ".join(sorted(NUMBERING_FIELDS)))
        if dt.revision_labels not in LABEL_SCHEMES:
            raise _bad(TYPES_FILE, code, "label_scheme", allowed=", ".join(LABEL_SCHEMES))
        if not isinstance(dt.cover_page, bool):
            raise _bad(TYPES_FILE, code, "cover_page_flag")
        if dt.template is not None and dt.template not in templates_known:
            raise _bad(TYPES_FILE, code, "unknown_template", template=dt.template)
        if dt.review_months < 0 or dt.retention_years < 0:
            raise _bad(TYPES_FILE, code, "negative_period")
        out[code] = dt
    return out


def doc_type(code: str) -> DocType:
    try:
        return doc_types()[code]
    except KeyError:
        raise NotFound("documents.unknown_type", doc_type=code, known=", ".join(doc_types())) from None


def routes(directory: Path | None = None) -> dict[str, tuple[Step, ...]]:
    """The approval routes of the policy folder in force (the access control's; tests may load their own)."""
    return _routes(str(directory or _policy_folder()))


def _policy_folder() -> Path:
    from cms_workflows import access

    return access.get_access().policy.directory if access.configured() else access.policy_dir()


@lru_cache(maxsize=4)
def _routes(directory: str) -> dict[str, tuple[Step, ...]]:
    data = yamlfile.load((Path(directory) / ROUTES_FILE).read_text(encoding="utf-8")) or {}
    out: dict[str, tuple[Step, ...]] = {}
    for code, raw_steps in (data.get("routes") or {}).items():
        steps = []
        for i, raw in enumerate(raw_steps or [], start=1):
            entry = f"{code} step {i}"
            try:
                step = Step(name=str(raw["name"]), action=str(raw["action"]), mode=str(raw["mode"]),
                            positions=tuple(raw["positions"]),
                            same_decider_allowed=raw.get("same_decider_allowed", False))
            except (KeyError, TypeError, AttributeError) as exc:
                raise _bad(ROUTES_FILE, entry, "missing_field", field=exc) from None
            # a misspelt relaxation must not pass silently (it would look relaxed to the reader)
            if set(raw) - STEP_KEYS:
                raise _bad(ROUTES_FILE, entry, "unknown_keys", keys=", ".join(sorted(map(str, set(raw) - STEP_KEYS))),
                           allowed=", ".join(sorted(STEP_KEYS)))
            if not isinstance(step.same_decider_allowed, bool):
                raise _bad(ROUTES_FILE, entry, "same_decider_flag")
            if step.same_decider_allowed and i == 1:
                raise _bad(ROUTES_FILE, entry, "same_decider_first_step")
            if step.action not in STEP_ACTIONS:
                raise _bad(ROUTES_FILE, entry, "step_action", allowed=", ".join(STEP_ACTIONS))
            if step.mode not in STEP_MODES:
                raise _bad(ROUTES_FILE, entry, "step_mode", allowed=", ".join(STEP_MODES))
            if not step.positions:
                raise _bad(ROUTES_FILE, entry, "no_positions")
            steps.append(step)
        if not steps or steps[-1].action != "approve":
            raise _bad(ROUTES_FILE, code, "last_step")
        out[code] = tuple(steps)
    return out


def route(code: str, directory: Path | None = None) -> tuple[Step, ...]:
    try:
        return routes(directory)[code]
    except KeyError:
        raise _bad(ROUTES_FILE, code, "no_route") from None


@lru_cache(maxsize=1)
def templates() -> dict[str, Template]:
    data = yamlfile.load((template_dir() / TEMPLATES_FILE).read_text(encoding="utf-8")) or {}
    out: dict[str, Template] = {}
    for name, raw in (data.get("templates") or {}).items():
        try:
            tpl = Template(name=name, file=raw["file"], name_zh=raw["name_zh"], name_en=raw["name_en"],
                           variables=dict(raw["variables"]), example=dict(raw.get("example") or {}),
                           optional=frozenset(raw.get("optional") or ()))
        except (KeyError, TypeError, ValueError) as exc:
            raise _bad(TEMPLATES_FILE, name, "missing_field", field=exc) from None
        if not tpl.path().exists():
            raise _bad(TEMPLATES_FILE, name, "file_not_found", file=tpl.file)
        if CONTROL_VARIABLES & set(tpl.variables):
            raise _bad(TEMPLATES_FILE, name, "reserved_variables", names=", ".join(sorted(CONTROL_VARIABLES)))
        out[name] = tpl
    return out


def template(name: str) -> Template:
    try:
        return templates()[name]
    except KeyError:
        raise NotFound("documents.unknown_template", template=name, known=", ".join(templates())) from None


def check(policy) -> list[str]:
    """`cms policy check`: every type has a route whose positions may take each step's action; the steps
    where one person may decide twice in a route are listed (X-2)."""
    types = doc_types()
    all_routes = routes(policy.directory)
    for code, dt in types.items():
        if code not in all_routes:
            raise _bad(ROUTES_FILE, code, "no_route")
        for i, step in enumerate(all_routes[code], start=1):
            allowed = set(policy.holders_of.get((dt.object_type, step.action), []))
            for position in step.positions:
                if position not in policy.positions:
                    raise _bad(ROUTES_FILE, f"{code} #{i}", "unknown_position", position=position)
                if position not in allowed:
                    raise _bad(ROUTES_FILE, f"{code} #{i}", "not_permitted", position=position,
                               action=step.action, object_type=dt.object_type)
    for code in all_routes:
        if code not in types:
            raise _bad(ROUTES_FILE, code, "not_a_type")
    lines = [t("documents.config_ok", types=len(types), routes=len(all_routes), templates=len(templates()))]
    relaxed = [t("documents.route_same_decider_allowed", route=code, step_no=i, step=step.name)
               for code, steps in all_routes.items() for i, step in enumerate(steps, start=1)
               if step.same_decider_allowed]
    return lines + (relaxed or [t("documents.route_one_decision_each")])


EXTERNAL = "external"  # the type of documents issued outside the company


def shown_revision(doc, rev) -> str:
    """What a reader is shown as a revision's identity: an external document's edition (its issuer's, e.g.
    2015 for GB/T 32150-2015), never the internal letter; the label for the company's own documents."""
    if doc.doc_type == EXTERNAL and doc.external_version:
        return doc.external_version
    return rev.label
