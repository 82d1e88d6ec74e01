"""YAML read the fast way: libyaml's safe loader when PyYAML was built with it, else PyYAML's own.

The catalog, the roles and the policy vocabulary are read at every start of a command; the pure-Python
loader made that a tenth of a second or more (issue 15, start-up cost). Same safe subset either way.
"""

from __future__ import annotations

from typing import Any

import yaml

LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load(text: str) -> Any:
    """`yaml.safe_load(text)`, with libyaml when available."""
    return yaml.load(text, Loader=LOADER)
