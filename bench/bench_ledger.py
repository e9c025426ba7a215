"""Ledger appends/s in one process, on SQLite and on PostgreSQL, each against plain INSERTs measured in the same run.

What is measured: ``egov.kernel.ledger.append()`` called in transactions of 100 appends (the head row lock, the
sha256 hash chain, the event INSERT and the head UPDATE: everything a real append does), all to one partition (the
worst case: one chain, no parallelism). Reference: single-row INSERTs of the same columns and values (precomputed
hash strings, same payload JSON) into a plain table without hashing, locking or chain, through the same Django
connection, also in transactions of 100. ratio = ledger / reference: the price of the chain over a bare INSERT.

Each database is measured in a child process of its own (``python bench/bench_ledger.py --child``), so that this
module does not depend on which database bench/run.py configured:

* SQLite: a fresh file in a temporary directory with egov's production SQLite settings (WAL, synchronous=NORMAL).
  Target: ≥ 5,000 appends/s (issue 2).
* PostgreSQL: ``EGOV_BENCH_LEDGER_PG_URL`` (default ``postgres://postgres@127.0.0.1:5432/egov_bench``), created when
  missing; skipped with a note when the server is not reachable. The benchmark's partition and reference table are
  removed afterwards. Target: ≥ 1,000 appends/s (our own: a loopback round trip per statement bounds it).
"""
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BATCH = 100
PG_URL = os.environ.get("EGOV_BENCH_LEDGER_PG_URL", "postgres://postgres@127.0.0.1:5432/egov_bench")
TARGETS = {"sqlite": 5000, "postgresql": 1000}
LABELS = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


# ---------------------------------------------------------------------------------------------------------------
# Child process: measure on the database its environment points at, print one JSON line.

def _payload(i: int) -> dict:
    return {"procedure": "1.000656", "status": 2, "channel": 2, "dossier": f"000.00.14.H29-260213-{i:04d}"}


def _measure_ledger(count: int, partition: str) -> float:
    from django.db import transaction

    from egov.kernel import ledger

    started = time.perf_counter()
    for start in range(0, count, BATCH):
        with transaction.atomic():
            for i in range(start, min(start + BATCH, count)):
                ledger.append("dossier.received", partition=partition, subject=("dossiers.dossier", str(i)),
                              payload=_payload(i))
    return count / (time.perf_counter() - started)


REFERENCE_TABLE = "bench_plain_event"
REFERENCE_COLUMNS = ["partition", "seq", "event_type", "occurred_at", "occurred_at_text", "actor_kind", "actor_id",
                     "subject_type", "subject_id", "correlation_id", "payload", "prev_hash", "hash"]


def _create_reference_table(connection) -> None:
    pg = connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {REFERENCE_TABLE}")
        cursor.execute(f"""CREATE TABLE {REFERENCE_TABLE} (
            id {"bigserial" if pg else "integer"} PRIMARY KEY {"" if pg else "AUTOINCREMENT"},
            partition varchar(64) NOT NULL, seq bigint NOT NULL, event_type varchar(100) NOT NULL,
            occurred_at {"timestamptz" if pg else "datetime"} NOT NULL, occurred_at_text varchar(32) NOT NULL,
            actor_kind varchar(64) NOT NULL, actor_id bigint NULL, subject_type varchar(100) NOT NULL,
            subject_id varchar(64) NOT NULL, correlation_id varchar(64) NOT NULL,
            payload {"jsonb" if pg else "text"} NOT NULL, prev_hash varchar(64) NOT NULL, hash varchar(64) NOT NULL)""")


def _measure_reference(count: int, partition: str) -> float:
    import datetime as dt

    from django.db import connection, transaction

    _create_reference_table(connection)
    cast = "::jsonb" if connection.vendor == "postgresql" else ""
    sql = (f"INSERT INTO {REFERENCE_TABLE} ({', '.join(REFERENCE_COLUMNS)}) VALUES "
           f"({', '.join('%s' + cast if c == 'payload' else '%s' for c in REFERENCE_COLUMNS)})")
    digest = "ab" * 32
    started = time.perf_counter()
    for start in range(0, count, BATCH):
        with transaction.atomic(), connection.cursor() as cursor:
            for i in range(start, min(start + BATCH, count)):
                now = dt.datetime.now(dt.UTC)
                cursor.execute(sql, [
                    partition, i + 1, "dossier.received", connection.ops.adapt_datetimefield_value(now),
                    now.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), "system", None, "dossiers.dossier", str(i),
                    str(uuid.uuid4()), json.dumps(_payload(i)), digest, digest,
                ])
    rate = count / (time.perf_counter() - started)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {REFERENCE_TABLE}")
    return rate


