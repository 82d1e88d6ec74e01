"""The one wiring place.

- `metadata` is the complete model registry (migrations, tests): asking for it imports every models
  module. Nothing else does: a command imports the models it uses through its own domain modules
  (issue 15: building all ~60 model classes was a third of a simple command's start). A models
  module imports the modules whose tables its foreign keys name, so its rows can always be written.
- `configure()` connects the layers that must not import each other: access reads the
  organisation through org's directory. The CLI, the demo, the tests and (later) the web app
  and the flows call it once at start.
- The registries are built here, explicitly, not by import side effects: the functions that
  name the stored files committed rows refer to (`stored_hashes`, for `cms verify` and the
  evidence pack), the checks of domain policy files (`policy_checks`, for `cms policy check`),
  and the modules that declare commands (`command_modules`).
"""

from __future__ import annotations

MODEL_MODULES = (
    "cms_workflows.accounting.models",
    "cms_workflows.audit.checkpoint_models",
    "cms_workflows.audit.models",
    "cms_workflows.documents.models",
    "cms_workflows.identity.models",
    "cms_workflows.org.models",
    "cms_workflows.processes.models",
    "cms_workflows.registers.models",
    "cms_workflows.registers.performance_models",
    "cms_workflows.registers.operations_models",
    "cms_workflows.registers.people_models",
    "cms_workflows.tasks.models",
)


def __getattr__(name: str):
    """`from cms_workflows.bootstrap import metadata`: SQLModel.metadata with every models module imported."""
    if name != "metadata":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    from sqlmodel import SQLModel

    for module in MODEL_MODULES:
        importlib.import_module(module)
    return SQLModel.metadata


def configure() -> None:
    """Wire access to the organisation (idempotent)."""
    from cms_workflows import access
    from cms_workflows.org.queries import OrgDirectory

    if not access.configured():
        access.configure(OrgDirectory())
    from cms_workflows.bootstrap.task_evidence import document_revision
    from cms_workflows.tasks import evidence as task_evidence

    task_evidence.configure(document_revision)  # tasks cite document revisions without importing documents


def stored_hashes() -> list:
    """fn(uow) -> set of SHA-256 each domain's committed rows refer to."""
    from cms_workflows.accounting.queries import stored_import_files
    from cms_workflows.documents.output import stored_document_files

    from cms_workflows.registers.people_queries import stored_evidence_files
    from cms_workflows.registers.queries import stored_certificate_files
    from cms_workflows.tasks.queries import stored_task_files
    from cms_workflows.processes.evidence_records import stored_case_files

    return [stored_import_files, stored_document_files, stored_task_files, stored_certificate_files,
            stored_evidence_files, stored_case_files]


def deep_checks() -> list:
    """fn(uow) -> disagreements: each domain's business rows against the audit trail (`cms verify --deep`)."""
    from cms_workflows.accounting.integrity import check_imports, check_runs
    from cms_workflows.documents.integrity import check_decisions, check_revisions
    from cms_workflows.org.integrity import check_assignments
    from cms_workflows.processes.integrity import check_cases

    return [check_assignments, check_revisions, check_decisions, check_imports, check_runs, check_cases]


def verify_deep(db):
    """`cms verify --deep`: the first business row that disagrees with the trail (see audit.deep)."""
    from cms_workflows.audit.deep import verify_deep as verify

    return verify(db, deep_checks())


def policy_checks() -> list:
    """fn(policy) -> lines: checks of the domains' own policy files against policy.csv."""
    from cms_workflows.documents import registry

    return [registry.check, check_duties]


def duty_sources() -> dict:
    """name -> duties.sources.Source: where the recurring duties' subjects come from (X-3)."""
    from cms_workflows.bootstrap.duty_subjects import registry

    return registry()


def check_duties(policy) -> list[str]:
    """`cms policy check`: policies/duties.yaml against the positions, clauses and subject sources."""
    from cms_workflows.core.i18n import t
    from cms_workflows.duties.definitions import check_file, duties_path
    from cms_workflows.duties.sources import described

    duties = check_file(duties_path(policy.directory), described(duty_sources()), set(policy.positions))
    return [t("duties.config_ok", duties=len(duties), file=str(duties_path(policy.directory)))]


