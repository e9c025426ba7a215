"""In-process profile of one online submission (issue 6): the two POSTs of bench/bench_submission.py through
django.test.Client, CPU ms per dossier (time.process_time), queries per dossier, and the top of cProfile.

    uv run python bench/prof_submission.py [N] [--profile [--cpu]] [--sql] [--qtime]
    EGOV_DATABASE_URL=postgres://postgres@127.0.0.1:5432/egov_h3 uv run python bench/prof_submission.py [N] [--profile]

Uses the bench's environment (bench/.cache/<database>, migrated and seeded by ``bench/run.py --only submission``).
The bare view (/bench/bare) is measured the same way as the floor of a Django request.
"""
import collections
import contextlib
import cProfile
import io
import os
import pstats
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
os.environ["EGOV_BENCH_BARE_VIEW"] = "1"

import run as bench_run  # noqa: E402

bench_run.prepare_environment()
bench_run.create_postgres_database_if_missing()
bench_run.migrate_and_seed(Path(os.environ["EGOV_DATA_DIR"]))

import bench_submission  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

N = int(next((a for a in sys.argv[1:] if a.isdigit()), "100"))
PROFILE = "--profile" in sys.argv
settings.ALLOWED_HOSTS = ["*"]

versions = bench_submission.prepare_units()
(prepared,) = bench_submission.prepare_clients(1, N + 20, versions)
pdf = bench_submission.pdf_bytes()
browser = Client(HTTP_HOST="127.0.0.1")
browser.cookies[settings.SESSION_COOKIE_NAME] = prepared["session"]
drafts = prepared["drafts"]


def submit(uid, key, counts, cpu=None):
    """Both POSTs of one dossier. ``counts`` gets the queries of each (the timed rounds pass None: capturing makes
    every statement go through Django's debug cursor, which costs CPU production does not spend); ``cpu`` gets the
    CPU time of each."""
    body, content_type = bench_submission._multipart({"continue": "1"},
                                                     {"file_DON": ("don.pdf", pdf, "application/pdf")})
    with CaptureQueriesContext(connection) if counts is not None else contextlib.nullcontext() as upload:
        started = time.process_time()
        response = browser.generic("POST", f"/apply/drafts/{uid}/files-required/", body, content_type)
        middle = time.process_time()
    assert response.status_code == 302 and "/review/" in response["Location"], (response.status_code,
                                                                               response.content[:2000])
    with CaptureQueriesContext(connection) if counts is not None else contextlib.nullcontext() as review:
        response = browser.post(f"/apply/drafts/{uid}/review/",
                                {"idempotency_key": key, "result_delivery": "online", "submit": "1"})
        ended = time.process_time()
    assert response.status_code == 302 and "/apply/done/" in response["Location"], (response.status_code,
                                                                                   response.content[:2000])
    if cpu is not None:
        cpu[0] += middle - started
        cpu[1] += ended - middle
    if counts is None:
        return None, None
    counts[0] += len(upload.captured_queries)
    counts[1] += len(review.captured_queries)
    return upload.captured_queries, review.captured_queries


statement_times: dict[str, float] = collections.defaultdict(float)
statement_counts: collections.Counter = collections.Counter()


def time_statement(execute, sql, params, many, context):
    started = time.perf_counter()
    try:
        return execute(sql, params, many, context)
    finally:
        statement_times[sql[:90]] += time.perf_counter() - started
        statement_counts[sql[:90]] += 1


warm = [0, 0]
for uid, key in drafts[:20]:
    upload_q, review_q = submit(uid, key, warm)
if "--sql" in sys.argv:
    for name, queries in (("upload", upload_q), ("review", review_q)):
        print(f"--- {name}: {len(queries)} queries")
        for q in queries:
            print("   ", q["sql"][:300])

ROUNDS = 1 if PROFILE or "--qtime" in sys.argv else 3  # the least CPU of a few rounds: the machine is shared
(prepared_more,) = bench_submission.prepare_clients(1, N * ROUNDS, versions)
browser.cookies[settings.SESSION_COOKIE_NAME] = prepared_more["session"]
rounds = [prepared_more["drafts"][i * N:(i + 1) * N] for i in range(ROUNDS)]
profiler = (cProfile.Profile(time.process_time) if "--cpu" in sys.argv else cProfile.Profile()) if PROFILE else None
best_cpu = best_wall = None
best_split = None
for batch in rounds:
    split = [0.0, 0.0]
    wall = time.perf_counter()
    cpu = time.process_time()
    if profiler:
        profiler.enable()
    if "--qtime" in sys.argv:  # wall time per statement text
        with connection.execute_wrapper(time_statement):
            for uid, key in batch:
                submit(uid, key, None, split)
        for text, seconds in sorted(statement_times.items(), key=lambda item: -item[1])[:25]:
            print(f"{seconds / N * 1000:7.2f} ms/dossier  x{statement_counts[text] / N:.1f}  {text}")
    else:
        for uid, key in batch:
            submit(uid, key, None, split)
    if profiler:
        profiler.disable()
    cpu = time.process_time() - cpu
    wall = time.perf_counter() - wall
    if best_cpu is None or cpu < best_cpu:
        best_split = split
    best_cpu = cpu if best_cpu is None else min(best_cpu, cpu)
    best_wall = wall if best_wall is None else min(best_wall, wall)
cpu, wall = best_cpu, best_wall

bare_n = 2000
for _ in range(50):
    browser.get("/bench/bare")
bare = None
for _round in range(3):
    started = time.process_time()
    for _ in range(bare_n):
        browser.get("/bench/bare")
    took = (time.process_time() - started) / bare_n * 1000
    bare = took if bare is None else min(bare, took)

print(f"{connection.vendor}: {N} dossiers (least of {ROUNDS} rounds), CPU {cpu / N * 1000:.2f} ms/dossier "
      f"(wall {wall / N * 1000:.2f} ms; upload {best_split[0] / N * 1000:.2f}, review {best_split[1] / N * 1000:.2f}), "
      f"queries/dossier: upload {warm[0] / 20:.1f}, review {warm[1] / 20:.1f}; bare view {bare:.3f} ms CPU/request")
if profiler:
    profiler.dump_stats("/tmp/prof_submit.out")
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(60)
    stats.sort_stats("cumulative").print_stats("egov/", 60)
    stats.sort_stats("tottime").print_stats(40)
    print(out.getvalue())
