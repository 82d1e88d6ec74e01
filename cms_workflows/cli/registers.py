"""`cms registers <register> …`: the guide's registers (R-4.1, R-4.2, R-4.3, R-6.2.1, R-6.2.2, R-9.1).

One group, `cms registers`, with one sub-group per register (swot, parties, scope, risks, obligations,
instruments), each with the same verbs — add, change, list, import, export, template — plus its own
(`scope draft|submit|approve|versions`, `instruments calibrate`). Fields are given as FIELD=VALUE, the
field by its code or its column header in either language (`description=…` or `描述=…`), the same
names as the columns of the register's file. Each command is one unit of work over the services.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from cms_workflows.cli.common import acting_user, database, parse_date, print_table
from cms_workflows.core.errors import ValidationFailed, problem
from cms_workflows.core.i18n import t

app = typer.Typer(no_args_is_help=True)
NAMES = ("swot", "parties", "risks", "obligations", "instruments", "parameters", "objectives", "actions")
NAMES += ("changes", "competence", "training", "communication", "disclosures")  # –7.4
NAMES += ("quality", "assets")


def _commands(name: str):
    """(add, change, import) of a register."""
    if name in ("parameters", "objectives", "actions"):
        from cms_workflows.cli.registers_performance import commands

        return commands(name)
    from cms_workflows.registers import instruments, obligations, parties, risks, swot
    from cms_workflows.registers import changes, communication, competence

    people = {"changes": (changes.add_change, changes.change_change, changes.import_changes),
              "competence": (competence.add_competence, competence.change_competence, competence.import_competence),
              "training": (competence.add_course, competence.change_course, competence.import_courses),
              "communication": (communication.add_item, communication.change_item, communication.import_items),
              "disclosures": (communication.add_disclosure, communication.change_disclosure,
                              communication.import_disclosures)}
    if name in people:
        return people[name]
    if name in ("quality", "assets"):
        from cms_workflows.registers import assets, quality

        return {"quality": (quality.add_line, quality.change_line, quality.import_lines),
                "assets": (assets.add_holding, assets.change_holding, assets.import_holdings)}[name]
    return {"swot": (swot.add_issue, swot.change_issue, swot.import_issues),
            "parties": (parties.add_party, parties.change_party, parties.import_parties),
            "risks": (risks.add_risk, risks.change_risk, risks.import_risks),
            "obligations": (obligations.add_obligation, obligations.change_obligation, obligations.import_obligations),
            "instruments": (instruments.add_instrument, instruments.change_instrument,
                            instruments.import_instruments)}[name]


def _register(name: str):
    from cms_workflows.registers import queries, scope

    return scope.ELEMENTS if name == "scope" else queries.spec(name).register


def _fields(name: str, pairs: list[str]) -> dict[str, str]:
    """FIELD=VALUE arguments as values by column code (a header label in either language names its column)."""
    from cms_workflows.core.i18n import LOCALES, catalog

    register = _register(name)
    names = {}
    for column in register.inputs():
        names[column.name] = column.name
        for loc in LOCALES:
            names[catalog(loc).get(register.label_key(column.name), column.name)] = column.name
    values, problems = {}, []
    for pair in pairs:
        field, sep, value = pair.partition("=")
        if not sep:
            problems.append(problem("FIELD=VALUE", "registers.cli.bad_assignment", value=pair))
        elif field.strip() not in names:
            problems.append(problem(field, "registers.cli.unknown_field", value=field))
        else:
            values[names[field.strip()]] = value
    if problems:
        raise ValidationFailed("error.validation", problems=problems)
    return values


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as e:
        raise ValidationFailed("registers.bad_file", reason=f"{path}: {e.strerror}") from None


def _fmt(out: Path) -> str:
    return "csv" if out.suffix.lower() == ".csv" else "xlsx"


def _show(register, rows: list[dict]) -> None:
    from cms_workflows.registers import tabular

    if not rows:
        typer.echo(t("registers.cli.none"))
        return
    cells = [[tabular.shown_value(register, c, r.get(c.name), None, csv_out=True) for c in register.columns] for r in rows]
    print_table(tabular.header(register), [["" if v is None else str(v).replace("\n", " ") for v in r] for r in cells])


def _group(name: str) -> typer.Typer:
    group = typer.Typer(no_args_is_help=True)

    @group.command("add")
    def add(ctx: typer.Context, values: list[str] = typer.Argument(...)) -> None:
        with database().unit_of_work() as uow:
            obj = _commands(name)[0](uow, acting_user(ctx), **_fields(name, values))
        typer.echo(t("registers.cli.added", code=obj.code))

    @group.command("change")
    def change(ctx: typer.Context, code: str, values: list[str] = typer.Argument(...)) -> None:
        with database().unit_of_work() as uow:
            obj = _commands(name)[1](uow, acting_user(ctx), code, **_fields(name, values))
        typer.echo(t("registers.cli.changed", code=obj.code))

    @group.command("list")
    def list_(ctx: typer.Context) -> None:
        from cms_workflows.registers import queries

        with database().read() as uow:
            rows = queries.shown_rows(uow, acting_user(ctx), name)
        _show(_register(name), rows)

    @group.command("import")
    def import_(ctx: typer.Context, path: Path) -> None:
        data = _read(path)
        with database().unit_of_work() as uow:
            r = _commands(name)[2](uow, acting_user(ctx), data, path.name)
        if not r.created and not r.updated:
            typer.echo(t("registers.cli.nothing_new", unchanged=r.unchanged))
        else:
            typer.echo(t("registers.cli.imported", created=len(r.created), updated=len(r.updated), unchanged=r.unchanged))

    @group.command("export")
    def export(ctx: typer.Context, out: Path) -> None:
        from cms_workflows.registers import queries

        with database().read() as uow:
            data = queries.export(uow, acting_user(ctx), name, _fmt(out))
        out.write_bytes(data)
        typer.echo(t("registers.cli.written", path=out))

    _template(group, name)
    return group


def _template(group: typer.Typer, name: str) -> None:
    @group.command("template")
    def template(out: Path) -> None:
        from cms_workflows.registers import queries

        out.write_bytes(queries.template(name, _fmt(out)))
        typer.echo(t("registers.cli.written", path=out))


GROUPS = {name: _group(name) for name in NAMES}
scope_app = typer.Typer(no_args_is_help=True)
for _name in ("swot", "parties", "scope", "risks", "obligations", "instruments", "parameters", "objectives", "actions",
              "changes", "competence", "training", "communication", "disclosures", "quality", "assets"):
    app.add_typer(scope_app if _name == "scope" else GROUPS[_name], name=_name)
_template(scope_app, "scope")


@GROUPS["instruments"].command("calibrate")
def calibrate(ctx: typer.Context, code: str, on: str = typer.Option(..., "--date"),
              certificate: str = typer.Option(..., "--certificate"), file: Optional[Path] = typer.Option(None, "--file"),
              note: str = typer.Option("", "--note")) -> None:
    from cms_workflows.registers import instruments

    data = _read(file) if file is not None else None
    with database().unit_of_work() as uow:
        rec = instruments.calibrate(uow, acting_user(ctx), code, parse_date(on, "date"), certificate, file=data,
                                    filename=file.name if file else None, note=note)
    typer.echo(t("registers.cli.calibrated", code=code, next_due=rec.next_due.isoformat()))


@scope_app.command("draft")
def scope_draft(ctx: typer.Context, note: str = typer.Option("", "--note")) -> None:
    from cms_workflows.registers import scope

    with database().unit_of_work() as uow:
        scope.draft(uow, acting_user(ctx), note=note)
        base = scope.current(uow)
    typer.echo(t("registers.cli.scope_drafted", base=base.version if base else "-"))


@scope_app.command("add")
def scope_add(ctx: typer.Context, values: list[str] = typer.Argument(...)) -> None:
    from cms_workflows.registers import scope

    with database().unit_of_work() as uow:
        row = scope.add_element(uow, acting_user(ctx), **_fields("scope", values))
    typer.echo(t("registers.cli.scope_element", code=row.code))


@scope_app.command("remove")
def scope_remove(ctx: typer.Context, code: str) -> None:
    from cms_workflows.registers import scope

    with database().unit_of_work() as uow:
        scope.remove_element(uow, acting_user(ctx), code)
    typer.echo(t("registers.cli.scope_element", code=code))


@scope_app.command("import")
def scope_import(ctx: typer.Context, path: Path) -> None:
    from cms_workflows.registers import scope

    data = _read(path)
    with database().unit_of_work() as uow:
        plan = scope.import_draft(uow, acting_user(ctx), data, path.name)
    typer.echo(t("registers.cli.scope_imported", added=len(plan.adds), changed=len(plan.changes),
                 removed=len(plan.removes)))


@scope_app.command("submit")
def scope_submit(ctx: typer.Context) -> None:
    from cms_workflows.registers import scope

    with database().unit_of_work() as uow:
        scope.submit(uow, acting_user(ctx))
    typer.echo(t("registers.cli.scope_submitted"))


@scope_app.command("approve")
def scope_approve(ctx: typer.Context) -> None:
    from cms_workflows.registers import scope

    with database().unit_of_work() as uow:
        v = scope.approve(uow, acting_user(ctx))
    typer.echo(t("registers.cli.scope_approved", version=v.version, date=v.approved_on.isoformat()))


@scope_app.command("list")
def scope_list(ctx: typer.Context, version: Optional[int] = typer.Option(None, "--version"),
               draft: bool = typer.Option(False, "--draft")) -> None:
    """The version in force (or another, or the open draft) and its elements."""
    from cms_workflows.registers import queries, scope

    with database().read() as uow:
        actor = acting_user(ctx)
        v, items = queries.scope_draft(uow, actor) if draft else queries.scope_version(uow, actor, version)
    if draft:
        typer.echo(t("registers.cli.scope_draft_status", state=t(f"registers.scope.state.{v.status}"),
                     drafted_by=v.drafted_by))
    else:
        typer.echo(t("registers.cli.scope_version", version=v.version, date=v.approved_on.isoformat(),
                     approver=v.approved_by))
    _show(scope.ELEMENTS, [{f: getattr(e, f) for f in scope.FIELDS} for e in items])


@scope_app.command("versions")
def scope_versions(ctx: typer.Context) -> None:
    from cms_workflows.registers import queries

    with database().read() as uow:
        found = queries.scope_versions(uow, acting_user(ctx))
    print_table([t("registers.cli.col.version"), t("registers.cli.col.state"), t("registers.cli.col.date"),
                 t("registers.cli.col.drafted_by"), t("registers.cli.col.approved_by")],
                [[str(v.version or ""), t(f"registers.scope.state.{v.status}"),
                  v.approved_on.isoformat() if v.approved_on else "", v.drafted_by, v.approved_by or ""] for v in found])


@scope_app.command("export")
def scope_export(ctx: typer.Context, out: Path, version: Optional[int] = typer.Option(None, "--version"),
                 draft: bool = typer.Option(False, "--draft")) -> None:
    from cms_workflows.registers import queries

    with database().read() as uow:
        data = queries.export_scope(uow, acting_user(ctx), version, _fmt(out), draft=draft)
    out.write_bytes(data)
    typer.echo(t("registers.cli.written", path=out))


from cms_workflows.cli import registers_people  # noqa: E402  own verbs of changes, competence, training

registers_people.add_verbs(GROUPS)


from cms_workflows.cli import registers_performance  # noqa: E402  actions progress|history|behind (R-6.3.4)

registers_performance.attach(GROUPS)
from cms_workflows.cli import registers_operations  # noqa: E402  assets move|movements|totals (R-8.7)

registers_operations.add_verbs(GROUPS)
