"""`cms doc …`: the document controller's and approvers' commands. Each command is one unit of work over
the service functions (the same the API uses); no ORM here."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
import yaml

from cms_workflows.core.errors import ValidationFailed
from cms_workflows.core.i18n import t

app = typer.Typer(help="文件控制 / document control (R-7.5)", no_args_is_help=True)


def _core():
    from cms_workflows.cli import main as core  # late: cms_workflows.cli imports this module

    return core


def _actor(ctx: typer.Context) -> str:
    return _core().acting_user(ctx)


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
        raise ValidationFailed("documents.bad_content", problems=[{"field": str(path), "message": "a mapping of variables"}])
    return data


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ValidationFailed("documents.not_docx", reason=exc.strerror or str(exc), filename=str(path)) from None


def _rev_line(number: str, rev) -> None:
    typer.echo(t("documents.cli.revision_state", number=number, revision=rev.label, state=t(f"documents.state.{rev.status}")))


@app.command("types")
def types() -> None:
    """文件类型、编号规则、评审与保存期限、审批路线 / document types, numbering, periods and routes."""
    from cms_workflows.documents import registry

    rows = []
    for dt in registry.doc_types().values():
        route = " → ".join(f"{s.name}({s.mode}: {'+'.join(s.positions)})" for s in registry.route(dt.code))
        rows.append([dt.code, dt.name(), dt.numbering.replace("{abbr}", dt.abbr), dt.revision_labels,
                     str(dt.review_months), str(dt.retention_years), dt.template or "—", route])
    _core().print_table([t(f"documents.cli.col_{c}") for c in
                         ("type", "name", "numbering", "labels", "review_months", "retention_years", "template", "route")], rows)


@app.command("new")
def new(ctx: typer.Context, doc_type: str, title: str = typer.Option(..., "--title"),
        site: str = typer.Option(..., "--site", help="site code, or * for a company document"),
        department: str = typer.Option(..., "--dept", help="owner department code"),
        content: Optional[Path] = typer.Option(None, "--content", help="YAML/JSON file with the template's variables"),
        example: bool = typer.Option(False, "--example", help="start from the template's example content"),
        template: Optional[str] = typer.Option(None, "--template"),
        language: str = typer.Option("zh-CN", "--language"),
        review_months: Optional[int] = typer.Option(None, "--review-months")) -> None:
    """新建文件（第一版草稿）/ a new document with its first draft revision."""
    from cms_workflows.documents import registry, service

    tpl = template or (registry.doc_type(doc_type).template if example else None)
    with _core().database().unit_of_work() as session:
        rev = service.create(session, _actor(ctx), doc_type=doc_type, site=site, title=title, owner_department=department,
                             content=_content(content, tpl if example else None), template=template,
                             language=language, review_months=review_months)
        number = session.get(service.Document, rev.document_id).number
    typer.echo(t("documents.cli.created", number=number, revision=rev.label))


@app.command("edit")
def edit(ctx: typer.Context, number: str, content: Optional[Path] = typer.Option(None, "--content"),
         title: Optional[str] = typer.Option(None, "--title"), reason: Optional[str] = typer.Option(None, "--reason"),
         major: bool = typer.Option(False, "--major", help="numeric labels: next major (2.0)")) -> None:
    """修改草稿；已生效文件则开启新修订版 / change the draft, or open a new revision of an effective document."""
    from cms_workflows.documents import service

    with _core().database().unit_of_work() as session:
        rev = service.edit(session, _actor(ctx), number, title=title, content=_content(content) or None,
                           change_reason=reason, major=major)
    _rev_line(number, rev)


@app.command("submit")
def submit(ctx: typer.Context, number: str, reason: Optional[str] = typer.Option(None, "--reason")) -> None:
    """提交审批 / send the draft along its approval route."""
    from cms_workflows.documents import service

    with _core().database().unit_of_work() as session:
        rev = service.submit(session, _actor(ctx), number, change_reason=reason)
    _rev_line(number, rev)


def _decide(ctx, number: str, decision: str, comment: str, expect: Optional[str], effective: Optional[str] = None) -> None:
    from cms_workflows.documents import service

    core = _core()
    with core.database().unit_of_work() as session:
        rev = service.decide(session, _actor(ctx), number, decision, comment, expect=expect,
                             effective_date=core.parse_date(effective, "effective_date"))
    _rev_line(number, rev)
    if rev.file_sha256 and rev.status == "approved":
        typer.echo(t("documents.cli.file_fixed", sha256=rev.file_sha256, date=rev.effective_date))


@app.command("review")
def review(ctx: typer.Context, number: str, comment: str = typer.Option("", "--comment")) -> None:
    """审核/会签通过 / approve the running review step."""
    _decide(ctx, number, "approve", comment, "review")


@app.command("approve")
def approve(ctx: typer.Context, number: str, comment: str = typer.Option("", "--comment"),
            effective: Optional[str] = typer.Option(None, "--effective-date", help="YYYY-MM-DD, default today")) -> None:
    """批准 / approve at the approval step (fixes and hashes the controlled file)."""
    _decide(ctx, number, "approve", comment, "approve", effective)


@app.command("reject")
def reject(ctx: typer.Context, number: str, comment: str = typer.Option(..., "--comment")) -> None:
    """退回修改（回到草稿）/ return the revision to its author."""
    _decide(ctx, number, "reject", comment, None)


@app.command("add-reviewer")
def add_reviewer(ctx: typer.Context, number: str, reviewer: str, reason: str = typer.Option("", "--reason")) -> None:
    """在进行中的步骤增加审核人 / add a named reviewer to the running step."""
    from cms_workflows.documents import service

    with _core().database().unit_of_work() as session:
        service.add_reviewer(session, _actor(ctx), number, reviewer, reason)
    typer.echo(t("documents.cli.reviewer_added", number=number, reviewer=reviewer))


@app.command("effective")
def effective(ctx: typer.Context, number: str) -> None:
    """发布生效（旧版同时作废）/ release the approved revision; the previous one is superseded."""
    from cms_workflows.documents import service

    with _core().database().unit_of_work() as session:
        rev = service.make_effective(session, _actor(ctx), number)
    _rev_line(number, rev)


@app.command("obsolete")
def obsolete(ctx: typer.Context, number: str, reason: str = typer.Option(..., "--reason")) -> None:
    """废止文件 / withdraw a document from use."""
    from cms_workflows.documents import service

    with _core().database().unit_of_work() as session:
        doc = service.obsolete(session, _actor(ctx), number, reason)
    typer.echo(t("documents.cli.obsoleted", number=doc.number))


@app.command("show")
def show(ctx: typer.Context, number: str) -> None:
    """文件详情：修订、审批记录、定期评审 / a document with its revisions, decisions and reviews."""
    from cms_workflows.documents import output, registry, service

    core = _core()
    with core.database().read() as session:
        view = service.show(session, _actor(ctx), number)
        when = {d.id: output.local_time(d.decided_at, session) for d in view.decisions}
        reviewed = {p.id: output.local_date(p.reviewed_at, session) for p in view.reviews}
    d = view.document
    typer.echo(f"{d.number}  {d.title}  [{registry.doc_type(d.doc_type).name()} · {d.site} · {d.owner_department}]  "
               f"{t('documents.cli.doc_status')}: {t(f'documents.doc_status.{d.status}')}")
    if d.issuer:
        typer.echo(t("documents.cli.external", issuer=d.issuer, version=d.external_version or "",
                     date=d.external_effective_date or "", applies_to=d.applies_to or ""))
    if d.next_review_due:
        typer.echo(t("documents.cli.next_review", date=d.next_review_due))
    if d.obsolete_reason:
        typer.echo(t("documents.cli.obsolete_reason", reason=d.obsolete_reason))
    core.print_table([t(f"documents.cli.col_{c}") for c in ("revision", "state", "author", "change", "approved_by", "effective_date", "sha256")],
                     [[r.label, t(f"documents.state.{r.status}"), r.author, r.change_reason or "—", r.approved_by or "—",
                       str(r.effective_date or "—"), (r.file_sha256 or "—")[:16]] for r in view.revisions])
    labels = {r.id: r.label for r in view.revisions}
    steps = {s.id: s for s in view.steps}
    if view.decisions:
        typer.echo(t("documents.cli.decisions"))
        core.print_table([t(f"documents.cli.col_{c}") for c in ("revision", "round", "step", "user", "position", "decision", "comment", "date")],
                         [[labels[x.revision_id], str(steps[x.step_id].round), steps[x.step_id].name, x.username, x.position,
                           t(f"documents.decision.{x.decision}"), x.comment or "—", when[x.id]]
                          for x in view.decisions])
    for r in view.reviewers:
        typer.echo(t("documents.cli.added_reviewer_line", reviewer=r.username, by=r.added_by, reason=r.reason or "—"))
    for p in view.reviews:
        typer.echo(t("documents.cli.review_line", date=reviewed[p.id], outcome=t(f"documents.outcome.{p.outcome}"),
                     by=p.reviewed_by, comment=p.comment or "—"))


@app.command("list")
def list_(ctx: typer.Context, doc_type: Optional[str] = typer.Option(None, "--type"), site: Optional[str] = typer.Option(None, "--site"),
          status: Optional[str] = typer.Option(None, "--status")) -> None:
    """文件清单（受控文件一览）/ the register."""
    from cms_workflows.documents import service

    core = _core()
    with core.database().read() as session:
        rows = service.list_documents(session, _actor(ctx), doc_type=doc_type, site=site, status=status)
    core.print_table([t(f"documents.cli.col_{c}") for c in ("number", "title", "type", "site", "doc_status", "effective", "in_progress", "next_review")],
                     [[d.number, d.title, d.doc_type, d.site, t(f"documents.doc_status.{d.status}"),
                       f"{eff.label} ({eff.effective_date})" if eff else "—",
                       f"{op.label}: {t(f'documents.state.{op.status}')}" if op else "—", str(d.next_review_due or "—")]
                      for d, eff, op in rows])


@app.command("render")
def render(ctx: typer.Context, number: str, out: Path = typer.Option(..., "--out"),
           revision: Optional[str] = typer.Option(None, "--revision", help="default: the effective revision")) -> None:
    """导出文件（已批准版本为存档文件，草稿为非受控预览）/ write a revision's file."""
    from cms_workflows.documents import service

    with _core().database().read() as session:
        rev, data = service.revision_file(session, _actor(ctx), number, revision)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data)
    typer.echo(t("documents.cli.rendered" if rev.file_sha256 else "documents.cli.preview", path=out, revision=rev.label,
                 sha256=rev.file_sha256 or ""))


