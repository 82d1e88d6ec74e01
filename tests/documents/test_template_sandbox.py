"""Templates cannot run code; a company template is approved before it is used (issue 14 item 2; R-7.5, X-2, X-4).

Each attack is first shown to be live: the same template rendered the way rendering worked before (docxtpl
with a plain Jinja environment) runs a shell command that creates a marker file. Then, registered,
approved by a second person and rendered by the register (controlled file at approval, draft preview),
it is a clear `documents.template_unsafe` in both locales, the marker never appears and nothing is written.
"""

from __future__ import annotations

import io
import runpy
from datetime import datetime, timezone
from pathlib import Path

import jinja2
import pytest
from docx import Document as open_docx
from docxtpl import DocxTemplate
from jinja2 import nodes
import sqlalchemy as sa
from sqlmodel import select
from sqlmodel.sql.sqltypes import UTCDateTime

from cms_workflows import audit
from cms_workflows.core.errors import AccessDenied, CmsError, Conflict
from cms_workflows.documents import approval as doc_approval
from cms_workflows.documents import output, registry, rendering
from cms_workflows.documents import queries as doc_queries
from cms_workflows.documents import service as docs
from cms_workflows.documents.models import CompanyTemplate
from cms_workflows.documents.template_sandbox import environment as sandbox_environment
from cms_workflows.org import service as org

from .conftest import AUTHOR, DOC_CONTROL, GM, REVIEWER, audit_count

ROOT = Path(__file__).resolve().parents[2]
CHECK_TEMPLATES = runpy.run_path(str(ROOT / "tools" / "check_templates.py"))
BUILT_IN = registry.template("controlled_document").path().read_bytes()
# the control variables as the register fills them, plus the template's example content
CONTEXT = {**CHECK_TEMPLATES["base_context"](CHECK_TEMPLATES["labels"]("zh-CN"), "文件控制程序", draft=True),
           **registry.template("controlled_document").example}

# (where, payload): each passes the registration check (it uses no variable the data lacks) and, under a plain
# Jinja environment, runs `touch {marker}`
LIVE_PAYLOADS = {
    "cycler_globals": ("body", "{{ cycler.__init__.__globals__.os.popen('touch {marker}').read() }}"),
    "lipsum_globals": ("body", "{{ lipsum.__globals__['os'].popen('touch {marker}').read() }}"),
    "template_reference": ("body", "{{ self._TemplateReference__context.joiner.__init__.__globals__.os"
                                   ".popen('touch {marker}').read() }}"),
    "subclasses": ("body", "{% for c in doc.__class__.__mro__[1].__subclasses__() %}{% if c.__name__ == "
                           "'catch_warnings' %}{{ c()._module.__builtins__['__import__']('os')"
                           ".popen('touch {marker}').read() }}{% endif %}{% endfor %}"),
    # core properties are rendered by docxtpl too, and the registration's variable check does not read them
    "core_property": ("comments", "{{ cycler.__init__.__globals__.os.popen('touch {marker}').read() }}"),
}


def _template(payload: str, where: str = "body", base: bytes = BUILT_IN) -> bytes:
    document = open_docx(io.BytesIO(base))
    if where == "body":
        document.add_paragraph(payload)
    else:
        setattr(document.core_properties, where, payload)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _payload(name: str, marker: Path) -> tuple[str, str]:
    where, payload = LIVE_PAYLOADS[name]
    return where, payload.replace("{marker}", str(marker))


def _meta() -> rendering.FileMeta:
    moment = datetime(2026, 1, 10, tzinfo=timezone.utc)
    return rendering.FileMeta(title="t", number="HN01-PR-001", label="A", seq=1, author="a", last_modified_by="a",
                              subject="procedure", language="zh-CN", created=moment, modified=moment)


def _context(db, number: str) -> dict:
    with db.read() as session:
        doc = doc_queries.get_document(session, number)
        rev = doc_queries.revisions(session, doc)[-1]
        return output.build_context(session, doc, rev, controlled=False)


