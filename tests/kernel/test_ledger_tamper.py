"""Tampering with the ledger through raw SQL (what an attacker with database access does) is detected by verify,
which names the first broken link; `egov audit verify` exits non-zero with that message."""
import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from egov.cli import main
from egov.kernel import ledger
from egov.kernel.ledger_models import ChainHead, Checkpoint, Event

pytestmark = pytest.mark.django_db

EVENT = connection.ops.quote_name(Event._meta.db_table)
HEAD = connection.ops.quote_name(ChainHead._meta.db_table)
CHECKPOINT = connection.ops.quote_name(Checkpoint._meta.db_table)


def sql(statement, params=()):
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def fill(partition="H29", count=6, start=0):
    for i in range(start, start + count):
        ledger.append("dossier.received", partition=partition, payload={"n": i})


def problem(partition="H29"):
    report = ledger.verify()
    assert not report.ok
    by_name = {p.partition: p for p in report.partitions}
    for name, item in by_name.items():
        if name != partition:
            assert item.ok, item.problem  # other partitions stay OK: chains are independent
    return by_name[partition]


@pytest.fixture
def chains():
    fill("H29")
    fill("G22", count=3)


def test_edited_row_is_named(chains):
    sql(f"UPDATE {EVENT} SET event_type = %s WHERE partition = %s AND seq = %s", ["dossier.refused", "H29", 3])
    broken = problem()
    assert broken.broken_seq == 3
    assert broken.problem == "partition H29 seq 3: hash does not match its content (row edited)"


def test_edited_timestamp_is_named(chains):
    an_hour_earlier = Event.objects.get(partition="H29", seq=4).occurred_at - dt.timedelta(hours=1)
    sql(f"UPDATE {EVENT} SET occurred_at = %s WHERE partition = %s AND seq = %s",
        [connection.ops.adapt_datetimefield_value(an_hour_earlier), "H29", 4])
    broken = problem()
    assert broken.broken_seq == 4
    assert "occurred_at differs from its hashed timestamp (row edited)" in broken.problem


def test_deleted_row_is_named(chains):
    sql(f"DELETE FROM {EVENT} WHERE partition = %s AND seq = %s", ["H29", 3])
    broken = problem()
    assert broken.problem == "partition H29 seq 3: missing after 2, next is seq 4 (row deleted)"


def test_deleted_first_row_is_named(chains):
    sql(f"DELETE FROM {EVENT} WHERE partition = %s AND seq = %s", ["H29", 1])
    assert "seq 1: missing (the first event), next is seq 2 (row deleted)" in problem().problem


def test_reordered_rows_are_named(chains):
    # Swap seq 3 and 4 (through a temporary value: (partition, seq) is unique).
    sql(f"UPDATE {EVENT} SET seq = -1 WHERE partition = %s AND seq = 3", ["H29"])
    sql(f"UPDATE {EVENT} SET seq = 3 WHERE partition = %s AND seq = 4", ["H29"])
    sql(f"UPDATE {EVENT} SET seq = 4 WHERE partition = %s AND seq = -1", ["H29"])
    broken = problem()
    assert broken.broken_seq == 3
    assert broken.problem == "partition H29 seq 3: this row was chained after seq 4, not seq 2 (rows reordered)"


def test_newest_rows_deleted_after_a_checkpoint_are_named(chains):
    ledger.checkpoint()
    # A careful attacker deletes the two newest events and moves the chain head back so that it agrees.
    sql(f"DELETE FROM {EVENT} WHERE partition = %s AND seq > 4", ["H29"])
    fourth = Event.objects.get(partition="H29", seq=4)
    sql(f"UPDATE {HEAD} SET seq = 4, hash = %s WHERE partition = %s", [fourth.hash, "H29"])
    broken = problem()
    assert broken.problem == "partition H29: newest checkpoint at seq 6 but chain ends at 4 (newest rows deleted)"


def test_newest_rows_deleted_without_moving_the_head_are_named(chains):
    sql(f"DELETE FROM {EVENT} WHERE partition = %s AND seq = 6", ["H29"])
    broken = problem()
    assert broken.problem == "partition H29: chain head at seq 6 but chain ends at 5 (newest rows deleted)"


def rewrite_chain(partition, from_seq, new_event_type):
    """What an attacker who knows the (public) hash function does: edit one row, recompute every later hash and
    link, and move the chain head, all with raw SQL."""
    rows = list(Event.objects.filter(partition=partition).order_by("seq"))
    prev_hash = ledger.GENESIS_HASH
    for row in rows:
        if row.seq == from_seq:
            row.event_type = new_event_type
            sql(f"UPDATE {EVENT} SET event_type = %s WHERE id = %s", [new_event_type, row.id])
        if row.seq >= from_seq:
            row.prev_hash = prev_hash
            row.hash = ledger.event_hash(ledger.hash_fields(row))
            sql(f"UPDATE {EVENT} SET prev_hash = %s, hash = %s WHERE id = %s", [row.prev_hash, row.hash, row.id])
        prev_hash = row.hash
    sql(f"UPDATE {HEAD} SET hash = %s WHERE partition = %s", [prev_hash, partition])


