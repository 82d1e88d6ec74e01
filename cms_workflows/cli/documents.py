"""`cms doc …`: the document controller's and approvers' commands. Each command is one unit of work over
the service functions (the same the API uses); no ORM here."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
import yaml

from cms_workflows.cli.common import (
    acting_user, database, parse_date, print_table, require_readable, require_site, term,
)
from cms_workflows.core.errors import NotFound, ValidationFailed, problem
from cms_workflows.core.i18n import pick, t

app = typer.Typer(no_args_is_help=True)


def _content(path: Optional[Path], example_of: Optional[str] = None) -> dict:
    """Content variables from a YAML/JSON file, or a template's example content."""
    if path is None:
        if example_of is None:
            return {}
        from cms_workflows.documents import registry

        return dict(registry.template(example_of).example)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ValidationFailed("documents.bad_content", problems=[{"field": str(path), "message": str(exc)[:300]}]) from None
    if not isinstance(data, dict):
        raise ValidationFailed("documents.bad_content", problems=[problem(str(path), "cli.doc.content_mapping")])
    return data


def _document_types(doc_type: Optional[str] = None) -> set[str]:
    """The object types documents are read as: of one document type, or of all."""
    from cms_workflows.documents import registry

    types = [registry.doc_type(doc_type)] if doc_type else registry.doc_types().values()
    return {dt.object_type for dt in types}


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ValidationFailed("documents.not_docx", reason=exc.strerror or str(exc), filename=str(path)) from None


def _step_name(name: str) -> str:
    # step names come from approval_routes.yaml: the usual ones are translated, others shown as written
    return term(f"cli.doc.step.{name}", name)


def _rev_line(number: str, rev) -> str:
    return t("documents.cli.revision_state", number=number, revision=rev.label, state=t(f"documents.state.{rev.status}"))


def _names(names) -> str:
    return "、".join(names) if names else t("documents.cli.nobody_holds")


def _next_lines(session, doc) -> list[str]:
    """What the document waits for and who may do it: the pending step with its positions and the names of
    those who may decide it now (issue 15), read in the command's unit of work."""
    from cms_workflows.access import PositionNames
    from cms_workflows.documents import approval

    nxt = approval.next_step(session, doc)
    if nxt.kind is None:
        return [t("documents.cli.next_none")]
    if nxt.kind == "submit":
        return [t("documents.cli.next_submit", author=nxt.revision.author, number=doc.number)]
    if nxt.kind == "release":
        return [t("documents.cli.next_release", date=nxt.revision.effective_date or "—",
                  positions=PositionNames(nxt.positions), names=_names(nxt.names), number=doc.number)]
    lines = []
    if nxt.positions:
        lines.append(t("documents.cli.next_decide", step=_step_name(nxt.step.name), mode=t(f"cli.doc.step_mode.{nxt.step.mode}"),
                       positions=PositionNames(nxt.positions), names=_names(nxt.names),
                       command=f"cms doc {'approve' if nxt.step.action == 'approve' else 'review'} {doc.number}"))
    if nxt.reviewers:
        lines.append(t("documents.cli.next_reviewers", step=_step_name(nxt.step.name), names="、".join(nxt.reviewers)))
    if nxt.revision.effective_date:
        lines.append(t("documents.cli.effective_kept", date=nxt.revision.effective_date))
    return lines


def _status(session, number: str) -> list[str]:
    """The document's open (else effective) revision and its state, then what it waits for."""
    from cms_workflows.documents import queries

    doc = queries.get_document(session, number)
    rev = queries.open_revision(session, doc) or queries.effective_revision(session, doc)
    head = [_rev_line(number, rev)] if rev is not None else \
        [t("documents.cli.document_state", number=number, status=t(f"documents.doc_status.{doc.status}"))]
    return head + _next_lines(session, doc)


def _echo(lines: list[str]) -> None:
    for line in lines:
        typer.echo(line)


@app.command("types")
def types() -> None:
    from cms_workflows.documents import registry

    rows = []
    for dt in registry.doc_types().values():
        route = " → ".join(t("cli.doc.route_step", step=_step_name(s.name), mode=t(f"cli.doc.step_mode.{s.mode}"),
                              positions="+".join(s.positions)) for s in registry.route(dt.code))
        rows.append([dt.code, dt.name(), dt.numbering.replace("{abbr}", dt.abbr), t(f"cli.doc.label_scheme.{dt.revision_labels}"),
                     str(dt.review_months), str(dt.retention_years), dt.template or "—", route])
    print_table([t(f"documents.cli.col_{c}") for c in
                 ("type", "name", "numbering", "labels", "review_months", "retention_years", "template", "route")], rows)


