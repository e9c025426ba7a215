"""Event ledger: appends chain per partition, rows are append-only, payloads carry no personal data, checkpoints."""
import datetime as dt
import os
import stat

import pytest
from hypothesis import given
from hypothesis import strategies as st
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction

from egov.kernel import ledger, signing
from egov.kernel.ledger_models import AppendOnlyError, ChainHead, Checkpoint, Event

pytestmark = pytest.mark.django_db


@pytest.fixture
def officer():
    return get_user_model().objects.create_user(username="officer-ledger", password="a long enough password 1")


def test_appends_chain_per_partition():
    first = ledger.append("dossier.received", partition="H29", payload={"status": 2})
    second = ledger.append("dossier.transferred", partition="H29", payload={"status": 4})
    other = ledger.append("dossier.received", partition="G22")

    assert (first.seq, second.seq, other.seq) == (1, 2, 1)
    assert first.prev_hash == ledger.GENESIS_HASH and other.prev_hash == ledger.GENESIS_HASH
    assert second.prev_hash == first.hash
    assert ChainHead.objects.get(partition="H29").seq == 2
    assert ChainHead.objects.get(partition="H29").hash == second.hash
    stored = Event.objects.get(pk=second.pk)
    assert stored.hash == ledger.event_hash(ledger.hash_fields(stored)) == second.hash
    assert stored.payload == {"status": 4}


def test_event_records_actor_subject_time_and_correlation(officer):
    with ledger.correlation("req-42") as correlation_id:
        event = ledger.append("account.updated", partition="platform", actor=officer, subject=officer)
        system = ledger.append("account.locked", partition="platform")
    assert correlation_id == "req-42"
    stored = Event.objects.get(pk=event.pk)
    assert (stored.actor_kind, stored.actor_id) == ("accounts.user", officer.pk)
    assert (stored.subject_type, stored.subject_id) == ("accounts.user", str(officer.pk))
    assert stored.correlation_id == system.correlation_id == "req-42"
    assert (system.actor_kind, system.actor_id) == ("system", None)
    assert stored.occurred_at == ledger.parse_time(stored.occurred_at_text)  # microseconds round-trip
    assert stored.occurred_at_text.endswith("Z") and len(stored.occurred_at_text) == 27


def test_without_correlation_each_event_gets_its_own_id():
    a = ledger.append("x.happened", partition="platform")
    b = ledger.append("x.happened", partition="platform")
    assert a.correlation_id != b.correlation_id


def test_payload_is_hashed_as_stored():
    event = ledger.append("fee.set", partition="H29", payload={"when": dt.date(2026, 2, 13), "codes": ("a", "b"),
                                                               "note": "Tiếp nhận hồ sơ"})
    stored = Event.objects.get(pk=event.pk)
    assert stored.payload == {"when": "2026-02-13", "codes": ["a", "b"], "note": "Tiếp nhận hồ sơ"}
    assert ledger.verify().ok


def test_append_rolls_back_with_the_callers_transaction():
    with pytest.raises(RuntimeError), transaction.atomic():
        ledger.append("dossier.received", partition="H29")
        raise RuntimeError("the business change failed")
    assert not Event.objects.exists()
    assert ledger.append("dossier.received", partition="H29").seq == 1  # no gap left behind


def test_orm_update_and_delete_are_refused():
    event = ledger.append("dossier.received", partition="H29")
    stored = Event.objects.get(pk=event.pk)
    stored.event_type = "dossier.refused"
    with pytest.raises(AppendOnlyError):
        stored.save()
    with pytest.raises(AppendOnlyError):
        stored.delete()
    with pytest.raises(AppendOnlyError):
        Event.objects.filter(pk=event.pk).update(event_type="dossier.refused")
    with pytest.raises(AppendOnlyError):
        Event.objects.all().delete()
    with pytest.raises(AppendOnlyError):
        Event.objects.bulk_create([Event(partition="H29", seq=2)])
    assert Event.objects.get(pk=event.pk).event_type == "dossier.received"


@pytest.mark.parametrize("payload", [
    {"full_name": "Nguyễn Văn A"},
    {"name": "Nguyễn Văn A"},
    {"email": "a@example.org"},
    {"applicantEmail": "a@example.org"},
    {"phone": "0901234567"},
    {"contact_phone_number": "0901234567"},
    {"id_number": "001099000001"},
    {"personal_id": "001099000001"},
    {"address": "1 Lê Lợi"},
    {"date_of_birth": "1999-01-01"},
    {"password": "secret"},
    {"applicant": {"full-name": "Nguyễn Văn A"}},
    {"items": [{"Email": "a@example.org"}]},
    {"note": "a@example.org"},
])
def test_personal_data_in_payload_is_refused(payload):
    with pytest.raises(ValueError, match="personal data"):
        ledger.append("dossier.submitted", partition="H29", payload=payload)
    assert not Event.objects.exists()