def _register(db, data: bytes, user: str = DOC_CONTROL, filename: str = "ours.docx") -> int:
    with db.unit_of_work() as session:
        return output.register_template(session, user, "procedure", data, filename).id


def _approve(db, template_id: int, user: str = GM) -> CompanyTemplate:
    with db.unit_of_work() as session:
        return output.approve_template(session, user, template_id)


def _preview_text(db, number: str) -> str:
    with db.read() as session:
        _rev, data = doc_queries.revision_file(session, AUTHOR, number)
    return "\n".join(p.text for p in open_docx(io.BytesIO(data)).paragraphs)


def _stored_files(db) -> list[Path]:
    return sorted(p for p in Path(db.settings.file_store_dir).rglob("*") if p.is_file())


def _assert_unsafe(error: CmsError) -> None:
    assert error.key == "documents.template_unsafe"
    for locale in ("zh-CN", "en"):
        message = error.message(locale)
        assert message and "documents.template_unsafe" not in message and "Traceback" not in message


@pytest.mark.parametrize("name", sorted(LIVE_PAYLOADS))
def test_a_template_that_runs_a_command_fails_harmlessly_when_rendered_and_previewed(db, procedure, tmp_path, name):
    marker = tmp_path / f"pwned-{name}"
    where, payload = _payload(name, marker)
    evil = _template(payload, where)

    # the attack as it was: rendered with a plain Jinja environment, the template runs a shell command
    live = tmp_path / f"live-{name}"
    DocxTemplate(io.BytesIO(_template(_payload(name, live)[1], where))).render(
        _context(db, procedure), jinja_env=jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=True),
        autoescape=True)
    assert live.exists()

    template_id = _register(db, evil)  # the variable check lets it through: it names only known variables
    _approve(db, template_id)

    with pytest.raises(CmsError) as preview_error:  # the unaudited draft preview
        _preview_text(db, procedure)
    _assert_unsafe(preview_error.value)
    assert not marker.exists()

    with db.unit_of_work() as session:
        docs.submit(session, AUTHOR, procedure)
    with db.unit_of_work() as session:
        doc_approval.decide(session, REVIEWER, procedure, "approve", "内容符合要求", expect="review")
    events, files = audit_count(db), _stored_files(db)
    with pytest.raises(CmsError) as render_error, db.unit_of_work() as session:  # approval renders the controlled file
        doc_approval.decide(session, GM, procedure, "approve", "同意发布", expect="approve")
    _assert_unsafe(render_error.value)
    assert not marker.exists()
    assert audit_count(db) == events and _stored_files(db) == files  # nothing written: no event, no file
    with db.read() as session:
        rev = doc_queries.revisions(session, doc_queries.get_document(session, procedure))[-1]
        assert rev.file_sha256 is None and rev.approved_at is None


@pytest.mark.parametrize("payload", [
    "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ self._TemplateReference__context }}",
    "{{ lipsum.__globals__ }}",
    "{{ lipsum }}",
    "{% for i in range(3) %}{{ i }}{% endfor %}",
    "{{ dict(a=1) }}",
    "{{ namespace(a=1) }}",
    "{{ joiner() }}",
    "{{ doc['__class__'] }}",
    "{{ doc.title.format(1) }}",  # a method of the data: str.format can read attributes
    "{{ doc.update(title='forged') }}",
    "{{ 'x' * 1000000000000 }}",  # would fill the memory (and is never folded while compiling)
    "{{ '%999999999999s' % doc.title }}",
    "{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}",
])
def test_every_way_past_the_data_is_refused_as_unsafe(payload):
    with pytest.raises(CmsError) as error:
        rendering.render(_template(payload), CONTEXT, _meta())
    _assert_unsafe(error.value)


