#!/usr/bin/env python3
"""Verify a cms_workflows evidence pack (X-1) with the Python standard library.

Use YOUR OWN copy of this script (published in the cms_workflows repository as
tools/verify_evidence.py), never the copy inside a pack: a forged pack can carry a
verifier that always says OK.

    python verify_evidence.py PACK.zip --fingerprint HEX [--checkpoints MY-LOG.jsonl]

HEX is the SHA-256 fingerprint of the installation's public key, obtained from the
installation (`cms key show`) through a channel you trust. Checks, in order:
- manifest.json is signed (manifest.sig, Ed25519) by the public key it names, and that key
  has the pinned fingerprint (without --fingerprint the pack is unpinned: exit 1 unless --unpinned);
- every member listed in the manifest is present with its SHA-256 and size, no other member is
  present, stored files match their names;
- chain.jsonl (seq, prev_hash, hash of every event from #1 to the pack's head) links from the
  genesis value to the head named in the manifest, and event #1 is the installation identity;
- every event in events.jsonl hashes to its value and sits at its place in that chain;
- every checkpoint (checkpoints.jsonl, and your own log with --checkpoints) is signed by the
  pinned key and agrees with the chain; a checkpoint beyond the head means a cut tail; the pack's
  head carries a signed checkpoint.
All JSON is read refusing duplicate keys. Signatures use `cryptography` when installed, else a
pure-Python Ed25519 verification (RFC 8032). Exit 0 when everything holds, 1 otherwise.
"""

import argparse
import hashlib
import json
import os
import re
import sys
import zipfile

GENESIS = "0" * 64
FORMAT = "cms_workflows evidence pack 2"
HEX64 = re.compile(r"[0-9a-f]{64}\Z")