def _remove_partition(partition: str) -> None:
    """Benchmark events are not an audit trail: remove them with their chain head (raw SQL, as the ORM refuses)."""
    from django.db import connection, transaction

    from egov.kernel.ledger_models import ChainHead, Event

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {Event._meta.db_table} WHERE partition = %s", [partition])
        cursor.execute(f"DELETE FROM {ChainHead._meta.db_table} WHERE partition = %s", [partition])


def child(count: int) -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from egov.kernel import ledger

    call_command("migrate", "kernel", interactive=False, verbosity=0)
    partition = f"bench-{uuid.uuid4().hex[:12]}"
    try:
        _measure_ledger(min(500, count), partition)  # warm-up: connection, statement caches, the head row
        _measure_reference(min(500, count), partition)
        # Alternate and keep the best of two rounds each, so a background hiccup does not decide the figure.
        ledger_rate = reference_rate = 0.0
        for _ in range(2):
            ledger_rate = max(ledger_rate, _measure_ledger(count, partition))
            reference_rate = max(reference_rate, _measure_reference(count, partition))
        report = ledger.verify([partition]).partitions[0]
        if not report.ok:
            raise RuntimeError(f"the benchmark's chain does not verify: {report.problem}")
    finally:
        _remove_partition(partition)
    print(json.dumps({"vendor": connection.vendor, "ledger": ledger_rate, "reference": reference_rate,
                      "verified": report.events_checked}))


# ---------------------------------------------------------------------------------------------------------------
# Parent: run.py's entry point.

def _postgres_reachable() -> str | None:
    """None when PG_URL can be used (creating the database if the server is up but it is missing), else why not."""
    import dj_database_url
    import psycopg
    from psycopg import sql

    db = dj_database_url.parse(PG_URL)
    params = {"host": db.get("HOST") or None, "port": db.get("PORT") or None, "user": db.get("USER") or None,
              "password": db.get("PASSWORD") or None, "connect_timeout": 3}
    params = {k: v for k, v in params.items() if v}
    try:
        with psycopg.connect(**params, dbname="postgres", autocommit=True) as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db["NAME"]]).fetchone():
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(db["NAME"])))
    except psycopg.Error as exc:
        return f"PostgreSQL not reachable at {PG_URL}: {str(exc).strip().splitlines()[0]}"
    return None


def _run_child(vendor: str, count: int) -> dict:
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="egov.settings", EGOV_DEBUG="0", EGOV_LOG_LEVEL="WARNING")
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    with tempfile.TemporaryDirectory(prefix="egov-bench-ledger-") as tmp:
        env["EGOV_DATA_DIR"] = tmp  # also holds the checkpoint key the child would create; nothing else
        env["EGOV_DATABASE_URL"] = f"sqlite:///{tmp}/ledger.sqlite3" if vendor == "sqlite" else PG_URL
        done = subprocess.run([sys.executable, __file__, "--child", str(count)], env=env, cwd=ROOT, check=False,
                              capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        raise RuntimeError(f"ledger benchmark on {vendor} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _row(vendor: str, result: dict | None, note: str = "") -> dict:
    target = TARGETS[vendor]
    name = f"ledger appends/s, {LABELS[vendor]}, 1 process, 1 partition, transactions of {BATCH}"
    reference = f"plain single-row INSERTs, same columns, {LABELS[vendor]}, transactions of {BATCH}"
    if result is None:
        return {"name": name, "value": None, "unit": "appends/s", "reference_name": reference,
                "reference_value": None, "ratio": None, "target": f"skipped: {note}", "ok": True}
    return {"name": name, "value": round(result["ledger"]), "unit": "appends/s", "reference_name": reference,
            "reference_value": round(result["reference"]), "ratio": round(result["ledger"] / result["reference"], 2),
            "target": f"≥ {target:,}/s", "ok": result["ledger"] >= target}


def run(quick: bool) -> list[dict]:
    count = 2000 if quick else 20000
    rows = [_row("sqlite", _run_child("sqlite", count))]
    problem = _postgres_reachable()
    rows.append(_row("postgresql", None, problem) if problem else _row("postgresql", _run_child("postgresql", count)))
    return rows


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        child(int(sys.argv[2]))
    else:
        quick = "--quick" in sys.argv
        for row in run(quick):
            print(json.dumps(row, ensure_ascii=False))
