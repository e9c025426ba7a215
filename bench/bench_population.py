"""Population registry under load: identity verification requests/s, and GovStack reads by ID (p95 latency).

Fills the database with N synthetic persons first (``population_data.ensure_population``: 1,000,000, or 100,000 with
``--quick``; ``EGOV_BENCH_PERSONS`` overrides; cached per database), registers a benchmark client system with every
population grant and a verification limit too high to bite, then starts the production server like
``bench_home.py`` (``egov serve``: gunicorn, DEBUG off, ``EGOV_BENCH_BARE_VIEW=1``) and measures, same server, same run:

(a) ``POST /api/v1/population/verify`` (API key, rights, shared-store rate limit, blind-index lookup, decryption,
    name and date comparison, one ledger event) against ``POST /bench/verify-reference``, a bare Django view that
    parses the same body and does one indexed SELECT (the person by the blind index of the number) and one INSERT.
    ``EGOV_BENCH_CLIENTS`` (default 4) client processes, each one keep-alive connection; a warm-up, then 1 round
    (``--quick``: 3 s per URL) or 3 interleaved rounds (10 s per URL). Target: ratio ≥ 0.6.
(b) ``POST /api/govstack/digital-registries/data/population/1.0/read`` by identification number with 16 concurrent
    clients (processes, keep-alive), each request a random existing person: p95 latency. Target: p95 ≤ 25 ms. The
    reference is the p95 of the bare view above under the same 16 clients; the ratio is reference / value (1 would
    be as fast as the bare view).

Every request names a random existing person (``population_data.identity(i)``, computed by the client). Every answer
other than 2xx, and every request without an answer, counts as a failure and is reported.
"""
import http.client
import json
import multiprocessing
import os
import random
import secrets
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
if str(BENCH_DIR) not in sys.path:
    sys.path.insert(0, str(BENCH_DIR))

import bench_home  # noqa: E402  (the server helpers)
import population_data  # noqa: E402
import wrk_load  # noqa: E402

TARGET_RATIO = 0.6
TARGET_P95_MS = 25.0
READ_CLIENTS = 16
VERIFY = "/api/v1/population/verify"
REFERENCE = "/bench/verify-reference"
READ = "/api/govstack/digital-registries/data/population/1.0/read"
BENCH_SUBSYSTEM = "bench"
VERIFY_LIMIT = 2_000_000_000  # per minute: never reached
GRANTS = {"population.verify": [], "population.release": ["benchmark"], "registry.population.read": []}


def prepare_client() -> str:
    """The benchmark client system (created once, its key renewed every run); returns its raw API key."""
    from django.db import connection

    from egov.exchange import services as exchange
    from egov.exchange.models import ClientSystem
    from egov.kernel.access import SYSTEM
    from egov.portal.views import ensure_bench_verify_table
    from egov.registries.models import Agency
    from egov.registries.services import ensure_population_registry

    ensure_population_registry()
    ensure_bench_verify_table(connection)
    agency = Agency.objects.filter(parent__isnull=True).order_by("code").first()
    if agency is None:
        raise RuntimeError("no agency: the benchmark database must be seeded with `egov seed --demo`")
    identifier = f"VN:GOV:{agency.code}:{BENCH_SUBSYSTEM}"
    client = ClientSystem.objects.filter(identifier=identifier).first()
    if client is None:
        client, raw_key = exchange.register_client(caller=SYSTEM, identifier=identifier, name="Benchmark client",
                                                   agency=agency, grants=GRANTS, verify_limit_per_minute=VERIFY_LIMIT)
        return raw_key
    raw_key = exchange.KEY_PREFIX + secrets.token_urlsafe(32)
    client.key_digest, client.key_hint = exchange.key_digest(raw_key), raw_key[:10]
    client.is_active, client.verify_limit_per_minute = True, VERIFY_LIMIT
    client.save(update_fields=["key_digest", "key_hint", "is_active", "verify_limit_per_minute"])
    exchange.set_grants(client, GRANTS, caller=SYSTEM)
    return raw_key


def body_for(path: str, i: int) -> bytes:
    who = population_data.identity(i)
    if path == READ:
        return json.dumps({"query": {"content": {"personal_id_number": who.pin}}}).encode()
    return json.dumps({"personal_id_number": who.pin, "full_name": who.full_name,
                       "date_of_birth": who.date_of_birth.isoformat()}).encode()


