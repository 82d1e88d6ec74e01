"""Who is acting (issue 14, item 1): sign-in with argon2 passwords, hashed expiring tokens, no default
user and no free `--as`, delegation recorded with both names, and no way to act as `system`."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import text

from cms_workflows import audit
from cms_workflows.core.clock import FixedClock
from cms_workflows.core.db import Database
from cms_workflows.core.errors import AccessDenied, CmsError
from cms_workflows.documents import approval as doc_approval
from cms_workflows.documents import service as docs
from cms_workflows.identity import queries as identity_queries
from cms_workflows.identity import service as identity
from tests.conftest import token_for
from tests.documents.conftest import AUTHOR, GM, REVIEWER, new_procedure

PASSWORD = "长沙-碳管理-2026"


def cms(env: dict, *args: str, stdin: str | None = None, locale: str = "en", token: str | None = None):
    """`cms` signed in with `token` (default: the environment's, admin's); token="" for no token at all,
    so that the sign-in stored by `cms login` is used."""
    full = {k: v for k, v in os.environ.items() if not k.startswith("CMS_")}
    full.update({k: v for k, v in env.items() if k != "CMS_TOKEN"}, CMS_LOCALE=locale)
    token = env.get("CMS_TOKEN") if token is None else token
    if token:
        full["CMS_TOKEN"] = token
    return subprocess.run([sys.executable, "-m", "cms_workflows.cli", *args], input=stdin, capture_output=True,
                          text=True, env=full, timeout=120)


def events(db, event: str) -> list:
    with db.read() as uow:
        return audit.events_for(uow, event=event)


def set_password(db, username: str, password: str = PASSWORD) -> None:
    with db.unit_of_work() as uow:
        identity.set_password(uow, username, username, password)


def test_claiming_a_name_no_longer_acts_as_that_user(db, company, cli_env):
    """The finding: `--as gm` / `CMS_USER=gm` were taken on trust, default `admin`."""
    before = len(events(db, "org.site.create"))
    r = cms({**cli_env, "CMS_USER": "gm"}, "sites", "add", "HN09", "--name", "新厂", token="")
    assert r.returncode == 2 and "Not signed in" in r.stderr and "Traceback" not in r.stderr
    r = cms(cli_env, "--as", "gm", "sites", "add", "HN09", "--name", "新厂", token="")
    assert r.returncode == 2 and "--as" in r.stderr
    assert len(events(db, "org.site.create")) == before


def test_sign_in_keeps_a_hashed_token_in_a_private_file_and_acts_as_that_user(db, company, cli_env):
    set_password(db, "admin")
    r = cms(cli_env, "login", "admin", "--password-stdin", stdin="wrong password\n", token="")
    assert r.returncode == 2 and "Wrong username or password" in r.stderr
    assert [e.object_id for e in events(db, "identity.login.fail")] == ["admin"]

    r = cms(cli_env, "login", "admin", "--password-stdin", stdin=PASSWORD + "\n", locale="zh-CN", token="")
    assert r.returncode == 0 and "已登录为 admin" in r.stdout, r.stderr
    stored = os.path.join(cli_env["CMS_CONFIG_DIR"], "credentials.json")
    assert stat.S_IMODE(os.stat(stored).st_mode) == 0o600
    content = open(stored, encoding="utf-8").read()
    assert PASSWORD not in content
    token = next(iter(json.loads(content).values()))["token"]
    with db.engine.connect() as conn:
        hashes = [row[0] for row in conn.execute(text("SELECT password_hash FROM identity_credential"))]
        token_hashes = {row[0] for row in conn.execute(text("SELECT token_sha256 FROM identity_token"))}
        payloads = " ".join(row[0] for row in conn.execute(text("SELECT payload FROM audit_event")))
    assert all(h.startswith("$argon2id$") for h in hashes) and PASSWORD not in " ".join(hashes)
    assert token not in token_hashes and identity_queries.token_digest(token) in token_hashes
    assert token not in payloads and PASSWORD not in payloads and "$argon2" not in payloads

    assert cms(cli_env, "whoami", token="").stdout.strip() == "admin"
    assert cms(cli_env, "sites", "add", "HN09", "--name", "新厂", token="").returncode == 0
    assert events(db, "org.site.create")[-1].actor == "admin"
    assert cms(cli_env, "logout", token="").returncode == 0 and not json.loads(open(stored).read())
    r = cms(cli_env, "whoami", token=token)
    assert r.returncode == 2 and "revoked" in r.stderr


def test_repeated_failures_throttle_sign_in_even_with_the_right_password(db, company, cli_env):
    set_password(db, "gm")
    for _ in range(identity_queries.MAX_FAILURES):
        assert cms(cli_env, "login", "gm", "--password-stdin", stdin="guess-guess-guess\n").returncode == 2
    r = cms(cli_env, "login", "gm", "--password-stdin", stdin=PASSWORD + "\n")
    assert r.returncode == 2 and "Too many failed sign-ins" in r.stderr
    assert len(events(db, "identity.login.fail")) == identity_queries.MAX_FAILURES
    assert not events(db, "identity.login.succeed")


def test_the_system_identity_cannot_be_used(db, company, cli_env):
    with pytest.raises(CmsError) as raised, db.unit_of_work() as uow:
        identity.set_password(uow, "admin", "system", PASSWORD)
    assert raised.value.key == "identity.system_has_no_credential"
    with pytest.raises(CmsError) as raised, db.unit_of_work() as uow:
        identity.login(uow, "system", "system", "")
    assert raised.value.key == "identity.bad_credentials"
    with pytest.raises(CmsError), db.unit_of_work() as uow:
        identity.create_token(uow, "system", "system")
    r = cms(cli_env, "login", "system", "--password-stdin", stdin="\n")
    assert r.returncode == 2 and "Traceback" not in r.stderr


def test_tokens_expire_are_for_oneself_and_can_be_revoked(db, company, cli_env):
    token = token_for(db, "gm")  # valid for one day
    later = Database(db.url, settings=db.settings, clock=FixedClock(datetime.now(timezone.utc) + timedelta(days=2)))
    try:
        with pytest.raises(CmsError) as raised, later.read() as uow:
            identity_queries.authenticate(uow, token)
        assert raised.value.key == "identity.token_expired"
    finally:
        later.dispose()
    with db.read() as uow:
        assert identity_queries.authenticate(uow, token) == "gm"
    with pytest.raises(CmsError) as raised, db.unit_of_work() as uow:
        identity.create_token(uow, "admin", "gm")
    assert raised.value.key == "identity.token_for_self_only"
    r = cms(cli_env, "tokens", "create", "--label", "nightly export", "--days", "30", token=token)
    assert r.returncode == 0, r.stderr
    script_token = r.stdout.strip().splitlines()[-1]
    assert cms(cli_env, "whoami", token=script_token).stdout.strip() == "gm"
    (row,) = [t for t in _tokens(db, "gm") if t.label == "nightly export"]
    assert cms(cli_env, "tokens", "revoke", str(row.id), token=cli_env["CMS_TOKEN"]).returncode == 0  # admin revokes
    r = cms(cli_env, "whoami", token=script_token)
    assert r.returncode == 2 and f"#{row.id}" in r.stderr and "revoked" in r.stderr
    r = cms(cli_env, "tokens", "revoke", str(row.id), token=token_for(db, "purchaser.hn01"))
    assert r.returncode == 2 and "Traceback" not in r.stderr


def _tokens(db, username):
    with db.read() as uow:
        return identity_queries.tokens_of(uow, username)


def test_an_administrator_reset_is_recorded_as_such_and_the_user_signs_in_with_it(db, company, cli_env):
    earlier = token_for(db, "gm")
    r = cms(cli_env, "users", "password", "gm", "--generate")
    assert r.returncode == 0, r.stderr
    generated = r.stdout.strip().rsplit(" ", 1)[-1]
    (event,) = events(db, "identity.password.set")[-1:]
    payload = json.loads(event.payload)
    assert event.actor == "admin" and payload["reset_by_administrator"] is True and len(payload["tokens_revoked"]) == 2  # the test environment's and `earlier`
    r = cms(cli_env, "whoami", token=earlier)  # a reset ends the user's earlier sign-ins
    assert r.returncode == 2 and "revoked" in r.stderr
    assert generated not in event.payload
    r = cms(cli_env, "login", "gm", "--password-stdin", stdin=generated + "\n")
    assert r.returncode == 0, r.stderr
    # changing one's own password asks for the current one
    gm_token = token_for(db, "gm")
    r = cms(cli_env, "users", "password", "gm", "--password-stdin", stdin="wrong-current\nnew-password-123\n", token=gm_token)
    assert r.returncode == 2 and "Wrong username or password" in r.stderr
    with db.unit_of_work() as uow:
        identity.set_password(uow, "gm", "gm", "new-password-123", generated)
    with db.read() as uow:
        assert identity_queries.password_matches(uow, "gm", "new-password-123")


def test_acting_for_another_user_needs_their_delegation_and_names_both(db, company, cli_env):
    number = new_procedure(db)
    with db.unit_of_work() as uow:
        docs.submit(uow, AUTHOR, number)
    with db.unit_of_work() as uow:
        doc_approval.decide(uow, REVIEWER, number, "approve", "同意", expect="review")
    r = cms(cli_env, "--for", GM, "doc", "approve", number, token=token_for(db, "doccontrol"))
    assert r.returncode == 2 and "has not authorised doccontrol" in r.stderr

    # a position the policy does not let delegate
    with pytest.raises(AccessDenied), db.unit_of_work() as uow:
        identity.grant_delegation(uow, "purchaser.hn01", "doccontrol", date(2026, 1, 1), date(2026, 1, 31), "出差")
    today = db.clock.today()  # the installation's day
    with db.unit_of_work() as uow:
        identity.grant_delegation(uow, GM, "doccontrol", today - timedelta(days=1), today + timedelta(days=7), "出差")
    r = cms(cli_env, "--for", GM, "doc", "approve", number, "--comment", "代总经理批准", token=token_for(db, "doccontrol"))
    assert r.returncode == 0, r.stderr
    approved = [e for e in events(db, "documents.revision.decide") if e.object_id.startswith(number) or number in e.payload][-1]
    assert approved.actor == GM and json.loads(approved.payload)["delegate"] == "doccontrol"

    # acting for someone does not lift segregation of duties from the person acting
    own = new_procedure(db, title="能源计量管理程序")
    with db.unit_of_work() as uow:
        docs.submit(uow, AUTHOR, own)
    with db.unit_of_work() as uow:
        doc_approval.decide(uow, REVIEWER, own, "approve", "同意", expect="review")
    with db.unit_of_work() as uow:
        identity.grant_delegation(uow, GM, AUTHOR, today, today + timedelta(days=1), "休假")
    r = cms(cli_env, "--for", GM, "doc", "approve", own, token=token_for(db, AUTHOR))
    assert r.returncode == 2 and "Segregation of duties" in r.stderr


def test_a_refused_sign_in_with_any_typed_name_is_recorded(db, company):
    """Whatever is typed as the name (too long, escape sequences) the refusal is still evidence."""
    typed = "\x1b[31mgm" * 40
    with pytest.raises(CmsError) as raised, db.unit_of_work() as uow:
        identity.login(uow, typed, typed, "whatever-password")
    assert raised.value.key == "identity.bad_credentials"
    with db.unit_of_work() as uow:
        identity.record_failed_login(uow, typed)
    (event,) = events(db, "identity.login.fail")
    assert len(event.object_id) <= 64 and "\x1b" not in event.object_id
