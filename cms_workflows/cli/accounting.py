"""`cms accounting …`: template, import, calculate, runs, approve, results, quality, pareto, charts, baseline, plan, factor.
Each command is one unit of work over the service functions; no ORM here."""

from __future__ import annotations

from pathlib import Path

import typer

from cms_workflows.cli.common import acting_user, database, print_table, term
from cms_workflows.core.errors import ValidationFailed
from cms_workflows.core.i18n import t

app = typer.Typer(no_args_is_help=True)
baseline_app = typer.Typer(no_args_is_help=True)
plan_app = typer.Typer(no_args_is_help=True)
app.add_typer(baseline_app, name="baseline")
app.add_typer(plan_app, name="plan")


def _service():
    from cms_workflows.accounting import service

    return service


def _queries():
    from cms_workflows.accounting import queries

    return queries


def _write_table(frame, out: Path | None) -> None:
    if out is None:
        # on screen the columns read in the user's language; files keep the column codes
        headers = [term(f"cli.accounting.col.{c}", str(c)) for c in frame.columns]
        print_table(headers, [[f"{v:.4f}" if isinstance(v, float) else str(v) for v in row] for row in frame.itertuples(index=False)])
        return
    from cms_workflows.core import exports  # names from the plan must not come out as live formulas

    if out.suffix.lower() == ".xlsx":
        exports.write_frame_xlsx(frame, out, sheet_name="results")
    else:
        exports.write_csv(frame, out)
    typer.echo(t("accounting.cli.written", path=out))


@plan_app.command("add")
def plan_add(ctx: typer.Context, site: str, production_unit: str, facility: str, category: str, material: str, unit: str,
             data_source: str = typer.Option("meter", "--data-source"),
             facility_name: str = typer.Option("", "--name"),
             calibrated: bool | None = typer.Option(None, "--calibrated/--not-calibrated"),
             purity: float | None = typer.Option(None, "--purity")) -> None:
    with database().unit_of_work() as session:
        item_id = _service().add_plan_item(session, acting_user(ctx), site=site, production_unit=production_unit,
                                           facility=facility, category=category, material=material, unit=unit,
                                           data_source=data_source, facility_name=facility_name,
                                           meter_calibrated=calibrated, purity=purity)
    typer.echo(t("accounting.cli.plan_added", item_id=item_id))


@app.command("factor")
def factor_add(ctx: typer.Context, material: str, parameter: str, value: float, evidence: str = typer.Option(..., "--evidence"),
               site: str = typer.Option("*", "--site"), source: str = typer.Option("", "--source"),
               unit: str | None = typer.Option(None, "--unit"), year_from: int | None = typer.Option(None, "--from-year"),
               year_to: int | None = typer.Option(None, "--to-year")) -> None:
    with database().unit_of_work() as session:
        oid = _service().add_factor_override(session, acting_user(ctx), material=material, parameter=parameter,
                                             value=value, evidence=evidence, site=site, source=source, unit=unit,
                                             year_from=year_from, year_to=year_to)
    typer.echo(t("accounting.cli.factor_added", override_id=oid))


@app.command("template")
def template(ctx: typer.Context, out: Path, periods: list[str] = typer.Option(..., "--period"), site: str | None = typer.Option(None, "--site")) -> None:
    fmt = "csv" if out.suffix.lower() == ".csv" else "xlsx"
    with database().read() as session:
        actor = acting_user(ctx)
        data = _queries().template(session, actor, periods, site or _only_site(session, actor), fmt)
    out.write_bytes(data)
    typer.echo(t("accounting.cli.written", path=out))


def _only_site(session, actor) -> str | None:
    """Without --site: the one site where the user may read activity data, when they may not read it
    company-wide (an energy data administrator of one plant need not name it; issue 15)."""
    from cms_workflows.access import Resource, can, held_positions

    if can(session, actor, "read", Resource("activity_data", site="*")):
        return None
    sites = sorted({s for _p, s in held_positions(session, actor) if s != "*"
                    and can(session, actor, "read", Resource("activity_data", site=s))})
    return sites[0] if len(sites) == 1 else None