@app.command("import")
def import_(ctx: typer.Context, file: Path, number: Optional[str] = typer.Option(None, "--number", help="a new revision of this document"),
            doc_type: Optional[str] = typer.Option(None, "--type"), site: Optional[str] = typer.Option(None, "--site"),
            title: Optional[str] = typer.Option(None, "--title"), department: Optional[str] = typer.Option(None, "--dept"),
            label: Optional[str] = typer.Option(None, "--label", help="its revision label in the company's own system"),
            legacy_number: Optional[str] = typer.Option(None, "--legacy-number"),
            reason: str = typer.Option("", "--reason"), issuer: Optional[str] = typer.Option(None, "--issuer"),
            version: Optional[str] = typer.Option(None, "--version"), issued: Optional[str] = typer.Option(None, "--issued", help="external: effective date YYYY-MM-DD"),
            applies_to: Optional[str] = typer.Option(None, "--applies-to")) -> None:
    """登记现有文件或外来文件 / register an existing Word file or an external document."""
    from cms_workflows.documents import imports, service

    core = _core()
    data = _read(file)
    with core.database().unit_of_work() as session:
        rev = imports.import_file(session, _actor(ctx), data, file.name, number=number, doc_type=doc_type, site=site,
                                  title=title, owner_department=department, label=label, legacy_number=legacy_number,
                                  change_reason=reason, issuer=issuer, external_version=version,
                                  external_effective_date=core.parse_date(issued, "issued"), applies_to=applies_to)
        number = session.get(service.Document, rev.document_id).number
    typer.echo(t("documents.cli.imported", number=number, revision=rev.label, sha256=rev.file_sha256))


