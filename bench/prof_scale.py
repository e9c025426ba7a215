"""CPU per request, in-process, of the scale benchmark's pages (``bench_scale.py``): the largest agency's inbox (first
and a later page), "my dossiers", the Registration API's application list, against ``/bench/bare``. Measured with
``time.process_time()`` around N calls of ``django.test.Client`` after a warm-up, and queries per request counted with
``CaptureQueriesContext``. Needs the scale benchmark's data (run ``bench/run.py --quick --only scale`` once).

    uv run python bench/prof_scale.py [N] [--profile PAGE]   # PAGE: a name below; prints cProfile's top entries

On 2 shared cores the figures are noisy: compare runs of the same script, a few times each.
"""
import cProfile
import os
import pstats
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))
os.environ["EGOV_BENCH_BARE_VIEW"] = "1"

import run as bench_run  # noqa: E402

bench_run.prepare_environment()

import django  # noqa: E402

django.setup()

import bench_scale  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    n = int(args[0]) if args else 200
    profile = sys.argv[sys.argv.index("--profile") + 1] if "--profile" in sys.argv else None
    setup = bench_scale.prepare(1)
    officer = setup["officer"][0].split("=", 1)[1]
    citizen = setup["citizen"][0].split("=", 1)[1]
    pages = {
        "bare": ("/bench/bare", {}),
        "inbox": ("/backoffice/", {"cookie": officer}),
        "inbox-later": (f"/backoffice/?after={setup['afters'][len(setup['afters']) // 2]}", {"cookie": officer}),
        "mine": ("/dossiers/", {"cookie": citizen}),
        "applications": ("/api/govstack/registration/applications", {"auth": setup["key"]}),
    }
    from django.conf import settings

    for name, (path, how) in pages.items():
        client = Client(HTTP_ACCEPT="text/html,application/json")
        if "cookie" in how:
            client.cookies[settings.SESSION_COOKIE_NAME] = how["cookie"]
        headers = {"Authorization": f"Bearer {how['auth']}"} if "auth" in how else {}
        for _ in range(20):  # warm: templates, translations, connections, caches
            response = client.get(path, headers=headers)
            assert response.status_code == 200, (name, response.status_code, response.content[:300])
        with CaptureQueriesContext(connection) as queries:
            client.get(path, headers=headers)
        captured = list(queries.captured_queries)  # the next request's request_started empties the log
        batches = []  # the fastest batch is the least disturbed by the other processes on the shared cores
        for _ in range(10):
            started = time.process_time()
            for _ in range(max(1, n // 10)):
                client.get(path, headers=headers)
            batches.append((time.process_time() - started) / max(1, n // 10) * 1000)
        batches.sort()
        print(f"{name:14s} {batches[0]:6.2f} ms CPU/request (best batch; median {batches[5]:6.2f})  "
              f"{len(captured):2d} queries  {len(response.content):6d} bytes")
        if "-v" in sys.argv:
            for q in captured:
                print("    ", q["sql"][:200])
        if profile == name:
            profiler = cProfile.Profile(time.process_time)
            profiler.enable()
            for _ in range(n):
                client.get(path, headers=headers)
            profiler.disable()
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(45)
            pstats.Stats(profiler).sort_stats("tottime").print_stats(30)
            for function in sys.argv[sys.argv.index("--profile") + 2:]:
                pstats.Stats(profiler).sort_stats("cumulative").print_callees(function)


if __name__ == "__main__":
    main()
