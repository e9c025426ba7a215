"""In-process cost of a GovStack population read vs the bare reference view (CPU ms per request, queries).

    uv run python bench/prof_read.py [N] [--profile [--cpu]] [--callees] [--sql]
    EGOV_DATABASE_URL=postgres://postgres@127.0.0.1:5432/NAME uv run python bench/prof_read.py

Uses the bench environment (bench/.cache/<database>; persons first: ``uv run python bench/population_data.py
100000``). Prints the median and minimum CPU (time.process_time) and wall time per request of nine interleaved rounds
of each URL through django.test.Client (the machine may be shared: compare numbers of one run), the queries of one
read, and with --profile a cProfile of N reads (--cpu: CPU time only, without the waits on the database).
"""
import cProfile
import json
import os
import pstats
import random
import statistics
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
os.environ["EGOV_BENCH_BARE_VIEW"] = "1"

import run as bench_run  # noqa: E402

data_dir = bench_run.prepare_environment()
import django  # noqa: E402

django.setup()

import bench_population  # noqa: E402
import population_data  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

N = int(next((a for a in sys.argv[1:] if a.isdigit()), 1000))
PERSONS = json.loads((data_dir / population_data.MARKER).read_text())["count"]
key = bench_population.prepare_client()
client = Client(HTTP_HOST="127.0.0.1")
headers = {"Authorization": f"Bearer {key}", "X-Purpose": "benchmark"}
rng = random.Random(1)


def call(path):
    body = bench_population.body_for(path, rng.randrange(PERSONS))
    response = client.post(path, body, content_type="application/json", headers=headers)
    assert response.status_code == 200, (response.status_code, response.content[:300])
    return response


def statements(path) -> list[str]:
    """The SQL statements of one request to ``path``."""
    seen = []

    def record(execute, sql, params, many, context):
        seen.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        call(path)
    return seen


if "--sql" in sys.argv:
    print("\n".join(q[:300] for q in statements(bench_population.READ)))
print("sample read:", call(bench_population.READ).content[:200])


def bare():
    client.get("/bench/bare")


PATHS = {"bare": bare, "reference": lambda: call(bench_population.REFERENCE),
         "read": lambda: call(bench_population.READ)}
for fn in PATHS.values():
    for _ in range(50):
        fn()
ROUNDS, PER_ROUND = 9, max(1, N // 9)
cpu = {name: [] for name in PATHS}
wall = {name: [] for name in PATHS}
for _ in range(ROUNDS):  # interleaved short rounds: the machine is shared, so compare medians of the same moments
    for name, fn in PATHS.items():
        started, started_wall = time.process_time(), time.perf_counter()
        for _ in range(PER_ROUND):
            fn()
        cpu[name].append((time.process_time() - started) / PER_ROUND * 1000)
        wall[name].append((time.perf_counter() - started_wall) / PER_ROUND * 1000)
for name, path in (("reference", bench_population.REFERENCE), ("read", bench_population.READ)):
    print(f"{name}: {len(statements(path))} queries")
for name in PATHS:
    print(f"{name:10s} CPU ms median {statistics.median(cpu[name]):6.3f} min {min(cpu[name]):6.3f}   "
          f"wall ms median {statistics.median(wall[name]):6.3f} min {min(wall[name]):6.3f}")

if "--profile" in sys.argv:
    profile = cProfile.Profile(time.process_time) if "--cpu" in sys.argv else cProfile.Profile()
    profile.enable()
    for _ in range(N):
        call(bench_population.READ)
    profile.disable()
    stats = pstats.Stats(profile)
    stats.sort_stats("tottime").print_stats(25)
    stats.sort_stats("cumulative").print_stats(45)
    if "--callees" in sys.argv:
        stats.sort_stats("cumulative").print_callees("operation.py:222\\(run\\)|ledger.py:274|_population_out|read_person|person_by_pin|active_registry|active_client|client_caller|_get_values|_result_to_response")
