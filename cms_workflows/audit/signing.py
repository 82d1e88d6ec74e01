"""The installation's Ed25519 signing key: the anchor outside the installation (X-1).

The private key lives in a file outside the data folder (`Settings.signing_key`, created by
`cms init --signing-key PATH`, mode 0600). It signs checkpoints of the chain head and the
manifests of evidence packs; anyone holding the public key (or its fingerprint) can check
those signatures without our code. Signatures and keys travel as lowercase hex.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from cms_workflows.core.errors import CmsError


def create_key(path: Path) -> bytes:
    """Write a new private key to `path` (mode 0600, never overwriting); return the raw public key."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise CmsError("audit.signing_key_exists", path=str(path)) from None
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    return public_bytes(private)


def load_private(settings) -> Ed25519PrivateKey:
    """The configured private key; a clear error when none is configured or the file is absent."""
    path = settings.signing_key
    if path is None:
        raise CmsError("audit.signing_key_not_configured")
    path = Path(path)
    if not path.exists():
        raise CmsError("audit.signing_key_missing", path=str(path))
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except ValueError:
        raise CmsError("audit.signing_key_invalid", path=str(path)) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise CmsError("audit.signing_key_invalid", path=str(path))
    return key


def public_bytes(private: Ed25519PrivateKey) -> bytes:
    return private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def fingerprint(public: bytes) -> str:
    """SHA-256 of the raw 32-byte public key, hex: what an auditor pins."""
    return hashlib.sha256(public).hexdigest()


def sign(private: Ed25519PrivateKey, data: bytes) -> str:
    return private.sign(data).hex()


def verify(public: bytes, data: bytes, signature_hex: str) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(bytes.fromhex(signature_hex), data)
    except (InvalidSignature, ValueError):
        return False
    return True
