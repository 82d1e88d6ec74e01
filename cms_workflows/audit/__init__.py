"""The audit trail (X-1): append-only, hash-chained events (`recording`), their verification
(`verification`), the standard-library chain arithmetic (`chain`) and evidence packs (`evidence`)."""

from cms_workflows.audit.chain import GENESIS
from cms_workflows.audit.models import AuditEvent
from cms_workflows.audit.recording import (
    PG_CHAIN_LOCK, canonical_json, events_for, load_key, mac_of, record, utc_timestamp,
)
from cms_workflows.audit.verification import (
    VerifyResult, append_anchor, check_anchors, connection_spec, iter_rows, read_anchors, verify, verify_parallel,
)

__all__ = [
    "GENESIS", "PG_CHAIN_LOCK", "AuditEvent", "VerifyResult", "append_anchor", "canonical_json", "check_anchors",
    "connection_spec", "events_for", "iter_rows", "load_key", "mac_of", "read_anchors", "record", "utc_timestamp",
    "verify", "verify_parallel",
]
