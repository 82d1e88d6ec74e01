"""Write docs/lifecycles.md: every lifecycle table of the services as a Mermaid state diagram.

    .venv/bin/python tools/lifecycles.py          # rewrite the file
    .venv/bin/python tools/lifecycles.py --check  # exit 1 if the file is not current (the test suite does this)
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "docs" / "lifecycles.md"


def render() -> str:
    from cms_workflows.bootstrap import lifecycles
    from cms_workflows.core.i18n import t

    parts = ["# Lifecycles", "",
             "Generated from the lifecycle tables in each domain's `states.py` by `tools/lifecycles.py`;",
             "do not edit by hand. A service moves an object only along these transitions, each named by",
             "the command that makes it; who may run the command is in `policies/policy.csv`.", ""]
    for lc in lifecycles():
        states = ", ".join(f"`{s.value}` {t(lc.label_prefix + s.value, locale='zh-CN')}" for s in lc.states)
        parts += [f"## {lc.name}", "", f"States: {states}.", "", "```mermaid", lc.mermaid(), "```", ""]
    return "\n".join(parts)


def main() -> int:
    text = render()
    if "--check" in sys.argv:
        current = TARGET.read_text(encoding="utf-8") if TARGET.exists() else ""
        if current != text:
            print(f"{TARGET.relative_to(ROOT)} is not current: run .venv/bin/python tools/lifecycles.py")
            return 1
        return 0
    TARGET.write_text(text, encoding="utf-8")
    print(f"wrote {TARGET.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