def test_bad_arguments_get_clear_errors():
    with pytest.raises(ValueError, match="partition"):
        ledger.append("x.y", partition="")
    with pytest.raises(ValueError, match="event_type"):
        ledger.append("", partition="H29")
    with pytest.raises(TypeError, match="payload must be a dict"):
        ledger.append("x.y", partition="H29", payload=["a"])
    with pytest.raises(ValueError, match="not saved yet"):
        ledger.append("x.y", partition="H29", subject=Checkpoint(partition="H29", seq=1))
    with pytest.raises(ValueError):
        ledger.append("x.y", partition="H29", payload={"ratio": float("nan")})


def test_verify_ok_on_clean_data_with_checkpoints():
    for i in range(5):
        ledger.append("dossier.received", partition="H29", payload={"n": i})
    ledger.append("dossier.received", partition="G22")
    created = ledger.checkpoint()
    assert {(c.partition, c.seq) for c in created} == {("H29", 5), ("G22", 1)}
    assert ledger.checkpoint() == []  # nothing new to sign
    ledger.append("dossier.received", partition="H29")
    assert [(c.partition, c.seq) for c in ledger.checkpoint()] == [("H29", 6)]

    report = ledger.verify()
    assert report.ok, report.lines()
    assert [(p.partition, p.events_checked, p.checkpoints_checked) for p in report.partitions] == [
        ("G22", 1, 1), ("H29", 6, 2)]


def test_verify_empty_ledger_is_ok():
    assert ledger.verify().ok


def test_checkpoint_key_is_created_outside_the_database_with_mode_0600(settings, tmp_path):
    settings.LEDGER_CHECKPOINT_KEY_FILE = tmp_path / "keys" / "checkpoint.pem"
    key = signing.checkpoint_key()
    assert stat.S_IMODE(os.stat(settings.LEDGER_CHECKPOINT_KEY_FILE).st_mode) == 0o600
    assert signing.checkpoint_key().key_id == key.key_id  # reused, not regenerated


def test_missing_key_in_production_is_a_clear_error(settings, tmp_path):
    settings.ENV = "production"
    settings.LEDGER_CHECKPOINT_KEY_FILE = tmp_path / "missing.pem"
    ledger.append("dossier.received", partition="H29")
    with pytest.raises(ImproperlyConfigured, match="EGOV_LEDGER_KEY_FILE"):
        ledger.checkpoint()
    assert not settings.LEDGER_CHECKPOINT_KEY_FILE.exists()


def test_checkpoint_with_another_key_is_reported(settings, tmp_path):
    ledger.append("dossier.received", partition="H29")
    settings.LEDGER_CHECKPOINT_KEY_FILE = tmp_path / "old.pem"
    ledger.checkpoint()
    settings.LEDGER_CHECKPOINT_KEY_FILE = tmp_path / "new.pem"
    signing.checkpoint_key()  # a new key replaced the old one without trusting it
    report = ledger.verify()
    assert not report.ok
    assert "signature invalid" in report.partitions[0].problem
    assert Checkpoint.objects.count() == 1


@given(st.datetimes(min_value=dt.datetime(1, 1, 2), max_value=dt.datetime(9999, 12, 30), timezones=st.just(dt.UTC)))
def test_the_canonical_time_text_is_what_strftime_wrote_before(moment):
    """Hashes of stored events cover this text: the faster formatting must give exactly the old one."""
    from egov.kernel.ledger import format_time, parse_time

    utc = moment.astimezone(dt.UTC)
    old = utc.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    assert format_time(moment) == old
    if utc.year >= 1000:
        assert parse_time(old) == utc


def test_sqlite_placeholders_are_rewritten_once_and_alike(db):
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("SQLite's placeholder rewriting")
    from egov.kernel.sqlite3 import base

    with connection.cursor() as cursor:
        for value in ("a%b", "100%"):
            cursor.execute("SELECT %s, '%%', %s", [value, 2])
            assert cursor.fetchone() == (value, "%", 2)
    assert base._QMARK_QUERIES["SELECT %s, '%%', %s"] == "SELECT ?, '%', ?"