@app.command("template-vars")
def template_vars(name: str) -> None:
    """The content variables of a document type's template (or of a template by name), with the example
    content: what a `--content` file gives (document_templates/templates.yaml)."""
    from cms_workflows.documents import registry

    code = name
    if name not in registry.doc_types() and name not in registry.templates():
        raise NotFound("documents.cli.unknown_type_or_template", name=name, types=", ".join(registry.doc_types()),
                       templates=", ".join(registry.templates()))
    if name in registry.doc_types():
        code = registry.doc_type(name).template
        if code is None:
            raise ValidationFailed("documents.import_only", doc_type=name)
    tpl = registry.template(code)
    typer.echo(t("documents.cli.template_vars_heading", template=code, name=pick(tpl.name_zh, tpl.name_en), file=tpl.file))
    rows = []
    for variable, kind in tpl.variables.items():
        example = tpl.example.get(variable)
        if isinstance(example, list):
            keys = sorted({k for item in example if isinstance(item, dict) for k in item})
            shape = t("documents.cli.list_of_mappings", keys=", ".join(keys)) if keys else t("documents.cli.list_of_text")
            sample = _sample(example[0]) if example else "—"
        else:
            shape = t(f"documents.cli.var_kind.{kind}")
            sample = _sample(example)
        rows.append([variable, shape, sample])
    print_table([t(f"documents.cli.col_{c}") for c in ("variable", "kind", "example")], rows)
    typer.echo(t("documents.cli.template_vars_footer", controls=", ".join(sorted(registry.CONTROL_VARIABLES)),
                 doc_type=name))


def _sample(value, width: int = 48) -> str:
    """An example value on one line, cut short."""
    if value is None:
        return "—"
    text = yaml.safe_dump(value, allow_unicode=True, default_flow_style=True, width=10_000).strip() \
        if isinstance(value, (dict, list)) else str(value)
    text = " ".join(text.split())
    return text if len(text) <= width else text[:width - 1] + "…"


@app.command("new")
def new(ctx: typer.Context, doc_type: str, title: str = typer.Option(..., "--title"),
        site: str = typer.Option(..., "--site"),
        department: str = typer.Option(..., "--dept"),
        content: Optional[Path] = typer.Option(None, "--content"),
        example: bool = typer.Option(False, "--example"),
        template: Optional[str] = typer.Option(None, "--template"),
        language: str = typer.Option("zh-CN", "--language"),
        review_months: Optional[int] = typer.Option(None, "--review-months")) -> None:
    from cms_workflows.documents import queries, registry, service

    tpl = template or (registry.doc_type(doc_type).template if example else None)
    with database().unit_of_work() as session:
        rev = service.create(session, acting_user(ctx), doc_type=doc_type, site=site, title=title, owner_department=department,
                             content=_content(content, tpl if example else None), template=template,
                             language=language, review_months=review_months)
        number = queries.document_number(session, rev.document_id)
        lines = _next_lines(session, queries.get_document(session, number))
    typer.echo(t("documents.cli.created", number=number, revision=rev.label))
    _echo(lines)


@app.command("edit")
def edit(ctx: typer.Context, number: str, content: Optional[Path] = typer.Option(None, "--content"),
         title: Optional[str] = typer.Option(None, "--title"), reason: Optional[str] = typer.Option(None, "--reason"),
         major: bool = typer.Option(False, "--major")) -> None:
    from cms_workflows.documents import service

    with database().unit_of_work() as session:
        service.edit(session, acting_user(ctx), number, title=title, content=_content(content) or None,
                     change_reason=reason, major=major)
        lines = _status(session, number)
    _echo(lines)


@app.command("submit")
def submit(ctx: typer.Context, number: str, reason: Optional[str] = typer.Option(None, "--reason")) -> None:
    from cms_workflows.documents import service

    with database().unit_of_work() as session:
        service.submit(session, acting_user(ctx), number, change_reason=reason)
        lines = _status(session, number)
    _echo(lines)


def _decide(ctx, number: str, decision: str, comment: str, expect: Optional[str], effective: Optional[str] = None) -> None:
    from cms_workflows.documents import approval

    with database().unit_of_work() as session:
        rev = approval.decide(session, acting_user(ctx), number, decision, comment, expect=expect,
                             effective_date=parse_date(effective, "effective_date"))
        lines = _status(session, number)
    _echo(lines[:1])
    if rev.file_sha256 and rev.status == "approved":
        typer.echo(t("documents.cli.file_fixed", sha256=rev.file_sha256, date=rev.effective_date))
    _echo(lines[1:])