@app.command("distribute")
def distribute(ctx: typer.Context, number: str, to: list[str] = typer.Option(..., "--to", help="position@site (site * = every site)")) -> None:
    """分发现行版本给岗位 / distribute the effective revision to positions at sites."""
    from cms_workflows.documents import distribution

    targets = [tuple(x.split("@", 1)) if "@" in x else (x, "*") for x in to]
    with _core().database().unit_of_work() as session:
        rows = distribution.distribute(session, _actor(ctx), number, targets)
    typer.echo(t("documents.cli.distributed", number=number, count=len(rows)))


@app.command("ack")
def ack(ctx: typer.Context, number: str, pending: bool = typer.Option(False, "--pending", help="list who has not acknowledged")) -> None:
    """确认已阅读现行版本；--pending 列出未确认人员 / acknowledge reading, or list who has not."""
    from cms_workflows.documents import distribution

    core = _core()
    if pending:
        with core.database().read() as session:
            rev, holders = distribution.pending(session, _actor(ctx), number)
        typer.echo(t("documents.cli.pending", number=number, revision=rev.label, count=len(holders)))
        core.print_table([t("documents.cli.col_user"), t("documents.cli.col_position"), t("documents.cli.col_site")],
                         [[h.username, h.position, h.site] for h in holders])
        return
    with core.database().unit_of_work() as session:
        row = distribution.acknowledge(session, _actor(ctx), number)
    typer.echo(t("documents.cli.acknowledged", number=number, sha256=row.file_sha256 or ""))


