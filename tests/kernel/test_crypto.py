"""Personal data at rest: AES-GCM envelopes bound to their row, keyed blind indexes, keys only from settings."""
import base64

import pytest
from django.core.exceptions import ImproperlyConfigured

from egov.kernel import crypto

KEY_A = "a2026:" + base64.urlsafe_b64encode(b"A" * 32).decode()
KEY_B = "b2027:" + base64.urlsafe_b64encode(b"B" * 32).decode()


@pytest.fixture
def keys(settings):
    def use(spec: str):
        settings.PERSONAL_DATA_KEYS = spec
        return crypto.keyring()

    return use


def test_a_sealed_value_opens_with_its_row_binding_and_shows_nothing_in_clear(keys):
    keys(KEY_A)
    blob = crypto.seal("Nguyễn Văn An 001099012345".encode(), b"row-1")
    assert blob.startswith("e1.a2026.")
    assert "001099012345" not in blob and "Nguy" not in blob
    assert crypto.open_sealed(blob, b"row-1").decode() == "Nguyễn Văn An 001099012345"


def test_sealing_the_same_value_twice_gives_different_ciphertexts(keys):
    keys(KEY_A)
    assert crypto.seal(b"same", b"row") != crypto.seal(b"same", b"row")


def test_a_ciphertext_moved_to_another_row_does_not_open(keys):
    keys(KEY_A)
    blob = crypto.seal(b"secret", b"row-1")
    with pytest.raises(crypto.CryptoError, match="moved from another record"):
        crypto.open_sealed(blob, b"row-2")


def test_a_flipped_character_is_detected(keys):
    keys(KEY_A)
    blob = crypto.seal(b"secret", b"row-1")
    flipped = blob[:-3] + ("A" if blob[-3] != "A" else "B") + blob[-2:]
    with pytest.raises(crypto.CryptoError):
        crypto.open_sealed(flipped, b"row-1")


def test_a_value_sealed_under_a_removed_key_names_that_key(keys):
    keys(KEY_A)
    blob = crypto.seal(b"secret", b"row")
    keys(KEY_B)
    with pytest.raises(crypto.CryptoError, match="'a2026'"):
        crypto.open_sealed(blob, b"row")


def test_an_older_configured_key_still_opens_what_it_sealed(keys):
    keys(KEY_A)
    blob = crypto.seal(b"secret", b"row")
    ring = keys(f"{KEY_B},{KEY_A}")
    assert ring.active.key_id == "b2027"
    assert crypto.open_sealed(blob, b"row") == b"secret"
    assert crypto.key_id_of(crypto.seal(b"x", b"row")) == "b2027"


def test_blind_indexes_match_equal_values_in_any_spacing_or_case_but_not_other_diacritics(keys):
    keys(KEY_A)
    index = crypto.blind_index("name", "Nguyễn Văn An")
    assert crypto.blind_index("name", "  nguyễn  văn AN ") == index
    assert crypto.blind_index("name", "Nguyen Van An") != index
    assert crypto.blind_index("other-field", "Nguyễn Văn An") != index  # a digest never matches across fields


def test_a_blind_index_depends_on_the_key(keys):
    keys(KEY_A)
    under_a = crypto.blind_index("pin", "001099012345")
    keys(f"{KEY_B},{KEY_A}")
    assert crypto.blind_index("pin", "001099012345") != under_a
    assert crypto.blind_indexes("pin", "001099012345")[1] == under_a  # lookups during a rotation try every key


@pytest.mark.parametrize(("spec", "message"), [
    ("", "EGOV_DATA_KEYS is empty"),
    ("nokey", "write it as ID:BASE64KEY"),
    ("a:" + base64.b64encode(b"short").decode(), "must be 32 random bytes"),
    (f"{KEY_A},{KEY_A}", "lists the key id 'a2026' twice"),
    ("bad id!:" + base64.b64encode(b"A" * 32).decode(), "write it as ID:BASE64KEY"),
])
def test_a_misconfigured_key_list_says_what_is_wrong(spec, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        crypto.parse_keys(spec)


def test_a_new_key_is_random_and_parses():
    spec = crypto.new_key_spec("2027-01")
    assert spec != crypto.new_key_spec("2027-01")
    [(key_id, material)] = crypto.parse_keys(spec)
    assert key_id == "2027-01" and len(material) == 32


def test_the_demo_key_is_recognised_so_production_can_refuse_it():
    assert crypto.uses_demo_key(crypto.demo_keys_spec())
    assert not crypto.uses_demo_key(KEY_A)
    assert crypto.uses_demo_key(f"{KEY_A},{crypto.demo_keys_spec()}")