@app.command("review")
def review(ctx: typer.Context, number: str, comment: str = typer.Option("", "--comment")) -> None:
    _decide(ctx, number, "approve", comment, "review")


@app.command("approve")
def approve(ctx: typer.Context, number: str, comment: str = typer.Option("", "--comment"),
            effective: Optional[str] = typer.Option(None, "--effective-date")) -> None:
    _decide(ctx, number, "approve", comment, "approve", effective)


@app.command("reject")
def reject(ctx: typer.Context, number: str, comment: str = typer.Option(..., "--comment")) -> None:
    _decide(ctx, number, "reject", comment, None)


@app.command("add-reviewer")
def add_reviewer(ctx: typer.Context, number: str, reviewer: str, reason: str = typer.Option("", "--reason")) -> None:
    from cms_workflows.documents import approval

    with database().unit_of_work() as session:
        approval.add_reviewer(session, acting_user(ctx), number, reviewer, reason)
        lines = _status(session, number)
    typer.echo(t("documents.cli.reviewer_added", number=number, reviewer=reviewer))
    _echo(lines)


@app.command("effective")
def effective(ctx: typer.Context, number: str) -> None:
    from cms_workflows.documents import service

    with database().unit_of_work() as session:
        service.make_effective(session, acting_user(ctx), number)
        lines = _status(session, number)
    _echo(lines)


@app.command("obsolete")
def obsolete(ctx: typer.Context, number: str, reason: str = typer.Option(..., "--reason")) -> None:
    from cms_workflows.documents import service

    with database().unit_of_work() as session:
        doc = service.obsolete(session, acting_user(ctx), number, reason)
        lines = _status(session, number)
    typer.echo(t("documents.cli.obsoleted", number=doc.number))
    _echo(lines)


@app.command("show")
def show(ctx: typer.Context, number: str) -> None:
    from cms_workflows.documents import output, queries, registry
    from cms_workflows.documents.registry import shown_revision

    with database().read() as session:
        view = queries.show(session, acting_user(ctx), number)
        when = {d.id: output.local_time(d.decided_at, session) for d in view.decisions}
        reviewed = {p.id: output.local_date(p.reviewed_at, session) for p in view.reviews}
        pending = _next_lines(session, view.document)
    d = view.document
    typer.echo(t("cli.doc.heading", number=d.number, title=d.title, type=registry.doc_type(d.doc_type).name(), site=d.site,
                 department=d.owner_department, status=t(f"documents.doc_status.{d.status}")))
    if d.issuer:
        typer.echo(t("documents.cli.external", issuer=d.issuer, version=d.external_version or "",
                     date=d.external_effective_date or "", applies_to=d.applies_to or ""))
    if d.next_review_due:
        typer.echo(t("documents.cli.next_review", date=d.next_review_due))
    if d.obsolete_reason:
        typer.echo(t("documents.cli.obsolete_reason", reason=d.obsolete_reason))
    print_table([t(f"documents.cli.col_{c}") for c in ("revision", "state", "author", "change", "approved_by", "effective_date", "sha256")],
                [[shown_revision(d, r), t(f"documents.state.{r.status}"), r.author, r.change_reason or "—",
                  r.approved_by or "—", str(r.effective_date or "—"), (r.file_sha256 or "—")[:16]] for r in view.revisions])
    labels = {r.id: r.label for r in view.revisions}
    steps = {s.id: s for s in view.steps}
    if view.decisions:
        typer.echo(t("documents.cli.decisions"))
        print_table([t(f"documents.cli.col_{c}") for c in ("revision", "round", "step", "user", "position", "decision", "comment", "date")],
                    [[labels[x.revision_id], str(steps[x.step_id].round), _step_name(steps[x.step_id].name), x.username, x.position,
                      t(f"documents.decision.{x.decision}"), x.comment or "—", when[x.id]]
                     for x in view.decisions])
    for r in view.reviewers:
        typer.echo(t("documents.cli.added_reviewer_line", reviewer=r.username, by=r.added_by, reason=r.reason or "—"))
    for p in view.reviews:
        typer.echo(t("documents.cli.review_line", date=reviewed[p.id], outcome=t(f"documents.outcome.{p.outcome}"),
                     by=p.reviewed_by, comment=p.comment or "—"))
    _echo(pending)


