"""Signing keys kept outside the database. For now: the ledger checkpoint key (Ed25519).

The checkpoint key is a PEM file at ``settings.LEDGER_CHECKPOINT_KEY_FILE`` (``EGOV_LEDGER_KEY_FILE``). Outside
production it is generated on first use (mode 0600); in production a missing key is a configuration error, because a
key created silently next to the database would protect nothing. Someone who can rewrite the database but not read
this file cannot forge a checkpoint, so deleting the newest events or rewriting a chain is detected by verify.
"""
from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def key_id_of(public_key: Ed25519PublicKey) -> str:
    """A short stable name of a public key: the first 32 hex digits of sha256 of its raw bytes."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:32]


@dataclass(frozen=True)
class CheckpointVerifier:
    """Public keys trusted for checkpoints, by key id (the current key; older ones may be added for rotation)."""

    public_keys: dict[str, Ed25519PublicKey]

    def verify(self, message: bytes, signature: str, key_id: str) -> bool:
        public_key = self.public_keys.get(key_id)
        if public_key is None:
            return False
        try:
            public_key.verify(base64.b64decode(signature, validate=True), message)
        except (InvalidSignature, ValueError):
            return False
        return True


@dataclass(frozen=True)
class CheckpointKey(CheckpointVerifier):
    private_key: Ed25519PrivateKey
    key_id: str

    def sign(self, message: bytes) -> str:
        return base64.b64encode(self.private_key.sign(message)).decode("ascii")


def key_path() -> Path:
    return Path(settings.LEDGER_CHECKPOINT_KEY_FILE)


def _create_key(path: Path) -> None:
    from egov.config import write_key_file

    write_key_file(path, Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))


def _load_private(path: Path) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(f"EGOV_LEDGER_KEY_FILE={path} is not an unencrypted PEM private key: {exc}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ImproperlyConfigured(f"EGOV_LEDGER_KEY_FILE={path} must hold an Ed25519 key, not {type(key).__name__}")
    return key


def _trusted_public_keys() -> dict[str, Ed25519PublicKey]:
    """Older public keys still trusted for verifying checkpoints (after a key rotation), from
    ``settings.LEDGER_CHECKPOINT_TRUSTED_KEYS`` (a list of PEM public key files)."""
    keys = {}
    for name in getattr(settings, "LEDGER_CHECKPOINT_TRUSTED_KEYS", []) or []:
        try:
            public_key = serialization.load_pem_public_key(Path(name).read_bytes())
        except (OSError, ValueError) as exc:
            raise ImproperlyConfigured(f"trusted ledger checkpoint key {name} cannot be read: {exc}") from None
        if isinstance(public_key, Ed25519PublicKey):
            keys[key_id_of(public_key)] = public_key
    return keys


def checkpoint_key(create: bool | None = None) -> CheckpointKey:
    """The checkpoint signing key; generated on first use outside production."""
    path = key_path()
    if create is None:
        create = getattr(settings, "ENV", "development") != "production"
    if not path.exists():
        if not create:
            raise ImproperlyConfigured(
                f"the ledger checkpoint key {path} does not exist. Set EGOV_LEDGER_KEY_FILE to an Ed25519 PEM private "
                "key kept outside the database (create one with `egov audit checkpoint --create-key`)."
            )
        _create_key(path)
    private_key = _load_private(path)
    public_key = private_key.public_key()
    key_id = key_id_of(public_key)
    return CheckpointKey(public_keys={**_trusted_public_keys(), key_id: public_key}, private_key=private_key,
                         key_id=key_id)


def checkpoint_verifier() -> CheckpointVerifier | None:
    """The keys that verify checkpoints, or None when there is no key file (verify then reports it)."""
    path = key_path()
    trusted = _trusted_public_keys()
    if path.exists():
        public_key = _load_private(path).public_key()
        trusted[key_id_of(public_key)] = public_key
    return CheckpointVerifier(trusted) if trusted else None
