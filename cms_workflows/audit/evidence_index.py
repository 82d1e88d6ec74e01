"""`index.html` of an evidence pack (X-1): a table of contents that opens offline.

One self-contained page (no scripts, no external links or styles), labelled in Chinese and English
from the message catalog, listing the scope, the signed head, the key fingerprint, how to verify
with the auditor's own copy of the verifier, and every member with its size and SHA-256.
"""

from __future__ import annotations

from html import escape

from cms_workflows.core.i18n import t

_KINDS = (("chain.jsonl", "chain"), ("events.jsonl", "events"), ("checkpoints.jsonl", "checkpoints"),
          ("records/", "records"), ("files/", "files"), ("verify_evidence.py", "verifier"))


def _both(key: str, **params) -> str:
    zh, en = t(key, "zh-CN", **params), t(key, "en", **params)
    return f'{escape(zh)}<br><span class="en">{escape(en)}</span>'


def _kind(name: str) -> str:
    for prefix, kind in _KINDS:
        if name == prefix or (prefix.endswith("/") and name.startswith(prefix)):
            return _both(f"audit.evidence_index.kind.{kind}")
    return ""


def render(manifest: dict, members: dict[str, dict]) -> str:
    scope = manifest["scope"]
    every = t("audit.evidence_index.scope_all", "zh-CN") + " / " + t("audit.evidence_index.scope_all", "en")
    facts = [
        ("exported_at", manifest["exported_at"]), ("exporter", manifest["exporter"]),
        ("installation", manifest["installation"]), ("fingerprint", manifest["fingerprint"]),
        ("head", f'#{manifest["head"]["seq"]} {manifest["head"]["hash"]}'),
        ("events", str(manifest["events_in_scope"])),
        ("scope_dates", f'{scope["from"] or "…"} – {scope["to"] or "…"}'),
        ("scope_site", scope["site"] or every), ("scope_documents", ", ".join(scope["documents"]) or every),
    ]
    rows = "\n".join(
        f"<tr><td><code>{escape(name)}</code></td><td>{_kind(name)}</td><td class=n>{m['size']:,}</td>"
        f"<td><code>{m['sha256']}</code></td></tr>" for name, m in sorted(members.items()))
    fact_rows = "\n".join(f"<tr><th>{_both('audit.evidence_index.' + k)}</th><td><code>{escape(v)}</code></td></tr>"
                          for k, v in facts)
    command = f"python verify_evidence.py PACK.zip --fingerprint {manifest['fingerprint']}"
    head = "".join(f"<th>{_both('audit.evidence_index.col_' + c)}</th>" for c in ("member", "kind", "size", "sha256"))
    return f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8">
<title>{escape(t("audit.evidence_index.title", "zh-CN"))} / {escape(t("audit.evidence_index.title", "en"))}</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}td,th{{border:1px solid #999;
padding:4px 8px;text-align:left;vertical-align:top}}.en{{color:#555}}.n{{text-align:right}}code{{font-size:90%}}</style>
</head><body>
<h1>{_both("audit.evidence_index.title")}</h1>
<table>
{fact_rows}
</table>
<h2>{_both("audit.evidence_index.how_to_verify")}</h2>
<p>{_both("audit.evidence_index.verify_hint")}</p>
<pre>{escape(command)}</pre>
<h2>{_both("audit.evidence_index.contents")}</h2>
<table>
<tr>{head}</tr>
{rows}
<tr><td><code>manifest.json</code></td><td>{_both("audit.evidence_index.kind.manifest")}</td><td></td><td></td></tr>
<tr><td><code>manifest.sig</code></td><td>{_both("audit.evidence_index.kind.signature")}</td><td></td><td></td></tr>
</table>
</body></html>
"""
