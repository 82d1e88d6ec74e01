"""The one wiring place: import every models module so SQLModel.metadata is complete."""

from sqlmodel import SQLModel

import cms_workflows.audit  # noqa: F401
import cms_workflows.org.models  # noqa: F401
import cms_workflows.accounting.models  # noqa: F401
import cms_workflows.documents.models  # noqa: F401

metadata = SQLModel.metadata