@app.command("import")
def import_(ctx: typer.Context, path: Path, replace: bool = typer.Option(False, "--replace"),
            accept_outliers: str = typer.Option("", "--accept-outliers", metavar="ROWS"),
            reason: str = typer.Option("", "--reason")) -> None:
    """Import activity data; rows whose figures are implausible but correct are confirmed with
    --accept-outliers ROWS (as numbered in the file: 12, 5,12, 20-22) and --reason (issue 15)."""
    from cms_workflows.accounting.plausibility import parse_rows

    rows = parse_rows(accept_outliers)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise ValidationFailed("accounting.bad_file", reason=f"{path}: {e.strerror}") from None
    with database().unit_of_work() as session:
        r = _service().import_activity(session, acting_user(ctx), data, path.name, replace=replace,
                                       accept_outliers=rows, reason=reason)
    if r.duplicate:
        typer.echo(t("accounting.cli.duplicate", import_id=r.import_id))
        return
    typer.echo(t("accounting.cli.imported", rows=r.rows, import_id=r.import_id, sha256=r.sha256))
    if r.outputs:  # the template's production sheet
        typer.echo(t("accounting.template.cli.outputs_imported", count=r.outputs))
    if r.skipped:
        typer.echo(t("accounting.template.cli.rows_skipped", count=r.skipped))
    from cms_workflows.accounting.reports import text

    for w in r.warnings[:50]:
        typer.echo(t("accounting.cli.warning", row=w["row"], field=w["field"], message=text(w)))
    confirmed = sorted({w["row"] for w in r.warnings if w["key"] == "accounting.problem.outlier_accepted"})
    if confirmed:  # recorded in the import's audit event with who and why
        typer.echo(t("accounting.cli.outliers_accepted", rows=", ".join(map(str, confirmed)), reason=reason.strip()))
    for reopened in r.recalculation:  # closed months changed: the approved figures need a recalculation
        typer.echo(t("accounting.cli.recalculation_needed", run_id=reopened["run_id"],
                     months=", ".join(reopened["months"]), status=t(f"accounting.state.{reopened['status']}")))


@app.command("calculate")
def calculate(ctx: typer.Context, first: str, last: str, site: list[str] | None = typer.Option(None, "--site"),
              electricity: str = typer.Option("statistical", "--electricity"),
              gwp: str = typer.Option("AR5", "--gwp"),
              carbonate_table: str | None = typer.Option(None, "--carbonate-table")) -> None:
    from cms_workflows.accounting.factors import Options

    # checked by the service
    options = Options(electricity_kind=electricity, gwp_set=gwp, carbonate_table=carbonate_table)
    from cms_workflows.cli.progress import progress

    # one vectorized computation over all periods and sites: a bar without a count, with the time it takes
    with progress("cli.progress.calculate"), database().unit_of_work() as session:
        r = _service().calculate(session, acting_user(ctx), first, last, site or None, options)
    typer.echo(t("accounting.cli.run", run_id=r.run_id, status=t(f"accounting.state.{r.status}"), total=f"{r.total_tco2e:.3f}"))
    if r.differences is not None and len(r.differences):
        typer.echo(t("accounting.cli.differences"))
        _write_table(r.differences, None)


@app.command("runs")
def runs(ctx: typer.Context, site: str | None = typer.Option(None, "--site")) -> None:
    """The calculation runs, newest first, with their status (a reopened run needs a recalculation)."""
    with database().read() as session:
        found = _queries().list_runs(session, acting_user(ctx), site)
    if not found:
        typer.echo(t("accounting.cli.no_runs"))
    for run, sites in found:
        typer.echo(t("accounting.cli.run_line", run_id=run.id, first=run.first_period, last=run.last_period,
                     sites=",".join(sites) or run.sites, status=t(f"accounting.state.{run.status}"),
                     total=f"{run.total_tco2e:.3f}", created_by=run.created_by, approved_by=run.approved_by or "-"))


@app.command("approve")
def approve(ctx: typer.Context, run_id: int, comment: str = typer.Option("", "--comment"),
            accept_gaps: bool = typer.Option(False, "--accept-gaps")) -> None:
    with database().unit_of_work() as session:
        diff = _service().approve_run(session, acting_user(ctx), run_id, comment=comment, accept_gaps=accept_gaps)
    typer.echo(t("accounting.cli.approved", run_id=run_id))
    if len(diff):
        typer.echo(t("accounting.cli.differences"))
        _write_table(diff, None)


@app.command("results")
def results(ctx: typer.Context, first: str | None = typer.Option(None, "--from"), last: str | None = typer.Option(None, "--to"),
            run: int | None = typer.Option(None, "--run"), level: str = typer.Option("site", "--level"),
            by: str = typer.Option("month", "--by"), site: str | None = typer.Option(None, "--site"),
            out: Path | None = typer.Option(None, "--out")) -> None:
    if out is not None and out.suffix.lower() == ".xlsx":
        # the manager's workbook holds every level (sheets by site, category, month, facility, source):
        # --level/--by shape the CSV and the screen table only
        from cms_workflows.accounting import results_workbook
        from cms_workflows.core.i18n import current_locale

        with database().read() as session:
            data = results_workbook.for_request(session, acting_user(ctx), run_id=run, first=first, last=last,
                                                site=site, locale=current_locale())
        out.write_bytes(data)
        typer.echo(t("accounting.cli.written", path=out))
        return
    from cms_workflows.accounting import reports

    with database().read() as session:
        table = reports.results_table(session, acting_user(ctx), run_id=run, first=first, last=last, level=level,
                                      by=by, site=site)
    _write_table(table, out)