MESSAGES = {
    "ok": ("OK: {events} events in scope, chain #1..#{head} intact to the signed head {hash}; {members} members, "
           "{checkpoints} checkpoints; signatures checked with {impl}; key fingerprint {fp}",
           "通过：范围内 {events} 条事件，链 #1..#{head} 完整并连到已签名的链头 {hash}；{members} 个成员，"
           "{checkpoints} 个检查点；签名校验方式 {impl}；公钥指纹 {fp}"),
    "failed": ("FAILED: {text}", "未通过：{text}"),
    "unpinned": ("the signature is UNPINNED: give the installation's key fingerprint with --fingerprint",
                 "签名未锁定公钥：请用 --fingerprint 给出安装实例公钥的指纹"),
    "unpinned_warning": ("WARNING: signature checked against the key inside the pack only (--unpinned)",
                         "警告：仅以包内公钥校验签名（--unpinned），不能证明包来自该安装实例"),
    "no_pack": ("cannot open {path}: {reason}", "无法打开 {path}：{reason}"),
    "duplicate_member": ("member {name} appears more than once in the zip", "成员 {name} 在压缩包中出现多次"),
    "missing_member": ("member {name} is missing from the pack", "证据包缺少成员 {name}"),
    "extra_member": ("member {name} is not listed in the signed manifest", "成员 {name} 不在已签名的清单中"),
    "bad_json": ("{name}: not valid JSON ({reason})", "{name}：不是有效的 JSON（{reason}）"),
    "duplicate_key": ("{name}: duplicate JSON key {dup!r}", "{name}：JSON 键 {dup!r} 重复"),
    "bad_format": ("{name}: unexpected content ({what})", "{name}：内容不符合格式（{what}）"),
    "fingerprint": ("the pack's key has fingerprint {actual}, not the pinned {pinned}",
                    "包内公钥指纹为 {actual}，与锁定的 {pinned} 不符"),
    "bad_signature": ("manifest.sig is not a valid signature of manifest.json by the pinned key",
                      "manifest.sig 不是锁定公钥对 manifest.json 的有效签名"),
    "member_hash": ("member {name}: content differs from the manifest", "成员 {name}：内容与清单不符"),
    "member_size": ("member {name}: size differs from the manifest", "成员 {name}：大小与清单不符"),
    "file_name": ("stored file {name}: content differs from its name", "存储文件 {name}：内容与其名称（哈希）不符"),
    "chain_gap": ("chain.jsonl: event #{seq} missing", "chain.jsonl：缺少事件 #{seq}"),
    "chain_link": ("chain.jsonl: event #{seq} does not link to the previous event", "chain.jsonl：事件 #{seq} 未链接到前一事件"),
    "chain_head": ("chain.jsonl ends at #{seq} {hash}, the manifest names head #{mseq} {mhash}",
                   "chain.jsonl 止于 #{seq} {hash}，清单中的链头为 #{mseq} {mhash}"),
    "installation": ("installation identity {manifest} differs from the hash of event #1 {first}",
                     "安装实例标识 {manifest} 与事件 #1 的哈希 {first} 不符"),
    "event_order": ("events.jsonl: event #{seq} out of order or repeated", "events.jsonl：事件 #{seq} 顺序错乱或重复"),
    "event_beyond": ("events.jsonl: event #{seq} is beyond the pack's head", "events.jsonl：事件 #{seq} 超出证据包链头"),
    "event_hash": ("event #{seq}: content differs from its hash", "事件 #{seq}：内容与其哈希不符"),
    "event_chain": ("event #{seq}: differs from the chain at its place", "事件 #{seq}：与链中该位置的记录不符"),
    "payload_canonical": ("event #{seq}: payload is not in canonical form", "事件 #{seq}：载荷不是规范 JSON 形式"),
    "event_count": ("events.jsonl holds {actual} events, the manifest says {expected}",
                    "events.jsonl 含 {actual} 条事件，清单记为 {expected}"),
    "checkpoint_signature": ("{source}: checkpoint of #{seq} is not signed by the pinned key",
                             "{source}：#{seq} 的检查点不是由锁定公钥签名"),
    "checkpoint_installation": ("{source}: checkpoint of #{seq} belongs to another installation",
                                "{source}：#{seq} 的检查点属于另一安装实例"),
    "checkpoint_mismatch": ("{source}: checkpoint signed at {at} says #{seq} is {hash}; the chain has {actual} "
                            "(chain rewritten)", "{source}：{at} 签署的检查点记 #{seq} 为 {hash}，链中为 {actual}（链被改写）"),
    "checkpoint_beyond": ("{source}: checkpoint signed at {at} names #{seq}, beyond the pack's head #{head} "
                          "(tail cut or database restored from an older copy)",
                          "{source}：{at} 签署的检查点指向 #{seq}，超出证据包链头 #{head}（尾部被截断或数据库被旧副本还原）"),
    "head_unsigned": ("no signed checkpoint of the pack's head #{seq}", "证据包链头 #{seq} 没有已签名的检查点"),
    "malformed": ("the pack's content is malformed ({reason})", "证据包内容格式错误（{reason}）"),
    "no_log": ("cannot read checkpoint log {path}: {reason}", "无法读取检查点日志 {path}：{reason}"),
}


def lang():
    value = os.environ.get("CMS_LOCALE") or os.environ.get("LC_ALL") or os.environ.get("LANG") or ""
    return 1 if value.lower().startswith("zh") else 0


def msg(key, **params):
    return MESSAGES[key][lang()].format(**params)


class Failed(Exception):
    def __init__(self, key, **params):
        super().__init__(msg(key, **params))


# ---------------------------------------------------------------- Ed25519 verification