@app.command("list")
def list_(ctx: typer.Context, doc_type: Optional[str] = typer.Option(None, "--type"), site: Optional[str] = typer.Option(None, "--site"),
          status: Optional[str] = typer.Option(None, "--status")) -> None:
    from cms_workflows.documents import queries
    from cms_workflows.documents.registry import shown_revision

    with database().read() as session:
        actor = acting_user(ctx)
        if site:
            require_site(session, site)
        rows = queries.list_documents(session, actor, doc_type=doc_type, site=site, status=status)
        if not rows:
            require_readable(session, actor, _document_types(doc_type), "cli.what.documents")
    if not rows:
        typer.echo(t("documents.cli.none_found"))
        return
    print_table([t(f"documents.cli.col_{c}") for c in ("number", "title", "type", "site", "doc_status", "effective", "in_progress", "next_review")],
                [[d.number, d.title, d.doc_type, d.site, t(f"documents.doc_status.{d.status}"),
                  f"{shown_revision(d, eff)} ({eff.effective_date})" if eff else "—",
                  f"{shown_revision(d, op)}: {t(f'documents.state.{op.status}')}" if op else "—",
                  str(d.next_review_due or "—")]
                 for d, eff, op in rows])


@app.command("render")
def render(ctx: typer.Context, number: str, out: Path = typer.Option(..., "--out"),
           revision: Optional[str] = typer.Option(None, "--revision"),
           copy: Optional[int] = typer.Option(None, "--copy")) -> None:
    # the effective revision as stored; any other revision, or a distributed copy, stamped and recorded
    from cms_workflows.documents import renditions

    with database().unit_of_work() as session:
        handout = renditions.hand_out(session, acting_user(ctx), number, revision, copy_no=copy)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(handout.data)
    if handout.rendition is None:
        typer.echo(t("documents.cli.rendered", path=out, revision=handout.revision.label, sha256=handout.sha256))
    else:
        typer.echo(t("documents.rendition.cli.written", path=out, revision=handout.revision.label,
                     kind=t(f"documents.rendition.kind.{handout.kind}"), sha256=handout.sha256,
                     original=handout.rendition.original_sha256))


@app.command("copies")
def copies(ctx: typer.Context, number: str) -> None:
    from cms_workflows.documents import distribution

    with database().read() as session:
        rev, rows = distribution.copies(session, acting_user(ctx), number)
    typer.echo(t("documents.rendition.cli.copies", number=number, revision=rev.label))
    print_table([t("documents.rendition.cli.col_copy_no"), t("documents.cli.col_position"), t("documents.cli.col_site")],
                [[str(d.copy_no) if d.copy_no else t("documents.rendition.cli.not_numbered"), d.position, d.site]
                 for d in rows])


@app.command("import")
def import_(ctx: typer.Context, file: Path, number: Optional[str] = typer.Option(None, "--number"),
            doc_type: Optional[str] = typer.Option(None, "--type"), site: Optional[str] = typer.Option(None, "--site"),
            title: Optional[str] = typer.Option(None, "--title"), department: Optional[str] = typer.Option(None, "--dept"),
            label: Optional[str] = typer.Option(None, "--label"),
            legacy_number: Optional[str] = typer.Option(None, "--legacy-number"),
            reason: str = typer.Option("", "--reason"), issuer: Optional[str] = typer.Option(None, "--issuer"),
            version: Optional[str] = typer.Option(None, "--version"), issued: Optional[str] = typer.Option(None, "--issued"),
            applies_to: Optional[str] = typer.Option(None, "--applies-to"),
            standard_number: Optional[str] = typer.Option(None, "--standard-number"),
            published: Optional[str] = typer.Option(None, "--published")) -> None:
    from cms_workflows.documents import imports, queries
    from cms_workflows.documents.registry import shown_revision

    data = _read(file)
    with database().unit_of_work() as session:
        rev = imports.import_file(session, acting_user(ctx), data, file.name, number=number, doc_type=doc_type, site=site,
                                  title=title, owner_department=department, label=label, legacy_number=legacy_number,
                                  change_reason=reason, issuer=issuer, external_version=version,
                                  external_effective_date=parse_date(issued, "issued"), applies_to=applies_to,
                                  external_number=standard_number,
                                  external_published_date=parse_date(published, "published"))
        number = queries.document_number(session, rev.document_id)
        doc = queries.get_document(session, number)
        lines = _next_lines(session, doc)
    if doc.doc_type == imports.EXTERNAL:  # its issuer's identity, not an internal revision letter (issue 13)
        typer.echo(t("documents.cli.imported_external", number=number, standard_number=doc.external_number or "",
                     edition=shown_revision(doc, rev), issuer=doc.issuer or "", sha256=rev.file_sha256))
    else:
        typer.echo(t("documents.cli.imported", number=number, revision=rev.label, sha256=rev.file_sha256))
    _echo(lines)


