"""Synthetic one-stop dossiers for the scale benchmark: N dossiers (1,000,000; ``--quick``: 100,000) over 100 bench
agencies and a year of history, generated once per database and cached (``dossiers.json`` in the data directory).

Dossier *i* is a pure function of *i*, N and the anchor day (recorded in the marker): its agency, day, code, channel,
status, clock and sealed content. Time runs with *i* (ids grow with the submission instant, as in production).

- Agencies ``000.NN.99.H29`` (50, under Ho Chi Minh City) and ``000.NN.99.H01`` (50, under Hanoi); the first receives
  10% of the dossiers, the other 99 share the rest.
- Statuses by age: most older dossiers delivered, some refused, stopped, waiting at the desk for pick-up or
  abandoned in supplement; recent ones spread over submitted, received, processing, supplement, fees and result
  ready; the appointment is 14 days after the receipt, so an open dossier older than that is overdue.
- Codes follow the rule ``{agency}-{yyMMdd}-{NNNN}`` with sequences without gaps per agency and day, and the
  ``DossierCodeSequence`` rows are set to the last number given, so a real submission the same day continues after.
- 3,000 citizen accounts ``bench.citizen.NNNN`` own about one dossier in 97; ``bench.citizen.0000`` owns exactly 50
  (its "my dossiers"). The desk officer ``bench.desk`` works at the largest agency.
- Transitions: the reception (and the online submission before it) and the last move.
- The statistics' roll-ups (``egov.monitoring``: one ``DossierFact`` per dossier and the ``MonthlyFigures``) are
  written as the consumer of the ledger would have written them.
- Content sealed with ``Dossier.seal`` in worker processes; rows inserted with ``bulk_create`` in batches.

No ledger event is written: these are fixtures, not moves. ``uv run python bench/dossier_data.py N`` generates ahead
of a run (in the environment of ``bench/run.py``).
"""
from __future__ import annotations

import collections
import datetime as dt
import functools
import hashlib
import json
import multiprocessing
import os
import time
import uuid
from pathlib import Path

MARKER = "dossiers.json"
MARKER_VERSION = 3  # 3: the per-agency monthly roll-up (monitoring.AgencyMonthlyFigures)
AGENCIES = 100
LARGEST_SHARE = 100  # of every 1,000 dossiers: the first agency receives 10%
CITIZENS = 3000
OWNED_EVERY = 97      # about one dossier in 97 is filed online by a bench citizen
MY_DOSSIERS = 50      # bench.citizen.0000 owns exactly this many
DESK = "bench.desk"
HISTORY_DAYS = 365
VN = dt.timezone(dt.timedelta(hours=7))




@functools.cache
def agency_codes() -> tuple[str, ...]:
    return tuple(f"000.{k % 50 + 1:02d}.99.{'H29' if k < 50 else 'H01'}" for k in range(AGENCIES))


def _slot_table() -> tuple[list[int], list[int], list[int]]:
    """1,000 slots: which agency each slot is, its rank among that agency's slots, and each agency's slot count."""
    table = [0] * LARGEST_SHARE
    rest = 1000 - LARGEST_SHARE
    for slot in range(rest):
        table.append(1 + slot % (AGENCIES - 1))
    counts = [table.count(a) for a in range(AGENCIES)]
    seen = [0] * AGENCIES
    ranks = []
    for agency in table:
        ranks.append(seen[agency])
        seen[agency] += 1
    return table, ranks, counts


TABLE, RANKS, COUNTS = _slot_table()


