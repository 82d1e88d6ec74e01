"""`cms cases steps|open|do`: the human steps of every process from the command line. The step table, the
fields and the conversion of FIELD=VALUE live in `processes.steps`, shared with the web's step forms."""

from cms_workflows.processes.steps import (  # noqa: F401
    OPEN, arguments, describe, fields_of, step_of, steps,
)
