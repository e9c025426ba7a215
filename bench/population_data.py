"""Fill a benchmark database with N synthetic persons, fast, once per database.

Person ``i`` (0 ≤ i < N) is a pure function of ``i``: ``identity(i)`` gives their identification number, full name,
date of birth and sex, so a load client picks any existing person without reading the database. The numbers are
unique by construction: digits 7-12 are a permutation of ``i mod 10^6`` and the province (digits 1-3) shifts with
``i // 10^6`` (up to 63 million persons). Names come from the demo population's lists
(``egov.registries.demo_population``).

Rows are sealed exactly like every person (``Person.seal``: AES-GCM envelope and blind indexes under the active key),
over ``workers`` processes (fork), and inserted by the parent in big batches: one prepared ``INSERT … ON CONFLICT DO
NOTHING`` with executemany on SQLite; ``COPY`` into a temporary table then ``INSERT … SELECT … ON CONFLICT DO NOTHING``
on PostgreSQL. Skipping conflicts makes a re-run harmless, and lets a bench person whose number happens to equal a
demo person's simply not be inserted (that person then answers "no match": still a 2xx).

Cached: ``<data dir>/population.json`` records how many persons are loaded; it is trusted only while the database
still holds the first and the last of them, and a larger N extends the population from where it stopped.
No household or family links: the benchmarks read and verify single persons.
"""
from __future__ import annotations

import json
import multiprocessing
import os
import random
import time
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import accumulate
from pathlib import Path

SEED = 7919
PERMUTATION_A = 740_191      # coprime with 10^6: i -> (A·i + C) mod 10^6 is a permutation of 0..999,999
PERMUTATION_C = 123_457
BLOCK = 1_000_000
LAST_BIRTH = date(2025, 12, 31)
MARKER = "population.json"
MARKER_VERSION = 1
COLUMNS = ("uid", "sealed", "key_id", "pin_index", "name_dob_index", "phone_index", "email_index")


@dataclass(frozen=True)
class Identity:
    pin: str
    full_name: str
    date_of_birth: date
    sex: str


def _lists():
    from egov.registries import demo_population as demo
    from egov.registries import rules

    family = [name for name, _ in demo.KINH_FAMILY_NAMES]
    cumulative = list(accumulate(weight for _, weight in demo.KINH_FAMILY_NAMES))
    return demo, sorted(rules.PIN_PROVINCE_CODES), family, cumulative


_LISTS = None


def _rng(i: int) -> random.Random:
    return random.Random(SEED * 1_000_003 + i)


def identity(i: int, rng: random.Random | None = None) -> Identity:
    """Who bench person ``i`` is (pure: the same for every process and every run)."""
    global _LISTS
    if _LISTS is None:
        _LISTS = _lists()
    demo, provinces, family_names, cumulative = _LISTS
    from egov.registries import rules

    rng = rng or _rng(i)
    block, j = divmod(i, BLOCK)
    if block >= len(provinces):
        raise ValueError(f"at most {len(provinces) * BLOCK:,} bench persons")
    random_part = (PERMUTATION_A * j + PERMUTATION_C) % BLOCK
    province = provinces[(random_part % len(provinces) + block) % len(provinces)]
    sex = demo.MALE if rng.random() < 0.5 else demo.FEMALE
    year = LAST_BIRTH.year - int(rng.triangular(0, 95, 30))
    born = date(year, 1, 1) + timedelta(days=rng.randrange(365))
    born = min(born, LAST_BIRTH)
    family = rng.choices(family_names, cum_weights=cumulative)[0]
    if "|" in family:
        family = rng.choice(family.split("|"))
    modern = year >= 1985
    if sex == demo.MALE:
        middle = "Văn" if rng.random() < (0.2 if modern else 0.6) else rng.choice(
            demo.MIDDLE_MALE_NEW if modern else demo.MIDDLE_MALE_OLD)
        given = rng.choice(demo.GIVEN_MALE_NEW if modern else demo.GIVEN_MALE_OLD)
    else:
        middle = "Thị" if rng.random() < (0.3 if modern else 0.85) else rng.choice(demo.MIDDLE_FEMALE)
        given = rng.choice(demo.GIVEN_FEMALE_NEW if modern else demo.GIVEN_FEMALE_OLD)
    pin = f"{province}{rules.century_sex_digit(year, sex)}{year % 100:02d}{random_part:06d}"
    return Identity(pin=pin, full_name=f"{family} {middle} {given}", date_of_birth=born, sex=sex)