def per_day(n: int) -> int:
    return max(1, -(-n // HISTORY_DAYS))


def _rand(i: int, salt: str) -> float:
    digest = hashlib.blake2b(f"{salt}:{i}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2 ** 64


def owner(i: int, n: int) -> int | None:
    """Index of the bench citizen who filed dossier ``i`` (None: filed at the desk or by someone else)."""
    step = max(1, n // MY_DOSSIERS)
    if i % step == 3 and i // step < MY_DOSSIERS:
        return 0
    if i % OWNED_EVERY == 1:
        return 1 + (i // OWNED_EVERY) % (CITIZENS - 1)
    return None


def dossier(i: int, n: int, anchor: dt.date) -> dict:
    """Everything about bench dossier ``i`` except the database ids of its references."""
    daily = per_day(n)
    day_index, slot = divmod(i, daily)
    day = anchor - dt.timedelta(days=HISTORY_DAYS - 1 - day_index)
    agency = TABLE[slot % 1000]
    sequence = (slot // 1000) * COUNTS[agency] + RANKS[slot % 1000] + 1
    code = f"{agency_codes()[agency]}-{day:%y%m%d}-{sequence:04d}"
    # Submitted during the working day (07:30 to 17:00 VN time), in slot order.
    minute = 450 + (slot * 570) // daily
    submitted = dt.datetime.combine(day, dt.time(minute // 60, minute % 60), tzinfo=VN).astimezone(dt.UTC)
    age = (anchor - day).days
    who = owner(i, n)
    channel = 2 if who is not None or _rand(i, "channel") < 0.45 else 1
    status = _status(i, age, channel)
    received = None if status == 1 else submitted + (dt.timedelta(hours=3) if channel == 2 else dt.timedelta())
    appointment = received + dt.timedelta(days=14) if received else None
    finished = delivered = None
    supplement_count = 0
    if status in (9, 10):
        finished = received + dt.timedelta(days=min(age, 3 + int(_rand(i, "took") * 14)), hours=2)
        if status == 10:
            delivered = finished + dt.timedelta(days=1)
    elif status in (3, 8):
        finished = received + dt.timedelta(hours=1) if status == 3 else received + dt.timedelta(days=min(age, 5))
    if status == 5:
        supplement_count = 1
    uid = uuid.UUID(bytes=hashlib.blake2b(f"bench-dossier:{i}".encode(), digest_size=16).digest(), version=4)
    content = {"applicant": {"full_name": f"Người nộp thử {i}", "id_number": f"{79_000_000_000 + i:012d}",
                             "phone": f"09{i % 100_000_000:08d}", "email": "", "address": "Hồ sơ mẫu"},
               "subject": None, "form": {"purpose": "Hồ sơ mẫu cho đo tải"}}
    return {"i": i, "uid": uid, "code": code, "agency": agency, "channel": channel, "status": status,
            "owner": who, "submitted_at": submitted, "received_at": received, "appointment_at": appointment,
            "finished_at": finished, "delivered_at": delivered, "supplement_count": supplement_count,
            "content": content, "day": day, "sequence": sequence}


def _status(i: int, age: int, channel: int) -> int:
    r = _rand(i, "status")
    if age > 45:  # long done, a few left waiting
        for status, share in ((10, 0.90), (9, 0.03), (3, 0.03), (8, 0.02), (5, 0.015), (4, 0.005)):
            if r < share:
                return status
            r -= share
        return 10
    if age > 14:  # mostly done; what is still open is overdue
        for status, share in ((10, 0.70), (9, 0.10), (3, 0.04), (8, 0.03), (5, 0.05), (4, 0.05), (6, 0.02),
                              (7, 0.01)):
            if r < share:
                return status
            r -= share
        return 10
    if age <= 2 and channel == 2 and r < 0.3:
        return 1
    for status, share in ((4, 0.35), (2, 0.15), (5, 0.10), (6, 0.05), (9, 0.12), (10, 0.12), (3, 0.05), (7, 0.01)):
        if r < share:
            return status
        r -= share
    return 4


def transitions(d: dict) -> list[tuple]:
    """(from, to, at, form) of the dossier's reception (and online submission) and its last move."""
    rows = []
    status, at = d["status"], d["received_at"]
    if d["channel"] == 2:
        rows.append((None, 1, d["submitted_at"], "ack"))
        if status != 1:
            rows.append((1, 2, at, "01"))
    else:
        rows.append((None, 2, at, "01"))
    last = {3: (2, 3, at, "03"), 4: (2, 4, at + dt.timedelta(hours=2) if at else None, ""),
            5: (4, 5, at + dt.timedelta(days=2) if at else None, "02"), 6: (4, 6, at + dt.timedelta(days=2) if at else None, ""),
            7: (4, 7, at + dt.timedelta(days=3) if at else None, ""), 8: (4, 8, d["finished_at"], "05"),
            9: (4, 9, d["finished_at"], "result"), 10: (9, 10, d["delivered_at"], "06")}.get(status)
    if last is not None:
        rows.append(last)
    return rows


# --- sealing (worker processes) ---------------------------------------------------------------------------------------

_JOB: tuple | None = None


def seal_range(bounds: tuple[int, int]) -> list[tuple]:
    from egov.dossiers.models import Dossier
    from egov.kernel import crypto

    n, anchor = _JOB
    key = crypto.keyring().active
    rows = []
    for i in range(*bounds):
        d = dossier(i, n, anchor)
        shell = Dossier(uid=d.pop("uid"))
        shell.seal(d.pop("content"), key=key)
        rows.append((shell.uid, shell.sealed, shell.key_id, d))
    return rows


# --- reference rows ----------------------------------------------------------------------------------------------------

def ensure_references() -> dict:
    """The bench agencies, citizens and desk officer (created once); returns their ids and the procedure versions."""
    from django.db import transaction
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from egov.accounts.models import AssuranceLevel, Role, User
    from egov.procedures.models import ProcedureVersion
    from egov.kernel.text import fold
    from egov.registries.models import Agency

    with transaction.atomic():
        provinces = {p: Agency.objects.filter(code=f"000.00.00.{p}").first() for p in ("H29", "H01")}
        existing = dict(Agency.objects.filter(code__in=agency_codes()).values_list("code", "id"))
        Agency.objects.bulk_create([Agency(code=code, name=f"Bộ phận một cửa thử nghiệm {k + 1}",
                                           folded_name=fold(f"Bộ phận một cửa thử nghiệm {k + 1}"),
                                           parent=provinces[code[-3:]])
                                    for k, code in enumerate(agency_codes()) if code not in existing])
        agencies = dict(Agency.objects.filter(code__in=agency_codes()).values_list("code", "id"))
        names = [f"bench.citizen.{c:04d}" for c in range(CITIZENS)]
        have = set(User.objects.filter(username__in=names).values_list("username", flat=True))
        fresh = []
        for c, name in enumerate(names):
            if name not in have:
                user = User(username=name, role=Role.CITIZEN, first_name=f"Công dân {c}", last_name="Thử",
                            assurance_level=AssuranceLevel.VERIFIED)
                user.set_unusable_password()
                fresh.append(user)
        User.objects.bulk_create(fresh, batch_size=1000)
        citizens = dict(User.objects.filter(username__in=names).values_list("username", "id"))
        largest = Agency.objects.get(code=agency_codes()[0])
        desk, _created = User.objects.get_or_create(username=DESK, defaults={
            "role": Role.DESK_OFFICER, "agency": largest, "first_name": "Bàn", "last_name": "Một Cửa"})
        if not TOTPDevice.objects.filter(user=desk, confirmed=True).exists():
            TOTPDevice.objects.create(user=desk, name="bench", confirmed=True)
    pairs = list(ProcedureVersion.objects.order_by("id").values_list("id", "procedure_id")[:50])
    versions = [v for v, _p in pairs]
    if not versions:
        raise RuntimeError("no procedure version: seed the database first (egov seed --demo)")
    return {"agencies": [agencies[code] for code in agency_codes()],
            "citizens": [citizens[name] for name in names], "versions": versions,
            "procedures": [p for _v, p in pairs]}


# --- inserting ----------------------------------------------------------------------------------------------------------

DOSSIER_COLUMNS = ("uid", "code", "procedure_version_id", "receiving_agency_id", "channel", "status", "applicant_id",
                   "sealed", "key_id", "submitted_at", "received_at", "appointment_at", "original_appointment_at",
                   "finished_at", "delivered_at", "allowed_hours", "supplement_count", "workflow_state",
                   "current_step", "updated_at", "result_delivery")
FACT_COLUMNS = ("dossier_id", "agency_id", "procedure_id", "channel", "received_at", "finished_at", "delivered_at",
                "overdue_from", "outcome", "is_open")
TRANSITION_COLUMNS = ("dossier_id", "from_status", "to_status", "at", "form", "note", "details")


def statistics_fact(d: dict, refs: dict):
    """What the statistics (``egov.monitoring``) know of the dossier: ``monitoring.services.fact_of`` without
    reading the database (bench dossiers have no pause, no rating, and were never withdrawn)."""
    from egov.monitoring import rules
    from egov.monitoring.models import Outcome

    status = d["status"]
    outcome = {3: Outcome.REFUSED, 8: Outcome.STOPPED}.get(status, Outcome.OPEN)
    if status in (9, 10):
        outcome = rules.processed_verdict(d["finished_at"], d["appointment_at"], d["supplement_count"])
    received = d["received_at"] if outcome != Outcome.REFUSED else None
    return rules.Fact(agency_id=refs["agencies"][d["agency"]],
                      procedure_id=refs["procedures"][d["i"] % len(refs["versions"])], channel=d["channel"],
                      received_at=received, finished_at=d["finished_at"] if outcome else None,
                      delivered_at=d["delivered_at"], overdue_from=d["appointment_at"] if received else None,
                      outcome=outcome)


def contributions(fact):
    from egov.monitoring import rules

    return rules.contributions(fact)


def _monthly(counter: collections.Counter) -> None:
    """Write the monthly counters summed over the bench dossiers (rows of the bench agencies only)."""
    from egov.monitoring.models import AgencyMonthlyFigures, MonthlyFigures
    from egov.monitoring.services import agency_deltas

    rows: dict[tuple, dict] = {}
    for (agency_id, procedure_id, channel, month, name), n in counter.items():
        rows.setdefault((agency_id, procedure_id, channel, month), {})[name] = n
    MonthlyFigures.objects.bulk_create(
        [MonthlyFigures(agency_id=a, procedure_id=p, channel=c, month=m, **values)
         for (a, p, c, m), values in rows.items()], batch_size=2000)
    AgencyMonthlyFigures.objects.bulk_create(
        [AgencyMonthlyFigures(agency_id=a, month=m, **values) for (a, m), values in agency_deltas(counter).items()],
        batch_size=2000)


class _Inserter:
    """Plain INSERTs (executemany) on SQLite, COPY on PostgreSQL: Django's bulk_create spends more time building
    SQL than the database spends storing the rows."""

    def __init__(self, refs: dict, now: dt.datetime):
        from django.db import connection

        self.refs, self.connection = refs, connection
        self.monthly = collections.Counter()  # the statistics' monthly counters (egov.monitoring)
        connection.ensure_connection()
        self.raw, self.vendor = connection.connection, connection.vendor
        self.sqlite = self.vendor == "sqlite"
        self.now = self._time(now)
        if self.sqlite:
            self.raw.execute("PRAGMA cache_size = -400000")

    def _time(self, value):
        if value is None or not self.sqlite:
            return value
        return self.connection.ops.adapt_datetimefield_value(value)

    def insert(self, rows: list[tuple]) -> int:
        from django.db import transaction

        refs, t = self.refs, self._time
        dossiers, moves, facts = [], [], []
        for uid, sealed, key_id, d in rows:
            fact = statistics_fact(d, refs)
            self.monthly.update(contributions(fact))
            facts.append((d["code"], fact))
            who = d["owner"]
            dossiers.append((
                uid.hex if self.sqlite else uid, d["code"], refs["versions"][d["i"] % len(refs["versions"])],
                refs["agencies"][d["agency"]], d["channel"], d["status"],
                refs["citizens"][who] if who is not None else None, sealed, key_id, t(d["submitted_at"]),
                t(d["received_at"]), t(d["appointment_at"]), t(d["appointment_at"]), t(d["finished_at"]),
                t(d["delivered_at"]), "80.00" if d["received_at"] else None, d["supplement_count"], "{}", "",
                self.now, ""))  # result_delivery "": not asked, as for a dossier filed at the desk
            moves.append([(source, target, t(at or d["submitted_at"]), form)
                          for source, target, at, form in transitions(d)])
        with transaction.atomic():
            cursor = self.raw.cursor()
            cursor.execute("SELECT COALESCE(MAX(id), 0) FROM dossiers_dossier")
            before = cursor.fetchone()[0]
            columns = ", ".join(DOSSIER_COLUMNS)
            if self.sqlite:
                cursor.executemany(f"INSERT INTO dossiers_dossier ({columns}) VALUES "
                                   f"({', '.join('?' * len(DOSSIER_COLUMNS))})", dossiers)
            else:
                with cursor.copy(f"COPY dossiers_dossier ({columns}) FROM STDIN") as copy:
                    for row in dossiers:
                        copy.write_row(row)
            cursor.execute(f"SELECT code, id FROM dossiers_dossier WHERE id > {int(before)}")
            ids = dict(cursor.fetchall())
            flat = [(ids[row[1]], source, target, at, form, "", "{}")
                    for row, batch in zip(dossiers, moves, strict=True) for source, target, at, form in batch]
            columns = ", ".join(TRANSITION_COLUMNS)
            if self.sqlite:
                cursor.executemany(f"INSERT INTO dossiers_transition ({columns}) VALUES "
                                   f"({', '.join('?' * len(TRANSITION_COLUMNS))})", flat)
            else:
                with cursor.copy(f"COPY dossiers_transition ({columns}) FROM STDIN") as copy:
                    for row in flat:
                        copy.write_row(row)
            fact_rows = [(ids[code], f.agency_id, f.procedure_id, f.channel, t(f.received_at), t(f.finished_at),
                          t(f.delivered_at), t(f.overdue_from), f.outcome,
                          f.received_at is not None and not f.outcome) for code, f in facts]
            columns = ", ".join(FACT_COLUMNS)
            if self.sqlite:
                cursor.executemany(f"INSERT INTO monitoring_dossierfact ({columns}) VALUES "
                                   f"({', '.join('?' * len(FACT_COLUMNS))})", fact_rows)
            else:
                with cursor.copy(f"COPY monitoring_dossierfact ({columns}) FROM STDIN") as copy:
                    for row in fact_rows:
                        copy.write_row(row)
            cursor.close()
        return len(dossiers)


def _sequences(n: int, anchor: dt.date) -> None:
    """Each bench agency's last code number per day, so that real submissions continue after the bench ones."""
    from django.db.models import F
    from django.db.models.functions import Greatest

    from egov.dossiers.models import DossierCodeSequence

    last: dict[tuple[str, dt.date], int] = {}
    codes = agency_codes()
    daily = per_day(n)
    for day_index in range(-(-n // daily)):
        day = anchor - dt.timedelta(days=HISTORY_DAYS - 1 - day_index)
        full, part = divmod(min(daily, n - day_index * daily), 1000)
        counts = [full * COUNTS[agency] for agency in range(AGENCIES)]
        for slot in range(part):
            counts[TABLE[slot]] += 1
        for agency, count in enumerate(counts):
            if count:
                last[(codes[agency], day)] = count
    DossierCodeSequence.objects.bulk_create(
        [DossierCodeSequence(agency_code=code, day=day, last=0) for (code, day) in last], ignore_conflicts=True,
        batch_size=2000)
    for (code, day), value in last.items():
        DossierCodeSequence.objects.filter(agency_code=code, day=day).update(last=Greatest(F("last"), value))


def _analyze() -> None:
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for table in ("dossiers_dossier", "dossiers_transition", "dossiers_dossiercodesequence"):
                cursor.execute(f"VACUUM ANALYZE {table}")
    else:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def generate(n: int, anchor: dt.date, *, start: int = 0, workers: int = 2, batch: int = 10_000, log=print) -> int:
    global _JOB
    from django.db import connections
    from django.utils import timezone

    _JOB = (n, anchor)
    refs = ensure_references()
    ranges = [(a, min(a + batch, n)) for a in range(start, n, batch)]
    workers = max(1, min(workers, os.cpu_count() or 1, len(ranges) or 1))
    now = timezone.now()
    inserted = done = 0
    started = last_report = time.perf_counter()
    connections.close_all()  # never share a database connection with forked children
    pool = multiprocessing.get_context("fork").Pool(workers) if workers > 1 else None
    results = pool.imap(seal_range, ranges) if pool else map(seal_range, ranges)
    try:
        inserter = _Inserter(refs, now)
        for (a, b), rows in zip(ranges, results, strict=True):
            inserted += inserter.insert(rows)
            done += b - a
            if time.perf_counter() - last_report > 10:
                last_report = time.perf_counter()
                log(f"dossiers: {start + done:,} of {n:,} ({done / (last_report - started):,.0f}/s)")
    finally:
        if pool is not None:
            pool.terminate()
            pool.join()
    _monthly(inserter.monthly)
    _sequences(n, anchor)
    from egov.dossiers import services

    if hasattr(services, "rebuild_status_counts"):
        services.rebuild_status_counts()
    _analyze()
    return inserted


def _purge(log) -> None:
    """Remove bench dossiers of another size or anchor (their codes and times depend on both)."""
    from django.db import connection, transaction

    from egov.dossiers.models import Dossier, DossierCodeSequence
    from egov.registries.models import Agency

    agencies = list(Agency.objects.filter(code__in=agency_codes()).values_list("id", flat=True))
    if not agencies or not Dossier.objects.filter(receiving_agency_id__in=agencies).exists():
        return
    log("dossiers: removing the bench dossiers of an earlier size")
    marks = ", ".join(["%s"] * len(agencies))
    with transaction.atomic(), connection.cursor() as cursor:
        chosen = f"SELECT id FROM dossiers_dossier WHERE receiving_agency_id IN ({marks})"
        cursor.execute(f"DELETE FROM monitoring_dossierfact WHERE dossier_id IN ({chosen})", agencies)
        cursor.execute(f"DELETE FROM monitoring_monthlyfigures WHERE agency_id IN ({marks})", agencies)
        cursor.execute(f"DELETE FROM monitoring_agencymonthlyfigures WHERE agency_id IN ({marks})", agencies)
        for table in ("dossiers_transition", "dossiers_step", "dossiers_pause", "dossiers_attachment",
                      "dossiers_rating"):
            cursor.execute(f"DELETE FROM {table} WHERE dossier_id IN ({chosen})", agencies)
        cursor.execute(f"DELETE FROM dossiers_dossier WHERE receiving_agency_id IN ({marks})", agencies)
        DossierCodeSequence.objects.filter(agency_code__in=agency_codes()).delete()


def _holds(code: str) -> bool:
    from egov.dossiers.models import Dossier

    return Dossier.objects.filter(code=code).exists()


def ensure_dossiers(n: int, data_dir: Path | None = None, *, workers: int = 2, log=print) -> dict:
    """Make sure the N bench dossiers exist; returns the marker ({count, anchor, ...}). A different N or a stale
    marker starts afresh only when no bench dossier exists (delete ``bench/.cache/`` to regenerate)."""
    data_dir = Path(data_dir or os.environ["EGOV_DATA_DIR"])
    marker = data_dir / MARKER
    if marker.exists():
        try:
            recorded = json.loads(marker.read_text())
        except ValueError:
            recorded = {}
        if recorded.get("version") == MARKER_VERSION and recorded.get("count", 0) >= n:
            anchor = dt.date.fromisoformat(recorded["anchor"])
            count = recorded["count"]
            if _holds(dossier(0, count, anchor)["code"]) and _holds(dossier(count - 1, count, anchor)["code"]):
                log(f"dossiers: {count:,} bench dossiers cached ({marker})")
                return recorded
    _purge(log)
    anchor = dt.datetime.now(VN).date()
    started = time.perf_counter()
    inserted = generate(n, anchor, workers=workers, log=log)
    seconds = time.perf_counter() - started
    recorded = {"version": MARKER_VERSION, "count": n, "anchor": anchor.isoformat(), "seconds": round(seconds, 1),
                "inserted": inserted}
    marker.write_text(json.dumps(recorded))
    log(f"dossiers: {n:,} generated in {seconds:.1f} s ({n / seconds:,.0f} dossiers/s)")
    return recorded


if __name__ == "__main__":  # uv run python bench/dossier_data.py N  (in the bench environment of bench/run.py)
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import run as bench_run

    data_dir = bench_run.prepare_environment()
    bench_run.create_postgres_database_if_missing()
    bench_run.migrate_and_seed(data_dir)
    ensure_dossiers(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000, data_dir)
