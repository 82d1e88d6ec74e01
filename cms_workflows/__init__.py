"""cms_workflows: workflow and document-control engine for a carbon management system.

The package is organised by domain (see docs/architecture.md). Nothing here builds
an engine or reads settings at import time: callers choose the database.
"""

__version__ = "0.1.0"