def person_data(i: int, communes: list[str], legacy_names: dict[str, str]):
    """Bench person ``i``'s full record (identity plus residence, phone, email) and their uid."""
    from egov.kernel.text import fold
    from egov.registries import demo_population as demo
    from egov.registries.models import PersonalData

    rng = _rng(i)
    who = identity(i, rng)
    commune = communes[rng.randrange(len(communes))]
    address = f"{rng.randint(1, 400)} {rng.choice(demo.STREETS)}"
    age = LAST_BIRTH.year - who.date_of_birth.year
    phone = email = ""
    if age >= 18 and rng.random() < 0.8:
        phone = rng.choice(demo.MOBILE_PREFIXES) + f"{rng.randrange(10_000_000):07d}"
    if 18 <= age <= 60 and rng.random() < 0.4:
        words = fold(who.full_name).split()
        email = f"{words[-1]}.{words[0]}.{i}@{rng.choice(demo.EMAIL_DOMAINS)}"
    uid = uuid.UUID(int=rng.getrandbits(128), version=4)
    data = PersonalData(
        personal_id_number=who.pin, full_name=who.full_name, date_of_birth=who.date_of_birth, sex=who.sex,
        ethnicity="Kinh", birth_registration_place=legacy_names.get(who.pin[1:3], ""),
        permanent_residence_unit=commune, permanent_address=address, current_residence_unit=commune,
        current_address=address, phone=phone, email=email)
    return uid, data


# --- sealing in worker processes ------------------------------------------------------------------------------------

_CONTEXT: tuple | None = None  # (communes, legacy_names), set in the parent before the workers fork


def seal_range(bounds: tuple[int, int]) -> list[tuple]:
    """Rows (COLUMNS) for persons ``start`` to ``stop - 1``, sealed with the active key."""
    from egov.kernel import crypto
    from egov.registries.models import Person

    communes, legacy_names = _CONTEXT
    key = crypto.keyring().active
    rows = []
    for i in range(*bounds):
        uid, data = person_data(i, communes, legacy_names)
        person = Person(uid=uid)
        person.seal(data, key=key)
        rows.append((uid.hex, person.sealed, person.key_id, person.pin_index, person.name_dob_index,
                     person.phone_index, person.email_index))
    return rows


# --- inserting --------------------------------------------------------------------------------------------------------