@app.command("due")
def due(ctx: typer.Context, by: Optional[str] = typer.Option(None, "--by", help="YYYY-MM-DD, default today")) -> None:
    """到期需定期评审的文件 / documents due for periodic review."""
    from cms_workflows.documents import service

    core = _core()
    with core.database().read() as session:
        rows = service.due(session, _actor(ctx), core.parse_date(by, "by"))
    core.print_table([t(f"documents.cli.col_{c}") for c in ("number", "title", "revision", "next_review", "in_progress")],
                     [[r.document.number, r.document.title, r.revision.label, str(r.due), r.revision_in_progress or "—"] for r in rows])


@app.command("periodic")
def periodic(ctx: typer.Context, number: str, outcome: str = typer.Option(..., "--outcome", help="no_change | revise"),
             comment: str = typer.Option("", "--comment")) -> None:
    """记录定期评审结论 / record a periodic review."""
    from cms_workflows.documents import service

    with _core().database().unit_of_work() as session:
        row = service.periodic_review(session, _actor(ctx), number, outcome, comment)
    typer.echo(t("documents.cli.reviewed", number=number, outcome=t(f"documents.outcome.{row.outcome}"), next_due=row.next_due or "—"))


@app.command("template")
def template(ctx: typer.Context, doc_type: str, file: Path) -> None:
    """登记公司自有模板（检查变量）/ register the company's own Word template for a type."""
    from cms_workflows.documents import output

    with _core().database().unit_of_work() as session:
        row = output.register_template(session, _actor(ctx), doc_type, _read(file), file.name)
    typer.echo(t("documents.cli.template_registered", doc_type=doc_type, sha256=row.sha256))


@app.command("dispose")
def dispose(ctx: typer.Context, number: str, method: str = typer.Option(..., "--method", help="archive | destroy"),
            reason: str = typer.Option(..., "--reason")) -> None:
    """申请处置（保存期满后归档或销毁）/ request disposition after the retention period."""
    from cms_workflows.documents import retention

    with _core().database().unit_of_work() as session:
        row = retention.request(session, _actor(ctx), number, method, reason)
    typer.echo(t("documents.cli.disposition_requested", id=row.id, number=number))


@app.command("dispose-decide")
def dispose_decide(ctx: typer.Context, disposition_id: int, approve: bool = typer.Option(..., "--approve/--reject"),
                   comment: str = typer.Option("", "--comment")) -> None:
    """批准或驳回处置申请 / approve or reject a disposition."""
    from cms_workflows.documents import retention

    with _core().database().unit_of_work() as session:
        row = retention.decide(session, _actor(ctx), disposition_id, approve, comment)
    typer.echo(t("documents.cli.disposition_decided", id=row.id, state=row.status))

