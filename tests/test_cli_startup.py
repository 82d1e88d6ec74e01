"""What a simple `cms` command loads (issue 15 item 9), and the progress bars (item 10).

Start-up time is not asserted (no timing assertions: bench/cli.py measures it); what makes it slow is:
a simple command must not import Alembic, pandas, matplotlib, Prefect, Rich, pydantic-settings or the
Word libraries, nor the command modules it does not run, nor the model modules of other domains (each
SQLModel class costs milliseconds to build). Checked in a real process on a real, initialised database.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cms_workflows.bootstrap import MODEL_MODULES

HEAVY = ("alembic", "pandas", "numpy", "matplotlib", "prefect", "rich", "openpyxl", "fastapi", "pydantic_settings")
WORD = ("docx", "docxtpl", "jinja2")  # the Word libraries: documents.rendering imports them where it renders

# runs `cms ARGS` as `python -m cms_workflows.cli` does, then prints which modules it loaded
PROBE = """
import json, runpy, sys
sys.argv = ["cms", *json.loads(sys.argv[1])]
code = 0
try:
    runpy.run_module("cms_workflows.cli", run_name="__main__")
except SystemExit as exc:
    code = exc.code or 0
print("\\nLOADED " + json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


@pytest.fixture(scope="module")
def installation(tmp_path_factory):
    folder = tmp_path_factory.mktemp("startup")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CMS_")}
    env.update(HOME=str(folder / "home"), CMS_DATA_DIR=str(folder / "data"), CMS_LOCALE="en",
               CMS_SIGNING_KEY=str(folder / "keys" / "signing-key.pem"))
    for args in (["init"], ["users", "assign", "admin", "document_controller", "--site", "*"]):
        r = subprocess.run([sys.executable, "-m", "cms_workflows.cli", *args], env=env, capture_output=True,
                           text=True, timeout=180)
        assert r.returncode == 0, (args, r.stdout, r.stderr)
    return env


def loaded(env, *args) -> tuple[int, set[str], str]:
    r = subprocess.run([sys.executable, "-c", PROBE, json.dumps(args)], env=env, capture_output=True, text=True,
                       timeout=180)
    out, _, tail = r.stdout.rpartition("\nLOADED ")
    assert tail, (r.stdout, r.stderr)
    found = json.loads(tail)
    return found["code"], set(found["modules"]), out


@pytest.mark.parametrize("args", [("positions",), ("users", "list"), ("doc", "list"), ("whoami",)])
def test_a_simple_command_imports_no_heavy_library(installation, args):
    code, modules, out = loaded(installation, *args)
    assert code == 0, out
    assert sorted(m for m in HEAVY if m in modules) == []
    assert sorted(m for m in WORD if m in modules) == []
    # and only its own command module: the others are imported when their command is asked for
    own = {"positions": "org", "users": "org", "doc": "documents", "whoami": "identity"}[args[0]]
    cli_modules = {m.rsplit(".", 1)[1] for m in modules if m.startswith("cms_workflows.cli.")}
    assert cli_modules - {own, "identity", "main", "help", "common", "credentials", "__main__"} == set(), cli_modules
    # only the models it reads: the organisation, and with a sign-in the credentials and the trail
    needs = {"cms_workflows.org.models"}
    if args != ("positions",):  # the one of these that reads no sign-in
        needs |= {"cms_workflows.identity.models", "cms_workflows.audit.models"}
    if args[0] == "doc":
        needs.add("cms_workflows.documents.models")
    assert {m for m in MODEL_MODULES if m in modules} == needs
    if args[0] == "doc":  # the register's reads, not its output: rendering and limits load where a file is made
        assert {"cms_workflows.documents.output", "cms_workflows.documents.rendering"} & modules == set()


def test_the_schema_check_without_alembic_agrees_with_alembic():
    """`cms` compares the database's revisions with the scripts' heads read without Alembic (core.db)."""
    from alembic.script import ScriptDirectory

    from cms_workflows.core.db import alembic_config, migration_heads

    assert migration_heads() == set(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads())


def test_an_old_schema_is_still_refused_without_alembic(installation):
    """The cheap check still sees a database behind the scripts (here: one head's row rolled back by hand)."""
    import sqlite3
    from pathlib import Path

    from cms_workflows.core.db import migration_heads

    db = Path(installation["CMS_DATA_DIR"]) / "cms.db"
    head = sorted(migration_heads())[-1]
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE alembic_version SET version_num = 'an_older_one' WHERE version_num = ?", (head,))
    try:
        code, modules, out = loaded(installation, "positions")
        assert code == 2 and "alembic" not in modules
    finally:
        with sqlite3.connect(db) as conn:
            conn.execute("UPDATE alembic_version SET version_num = ? WHERE version_num = 'an_older_one'", (head,))
    assert loaded(installation, "positions")[0] == 0


@pytest.mark.parametrize("module", MODEL_MODULES)
def test_a_models_module_alone_brings_the_tables_its_foreign_keys_name(module):
    """Commands import only the models they use (bootstrap no longer imports them all), and a flush resolves
    every foreign key of the rows it writes: a models module imports the modules of the tables they name."""
    probe = ("import importlib, sys\n"
             "from sqlmodel import SQLModel\n"
             "before = set(SQLModel.metadata.tables)\n"
             "importlib.import_module(sys.argv[1])\n"
             "for name in sorted(set(SQLModel.metadata.tables) - before):\n"
             "    for fk in SQLModel.metadata.tables[name].foreign_keys:\n"
             "        fk.column  # raises NoReferencedTableError when the table it names is not loaded\n")
    r = subprocess.run([sys.executable, "-c", probe, module], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr


def test_the_complete_registry_is_there_when_asked_for():
    """`bootstrap.metadata` (migrations/env.py, tests) still holds every table of every models module."""
    probe = ("import sys\n"
             "from cms_workflows.bootstrap import MODEL_MODULES, metadata\n"
             "assert all(m in sys.modules for m in MODEL_MODULES)\n"
             "print(len(metadata.tables))\n")
    r = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    from sqlmodel import SQLModel

    from cms_workflows.bootstrap import metadata

    assert metadata is SQLModel.metadata and int(r.stdout) == len(metadata.tables)


def test_settings_read_the_environment_as_pydantic_settings_did(monkeypatch):
    """core.config reads CMS_* itself (pydantic-settings cost a tenth of a second of every start): the
    field's name in any letter case, converted and validated; other CMS_* variables ignored; overrides win."""
    import pydantic

    from cms_workflows.core.config import get_settings

    for name in [n for n in os.environ if n.upper().startswith("CMS_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("CMS_DATA_DIR", "/srv/cms")
    monkeypatch.setenv("cms_locale", "en")
    monkeypatch.setenv("CMS_WEB_THREADS", "12")
    monkeypatch.setenv("CMS_LIMIT_MAX_ROWS", "5")  # core.limits' own
    settings = get_settings(database_url=None)
    assert (settings.data_dir, settings.locale, settings.web_threads) == (Path("/srv/cms"), "en", 12)
    assert settings.resolved_database_url() == f"sqlite:///{Path('/srv/cms/cms.db').resolve()}"
    assert get_settings(locale="zh-CN").locale == "zh-CN"
    monkeypatch.setenv("CMS_WEB_THREADS", "100")  # above its bound
    with pytest.raises(pydantic.ValidationError):
        get_settings()


def test_help_lists_every_command_though_they_load_lazily():
    from cms_workflows.cli.help import localized_command
    from cms_workflows.cli.main import COMMANDS, app

    root = localized_command(app, "en")
    assert root.commands == {}  # nothing built yet
    ctx = root.context_class(root)
    assert root.list_commands(ctx) == list(COMMANDS)
    users = root.get_command(ctx, "users")
    assert set(root.commands) == {"users"} and "password" in users.commands  # `users password` joins its group
    assert users.help and users.commands["list"].help and not users.help.startswith("cli.help.")


def test_progress_is_silent_when_output_is_not_a_terminal(installation):
    r = subprocess.run([sys.executable, "-m", "cms_workflows.cli", "verify"], env=installation, capture_output=True,
                       text=True, timeout=180)
    assert r.returncode == 0, r.stderr
    assert "\x1b" not in r.stdout + r.stderr and "Verifying" not in r.stdout + r.stderr


def test_progress_draws_a_bar_on_a_terminal():
    pty = pytest.importorskip("pty")
    script = ("from cms_workflows.cli.progress import progress\n"
              "with progress('cli.progress.verify', 4) as on_progress:\n"
              "    for done in range(1, 5):\n"
              "        on_progress(done, 4)\n"
              "print('after')\n")
    chunks: list[bytes] = []

    def read(fd):
        data = os.read(fd, 65536)
        chunks.append(data)
        return data

    # pty.spawn passes this process's environment on: `env` sets the child's own
    status = pty.spawn(["env", "-u", "NO_COLOR", "CMS_LOCALE=en", "TERM=xterm", "COLUMNS=100",
                        sys.executable, "-c", script], read)
    text = b"".join(chunks).decode("utf-8", "replace")
    assert os.waitstatus_to_exitcode(status) == 0, text
    assert "Verifying the audit trail" in text and "4/4" in text and "after" in text


def test_the_service_callbacks_report_progress(tmp_path):
    """verify_installation tells its caller how far it got (the CLI's bar), without knowing of terminals."""
    from cms_workflows.bootstrap import installation, verify_installation
    from cms_workflows.core.config import get_settings
    from cms_workflows.core.db import Database

    settings = get_settings(data_dir=tmp_path, database_url=None, audit_key="k", locale="en")
    db = Database(settings.resolved_database_url(), settings=settings)
    installation.initialize(db)
    calls: list[tuple[int, int]] = []
    report = verify_installation(db, record_anchor=False, on_progress=lambda done, total: calls.append((done, total)))
    assert report.ok and calls and calls[-1] == (report.chain.events, report.chain.head_seq)
    db.dispose()