class _Inserter:
    def __init__(self):
        from django.db import connection
        from django.utils import timezone

        from egov.registries.models import Person

        self.connection = connection
        self.table = Person._meta.db_table
        now = timezone.now()
        self.now = connection.ops.adapt_datetimefield_value(now)
        connection.ensure_connection()
        self.raw = connection.connection
        self.vendor = connection.vendor
        columns = ", ".join(COLUMNS + ("status", "created_at", "updated_at", "version"))
        if self.vendor == "sqlite":
            self.raw.execute("PRAGMA cache_size = -400000")  # 400 MB for this connection: the indexes stay in memory
            self.sql = (f'INSERT INTO "{self.table}" ({columns}) VALUES ({", ".join("?" * len(COLUMNS))}, '
                        f"'living', ?, ?, 1) ON CONFLICT DO NOTHING")
        elif self.vendor == "postgresql":
            with self.raw.cursor() as cursor:
                cursor.execute("CREATE TEMPORARY TABLE IF NOT EXISTS bench_person_load (uid text, sealed text, "
                               "key_id text, pin_index text, name_dob_index text, phone_index text, "
                               "email_index text)")
            self.sql = (f'INSERT INTO "{self.table}" ({columns}) SELECT uid::uuid, sealed, key_id, pin_index, '
                        f"name_dob_index, phone_index, email_index, 'living', %s, %s, 1 FROM bench_person_load "
                        "ON CONFLICT DO NOTHING")
        else:
            raise RuntimeError(f"unsupported database {self.vendor}")

    def insert(self, rows: list[tuple]) -> int:
        from django.db import transaction

        with transaction.atomic():
            if self.vendor == "sqlite":
                before = self.raw.total_changes
                self.raw.executemany(self.sql, [row + (self.now, self.now) for row in rows])
                return self.raw.total_changes - before
            with self.raw.cursor() as cursor:
                with cursor.copy(f"COPY bench_person_load ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
                cursor.execute(self.sql, [self.now, self.now])
                inserted = cursor.rowcount
                cursor.execute("TRUNCATE bench_person_load")
                return inserted

    def finish(self) -> None:
        if self.vendor == "postgresql":
            with self.raw.cursor() as cursor:
                cursor.execute(f'ANALYZE "{self.table}"')


def _context() -> tuple[list[str], dict[str, str]]:
    from egov.registries.models import AdministrativeUnit

    communes = list(AdministrativeUnit.objects.filter(generation="2025", level="commune").order_by("code")
                    .values_list("code", flat=True))
    if not communes:
        raise RuntimeError("no administrative units: seed the database first (egov seed)")
    legacy = dict(AdministrativeUnit.objects.filter(generation="legacy", level="province").values_list("code", "name"))
    return communes, legacy


def generate(start: int, stop: int, *, workers: int = 2, batch: int = 10_000, log=print) -> int:
    """Seal and insert persons ``start`` to ``stop - 1``; return how many rows were inserted."""
    global _CONTEXT
    from django.db import connections

    _CONTEXT = _context()
    ranges = [(a, min(a + batch, stop)) for a in range(start, stop, batch)]
    workers = max(1, min(workers, os.cpu_count() or 1, len(ranges)))
    inserted = done = 0
    started = last_report = time.perf_counter()
    if workers == 1:  # in this process (and inside the caller's transaction, e.g. a test's)
        results = map(seal_range, ranges)
        pool = None
    else:
        connections.close_all()  # never share a database connection with forked children
        pool = multiprocessing.get_context("fork").Pool(workers)
        results = pool.imap(seal_range, ranges)
    try:
        inserter = _Inserter()
        for (a, b), rows in zip(ranges, results, strict=True):
            inserted += inserter.insert(rows)
            done += b - a
            if time.perf_counter() - last_report > 10:
                last_report = time.perf_counter()
                rate = done / (last_report - started)
                log(f"population: {start + done:,} of {stop:,} persons ({rate:,.0f}/s)")
        inserter.finish()
    finally:
        if pool is not None:
            pool.terminate()
            pool.join()
    return inserted


def _holds(i: int) -> bool:
    from egov.kernel import crypto
    from egov.registries.models import PIN_FIELD, Person

    return Person.objects.filter(pin_index__in=crypto.blind_indexes(PIN_FIELD, identity(i).pin)).exists()


def ensure_population(n: int, data_dir: Path | None = None, *, workers: int = 2, batch: int = 10_000,
                      log=print) -> int:
    """Make sure bench persons 0 … n-1 exist; return how many bench persons the database holds (≥ n)."""
    data_dir = Path(data_dir or os.environ["EGOV_DATA_DIR"])
    marker = data_dir / MARKER
    loaded = 0
    if marker.exists():
        try:
            recorded = json.loads(marker.read_text())
        except ValueError:
            recorded = {}
        count = int(recorded.get("count", 0)) if recorded.get("version") == MARKER_VERSION else 0
        if count and recorded.get("seed") == SEED and _holds(0) and _holds(count - 1):
            loaded = count
    if loaded >= n:
        log(f"population: {loaded:,} bench persons cached ({marker})")
        return loaded
    started = time.perf_counter()
    inserted = generate(loaded, n, workers=workers, batch=batch, log=log)
    seconds = time.perf_counter() - started
    marker.write_text(json.dumps({"version": MARKER_VERSION, "seed": SEED, "count": n, "seconds": round(seconds, 1),
                                  "inserted": inserted}))
    log(f"population: persons {loaded:,} to {n - 1:,} generated in {seconds:.1f} s ({inserted:,} rows inserted, "
        f"{(n - loaded) / seconds:,.0f} persons/s)")
    return n


if __name__ == "__main__":  # uv run python bench/population_data.py N  (in the bench environment of bench/run.py)
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import run as bench_run

    data_dir = bench_run.prepare_environment()
    bench_run.create_postgres_database_if_missing()
    bench_run.migrate_and_seed(data_dir)
    ensure_population(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000, data_dir)
