"""The one wiring place: import every models module so SQLModel.metadata is complete, and (on demand)
the modules that register policy checks and stored-hash sources."""

from sqlmodel import SQLModel

import cms_workflows.audit  # noqa: F401
import cms_workflows.org.models  # noqa: F401
import cms_workflows.accounting.models  # noqa: F401
import cms_workflows.documents.models  # noqa: F401

metadata = SQLModel.metadata


def register_hooks() -> None:
    """Import the domains' registering modules: `cms policy check` and `cms verify` run in fresh processes
    that may not have imported them (kept out of import time: the accounting service loads pandas)."""
    import cms_workflows.accounting.service  # noqa: F401  (stored import files)
    import cms_workflows.documents.output  # noqa: F401  (stored document files and templates)
    import cms_workflows.documents.registry  # noqa: F401  (routes checked against policy.csv)
