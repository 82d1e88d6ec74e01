"""A template's content variables as form fields (X-4): the new-document and edit pages ask one field
per variable of document_templates/templates.yaml, built at request time into a FormDefinition and
validated by the same forms machinery as every other form.

A text variable is a text field (a textarea when its example is long); a list of strings is a textarea
with one item per line; a list of mappings (a table, its columns those of the template's example) is a
textarea with one row per line and the cells separated by "|". Labels are message keys:
`web.documents.var.<variable>` and `web.documents.cell.<variable>.<column>` (locales/*/web_documents.yaml).
"""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache

from cms_workflows.core.errors import ValidationFailed, problem
from cms_workflows.core.i18n import LOCALES, t
from cms_workflows.web.forms import FormDefinition, FormField, Label

SEPARATOR = " | "
SHORT_TEXT = 60  # an example at most this long (one line) makes a one-line text field
TEXTAREA_LIMIT = 20000


def _texts(key: str, fallback: str, **params) -> dict[str, str]:
    return {loc: (fallback if t(key, loc) == key else t(key, loc, **params)) for loc in LOCALES}


def kinds(template: str) -> dict[str, tuple[str, tuple[str, ...]]]:
    """Each variable's kind (text, list or table) and, for a table, its columns."""
    from cms_workflows.documents import registry

    tpl = registry.template(template)
    out: dict[str, tuple[str, tuple[str, ...]]] = {}
    for name, kind in tpl.variables.items():
        example = tpl.example.get(name)
        if kind == "list" and isinstance(example, list) and example and isinstance(example[0], dict):
            out[name] = ("table", tuple(str(c) for c in example[0]))
        else:
            out[name] = (kind if kind == "list" else "text", ())
    return out


def column_labels(template: str, name: str, locale: str | None = None) -> list[str]:
    return [t(f"web.documents.cell.{name}.{c}", locale) for c in kinds(template)[name][1]]


@lru_cache(maxsize=32)
def content_fields(template: str) -> tuple[FormField, ...]:
    """One optional field per content variable (a draft may be incomplete; submission checks completeness)."""
    from cms_workflows.documents import registry

    tpl = registry.template(template)
    fields = []
    for name, (kind, columns) in kinds(template).items():
        labels = _texts(f"web.documents.var.{name}", name)
        if kind == "table":
            helps = {loc: t("web.documents.table_help", loc, columns=SEPARATOR.join(column_labels(template, name, loc)))
                     for loc in LOCALES}
        elif kind == "list":
            helps = _texts("web.documents.list_help", "")
        else:
            helps = {}
        example = tpl.example.get(name)
        short = kind == "text" and isinstance(example, (str, int, float)) and len(str(example)) <= SHORT_TEXT \
            and "\n" not in str(example)
        fields.append(FormField(name=name, type="text" if short else "textarea", labels=labels, helps=helps,
                                max_length=1000 if short else TEXTAREA_LIMIT))
    return tuple(fields)


def content_form(base: FormDefinition, template: str | None) -> FormDefinition:
    """`base` (document_new, document_edit) with the template's variable fields after its own."""
    if not template:
        return base
    return replace(base, name=f"{base.name}__{template}", fields=base.fields + content_fields(template))


def _table_row(name: str, columns: tuple[str, ...], line: str, row: int, bad: list) -> dict[str, str]:
    cells = [c.strip() for c in line.split("|")]
    if len(cells) != len(columns):
        bad.append(problem(name, "web.documents.bad_row", row=row, found=len(cells), expected=len(columns),
                           label=Label(_texts(f"web.documents.var.{name}", name))))
    return dict(zip(columns, cells + [""] * (len(columns) - len(cells))))


def content_of(template: str | None, data: dict, *, keep_empty: bool = False) -> dict:
    """The content variables of parsed form values: text as typed, a list one item per line, a table one
    row per line. Empty variables are left out unless `keep_empty` (an edit that clears one)."""
    if not template:
        return {}
    content, bad = {}, []
    for name, (kind, columns) in kinds(template).items():
        text = data.get(name) or ""
        if kind == "text":
            value = text.replace("\r\n", "\n")
        else:
            lines = [(i, line.strip()) for i, line in enumerate(text.splitlines(), start=1) if line.strip()]
            value = [line for _i, line in lines] if kind == "list" else \
                [_table_row(name, columns, line, i, bad) for i, line in lines]
        if value or keep_empty:
            content[name] = value
    if bad:
        raise ValidationFailed("web.form.invalid", problems=bad, form=Label(_texts("web.documents.content", "")))
    return content


def as_values(template: str | None, content: dict) -> dict[str, str]:
    """A draft's content as the fields show it (the inverse of `content_of`)."""
    if not template:
        return {}
    out = {}
    for name, (kind, columns) in kinds(template).items():
        value = content.get(name)
        if isinstance(value, list):
            out[name] = "\n".join(SEPARATOR.join(str(v.get(c, "")) for c in columns) if isinstance(v, dict) else str(v)
                                  for v in value)
        else:
            out[name] = "" if value is None else str(value)
    return out