@app.command("quality")
def quality(ctx: typer.Context, first: str, last: str, site: str | None = typer.Option(None, "--site")) -> None:
    from cms_workflows.accounting.reports import text

    with database().read() as session:
        report = _queries().quality(session, acting_user(ctx), first, last, site)
    typer.echo(t("accounting.cli.score", **{k: report[k] for k in ("score", "completeness", "consistency", "accuracy")}))
    for g in report["gaps"][:200]:
        where = " ".join(g[k] for k in ("site", "facility", "material", "period") if g[k])
        typer.echo(t("cli.accounting.gap_line", kind=t(f"cli.accounting.gap_kind.{g['kind']}"), where=where, message=text(g)))


@app.command("pareto")
def pareto(ctx: typer.Context, first: str, last: str, threshold: float = typer.Option(0.8, "--threshold"),
           out: Path | None = typer.Option(None, "--out"), site: str | None = typer.Option(None, "--site")) -> None:
    with database().read() as session:
        table = _queries().major_facilities(session, acting_user(ctx), first, last, threshold, site)
    _write_table(table, out)


@app.command("charts")
def charts(ctx: typer.Context, first: str, last: str, folder: Path,
           site: str | None = typer.Option(None, "--site")) -> None:
    from cms_workflows.accounting import reports
    from cms_workflows.core.i18n import current_locale

    with database().read() as session:
        pngs = reports.chart_set(session, acting_user(ctx), first, last, locale=current_locale(), site=site)
    folder.mkdir(parents=True, exist_ok=True)
    for name, png in pngs.items():
        (folder / name).write_bytes(png)
        typer.echo(t("accounting.cli.written", path=folder / name))


@baseline_app.command("set")
def baseline_set(ctx: typer.Context, level: str, base_from: str, base_to: str, scope: str = typer.Option("", "--scope"),
                 method: str = typer.Option("average", "--method")) -> None:
    with database().unit_of_work() as session:
        bid = _service().set_baseline(session, acting_user(ctx), level, scope, base_from, base_to, method)
    typer.echo(t("accounting.cli.baseline_set", baseline_id=bid))


@baseline_app.command("approve")
def baseline_approve(ctx: typer.Context, baseline_id: int, comment: str = typer.Option("", "--comment")) -> None:
    with database().unit_of_work() as session:
        _service().approve_baseline(session, acting_user(ctx), baseline_id, comment=comment)
    typer.echo(t("accounting.cli.baseline_approved", baseline_id=baseline_id))


@baseline_app.command("deviations")
def baseline_deviations(ctx: typer.Context, baseline_id: int, first: str, last: str, threshold: float = typer.Option(0.1, "--threshold")) -> None:
    with database().read() as session:
        _table, over = _queries().deviations(session, acting_user(ctx), baseline_id, first, last, threshold)
    if not over:
        typer.echo(t("accounting.cli.no_deviation"))
    for d in over:
        typer.echo(t("accounting.cli.deviation", period=d["period"], actual=f"{d['actual']:.3f}",
                     baseline=f"{d['baseline']:.3f}", deviation=f"{d['deviation']:+.1%}"))


@baseline_app.command("trigger")
def baseline_trigger(ctx: typer.Context, site: str, trigger: str, description: str, baseline_id: int | None = typer.Option(None, "--baseline")) -> None:
    with database().unit_of_work() as session:
        tid = _service().record_trigger(session, acting_user(ctx), site, trigger, description, baseline_id)
    typer.echo(t("accounting.cli.trigger_recorded", trigger_id=tid))


@app.command("output")
def output(ctx: typer.Context, site: str, period: str, product_t: float = typer.Option(..., "--product-t"),
           value_10k_cny: float | None = typer.Option(None, "--value-10k-cny", "--value")) -> None:
    with database().unit_of_work() as session:
        _service().record_output(session, acting_user(ctx), site, period, product_t, value_10k_cny)
    typer.echo(t("accounting.cli.output_recorded", site=site, period=period))


# intensity (company/site, month/year), yoy and ranking by source or facility (issue 15 item 4)
from cms_workflows.cli import accounting_indicators  # noqa: E402

accounting_indicators.register(app)
