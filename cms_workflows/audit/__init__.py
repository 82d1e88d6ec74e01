"""The audit trail (X-1): append-only, hash-chained events, their verification and evidence packs."""

from cms_workflows.audit.trail import *  # noqa: F401,F403
from cms_workflows.audit.trail import (  # noqa: F401
    GENESIS, PG_CHAIN_LOCK, AuditEvent, VerifyResult, append_anchor, canonical_json, check_anchors, connection_spec,
    events_for, iter_rows, load_key, mac_of, read_anchors, record, utc_timestamp, verify, verify_parallel,
)