def sweep(db, day=None):
    """The daily sweep (X-3) for `day` (default today), with every domain's duty sources."""
    from cms_workflows.duties.sweep import sweep as run

    configure()
    return run(db, day or db.clock.today(), duty_sources(), case_sweep=case_sweep())


def sweep_step(db, name: str, day):
    """One step of the daily sweep (the Prefect flow runs each as a task of its own)."""
    from cms_workflows.duties.sweep import run_step

    configure()
    return run_step(db, name, day, duty_sources(), case_sweep=case_sweep())


def case_sweep():
    """fn(db, day): the processes' part of the daily sweep (open the cases their triggers ask for, move
    every open case on); handed to the duties' sweep, which does not import processes (issue 11)."""
    from cms_workflows.processes.engine import sweep as run

    return run


def after_task(db, task_key: str) -> list[str]:
    """A task was completed (`cms tasks complete`, the web form): move on the case it belongs to, if any,
    in-process (issue 11: the completing command emits the event, the engine advances the case)."""
    from cms_workflows.processes.engine import after_task as advance

    configure()
    return advance(db, task_key)


def command_modules() -> list:
    """Every module that declares commands (tests check each command's contract)."""
    import importlib

    from cms_workflows.processes.registry import MODULES as process_modules

    names = [
        "cms_workflows.org.service",
        "cms_workflows.documents.service",
        "cms_workflows.documents.approval",
        "cms_workflows.documents.distribution",
        "cms_workflows.documents.imports",
        "cms_workflows.documents.output",
        "cms_workflows.documents.retention",
        "cms_workflows.accounting.service",
        "cms_workflows.audit.evidence",
        "cms_workflows.identity.service",
        "cms_workflows.audit.checkpoints",
        "cms_workflows.registers.swot",
        "cms_workflows.registers.parties",
        "cms_workflows.registers.scope",
        "cms_workflows.registers.risks",
        "cms_workflows.registers.obligations",
        "cms_workflows.registers.instruments",
        "cms_workflows.registers.parameters",
        "cms_workflows.registers.objectives",
        "cms_workflows.registers.actions",
        "cms_workflows.registers.quality",
        "cms_workflows.registers.assets",
        "cms_workflows.registers.changes",
        "cms_workflows.registers.competence",
        "cms_workflows.registers.communication",
        "cms_workflows.tasks.service",
        "cms_workflows.tasks.schedule",
        "cms_workflows.tasks.outbox",
        "cms_workflows.processes.engine",
        *process_modules,  # each process's own module
    ]
    modules = []
    for name in names:
        try:
            modules.append(importlib.import_module(name))
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
    return modules


def verify_installation(db, **options):
    """`cms verify` over every domain's stored files (see audit.verification)."""
    from cms_workflows.audit.verification import verify_installation as verify

    return verify(db, stored_hashes(), **options)


def evidence_sources() -> list:
    """Each domain's part of an evidence pack: the objects a scope names, their records and files."""
    from cms_workflows.accounting import evidence_records as accounting_records
    from cms_workflows.audit.evidence import EvidenceSource
    from cms_workflows.documents import evidence_records as document_records
    from cms_workflows.processes import evidence_records as case_records

    return [EvidenceSource(m.objects, m.records) for m in (document_records, accounting_records, case_records)]


def export_evidence(db, actor: str, out, scope=None):
    """`cms export-evidence` with every domain's records and stored files (see audit.evidence)."""
    from cms_workflows.audit import evidence

    if scope is not None and scope.site is not None:
        from cms_workflows.org.queries import get_site

        with db.read() as uow:
            get_site(uow, scope.site)  # an unknown site is a message, not an empty pack
    return evidence.export(db, actor, out, stored_hashes(), evidence_sources(), scope)


def lifecycles() -> list:
    """Every declared lifecycle table (docs/lifecycles.md is generated from them)."""
    import importlib

    from cms_workflows.core.lifecycle import Lifecycle

    found = []
    for name in ("cms_workflows.documents.states", "cms_workflows.accounting.states", "cms_workflows.tasks.states",
                 "cms_workflows.registers.states", "cms_workflows.processes.states"):
        module = importlib.import_module(name)
        found.extend(v for v in vars(module).values() if isinstance(v, Lifecycle))
    return found
