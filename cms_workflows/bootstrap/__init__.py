"""The one wiring place.

- Every models module is imported here, so SQLModel.metadata is complete (migrations, tests).
- `configure()` connects the layers that must not import each other: access reads the
  organisation through org's directory. The CLI, the demo, the tests and (later) the web app
  and the flows call it once at start.
- The registries are built here, explicitly, not by import side effects: the functions that
  name the stored files committed rows refer to (`stored_hashes`, for `cms verify` and the
  evidence pack), the checks of domain policy files (`policy_checks`, for `cms policy check`),
  and the modules that declare commands (`command_modules`).
"""

from __future__ import annotations

from sqlmodel import SQLModel

import cms_workflows.accounting.models  # noqa: F401
import cms_workflows.audit.models  # noqa: F401
import cms_workflows.documents.models  # noqa: F401
import cms_workflows.org.models  # noqa: F401

metadata = SQLModel.metadata


def configure() -> None:
    """Wire access to the organisation (idempotent)."""
    from cms_workflows import access
    from cms_workflows.org.queries import OrgDirectory

    if not access.configured():
        access.configure(OrgDirectory())


def stored_hashes() -> list:
    """fn(uow) -> set of SHA-256 each domain's committed rows refer to."""
    from cms_workflows.accounting.queries import stored_import_files
    from cms_workflows.documents.output import stored_document_files

    return [stored_import_files, stored_document_files]


def policy_checks() -> list:
    """fn(policy) -> lines: checks of the domains' own policy files against policy.csv."""
    from cms_workflows.documents import registry

    return [registry.check]


def command_modules() -> list:
    """Every module that declares commands (tests check each command's contract)."""
    import importlib

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


def export_evidence(db, actor: str, out):
    """`cms export-evidence` with every domain's stored files (see audit.evidence)."""
    from cms_workflows.audit import evidence

    return evidence.export(db, actor, out, stored_hashes())


def lifecycles() -> list:
    """Every declared lifecycle table (docs/lifecycles.md is generated from them)."""
    import importlib

    from cms_workflows.core.lifecycle import Lifecycle

    found = []
    for name in ("cms_workflows.documents.states", "cms_workflows.accounting.states"):
        module = importlib.import_module(name)
        found.extend(v for v in vars(module).values() if isinstance(v, Lifecycle))
    return found