def client(port: int, path: str, key: str, persons: int, seconds: float, max_requests: int, seed: int,
           keep_latencies: bool, results) -> None:
    """One keep-alive connection POSTing requests, each for a random existing person, until time or budget ends."""
    rng = random.Random(seed)
    ok = failed = matched = 0
    statuses: dict[int, int] = {}
    latencies: list[float] = []
    headers = {"Host": "127.0.0.1", "Content-Type": "application/json", "Accept": "application/json",
               "Authorization": f"Bearer {key}", "X-Purpose": "benchmark"}
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    started = time.perf_counter()
    deadline = started + seconds
    while ok + failed < max_requests and time.perf_counter() < deadline:
        body = body_for(path, rng.randrange(persons))
        sent = time.perf_counter()
        try:
            connection.request("POST", path, body=body, headers=headers)
            response = connection.getresponse()
            payload = response.read()
            if keep_latencies:
                latencies.append(time.perf_counter() - sent)
            if 200 <= response.status < 300:
                ok += 1
                answer = json.loads(payload)
                matched += bool(answer.get("match") if path != READ else answer.get("content"))
            else:
                failed += 1
                statuses[response.status] = statuses.get(response.status, 0) + 1
            if response.will_close:
                connection.close()
        except (OSError, http.client.HTTPException, ValueError):
            failed += 1
            statuses[0] = statuses.get(0, 0) + 1
            connection.close()
    elapsed = time.perf_counter() - started
    connection.close()
    results.put((ok, failed, statuses, elapsed, matched, latencies))


def load(port: int, path: str, key: str, persons: int, *, seconds: float, clients: int, keep_latencies=False,
         max_requests: int = 500_000) -> dict:
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    processes = [context.Process(target=client, args=(port, path, key, persons, seconds, max_requests // clients,
                                                      random.randrange(1 << 30), keep_latencies, results))
                 for _ in range(clients)]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=seconds + 60) for _ in processes]
    for process in processes:
        process.join(timeout=30)
    statuses: dict[int, int] = {}
    for outcome in outcomes:
        for status, count in outcome[2].items():
            statuses[status] = statuses.get(status, 0) + count
    ok = sum(o[0] for o in outcomes)
    return {"ok": ok, "failed": sum(o[1] for o in outcomes), "statuses": statuses,
            "seconds": max(o[3] for o in outcomes), "matched": sum(o[4] for o in outcomes),
            "latencies": sorted(x for o in outcomes for x in o[5])}


def wrk_reads(port: int, key: str, persons: int, *, seconds: float, warmup: float) -> tuple[dict, dict]:
    """The 16-client read phase with ``wrk`` (bench/wrk_load.py): reads of 2,000 random existing persons, then the
    bare view under the same load; returns (reads, reference) like ``load`` (latencies as the three percentiles)."""
    rng = random.Random(7)
    headers = {"Content-Type": "application/json", "Accept": "application/json", "Authorization": f"Bearer {key}",
               "X-Purpose": "benchmark"}
    picks = [rng.randrange(persons) for _ in range(2000)]
    outcomes = {}
    for path in (READ, REFERENCE):
        requests = [wrk_load.Request(path, "POST", headers, body_for(path, i)) for i in picks]
        wrk_load.load(port, requests, seconds=warmup, connections=READ_CLIENTS)
        outcome = wrk_load.load(port, requests, seconds=seconds, connections=READ_CLIENTS)
        outcomes[path] = {"ok": outcome.ok, "failed": outcome.failed, "seconds": outcome.seconds,
                          "statuses": outcome.detail, "matched": outcome.ok,
                          "p": {0.5: outcome.p50_ms / 1000, 0.95: outcome.p95_ms / 1000, 0.99: outcome.p99_ms / 1000}}
    return outcomes[READ], outcomes[REFERENCE]


def percentile(values, fraction: float) -> float:
    if isinstance(values, dict):  # wrk's percentiles
        return values[fraction]
    if not values:
        return float("nan")
    return values[min(len(values) - 1, int(round(fraction * (len(values) - 1))))]


def _add(total: dict, outcome: dict) -> None:
    for name in ("ok", "failed", "seconds", "matched"):
        total[name] = total.get(name, 0) + outcome[name]
    for status, count in outcome["statuses"].items():
        total.setdefault("statuses", {})[status] = total.get("statuses", {}).get(status, 0) + count


