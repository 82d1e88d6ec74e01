"""`cms login|logout|whoami`, `cms users password`, `cms tokens …`, `cms delegate …`: who is acting.

Signing in stores a token, never the password (`credentials`); every command that acts or reads as
someone finds them from that token (`common.acting_user`).
"""

from __future__ import annotations

import sys
from typing import Optional

import typer

from cms_workflows.cli.common import acting_user, database, parse_date, print_table
from cms_workflows.cli.credentials import forget_token, store_token, stored_token
from cms_workflows.core.errors import AuthenticationFailed, CmsError
from cms_workflows.core.i18n import t

tokens_app = typer.Typer(no_args_is_help=True)
delegate_app = typer.Typer(no_args_is_help=True)


def read_secret(prompt_key: str, from_stdin: bool, confirm: bool = False) -> str:
    """A password from the first line of standard input (scripts) or typed without echo."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return typer.prompt(t(prompt_key), hide_input=True, confirmation_prompt=confirm)


# ---------------------------------------------------------------- sign in and out


def sign_in(db, username: str, password: str, days: int = 30) -> str:
    """Check the password, record the sign-in (or the refusal) and keep the token for this installation."""
    from cms_workflows.identity import service as identity

    try:
        with db.unit_of_work() as uow:
            row, token = identity.login(uow, username, username, password, label="cli", days=days)
    except AuthenticationFailed:
        with db.unit_of_work() as uow:
            identity.record_failed_login(uow, username)
        raise
    store_token(db, row.username, token)
    return t("cli.signed_in", username=row.username, id=row.id, expires=row.expires_at.strftime("%Y-%m-%d"))


def login(username: str, password_stdin: bool = typer.Option(False, "--password-stdin"),
          days: int = typer.Option(30, "--days")) -> None:
    db = database()
    typer.echo(sign_in(db, username, read_secret("cli.password_prompt", password_stdin), days))


def logout(ctx: typer.Context) -> None:
    from cms_workflows.identity import queries, service as identity

    db = database()
    token = stored_token(db)
    if token:
        try:
            actor = acting_user(ctx)
        except CmsError:  # expired or revoked already: nothing left to revoke
            actor = None
        if actor is not None:
            with db.unit_of_work() as uow:
                row = queries.token_row(uow, token)
                if row.revoked_at is None:
                    identity.revoke_token(uow, actor, row.id)
        forget_token(db)
    typer.echo(t("cli.signed_out"))


def whoami(ctx: typer.Context) -> None:
    actor = acting_user(ctx)
    if actor.delegate:
        typer.echo(t("cli.whoami_delegate", username=actor, delegate=actor.delegate))
    else:
        typer.echo(t("cli.whoami", username=actor))


# ---------------------------------------------------------------- passwords and tokens


def password(ctx: typer.Context, username: str, password_stdin: bool = typer.Option(False, "--password-stdin"),
             generate: bool = typer.Option(False, "--generate")) -> None:
    """Set one's own password (the current one is asked) or, as administrator, reset another user's."""
    from cms_workflows.identity import queries, service as identity

    db = database()
    actor = acting_user(ctx)
    current = None
    with db.read() as uow:
        if actor == username and queries.has_password(uow, username):
            current = read_secret("cli.current_password_prompt", password_stdin)
    new = identity.generated_password() if generate else read_secret("cli.new_password_prompt", password_stdin, confirm=True)
    with db.unit_of_work() as uow:
        identity.set_password(uow, actor, username, new, current)
    typer.echo(t("cli.password_set", username=username))
    if generate:
        typer.echo(t("cli.password_generated", password=new))


@tokens_app.command("create")
def tokens_create(ctx: typer.Context, label: str = typer.Option("", "--label"), days: int = typer.Option(90, "--days")) -> None:
    from cms_workflows.identity import service as identity

    actor = acting_user(ctx)
    with database().unit_of_work() as uow:
        row, token = identity.create_token(uow, actor, str(actor), label=label, days=days)
    typer.echo(t("cli.token_created", id=row.id, expires=row.expires_at.strftime("%Y-%m-%d")))
    typer.echo(token)


@tokens_app.command("list")
def tokens_list(ctx: typer.Context, user: Optional[str] = typer.Option(None, "--user")) -> None:
    from cms_workflows.access import require, Resource
    from cms_workflows.identity import queries

    actor = acting_user(ctx)
    with database().read() as uow:
        if user and user != actor:
            require(uow, actor, "manage", Resource("user"))
        rows = [[r.id, r.username, r.label, r.created_at.strftime("%Y-%m-%d"), r.expires_at.strftime("%Y-%m-%d"),
                 t("cli.revoked") if r.revoked_at else ""] for r in queries.tokens_of(uow, user or actor)]
    print_table([t("cli.col_id"), t("cli.col_username"), t("cli.col_label"), t("cli.col_created"),
                 t("cli.col_expires"), t("cli.col_status")], rows)


@tokens_app.command("revoke")
def tokens_revoke(ctx: typer.Context, token_id: int) -> None:
    from cms_workflows.identity import service as identity

    with database().unit_of_work() as uow:
        identity.revoke_token(uow, acting_user(ctx), token_id)
    typer.echo(t("cli.token_revoked", id=token_id))


# ---------------------------------------------------------------- delegations


@delegate_app.command("grant")
def delegate_grant(ctx: typer.Context, delegate: str, valid_from: str | None = typer.Option(None, "--from"),
                   valid_to: str | None = typer.Option(None, "--to"), reason: str = typer.Option(..., "--reason")) -> None:
    from cms_workflows.identity import service as identity

    start, end = parse_date(valid_from, "--from"), parse_date(valid_to, "--to")
    with database().unit_of_work() as uow:
        # by default today, the installation's day (its time zone, not the host's: `date +%F` may be yesterday)
        start = start or uow.clock.today()
        end = end or start
        row = identity.grant_delegation(uow, acting_user(ctx), delegate, start, end, reason)
    typer.echo(t("cli.delegation_granted", id=row.id, delegate=delegate, valid_from=start, valid_to=end))


@delegate_app.command("revoke")
def delegate_revoke(ctx: typer.Context, delegation_id: int) -> None:
    from cms_workflows.identity import service as identity

    with database().unit_of_work() as uow:
        identity.revoke_delegation(uow, acting_user(ctx), delegation_id)
    typer.echo(t("cli.delegation_revoked", id=delegation_id))


@delegate_app.command("list")
def delegate_list(ctx: typer.Context) -> None:
    from cms_workflows.identity import queries

    actor = acting_user(ctx)
    with database().read() as uow:
        rows = [[d.id, d.delegator, d.delegate, d.valid_from, d.valid_to, d.reason, t("cli.revoked") if d.revoked_at else ""]
                for d in queries.delegations(uow, actor)]
    print_table([t("cli.col_id"), t("cli.col_delegator"), t("cli.col_delegate"), t("cli.col_from"), t("cli.col_to"),
                 t("cli.col_reason"), t("cli.col_status")], rows)

