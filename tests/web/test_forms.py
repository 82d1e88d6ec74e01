"""Forms as data (forms/*.yaml): every definition is complete in both languages, names a real command and
real positions, and its one validation model refuses what a user can get wrong, field by field."""

from __future__ import annotations

import pytest

from cms_workflows.access import known_position_codes
from cms_workflows.access.policy import Policy
from cms_workflows.audit.commands import declared_commands
from cms_workflows.bootstrap import command_modules
from cms_workflows.core.errors import ValidationFailed
from cms_workflows.core.i18n import LOCALES, using_locale
from cms_workflows.web import forms
from cms_workflows.web.forms import FormDefinition, FormField, Choice, field_errors

DEFINITIONS = forms.definitions()
EVENTS = {fn.command.event for fn in declared_commands(*command_modules()).values()}


def test_the_forms_folder_is_read():
    assert {"login", "language"} <= set(DEFINITIONS)


@pytest.mark.parametrize("name", sorted(DEFINITIONS))
def test_every_form_speaks_both_languages_and_names_a_command_and_positions(name):
    definition = DEFINITIONS[name]
    assert set(definition.titles) == set(LOCALES), name
    for f in definition.fields:
        assert set(f.labels) == set(LOCALES), f"{name}.{f.name}"
        assert not f.helps or set(f.helps) == set(LOCALES), f"{name}.{f.name} help"
        for choice in f.choices:
            assert set(choice.labels) == set(LOCALES), f"{name}.{f.name}={choice.value}"
    assert definition.command in EVENTS, f"{name}: {definition.command}"
    assert set(definition.fill) <= known_position_codes(), name
    assert set(definition.approve) <= known_position_codes(), name


@pytest.mark.parametrize("name", sorted(n for n, d in DEFINITIONS.items() if d.permission))
def test_who_may_fill_a_form_is_what_the_policy_says(name):
    """A form that names its permission lists exactly the positions policy.csv grants it (no second
    permission system: the list documents the policy, the command decides)."""
    definition = DEFINITIONS[name]
    object_type, action = definition.permission
    assert sorted(definition.fill) == sorted(Policy().holders_of.get((object_type, action), [])), name


def _sample() -> FormDefinition:
    text = {"zh-CN": "名称", "en": "Name"}
    return FormDefinition(
        name="sample", titles={"zh-CN": "样例", "en": "Sample"}, command="documents.revision.submit", fields=(
            FormField("title", "text", text, required=True, max_length=10),
            FormField("amount", "number", {"zh-CN": "数量", "en": "Amount"}, minimum=0),
            FormField("count", "integer", {"zh-CN": "次数", "en": "Count"}),
            FormField("day", "date", {"zh-CN": "日期", "en": "Day"}),
            FormField("month", "month", {"zh-CN": "月份", "en": "Month"}),
            FormField("kind", "choice", {"zh-CN": "类别", "en": "Kind"}, required=True,
                      choices=(Choice("a", {"zh-CN": "甲", "en": "A"}), Choice("b", {"zh-CN": "乙", "en": "B"}))),
            FormField("urgent", "boolean", {"zh-CN": "紧急", "en": "Urgent"}),
        ))


def test_a_valid_post_is_parsed_into_typed_values():
    values = _sample().parse({"title": " 碳方针 ", "amount": "12.5", "count": "3", "day": "2026-03-01",
                              "month": "2026-03", "kind": "b", "urgent": "on"})
    assert values["title"] == "碳方针" and values["amount"] == 12.5 and values["count"] == 3
    assert str(values["day"]) == "2026-03-01" and values["kind"] == "b" and values["urgent"] is True


def test_each_mistake_is_named_beside_its_field_in_the_users_language():
    bad = {"title": "x" * 11, "amount": "-1", "count": "3.5", "day": "2026-02-30", "month": "2026-13", "kind": "z"}
    with pytest.raises(ValidationFailed) as refused:
        _sample().parse(bad)
    with using_locale("zh-CN"):
        zh = field_errors(refused.value)
    with using_locale("en"):
        en = field_errors(refused.value)
    assert set(zh) == {"title", "amount", "count", "day", "month", "kind"}
    assert zh["title"] == "名称最多 10 个字符。" and en["title"] == "Name takes at most 10 characters."
    assert en["amount"] == "Amount must not be less than 0." and en["count"] == "Count must be a whole number."
    assert en["day"].startswith("Day must be a date") and en["month"].startswith("Month must be a month")
    assert zh["kind"] == "类别须从给出的选项中选择。"


def test_a_required_field_left_blank_is_missing():
    with pytest.raises(ValidationFailed) as refused:
        _sample().parse({"title": "   ", "kind": ""})
    with using_locale("en"):
        assert field_errors(refused.value) == {"title": "Name is required.", "kind": "Kind is required."}


def test_the_api_body_is_held_to_the_same_model_and_refuses_unknown_names():
    with pytest.raises(ValidationFailed) as refused:
        _sample().parse({"title": "ok", "kind": "a", "approved_by": "gm"}, api=True)
    assert [p["field"] for p in refused.value.problems] == ["approved_by"]
    with pytest.raises(ValidationFailed):
        _sample().parse(["not", "an", "object"], api=True)


def test_dynamic_choices_are_held_to_what_the_page_offered():
    definition = FormDefinition(name="pick", titles={"zh-CN": "选", "en": "Pick"}, command="x", fields=(
        FormField("site", "choice", {"zh-CN": "厂区", "en": "Site"}, required=True, dynamic_choices=True),))
    assert definition.parse({"site": "HN01"}, choices={"site": [("HN01", "长沙")]}) == {"site": "HN01"}
    with pytest.raises(ValidationFailed):
        definition.parse({"site": "HN09"}, choices={"site": [("HN01", "长沙")]})


def test_the_json_schema_of_a_form_is_what_the_api_documents():
    schema = _sample().json_schema()
    assert schema["required"] == ["title", "kind"] and schema["properties"]["kind"]["enum"] == ["a", "b"]
    assert schema["additionalProperties"] is False