def test_rewritten_chain_with_recomputed_hashes_is_named():
    fill("H29", count=3)
    ledger.checkpoint()                      # signed at seq 3
    fill("H29", count=3, start=3)
    ledger.checkpoint()                      # signed at seq 6
    fill("H29", count=2, start=6)            # seq 7-8 not yet covered by a checkpoint
    rewrite_chain("H29", from_seq=5, new_event_type="dossier.refused")
    broken = problem()
    assert broken.broken_seq == 6
    assert broken.problem.startswith("partition H29 seq 6: signed checkpoint #")
    assert broken.problem.endswith("holds another hash: the chain was rewritten after seq 3 up to here with "
                                   "recomputed hashes")


def test_rewritten_chain_from_the_start_is_named():
    fill("H29", count=4)
    ledger.checkpoint()
    rewrite_chain("H29", from_seq=1, new_event_type="dossier.refused")
    broken = problem()
    assert broken.broken_seq == 4
    assert "the chain was rewritten up to here with recomputed hashes" in broken.problem


def test_altered_checkpoint_is_named(chains):
    ledger.checkpoint()
    sql(f"UPDATE {CHECKPOINT} SET seq = 2 WHERE partition = %s", ["H29"])
    assert "signature invalid" in problem().problem


def test_deleted_chain_head_is_named(chains):
    sql(f"DELETE FROM {HEAD} WHERE partition = %s", ["H29"])
    assert problem().problem == "partition H29: chain ends at seq 6 but has no chain head (head row deleted)"


def test_only_the_first_broken_link_is_reported(chains):
    sql(f"UPDATE {EVENT} SET event_type = %s WHERE partition = %s AND seq = 5", ["dossier.refused", "H29"])
    sql(f"DELETE FROM {EVENT} WHERE partition = %s AND seq = 2", ["H29"])
    assert problem().problem == "partition H29 seq 2: missing after 1, next is seq 3 (row deleted)"


def test_audit_verify_command_ok_then_broken(chains, capsys):
    call_command("audit_verify")
    out = capsys.readouterr().out
    assert "OK partition H29: 6 events up to seq 6" in out and "OK: 2 partition(s) verified" in out

    sql(f"DELETE FROM {EVENT} WHERE partition = %s AND seq = 3", ["H29"])
    with pytest.raises(CommandError, match=r"seq 3: missing after 2, next is seq 4 \(row deleted\)"):
        call_command("audit_verify")

    with pytest.raises(SystemExit) as exit_info:
        main(["audit", "verify"])
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert "BROKEN partition H29: partition H29 seq 3: missing after 2, next is seq 4 (row deleted)" in err
    assert "ledger verification failed in 1 partition(s)" in err


def test_audit_checkpoint_command(chains, capsys):
    main(["audit", "checkpoint"])
    out = capsys.readouterr().out
    assert "checkpoint partition=H29 seq=6" in out and "OK: 2 new checkpoint(s) signed" in out
    assert Checkpoint.objects.count() == 2


ROOT = Path(__file__).resolve().parents[2]
SETUP_SCRIPT = """
import django, os
os.environ["DJANGO_SETTINGS_MODULE"] = "egov.settings"
django.setup()
from django.core.management import call_command
from django.db import connection
from egov.kernel import ledger
call_command("migrate", "kernel", verbosity=0)  # only the ledger's tables: quicker than a full `egov migrate`
for i in range(5):
    ledger.append("dossier.received", partition="H29", payload={"n": i})
ledger.checkpoint()
if os.environ.get("TAMPER"):
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM kernel_event WHERE seq = 5")
"""


def test_egov_audit_verify_subprocess_exit_codes(tmp_path):
    """The installed command, end to end, on a database of its own (an SQLite file in a fresh data directory)."""
    env = {**os.environ, "EGOV_DATA_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "egov.settings"}
    env.pop("EGOV_DATABASE_URL", None)
    env.pop("EGOV_LEDGER_KEY_FILE", None)
    egov = ["uv", "run", "--no-sync", "egov"]
    subprocess.run([sys.executable, "-c", SETUP_SCRIPT], env=env, cwd=ROOT, check=True, timeout=120)

    ok = subprocess.run([*egov, "audit", "verify"], check=False, env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stderr
    assert "OK partition H29: 5 events up to seq 5, 1 signed checkpoints" in ok.stdout

    subprocess.run([sys.executable, "-c", SETUP_SCRIPT], env={**env, "TAMPER": "1"}, cwd=ROOT, check=True,
                   timeout=120)
    broken = subprocess.run([*egov, "audit", "verify"], check=False, env=env, cwd=ROOT, capture_output=True, text=True,
                            timeout=120)
    assert broken.returncode == 1
    assert "partition H29 seq 5: missing after 4, next is seq 6 (row deleted)" in broken.stderr


def test_altered_chain_head_hash_is_named(chains):
    sql(f"UPDATE {HEAD} SET hash = %s WHERE partition = %s", ["ab" * 32, "H29"])
    assert problem().problem == "partition H29 seq 6: the chain head holds another hash for this event (head or " \
                                "row altered)"


def test_event_added_beyond_the_head_by_raw_sql_is_named(chains):
    sql(f"UPDATE {HEAD} SET seq = 5, hash = (SELECT hash FROM {EVENT} WHERE partition = %s AND seq = 5) "
        f"WHERE partition = %s", ["H29", "H29"])
    assert problem().problem == "partition H29: chain ends at seq 6, beyond its head at seq 5 (rows added " \
                                "without the ledger, or head altered)"
