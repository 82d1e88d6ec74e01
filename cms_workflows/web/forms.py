"""Forms as data (`forms/*.yaml`): one definition renders the page, validates the posted form and
validates the API's JSON body, through one pydantic model built from it.

A definition names its fields (type, required, limits, choices, label and help in zh-CN and en), the
service command a submission runs, and the positions that may fill it in and approve it (`permission:
[object type, action]` says which policy permission `fill` lists). Those positions document the form;
the decision is always the command's, through the access module (tests/web/test_forms.py checks them
against the policy and the approval routes).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from importlib import resources
from typing import Any, Literal, Mapping, Optional

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from cms_workflows.core.errors import PolicyError, ValidationFailed, problem
from cms_workflows.core.i18n import LOCALES, PRIMARY, current_locale, normalize, t

TYPES = ("text", "textarea", "integer", "number", "date", "month", "choice", "multichoice", "boolean", "file",
         "password")
TEXT_LIMITS = {"text": 200, "textarea": 4000, "password": 256}
MONTH_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"


def _localized(value: Any, where: str) -> dict[str, str]:
    """A text in every locale: {zh-CN: …, en: …}."""
    if value is None:
        return {}
    if not isinstance(value, dict) or set(value) - set(LOCALES) or PRIMARY not in value:
        raise PolicyError("web.form_bad_text", where=where, locales=", ".join(LOCALES))
    return {k: str(v) for k, v in value.items()}


def _in_locale(texts: dict[str, str], locale: str | None = None) -> str:
    return texts.get(normalize(locale or current_locale())) or texts.get(PRIMARY, "")


class Label:
    """A field's label as a message parameter: shown in the language the message is shown in."""

    def __init__(self, texts: dict[str, str]) -> None:
        self.texts = texts

    def localized(self, locale: str | None) -> str:
        return _in_locale(self.texts, locale)

    def __format__(self, spec: str) -> str:
        return self.localized(None)


@dataclass(frozen=True)
class Choice:
    value: str
    labels: dict[str, str]

    @property
    def label(self) -> str:
        return _in_locale(self.labels)


@dataclass(frozen=True)
class FormField:
    name: str
    type: str
    labels: dict[str, str]
    helps: dict[str, str] = field(default_factory=dict)
    required: bool = False
    choices: tuple[Choice, ...] = ()
    dynamic_choices: bool = False  # the page supplies the choices (users, sites…); the command checks them
    max_length: int | None = None
    minimum: float | None = None
    maximum: float | None = None
    accept: str = ""  # file fields: what the browser offers to pick

    @property
    def label(self) -> str:
        return _in_locale(self.labels)

    @property
    def help(self) -> str:
        return _in_locale(self.helps)

    def annotation(self) -> Any:
        if self.type in ("choice", "multichoice") and self.choices and not self.dynamic_choices:
            one = Literal[tuple(c.value for c in self.choices)]  # type: ignore[misc]
            return list[one] if self.type == "multichoice" else one
        return {"integer": int, "number": float, "date": date, "boolean": bool,
                "multichoice": list[str]}.get(self.type, str)

    def pydantic_field(self) -> tuple[Any, Any]:
        kind = self.annotation()
        limits: dict[str, Any] = {}
        if self.type in TEXT_LIMITS:
            limits["max_length"] = self.max_length or TEXT_LIMITS[self.type]
        if self.type == "month":
            limits["pattern"] = MONTH_PATTERN
        if self.minimum is not None:
            limits["ge"] = self.minimum
        if self.maximum is not None:
            limits["le"] = self.maximum
        description = self.helps.get("en") or self.labels.get("en")
        if self.required and self.type != "boolean":
            return kind, Field(..., description=description, **limits)
        default = False if self.type == "boolean" else [] if self.type == "multichoice" else None
        return (kind if self.type == "boolean" else Optional[kind]), Field(default, description=description, **limits)


@dataclass(frozen=True)
class FormDefinition:
    name: str
    titles: dict[str, str]
    command: str
    fields: tuple[FormField, ...]
    fill: tuple[str, ...] = ()
    approve: tuple[str, ...] = ()
    descriptions: dict[str, str] = field(default_factory=dict)
    permission: tuple[str, str] | None = None  # (object type, action) whose holders `fill` lists

    @property
    def title(self) -> str:
        return _in_locale(self.titles)

    @property
    def description(self) -> str:
        return _in_locale(self.descriptions)

    def field(self, name: str) -> FormField:
        return next(f for f in self.fields if f.name == name)

    @property
    def model(self) -> type[BaseModel]:
        return _model(self)

    def json_schema(self) -> dict:
        return self.model.model_json_schema()

    def openapi_body(self) -> dict:
        """`openapi_extra` of an API route whose JSON body is this form."""
        return {"requestBody": {"required": True, "content": {"application/json": {"schema": self.json_schema()}}}}

    def parse(self, data: Mapping[str, Any], choices: Mapping[str, list] | None = None, *,
              api: bool = False) -> dict[str, Any]:
        """Validated values of a posted form (strings, as a browser sends them) or, with `api`, a JSON
        body (where a name the form does not have is refused); a ValidationFailed naming each field's
        problem otherwise. `choices` are the values a page offered for its dynamic choice fields."""
        if api and not isinstance(data, dict):
            raise ValidationFailed("web.form.invalid", problems=[problem("", "web.form.not_an_object")],
                                   form=Label(self.titles))
        values: dict[str, Any] = {}
        for f in self.fields:
            if f.type == "file":
                continue
            if f.type == "multichoice":
                raw = data.getlist(f.name) if hasattr(data, "getlist") else data.get(f.name, [])
                values[f.name] = [str(v) for v in (raw or []) if str(v).strip()]
            elif f.type == "boolean":
                raw = data.get(f.name)
                values[f.name] = raw if isinstance(raw, bool) else str(raw or "").lower() in ("on", "true", "1", "yes")
            else:
                raw = data.get(f.name)
                if isinstance(raw, str):
                    raw = raw.strip() if f.type != "password" else raw
                    raw = raw or None
                if raw is not None:
                    values[f.name] = raw
        known = {f.name for f in self.fields}
        problems = [problem(name, "web.form.unknown_field") for name in data if api and name not in known]
        try:
            parsed = self.model.model_validate(values).model_dump()
        except ValidationError as exc:
            problems += [_problem(self, error) for error in exc.errors()]
            parsed = {}
        for name, offered in (choices or {}).items():
            value = values.get(name)
            allowed = {str(v[0] if isinstance(v, (tuple, list)) else v) for v in offered}
            chosen = value if isinstance(value, list) else [value] if value is not None else []
            if any(str(v) not in allowed for v in chosen):
                problems.append(problem(name, "web.form.bad_choice", label=Label(self.field(name).labels)))
        if problems:
            raise ValidationFailed("web.form.invalid", problems=problems, form=Label(self.titles))
        return parsed