def _fallback_verify(public, message, signature):
    """Ed25519 verification in pure Python, after RFC 8032 section 6 (used without `cryptography`)."""
    p = 2 ** 255 - 19
    q = 2 ** 252 + 27742317777372353535851937790883648493
    d = -121665 * pow(121666, p - 2, p) % p
    sqrt_m1 = pow(2, (p - 1) // 4, p)

    def recover_x(y, sign):
        if y >= p:
            return None
        x2 = (y * y - 1) * pow(d * y * y + 1, p - 2, p)
        if x2 % p == 0:
            return None if sign else 0
        x = pow(x2, (p + 3) // 8, p)
        if (x * x - x2) % p != 0:
            x = x * sqrt_m1 % p
        if (x * x - x2) % p != 0:
            return None
        if (x & 1) != sign:
            x = p - x
        return x

    def add(a, b):
        e1 = (a[1] - a[0]) * (b[1] - b[0]) % p
        e2 = (a[1] + a[0]) * (b[1] + b[0]) % p
        c = 2 * a[3] * b[3] * d % p
        dd = 2 * a[2] * b[2] % p
        e, f, g, h = e2 - e1, dd - c, dd + c, e2 + e1
        return (e * f % p, g * h % p, f * g % p, e * h % p)

    def mul(s, point):
        acc = (0, 1, 1, 0)
        while s > 0:
            if s & 1:
                acc = add(acc, point)
            point = add(point, point)
            s >>= 1
        return acc

    def decompress(raw):
        y = int.from_bytes(raw, "little")
        sign, y = y >> 255, y & ((1 << 255) - 1)
        x = recover_x(y, sign)
        return None if x is None else (x, y, 1, x * y % p)

    if len(public) != 32 or len(signature) != 64:
        return False
    a, r = decompress(public), decompress(signature[:32])
    s = int.from_bytes(signature[32:], "little")
    if a is None or r is None or s >= q:
        return False
    gy = 4 * pow(5, p - 2, p) % p
    gx = recover_x(gy, 0)
    k = int.from_bytes(hashlib.sha512(signature[:32] + public + message).digest(), "little") % q
    left, right = mul(s, (gx, gy, 1, gx * gy % p)), add(r, mul(k, a))
    return (left[0] * right[2] - right[0] * left[2]) % p == 0 and (left[1] * right[2] - right[1] * left[2]) % p == 0


def _signature_checker():
    try:
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    except ImportError:
        return "pure-Python Ed25519 (RFC 8032)", _fallback_verify

    def check(public, message, signature):
        try:
            Ed25519PublicKey.from_public_bytes(public).verify(signature, message)
        except (InvalidSignature, ValueError):
            return False
        return True

    return "cryptography", check


IMPLEMENTATION, _check_signature = _signature_checker()


def signature_ok(public, message, signature_hex):
    try:
        signature = bytes.fromhex(signature_hex)
    except (TypeError, ValueError):
        return False
    return _check_signature(public, message, signature)


# ---------------------------------------------------------------- JSON without duplicate keys


def parse(text, name):
    def pairs(items):
        out = {}
        for key, value in items:
            if key in out:
                raise Failed("duplicate_key", name=name, dup=key)
            out[key] = value
        return out

    try:
        return json.loads(text, object_pairs_hook=pairs)
    except ValueError as exc:
        raise Failed("bad_json", name=name, reason=str(exc)) from None


def canonical(value):
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def jsonl(data, name):
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Failed("bad_json", name=name, reason=str(exc)) from None
    return [parse(line, f"{name} line {n}") for n, line in enumerate(text.splitlines(), 1) if line.strip()]


def need(condition, name, what):
    if not condition:
        raise Failed("bad_format", name=name, what=what)


# ---------------------------------------------------------------- the checks


class Pack:
    def __init__(self, zf):
        self.zf = zf
        names = zf.namelist()
        for name in names:
            if names.count(name) > 1:
                raise Failed("duplicate_member", name=name)
        self.names = set(names)

    def read(self, name):
        if name not in self.names:
            raise Failed("missing_member", name=name)
        return self.zf.read(name)


def check_manifest(pack, pinned, unpinned):
    raw = pack.read("manifest.json")
    manifest = parse(raw, "manifest.json")
    need(isinstance(manifest, dict) and manifest.get("format") == FORMAT, "manifest.json", "format")
    for field in ("installation", "public_key", "head", "members", "events_in_scope", "scope", "exported_at", "exporter"):
        need(field in manifest, "manifest.json", field)
    try:
        public = bytes.fromhex(manifest["public_key"])
    except (TypeError, ValueError):
        raise Failed("bad_format", name="manifest.json", what="public_key") from None
    fp = hashlib.sha256(public).hexdigest()
    if pinned is None and not unpinned:
        raise Failed("unpinned")
    if pinned is not None and fp != pinned.strip().lower():
        raise Failed("fingerprint", actual=fp, pinned=pinned)
    signature = pack.read("manifest.sig").decode("ascii", "replace").strip()
    if not signature_ok(public, raw, signature):
        raise Failed("bad_signature")
    return manifest, public, fp


def check_members(pack, manifest):
    members = manifest["members"]
    need(isinstance(members, dict), "manifest.json", "members")
    for name in sorted(pack.names - set(members) - {"manifest.json", "manifest.sig"}):
        raise Failed("extra_member", name=name)
    for name, entry in sorted(members.items()):
        need(isinstance(entry, dict) and "sha256" in entry and "size" in entry, "manifest.json", name)
        data = pack.read(name)
        digest = hashlib.sha256(data).hexdigest()
        if digest != entry["sha256"]:
            raise Failed("member_hash", name=name)
        if len(data) != entry["size"]:
            raise Failed("member_size", name=name)
        if name.startswith("files/") and digest != name[len("files/"):]:
            raise Failed("file_name", name=name)


def check_chain(pack, manifest):
    """The skeleton from genesis to the head; returns [(prev_hash, hash)] indexed by seq - 1."""
    chain, prev = [], GENESIS
    for n, link in enumerate(jsonl(pack.read("chain.jsonl"), "chain.jsonl"), 1):
        need(isinstance(link, dict) and set(link) == {"seq", "prev_hash", "hash"}, "chain.jsonl", f"line {n}")
        if link["seq"] != n:
            raise Failed("chain_gap", seq=n)
        if link["prev_hash"] != prev or not isinstance(link["hash"], str) or not HEX64.match(link["hash"]):
            raise Failed("chain_link", seq=n)
        chain.append((prev, link["hash"]))
        prev = link["hash"]
    head = manifest["head"]
    need(isinstance(head, dict), "manifest.json", "head")
    if (len(chain), prev) != (head.get("seq"), head.get("hash")):
        raise Failed("chain_head", seq=len(chain), hash=prev, mseq=head.get("seq"), mhash=head.get("hash"))
    if not chain or manifest["installation"] != chain[0][1]:
        raise Failed("installation", manifest=manifest["installation"], first=chain[0][1] if chain else "-")
    return chain


def event_hash(event):
    """sha256 of the canonical JSON of the event without hash and mac; the payload as stored (canonical)."""
    strings = ("occurred_at", "actor", "position", "site", "action", "object_type", "object_id", "payload", "prev_hash")
    need(all(isinstance(event.get(k), str) for k in strings) and type(event.get("seq")) is int, "events.jsonl",
         f"event #{event.get('seq')}")
    e = {k: json.dumps(event[k], ensure_ascii=False) for k in strings}
    body = (f'{{"action":{e["action"]},"actor":{e["actor"]},"object_id":{e["object_id"]},'
            f'"object_type":{e["object_type"]},"occurred_at":{e["occurred_at"]},"payload":{event["payload"]},'
            f'"position":{e["position"]},"prev_hash":{e["prev_hash"]},"seq":{event["seq"]},"site":{e["site"]}}}')
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def check_events(pack, manifest, chain):
    last = 0
    events = jsonl(pack.read("events.jsonl"), "events.jsonl")
    for event in events:
        need(isinstance(event, dict), "events.jsonl", "event")
        seq = event.get("seq")
        if type(seq) is not int or seq <= last:
            raise Failed("event_order", seq=seq)
        if seq > len(chain):
            raise Failed("event_beyond", seq=seq)
        payload_text = event.get("payload")
        need(isinstance(payload_text, str), "events.jsonl", f"event #{seq} payload")
        if canonical(parse(payload_text, f"event #{seq} payload")) != payload_text:
            raise Failed("payload_canonical", seq=seq)
        if event_hash(event) != event.get("hash"):
            raise Failed("event_hash", seq=seq)
        if chain[seq - 1] != (event["prev_hash"], event["hash"]):
            raise Failed("event_chain", seq=seq)
        last = seq
    if len(events) != manifest["events_in_scope"]:
        raise Failed("event_count", actual=len(events), expected=manifest["events_in_scope"])
    return len(events)


def check_checkpoints(checkpoints, source, public, manifest, chain):
    """Each checkpoint: signed by the pinned key, of this installation, agreeing with the chain."""
    fields = ("installation", "seq", "hash", "signed_at")
    for cp in checkpoints:
        need(isinstance(cp, dict) and all(k in cp for k in (*fields, "signature")), source, "checkpoint")
        signed = canonical({k: cp[k] for k in fields}).encode("utf-8")
        if not signature_ok(public, signed, cp["signature"]):
            raise Failed("checkpoint_signature", source=source, seq=cp["seq"])
        if cp["installation"] != manifest["installation"]:
            raise Failed("checkpoint_installation", source=source, seq=cp["seq"])
        seq = cp["seq"]
        need(type(seq) is int and seq >= 1, source, "seq")
        if seq > len(chain):
            raise Failed("checkpoint_beyond", source=source, at=cp["signed_at"], seq=seq, head=len(chain))
        if chain[seq - 1][1] != cp["hash"]:
            raise Failed("checkpoint_mismatch", source=source, at=cp["signed_at"], seq=seq, hash=cp["hash"],
                         actual=chain[seq - 1][1])


def verify(path, pinned=None, unpinned=False, log=None):
    """Check the pack at `path`; returns (ok, lines)."""
    try:
        zf = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        return False, [msg("failed", text=msg("no_pack", path=path, reason=exc))]
    try:
        with zf:
            pack = Pack(zf)
            manifest, public, fp = check_manifest(pack, pinned, unpinned)
            check_members(pack, manifest)
            chain = check_chain(pack, manifest)
            events = check_events(pack, manifest, chain)
            checkpoints = jsonl(pack.read("checkpoints.jsonl"), "checkpoints.jsonl")
            check_checkpoints(checkpoints, "checkpoints.jsonl", public, manifest, chain)
            if not any(cp["seq"] == len(chain) for cp in checkpoints):
                raise Failed("head_unsigned", seq=len(chain))
            if log is not None:
                try:
                    with open(log, "rb") as fh:
                        data = fh.read()
                except OSError as exc:
                    raise Failed("no_log", path=log, reason=exc) from None
                own = jsonl(data, log)
                check_checkpoints(own, log, public, manifest, chain)
                checkpoints = checkpoints + own
    except Failed as exc:
        return False, [msg("failed", text=str(exc))]
    except (zipfile.BadZipFile, OSError, EOFError) as exc:  # a damaged member
        return False, [msg("failed", text=msg("no_pack", path=path, reason=exc))]
    except Exception as exc:  # content of an unexpected shape: a message, never a traceback
        return False, [msg("failed", text=msg("malformed", reason=f"{type(exc).__name__}: {exc}"))]
    lines = [msg("unpinned_warning")] if pinned is None else []
    lines.append(msg("ok", events=events, head=len(chain), hash=chain[-1][1], members=len(manifest["members"]),
                     checkpoints=len(checkpoints), impl=IMPLEMENTATION, fp=fp))
    return True, lines


def main(argv=None):
    parser = argparse.ArgumentParser(description="Verify a cms_workflows evidence pack.")
    parser.add_argument("pack", help="the evidence pack (.zip)")
    parser.add_argument("--fingerprint", help="SHA-256 fingerprint of the installation's public key (pin it)")
    parser.add_argument("--unpinned", action="store_true", help="accept the key inside the pack (proves nothing about its origin)")
    parser.add_argument("--checkpoints", help="your own log of signed checkpoints (JSON lines) to compare")
    args = parser.parse_args(argv)
    ok, lines = verify(args.pack, args.fingerprint, args.unpinned, args.checkpoints)
    for line in lines:
        print(line)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