@app.command("distribute")
def distribute(ctx: typer.Context, number: str, to: list[str] = typer.Option(..., "--to")) -> None:
    from cms_workflows.documents import distribution

    targets = [tuple(x.split("@", 1)) if "@" in x else (x, "*") for x in to]
    with database().unit_of_work() as session:
        rows = distribution.distribute(session, acting_user(ctx), number, targets)
    typer.echo(t("documents.cli.distributed", number=number, count=len(rows)))


@app.command("ack")
def ack(ctx: typer.Context, number: str, pending: bool = typer.Option(False, "--pending")) -> None:
    from cms_workflows.documents import distribution

    if pending:
        with database().read() as session:
            rev, holders = distribution.pending(session, acting_user(ctx), number)
        typer.echo(t("documents.cli.pending", number=number, revision=rev.label, count=len(holders)))
        print_table([t("documents.cli.col_user"), t("documents.cli.col_position"), t("documents.cli.col_site")],
                    [[h.username, h.position, h.site] for h in holders])
        return
    with database().unit_of_work() as session:
        row = distribution.acknowledge(session, acting_user(ctx), number)
    typer.echo(t("documents.cli.acknowledged", number=number, sha256=row.file_sha256 or ""))


@app.command("due")
def due(ctx: typer.Context, by: Optional[str] = typer.Option(None, "--by")) -> None:
    from cms_workflows.documents import queries

    with database().read() as session:
        actor = acting_user(ctx)
        rows = queries.due(session, actor, parse_date(by, "by"))
        if not rows:
            require_readable(session, actor, _document_types(), "cli.what.documents")
    if not rows:
        typer.echo(t("documents.cli.none_due"))
        return
    print_table([t(f"documents.cli.col_{c}") for c in ("number", "title", "revision", "next_review", "in_progress")],
                [[r.document.number, r.document.title, r.revision.label, str(r.due), r.revision_in_progress or "—"] for r in rows])


@app.command("periodic")
def periodic(ctx: typer.Context, number: str, outcome: str = typer.Option(..., "--outcome"),
             comment: str = typer.Option("", "--comment")) -> None:
    from cms_workflows.documents import service

    with database().unit_of_work() as session:
        row = service.periodic_review(session, acting_user(ctx), number, outcome, comment)
        lines = _status(session, number)
    typer.echo(t("documents.cli.reviewed", number=number, outcome=t(f"documents.outcome.{row.outcome}"), next_due=row.next_due or "—"))
    _echo(lines)


@app.command("template")
def template(ctx: typer.Context, doc_type: str, file: Path) -> None:
    from cms_workflows.documents import output

    with database().unit_of_work() as session:
        row = output.register_template(session, acting_user(ctx), doc_type, _read(file), file.name)
    typer.echo(t("documents.cli.template_pending", id=row.id, doc_type=doc_type, sha256=row.sha256))


@app.command("approve-template")
def approve_template(ctx: typer.Context, template_id: int) -> None:
    from cms_workflows.documents import output

    with database().unit_of_work() as session:
        row = output.approve_template(session, acting_user(ctx), template_id)
    typer.echo(t("documents.cli.template_approved", id=row.id, doc_type=row.doc_type, sha256=row.sha256))


@app.command("templates")
def templates(ctx: typer.Context) -> None:
    from cms_workflows.documents import output

    with database().read() as session:
        rows = output.company_templates(session, acting_user(ctx))
    print_table([t(f"documents.cli.col_{c}") for c in ("template_id", "type", "template_file", "sha256", "registered_by",
                                                        "approved_by", "state")],
                [[str(r.id), r.doc_type, r.filename, r.sha256[:12], r.registered_by, r.approved_by or "—",
                  t(f"documents.cli.template_state.{state}")] for r, state in rows])


@app.command("dispose")
def dispose(ctx: typer.Context, number: str, method: str = typer.Option(..., "--method"),
            reason: str = typer.Option(..., "--reason")) -> None:
    from cms_workflows.documents import retention

    with database().unit_of_work() as session:
        row = retention.request(session, acting_user(ctx), number, method, reason)
    typer.echo(t("documents.cli.disposition_requested", id=row.id, number=number))


@app.command("dispose-decide")
def dispose_decide(ctx: typer.Context, disposition_id: int, approve: bool = typer.Option(..., "--approve/--reject"),
                   comment: str = typer.Option("", "--comment")) -> None:
    from cms_workflows.documents import retention

    with database().unit_of_work() as session:
        row = retention.decide(session, acting_user(ctx), disposition_id, approve, comment)
    typer.echo(t("documents.cli.disposition_decided", id=row.id, state=t(f"documents.disposition_state.{row.status}")))