_ERRORS = {
    "missing": "web.form.required",
    "string_too_long": "web.form.too_long",
    "int_parsing": "web.form.not_an_integer",
    "int_from_float": "web.form.not_an_integer",
    "float_parsing": "web.form.not_a_number",
    "date_parsing": "web.form.not_a_date",
    "date_from_datetime_parsing": "web.form.not_a_date",
    "date_from_datetime_inexact": "web.form.not_a_date",
    "literal_error": "web.form.bad_choice",
    "greater_than_equal": "web.form.too_small",
    "less_than_equal": "web.form.too_large",
    "string_pattern_mismatch": "web.form.not_a_month",
    "string_type": "web.form.not_text",
    "bool_parsing": "web.form.not_a_boolean",
    "list_type": "web.form.not_a_list",
}


def _problem(form: FormDefinition, error: dict) -> dict:
    name = str(error["loc"][0]) if error.get("loc") else ""
    known = next((f for f in form.fields if f.name == name), None)
    if known is None:
        return problem(name, "web.form.unknown_field")
    ctx = error.get("ctx") or {}
    return problem(name, _ERRORS.get(error["type"], "web.form.invalid_value"), label=Label(known.labels),
                   maximum=_figure(ctx.get("max_length", known.maximum)), minimum=_figure(known.minimum))


def _figure(value) -> str:
    return "" if value is None else f"{value:g}" if isinstance(value, float) else str(value)


def field_errors(exc: ValidationFailed) -> dict[str, str]:
    """A refused submission's messages by field, in the request's language, to show beside the fields.
    Problems that name no field of the form are shown above it (key "")."""
    out: dict[str, str] = {}
    for p in exc.problems:
        text = t(p["key"], **p.get("params", {})) if "key" in p else p.get("message", "")
        if p.get("row") not in (None, ""):
            text = t("error.problem_line", row=p["row"], field=p.get("field", ""), message=text)
        name = p.get("field") or ""
        out[name] = f"{out[name]}; {text}" if name in out else text
    return out


# ---------------------------------------------------------------- loading


_models: dict[str, type[BaseModel]] = {}


def _model(definition: FormDefinition) -> type[BaseModel]:
    model = _models.get(definition.name)
    if model is None:
        fields = {f.name: f.pydantic_field() for f in definition.fields if f.type != "file"}
        model = _models[definition.name] = create_model(f"Form_{definition.name}",
                                                        __config__=ConfigDict(extra="forbid"), **fields)
    return model


def _field(raw: dict, where: str) -> FormField:
    kind = raw.get("type", "text")
    if kind not in TYPES or not raw.get("name"):
        raise PolicyError("web.form_bad_field", where=where, types=", ".join(TYPES))
    choices = tuple(Choice(str(c["value"]), _localized(c.get("label"), f"{where}.{c['value']}"))
                    for c in raw.get("choices") or [])
    return FormField(
        name=raw["name"], type=kind, labels=_localized(raw.get("label"), where), helps=_localized(raw.get("help"), where),
        required=bool(raw.get("required", False)), choices=choices, dynamic_choices=bool(raw.get("dynamic_choices")),
        max_length=raw.get("max_length"), minimum=raw.get("minimum"), maximum=raw.get("maximum"),
        accept=raw.get("accept", ""))


def _definition(name: str, raw: dict) -> FormDefinition:
    where = f"forms/{name}.yaml"
    if raw.get("form") != name or not raw.get("command") or not isinstance(raw.get("fields"), list):
        raise PolicyError("web.form_bad_header", where=where)
    return FormDefinition(
        name=name, titles=_localized(raw.get("title"), where), command=raw["command"],
        fields=tuple(_field(f, f"{where}: {f.get('name')}") for f in raw["fields"]),
        fill=tuple(raw.get("fill") or ()), approve=tuple(raw.get("approve") or ()),
        descriptions=_localized(raw.get("description"), where),
        permission=tuple(raw["permission"]) if raw.get("permission") else None)


@lru_cache(maxsize=1)
def definitions() -> dict[str, FormDefinition]:
    folder = resources.files("cms_workflows.forms")
    out = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".yaml"):
            name = entry.name[:-5]
            out[name] = _definition(name, yaml.safe_load(entry.read_text(encoding="utf-8")) or {})
    return out


def form(name: str) -> FormDefinition:
    return definitions()[name]