def run(quick: bool) -> list[dict]:
    persons_wanted = int(os.environ.get("EGOV_BENCH_PERSONS", "100000" if quick else "1000000"))
    seconds = 3.0 if quick else 10.0
    warmup = 0.5 if quick else 2.0
    rounds = 1 if quick else 3
    workers = int(os.environ.get("EGOV_WEB_WORKERS", "2"))
    clients = int(os.environ.get("EGOV_BENCH_CLIENTS", "4"))

    data_dir = Path(os.environ["EGOV_DATA_DIR"])
    persons = population_data.ensure_population(persons_wanted, data_dir)
    key = prepare_client()
    from django.db import connections

    connections.close_all()  # the client processes fork from here

    log_path = data_dir / "bench_population_server.log"
    port = bench_home.free_port()
    server = bench_home.start_server(port, workers, log_path)
    totals = {VERIFY: {}, REFERENCE: {}}
    try:
        bench_home.wait_ready(server, port, log_path)
        for path in (REFERENCE, VERIFY):  # warm every worker (connections, imports, key derivation)
            load(port, path, key, persons, seconds=warmup, clients=clients)
        for _ in range(rounds):
            for path in (REFERENCE, VERIFY):  # interleaved so that drift in machine load hits both alike
                _add(totals[path], load(port, path, key, persons, seconds=seconds, clients=clients))
        if wrk_load.available():
            reads, reference_reads = wrk_reads(port, key, persons, seconds=seconds, warmup=warmup)
        else:
            print("population: wrk is not installed (apt-get install wrk): the read phase uses 16 Python client "
                  "processes, whose own CPU and scheduling land in the latencies")
            load(port, READ, key, persons, seconds=warmup, clients=READ_CLIENTS)
            reads = load(port, READ, key, persons, seconds=seconds, clients=READ_CLIENTS, keep_latencies=True)
            reference_reads = load(port, REFERENCE, key, persons, seconds=seconds, clients=READ_CLIENTS,
                                   keep_latencies=True)
    finally:
        bench_home.stop_server(server)

    verify_rps = totals[VERIFY]["ok"] / totals[VERIFY]["seconds"]
    reference_rps = totals[REFERENCE]["ok"] / totals[REFERENCE]["seconds"]
    ratio = verify_rps / reference_rps if reference_rps else 0.0
    verify_failures = totals[VERIFY]["failed"] + totals[REFERENCE]["failed"]
    read_latencies = reads.get("p", reads.get("latencies"))
    p95 = percentile(read_latencies, 0.95) * 1000
    reference_p95 = percentile(reference_reads.get("p", reference_reads.get("latencies")), 0.95) * 1000
    read_failures = reads["failed"] + reference_reads["failed"]
    read_rps = reads["ok"] / reads["seconds"]
    print(f"population: {persons:,} bench persons; verify answered match for {totals[VERIFY]['matched']:,} of "
          f"{totals[VERIFY]['ok']:,}; reads: {reads['ok']:,} in {reads['seconds']:.1f} s ({read_rps:,.0f}/s), "
          f"p50 {percentile(read_latencies, 0.5) * 1000:.1f} ms, p95 {p95:.1f} ms, "
          f"p99 {percentile(read_latencies, 0.99) * 1000:.1f} ms; bare view under 16 clients: "
          f"{reference_reads['ok'] / reference_reads['seconds']:,.0f}/s, p95 {reference_p95:.1f} ms")
    detail = {name: outcome["statuses"] for name, outcome in
              (("verify", totals[VERIFY]), ("reference", totals[REFERENCE]), ("read", reads),
               ("reference (16 clients)", reference_reads)) if outcome.get("statuses")}
    if detail:
        print(f"population: non-2xx or failed answers by status (0 = no answer): {detail}; server log: {log_path}")
    return [
        {
            "name": f"population verify (gunicorn, {workers} workers, {clients} clients, {persons:,} persons)",
            "value": verify_rps, "unit": "req/s",
            "reference_name": "bare view: 1 indexed SELECT + 1 INSERT", "reference_value": reference_rps,
            "ratio": ratio, "target": f"ratio ≥ {TARGET_RATIO}",
            "ok": ratio >= TARGET_RATIO and verify_failures == 0, "failures": verify_failures,
        },
        {
            "name": f"GovStack read by ID, p95 ({READ_CLIENTS} clients, {persons:,} persons)",
            "value": p95, "unit": "ms",
            "reference_name": f"bare view p95, {READ_CLIENTS} clients", "reference_value": reference_p95,
            "ratio": reference_p95 / p95 if p95 else 0.0, "target": f"p95 ≤ {TARGET_P95_MS:g} ms",
            "ok": p95 <= TARGET_P95_MS and read_failures == 0, "failures": read_failures,
        },
    ]