def test_a_filter_is_a_template_error_not_a_way_out():
    with pytest.raises(CmsError) as error:
        rendering.render(_template("{{ doc|attr('__class__') }}"), CONTEXT, _meta())
    assert error.value.key == "documents.template_syntax" and "attr" in error.value.message("en")


def test_the_built_in_templates_use_no_filter_test_or_global():
    """What the sandbox keeps out is what the templates do not use (template_sandbox.TEMPLATE_FILTERS is empty)."""
    env = jinja2.Environment()
    for name in registry.templates():
        tpl = DocxTemplate(registry.template(name).path())
        tpl.init_docx()
        xml = tpl.patch_xml(tpl.get_xml())
        for part in tpl.get_headers_footers(tpl.HEADER_URI):
            xml += tpl.patch_xml(tpl.get_part_xml(part[1]))
        tree = env.parse(xml)
        assert not list(tree.find_all((nodes.Filter, nodes.Test, nodes.Call))), name
        used = {n.name for n in tree.find_all(nodes.Name)}
        assert {"doc", "history", "approvals"} <= used, name
        assert not used & {"range", "dict", "lipsum", "cycler", "joiner", "namespace", "self"}, name


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_the_sandbox_renders_the_built_in_templates_byte_for_byte_as_before(locale):
    """Files approved before the sandbox render again to their stored hashes (and `cms verify` can re-render them)."""
    labels = CHECK_TEMPLATES["labels"](locale)
    for name, spec in registry.templates().items():
        context = {**CHECK_TEMPLATES["base_context"](labels, name, draft=False), **spec.example}
        outputs = []
        for env in (jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=True), sandbox_environment()):
            tpl = DocxTemplate(spec.path())
            tpl.render(context, jinja_env=env, autoescape=True)
            outputs.append(rendering._save_dated(tpl, _meta().modified))
        assert outputs[0] == outputs[1], name


def test_every_built_in_template_renders_in_both_locales_in_the_sandbox(capsys):
    assert CHECK_TEMPLATES["main"]() == 0, capsys.readouterr().out


def test_a_pending_template_is_not_used_until_someone_else_approves_it(db, procedure):
    ours_a = _template("OURS-A {{ doc.owner_department }}")
    ours_b = _template("OURS-B {{ doc.owner_department }}")
    first = _register(db, ours_a)
    assert "OURS-A" not in _preview_text(db, procedure)  # pending: the built-in template stays in use
    with db.read() as session:
        assert [(r.id, state) for r, state in output.company_templates(session, DOC_CONTROL)] == [(first, "pending")]

    with pytest.raises(AccessDenied) as denied, db.unit_of_work() as session:
        output.approve_template(session, DOC_CONTROL, first)  # the document controller may register, not approve
    assert denied.value.key == "access.denied"
    approved = _approve(db, first)
    assert (approved.approved_by, approved.active) == (GM, True)
    assert "OURS-A" in _preview_text(db, procedure)

    second = _register(db, ours_b)
    text_now = _preview_text(db, procedure)
    assert "OURS-A" in text_now and "OURS-B" not in text_now  # the approved one stays in use while B waits
    _approve(db, second)
    text_now = _preview_text(db, procedure)
    assert "OURS-B" in text_now and "OURS-A" not in text_now
    with db.read() as session:
        states = {r.id: state for r, state in output.company_templates(session, DOC_CONTROL)}
    assert states == {first: "retired", second: "in_use"}

    with pytest.raises(Conflict) as again, db.unit_of_work() as session:
        output.approve_template(session, GM, second)
    assert again.value.key == "documents.template_already_approved"
    older, newer = _register(db, ours_a, filename="c.docx"), _register(db, ours_b, filename="d.docx")
    with pytest.raises(Conflict) as replaced, db.unit_of_work() as session:
        output.approve_template(session, GM, older)  # replaced by a newer registration before its approval
    assert replaced.value.key == "documents.template_replaced" and str(newer) in replaced.value.message("en")


