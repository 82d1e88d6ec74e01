#!/usr/bin/env python3
"""Verify a cms_workflows evidence pack with the Python standard library only.

Usage: python verify_evidence.py PACK.zip
Checks: every member's SHA-256 against manifest.json; every stored file against its
name; the audit chain in events.jsonl (numbering without gaps, each event linked to the
previous one's hash, each hash recomputed from the event's content); the chain head
against the manifest. Exit 0 when all holds, 1 at the first problem (printed).
"""

import hashlib
import json
import sys
import zipfile

GENESIS = "0" * 64


def main(path):
    with zipfile.ZipFile(path) as zf:
        manifest = json.loads(zf.read("manifest.json"))
        for name, digest in manifest["members"].items():
            if hashlib.sha256(zf.read(name)).hexdigest() != digest:
                return fail(f"member {name}: hash differs from the manifest")
            if name.startswith("files/") and hashlib.sha256(zf.read(name)).hexdigest() != name[6:]:
                return fail(f"stored file {name}: content differs from its name")
        prev, expected = GENESIS, 1
        for line in zf.read("events.jsonl").decode("utf-8").splitlines():
            event = json.loads(line)
            if event["seq"] != expected:
                return fail(f"event #{expected} missing")
            if event["prev_hash"] != prev:
                return fail(f"event #{event['seq']}: does not link to the previous event")
            body = {k: v for k, v in event.items() if k not in ("hash", "mac")}
            body["payload"] = json.loads(body["payload"])
            text = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
            if hashlib.sha256(text.encode("utf-8")).hexdigest() != event["hash"]:
                return fail(f"event #{event['seq']}: content differs from its hash")
            prev, expected = event["hash"], expected + 1
        if (expected - 1, prev) != (manifest["head_seq"], manifest["head_hash"]):
            return fail("chain head differs from the manifest")
    print(f"OK: {expected - 1} events, head {prev}; {len(manifest['members'])} members match the manifest")
    return 0


def fail(message):
    print("FAILED: " + message)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
