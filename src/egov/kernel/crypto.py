"""Personal data at rest (dữ liệu cá nhân): envelope encryption with AES-256-GCM and keyed blind indexes.

Keys come from settings (``EGOV_DATA_KEYS``), never from the database: a stolen database or backup holds only
ciphertext and HMAC digests. Each configured master key has an id; the first is the *active* key, used for every new
seal and blind index; the others are kept only so records sealed under them stay readable while
``egov keys rotate`` re-encrypts them (see docs/adr/0003-personal-data-at-rest.md).

* ``seal(plaintext, aad)``: a fresh 256-bit data key per record encrypts the data (AES-GCM); the data key is itself
  encrypted ("wrapped") with the master key's key-encryption key. ``aad`` binds the ciphertext to its row (a
  ciphertext copied into another row fails to open).
* ``blind_index(field, value)``: HMAC-SHA256 under the master key's index key, over the field name and the
  normalised value. Equal values give equal digests, so exact lookups stay one indexed query; the digest reveals
  nothing without the key. ``blind_indexes()`` gives the digest under every configured key, for lookups that must
  find records not yet rotated.

Blob layout (text, so it survives every database and the JSON backup unchanged):
``e1.<key id>.<base64url(nonce_w ‖ wrapped data key ‖ nonce_d ‖ ciphertext)>``.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.core.exceptions import ImproperlyConfigured

BLOB_VERSION = "e1"
NONCE_BYTES = 12
KEY_ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
# The demo keys are derived from a published phrase: fine for the demo, refused in production (config.py).
DEMO_KEY_ID = "demo2026"
DEMO_KEY_MATERIAL = hashlib.sha256(b"egov demo personal-data master key - never use in production").digest()


class CryptoError(Exception):
    """A sealed value cannot be opened: unknown key id, damaged or moved ciphertext."""


@dataclass(frozen=True)
class MasterKey:
    key_id: str
    kek: bytes          # wraps data keys
    index_key: bytes    # keys the blind-index HMAC

    @classmethod
    def derive(cls, key_id: str, material: bytes) -> MasterKey:
        def hkdf(info: bytes) -> bytes:
            return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(material)

        return cls(key_id=key_id, kek=hkdf(b"egov/kek/v1"), index_key=hkdf(b"egov/blind-index/v1"))


@dataclass(frozen=True)
class Keyring:
    keys: tuple[MasterKey, ...]

    @property
    def active(self) -> MasterKey:
        return self.keys[0]

    def get(self, key_id: str) -> MasterKey:
        for key in self.keys:
            if key.key_id == key_id:
                return key
        raise CryptoError(f"sealed with key {key_id!r}, which is not configured in EGOV_DATA_KEYS "
                          "(add it back until `egov keys rotate` has re-encrypted every record)")

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(key.key_id for key in self.keys)


def parse_keys(spec: str) -> list[tuple[str, bytes]]:
    """``id:base64key[,id:base64key…]`` (first = active) → [(id, 32 bytes)]. Errors name what is wrong."""
    pairs = []
    for number, item in enumerate((part.strip() for part in spec.split(",") if part.strip()), start=1):
        key_id, sep, encoded = item.partition(":")
        if not sep or not KEY_ID_PATTERN.match(key_id):
            raise ImproperlyConfigured(f"EGOV_DATA_KEYS item {number}: write it as ID:BASE64KEY, the id 1-32 letters, "
                                       "digits, - or _")
        try:
            material = base64.b64decode(encoded + "=" * (-len(encoded) % 4), altchars=b"-_", validate=False)
        except ValueError:
            raise ImproperlyConfigured(f"EGOV_DATA_KEYS key {key_id!r}: not base64") from None
        if len(material) != 32:
            raise ImproperlyConfigured(f"EGOV_DATA_KEYS key {key_id!r}: must be 32 random bytes (base64), "
                                       f"got {len(material)}; make one with `egov keys new`")
        if key_id in (existing for existing, _ in pairs):
            raise ImproperlyConfigured(f"EGOV_DATA_KEYS lists the key id {key_id!r} twice")
        pairs.append((key_id, material))
    if not pairs:
        raise ImproperlyConfigured("EGOV_DATA_KEYS is empty: configure at least one key (`egov keys new`)")
    return pairs


def demo_keys_spec() -> str:
    return f"{DEMO_KEY_ID}:{base64.urlsafe_b64encode(DEMO_KEY_MATERIAL).decode()}"


def new_key_spec(key_id: str) -> str:
    """A fresh random key in the ``EGOV_DATA_KEYS`` notation."""
    if not KEY_ID_PATTERN.match(key_id):
        raise ValueError("a key id is 1-32 letters, digits, - or _")
    return f"{key_id}:{base64.urlsafe_b64encode(os.urandom(32)).decode()}"


@lru_cache(maxsize=8)
def _keyring_for(spec: str) -> Keyring:
    return Keyring(tuple(MasterKey.derive(key_id, material) for key_id, material in parse_keys(spec)))


def keyring() -> Keyring:
    from django.conf import settings

    return _keyring_for(settings.PERSONAL_DATA_KEYS)


def uses_demo_key(spec: str) -> bool:
    return any(material == DEMO_KEY_MATERIAL for _, material in parse_keys(spec))


# ---------------------------------------------------------------------------------------------------------------
# Sealing

def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def seal(plaintext: bytes, aad: bytes, *, key: MasterKey | None = None) -> str:
    key = key or keyring().active
    data_key = AESGCM.generate_key(bit_length=256)
    nonce_w, nonce_d = os.urandom(NONCE_BYTES), os.urandom(NONCE_BYTES)
    wrapped = AESGCM(key.kek).encrypt(nonce_w, data_key, key.key_id.encode())
    ciphertext = AESGCM(data_key).encrypt(nonce_d, plaintext, aad)
    return f"{BLOB_VERSION}.{key.key_id}.{_b64(nonce_w + wrapped + nonce_d + ciphertext)}"


def key_id_of(blob: str) -> str:
    version, key_id, _ = _split(blob)
    return key_id


def _split(blob: str) -> tuple[str, str, str]:
    parts = (blob or "").split(".")
    if len(parts) != 3 or parts[0] != BLOB_VERSION:
        raise CryptoError("not a sealed value of a known format")
    return parts[0], parts[1], parts[2]


def open_sealed(blob: str, aad: bytes) -> bytes:
    _, key_id, body = _split(blob)
    key = keyring().get(key_id)
    try:
        raw = _unb64(body)
        nonce_w, wrapped = raw[:NONCE_BYTES], raw[NONCE_BYTES:NONCE_BYTES + 48]
        nonce_d, ciphertext = raw[NONCE_BYTES + 48:2 * NONCE_BYTES + 48], raw[2 * NONCE_BYTES + 48:]
        data_key = AESGCM(key.kek).decrypt(nonce_w, wrapped, key_id.encode())
        return AESGCM(data_key).decrypt(nonce_d, ciphertext, aad)
    except (InvalidTag, ValueError) as exc:
        raise CryptoError("sealed value damaged, or moved from another record") from exc


def seal_json(value: dict, aad: bytes, *, key: MasterKey | None = None) -> str:
    return seal(json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode(), aad, key=key)


def open_json(blob: str, aad: bytes) -> dict:
    return json.loads(open_sealed(blob, aad))


# ---------------------------------------------------------------------------------------------------------------
# Blind indexes

def normalise(value) -> str:
    """What makes two spellings of one value equal for an exact lookup: Unicode NFC, trimmed, inner spaces folded,
    case-folded. Diacritics are kept (Nguyễn and Nguyen are different names)."""
    text = unicodedata.normalize("NFC", str(value))
    return " ".join(text.split()).casefold()


def blind_index(field: str, value, *, key: MasterKey | None = None) -> str:
    key = key or keyring().active
    message = f"{field}\x00{normalise(value)}".encode()
    return hmac.new(key.index_key, message, hashlib.sha256).hexdigest()[:40]


def blind_indexes(field: str, value) -> list[str]:
    """The digest under every configured key (active first): a lookup finds records sealed before a rotation too."""
    return [blind_index(field, value, key=key) for key in keyring().keys]


# --- Every table holding sealed data, so that one rotation and one status cover them all -------------------------

@dataclass(frozen=True)
class SealedTable:
    """A table of sealed rows, registered by its component (``AppConfig.ready``). ``usage()`` counts rows per key id;
    ``rotate_batch(old_key_ids, active_key, batch_size)`` re-seals up to ``batch_size`` rows still under an old key
    with ``active_key`` in one short transaction and returns how many it did (0 when none are left)."""
    label: str
    usage: Callable[[], dict[str, int]]
    rotate_batch: Callable[[list[str], MasterKey, int], int]


_SEALED_TABLES: dict[str, SealedTable] = {}


def register_sealed_table(table: SealedTable) -> None:
    _SEALED_TABLES[table.label] = table


def sealed_tables() -> list[SealedTable]:
    return list(_SEALED_TABLES.values())


def count_by_key(model) -> dict[str, int]:
    """Rows of ``model`` per ``key_id`` (rows with an empty key id hold nothing sealed)."""
    from django.db.models import Count

    return {row["key_id"]: row["n"] for row in model.objects.exclude(key_id="").values("key_id")
            .annotate(n=Count("id")).order_by("key_id")}


def reseal_batch(model, old_key_ids: list[str], batch_size: int, reseal: Callable, fields: list[str]) -> int:
    """One ``rotate_batch`` for a table whose rows only need re-sealing: lock up to ``batch_size`` rows still under an
    old key, ``reseal(row)`` each (with the active key), save ``fields``; one short transaction. Returns the count."""
    from django.db import transaction

    with transaction.atomic():
        rows = list(model.objects.select_for_update().filter(key_id__in=old_key_ids).order_by("id")[:batch_size])
        for row in rows:
            reseal(row)
        model.objects.bulk_update(rows, fields)
    return len(rows)


def register_sealed_model(label: str, model) -> None:
    """Register a table whose rows keep one sealed JSON document: ``row.content()`` opens it and
    ``row.seal(content, key=...)`` seals it again (dossiers, ratings, feedback)."""

    def rotate_batch(old_key_ids: list[str], active: MasterKey, batch_size: int) -> int:
        return reseal_batch(model, old_key_ids, batch_size, lambda row: row.seal(row.content(), key=active),
                            ["sealed", "key_id"])

    register_sealed_table(SealedTable(label, lambda: count_by_key(model), rotate_batch))


class SealedJson:
    """Mixin of a model whose ``sealed`` and ``key_id`` fields hold one sealed JSON document, bound to its row by the
    model's ``aad`` property (a ciphertext copied into another row does not open)."""

    def seal(self, content: dict, *, key: MasterKey | None = None) -> None:
        key = key or keyring().active
        self.sealed = seal_json(content, self.aad, key=key)
        self.key_id = key.key_id

    def content(self) -> dict:
        """The document in clear (callers log reads of personal data)."""
        return open_json(self.sealed, self.aad) if self.sealed else {}