def test_the_registrant_cannot_approve_their_own_template(db, procedure):
    # gm also holds the document controller's position: permitted both actions, refused the second on own work
    with db.unit_of_work() as session:
        org.assign(session, "admin", GM, "document_controller", "*")
    template_id = _register(db, _template("OURS {{ doc.owner_department }}"), user=GM)
    events = audit_count(db)
    with pytest.raises(AccessDenied) as denied, db.unit_of_work() as session:
        output.approve_template(session, GM, template_id)
    assert denied.value.key == "access.sod_own_work"
    for locale in ("zh-CN", "en"):
        assert GM in denied.value.message(locale)
    assert audit_count(db) == events
    assert "OURS" not in _preview_text(db, procedure)


def test_approval_is_an_audit_event_naming_the_approver(db, procedure):
    data = _template("OURS {{ doc.owner_department }}")
    template_id = _register(db, data)
    with db.read() as session:
        registered = audit.events_for(session, "doc_company_template", template_id)
    assert [e.action for e in registered] == ["documents.template.register"]
    row = _approve(db, template_id)
    with db.read() as session:
        events = audit.events_for(session, "doc_company_template", template_id)
    assert [e.action for e in events] == ["documents.template.register", "documents.template.approve"]
    approval = events[-1]
    assert (approval.actor, approval.position) == (GM, "general_manager")
    assert f'"sha256":"{row.sha256}"' in approval.payload and f'"registered_by":"{DOC_CONTROL}"' in approval.payload


def test_templates_registered_before_the_migration_stay_in_use_as_approved_by_their_registrant(empty_db):
    empty_db.upgrade("0004_documents_superseded_by")
    moment = datetime(2025, 6, 1, 8, 0, 0, tzinfo=timezone.utc)
    columns = [sa.column(c) for c in ("doc_type", "base_template", "filename", "sha256", "variables", "registered_by")]
    table = sa.table("doc_company_template", *columns, sa.column("registered_at", UTCDateTime()),
                     sa.column("active", sa.Boolean))
    common = {"doc_type": "procedure", "base_template": "controlled_document", "filename": "ours.docx", "variables": "doc",
              "registered_by": DOC_CONTROL, "registered_at": moment}
    with empty_db.engine.begin() as conn:  # one replaced earlier, one in use
        conn.execute(table.insert(), [{**common, "sha256": "a" * 64, "active": False},
                                      {**common, "sha256": "b" * 64, "active": True}])
    empty_db.upgrade()
    with empty_db.read() as session:
        rows = session.exec(select(CompanyTemplate).order_by(CompanyTemplate.id)).all()
        assert [(r.sha256[0], r.active, r.approved_by, r.approved_at) for r in rows] == [
            ("a", False, DOC_CONTROL, moment), ("b", True, DOC_CONTROL, moment)]


def test_register_list_and_approve_through_the_cli(db, company, cli_env, tmp_path):
    from tests.test_cli import cms

    path = tmp_path / "ours.docx"
    path.write_bytes(_template("OURS {{ doc.owner_department }}"))
    r = cms(cli_env, "doc", "template", "procedure", str(path), user=DOC_CONTROL)
    assert r.returncode == 0 and "approve-template" in r.stdout, r.stderr
    with db.read() as session:
        (row, _state), = output.company_templates(session, DOC_CONTROL)
    r = cms(cli_env, "doc", "templates", user=GM, locale="en")
    assert r.returncode == 0 and "pending approval" in r.stdout and row.sha256[:12] in r.stdout
    r = cms(cli_env, "doc", "approve-template", str(row.id), user=DOC_CONTROL)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    r = cms(cli_env, "doc", "approve-template", str(row.id), user=GM)
    assert r.returncode == 0 and row.sha256 in r.stdout, r.stderr
    r = cms(cli_env, "doc", "templates", user=GM)
    assert r.returncode == 0 and "使用中" in r.stdout
