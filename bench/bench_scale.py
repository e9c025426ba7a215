"""The one-stop system at scale: p95 latency of the busiest pages over 1,000,000 dossiers (``--quick``: 100,000;
``EGOV_BENCH_DOSSIERS`` overrides), against the bare view's p95 under the same load.

Fills the database first (``dossier_data.ensure_dossiers``: 100 agencies, a year of history, cached per database),
then starts the production server like ``bench_home.py`` (``egov serve``: gunicorn, DEBUG off,
``EGOV_BENCH_BARE_VIEW=1``) and measures, with 16 concurrent client processes (each one connection, keep-alive where
the server keeps it, no pause between requests):

- the largest agency's inbox with its counts per status (``/backoffice/``), first page and later pages
  (``?after=`` the id of an open dossier a few thousand rows deep), signed in as the desk officer ``bench.desk``;
- a citizen's "my dossiers" (``/dossiers/``) signed in as ``bench.citizen.0000`` (50 dossiers);
- the Registration API's application list (``GET /api/govstack/registration/applications``) with the key of a
  client system of the largest agency (``registration.read``);
- the public statistics page (``/statistics/?province=H29&year=…``, ``egov.monitoring``) of the province of the
  largest agency (50 bench agencies) for the year of the latest bench dossiers, read from its monthly roll-ups
  (written by the generator as the ledger consumer would have).

Sessions are made once per run in the database's session store, as a sign-in would (the officer's with a confirmed
TOTP device, what ``django_otp.login`` records); every client process sends its cookie with every request. Target:
p95 ≤ 50 ms per page. The reference is the p95 of ``/bench/bare`` under the same 16 clients; the ratio is
reference / value. Every answer other than 2xx, and every request without an answer, is a failure and is reported.
"""
import multiprocessing
import os
import random
import secrets
import sys
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
if str(BENCH_DIR) not in sys.path:
    sys.path.insert(0, str(BENCH_DIR))

import bench_home  # noqa: E402  (the server helpers)
import dossier_data  # noqa: E402
import wrk_load  # noqa: E402

TARGET_P95_MS = 50.0
CLIENTS = 16
BARE = "/bench/bare"
INBOX = "/backoffice/"
MINE = "/dossiers/"
APPLICATIONS = "/api/govstack/registration/applications"
STATISTICS = "/statistics/"
CLIENT_IDENTIFIER_SUBSYSTEM = "bench-scale"


def _session(user, *, device=None) -> str:
    """A signed-in session of ``user`` in the configured session store; returns its key (the cookie's value)."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    if device is not None:
        from django_otp import DEVICE_ID_SESSION_KEY

        store[DEVICE_ID_SESSION_KEY] = device.persistent_id
    store.create()
    return store.session_key


def prepare(clients: int) -> dict:
    """Per client process: the officer's and the citizen's session cookies; the API key; the inbox's later pages."""
    from django.conf import settings
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from egov.accounts.models import User
    from egov.dossiers.models import Dossier
    from egov.dossiers.queries import OPEN_STATUSES
    from egov.exchange import services as exchange
    from egov.exchange.models import ClientSystem
    from egov.kernel.access import SYSTEM
    from egov.registries.models import Agency

    desk = User.objects.get(username=dossier_data.DESK)
    device = TOTPDevice.objects.filter(user=desk, confirmed=True).first()
    citizen = User.objects.get(username="bench.citizen.0000")
    cookie = settings.SESSION_COOKIE_NAME
    officer_cookies = [f"{cookie}={_session(desk, device=device)}" for _ in range(clients)]
    citizen_cookies = [f"{cookie}={_session(citizen)}" for _ in range(clients)]

    agency = Agency.objects.get(code=dossier_data.agency_codes()[0])
    open_ids = list(Dossier.objects.filter(receiving_agency=agency, status__in=OPEN_STATUSES)
                    .order_by("-id").values_list("id", flat=True)[:5000])
    afters = open_ids[100::250] or open_ids[-1:]

    identifier = f"VN:GOV:{agency.code}:{CLIENT_IDENTIFIER_SUBSYSTEM}"
    grants = {"registration.read": []}
    client = ClientSystem.objects.filter(identifier=identifier).first()
    if client is None:
        client, key = exchange.register_client(caller=SYSTEM, identifier=identifier, name="Benchmark one-stop",
                                               agency=agency, grants=grants)
    else:
        key = exchange.KEY_PREFIX + secrets.token_urlsafe(32)
        client.key_digest, client.key_hint, client.is_active = exchange.key_digest(key), key[:10], True
        client.save(update_fields=["key_digest", "key_hint", "is_active"])
        exchange.set_grants(client, grants, caller=SYSTEM)
    year = Dossier.objects.filter(receiving_agency=agency).order_by("-id").values_list("submitted_at", flat=True)[0].year
    return {"officer": officer_cookies, "citizen": citizen_cookies, "afters": afters, "key": key, "year": year}


def pages(setup: dict) -> dict[str, dict]:
    """Name → how a client asks for it: the paths to pick from and the headers."""
    later = [f"{INBOX}?after={after}" for after in setup["afters"]]
    return {
        "bare Django view": {"paths": [BARE], "auth": None},
        "inbox of the largest agency, first page": {"paths": [INBOX], "auth": "officer"},
        "inbox of the largest agency, later page (?after=)": {"paths": later, "auth": "officer"},
        "my dossiers (/dossiers/, 50 dossiers)": {"paths": [MINE], "auth": "citizen"},
        "Registration API application list": {"paths": [APPLICATIONS, f"{APPLICATIONS}?maxResult=100"],
                                              "auth": "key"},
        "statistics page, a province and a year": {"paths": [f"{STATISTICS}?province=H29&year={setup['year']}"],
                                                   "auth": None},
    }


def client(port: int, page: dict, setup: dict, index: int, seconds: float, max_requests: int, results) -> None:
    """One client signed in as ``page["auth"]`` (its session cookie, or the API key), with every latency kept."""
    rng = random.Random(index)
    headers = {"Accept": "text/html,application/json"}
    if page["auth"] == "key":
        headers["Authorization"] = f"Bearer {setup['key']}"
    elif page["auth"]:
        headers["Cookie"] = setup[page["auth"]][index % len(setup[page["auth"]])]
    latencies: list[float] = []
    ok, failed, statuses, elapsed = bench_home.get_loop(port, lambda: rng.choice(page["paths"]), seconds=seconds,
                                                        max_requests=max_requests, headers=headers,
                                                        keep_cookies=False, latencies=latencies)
    results.put((ok, failed, statuses, elapsed, latencies))


def load(port: int, page: dict, setup: dict, *, seconds: float, clients: int, max_requests: int = 400_000) -> dict:
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    processes = [context.Process(target=client, args=(port, page, setup, index, seconds, max_requests // clients,
                                                      results))
                 for index in range(clients)]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=seconds + 60) for _ in processes]
    for process in processes:
        process.join(timeout=30)
    statuses: dict[int, int] = {}
    for outcome in outcomes:
        for status, count in outcome[2].items():
            statuses[status] = statuses.get(status, 0) + count
    return {"ok": sum(o[0] for o in outcomes), "failed": sum(o[1] for o in outcomes), "statuses": statuses,
            "seconds": max(o[3] for o in outcomes), "latencies": [x for o in outcomes for x in o[4]]}


def wrk_page(port: int, page: dict, setup: dict, *, seconds: float, clients: int) -> dict:
    """``clients`` connections from ``wrk`` (bench/wrk_load.py), each request a random path of the page with the
    session cookie of a random client (or the API key); like ``load``, latencies as wrk's percentiles."""
    requests = []
    for index in range(clients):
        headers = {"Accept": "text/html,application/json"}
        if page["auth"] == "key":
            headers["Authorization"] = f"Bearer {setup['key']}"
        elif page["auth"]:
            headers["Cookie"] = setup[page["auth"]][index % len(setup[page["auth"]])]
        requests += [wrk_load.Request(path, "GET", headers) for path in page["paths"]]
    outcome = wrk_load.load(port, requests, seconds=seconds, connections=clients)
    return {"ok": outcome.ok, "failed": outcome.failed, "seconds": outcome.seconds, "statuses": outcome.detail,
            "latencies": {0.5: outcome.p50_ms / 1000, 0.95: outcome.p95_ms / 1000, 0.99: outcome.p99_ms / 1000}}


def percentile(values, fraction: float) -> float:
    if isinstance(values, dict):  # wrk's percentiles
        return values[fraction]
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(fraction * (len(values) - 1))))]


def run(quick: bool) -> list[dict]:
    wanted = int(os.environ.get("EGOV_BENCH_DOSSIERS", "100000" if quick else "1000000"))
    seconds = 3.0 if quick else 8.0
    warmup = 1.0 if quick else 2.0
    rounds = 1 if quick else 3
    workers = int(os.environ.get("EGOV_WEB_WORKERS", "2"))
    clients = int(os.environ.get("EGOV_BENCH_SCALE_CLIENTS", str(CLIENTS)))

    data_dir = Path(os.environ["EGOV_DATA_DIR"])
    recorded = dossier_data.ensure_dossiers(wanted, data_dir)
    setup = prepare(clients)
    from django.db import connections

    connections.close_all()  # the client processes fork from here

    catalogue = pages(setup)
    totals = {name: {"ok": 0, "failed": 0, "seconds": 0.0, "statuses": {}, "latencies": []} for name in catalogue}
    log_path = data_dir / "bench_scale_server.log"
    port = bench_home.free_port()
    server = bench_home.start_server(port, workers, log_path)
    try:
        bench_home.wait_ready(server, port, log_path)
        if wrk_load.available():  # one run per page of all the rounds' time: wrk gives percentiles, not samples
            for name, page in catalogue.items():
                wrk_page(port, page, setup, seconds=warmup, clients=clients)
                totals[name] = wrk_page(port, page, setup, seconds=seconds * rounds, clients=clients)
            rounds = 0
        else:
            print("scale: wrk is not installed (apt-get install wrk): 16 Python client processes load the server, "
                  "and their own CPU and scheduling land in the latencies")
            for page in catalogue.values():  # warm every worker (connections, templates, translations)
                load(port, page, setup, seconds=warmup, clients=clients)
        for _ in range(rounds):
            for name, page in catalogue.items():  # interleaved so that drift in machine load hits all alike
                outcome = load(port, page, setup, seconds=seconds, clients=clients)
                total = totals[name]
                for key in ("ok", "failed", "seconds"):
                    total[key] += outcome[key]
                total["latencies"].extend(outcome["latencies"])
                for status, count in outcome["statuses"].items():
                    total["statuses"][status] = total["statuses"].get(status, 0) + count
    finally:
        bench_home.stop_server(server)

    reference_name = "bare Django view"
    reference = percentile(totals[reference_name]["latencies"], 0.95) * 1000
    rows = []
    for name, total in totals.items():
        p95 = percentile(total["latencies"], 0.95) * 1000
        rps = total["ok"] / total["seconds"] if total["seconds"] else 0.0
        if total["statuses"]:
            print(f"scale: {name}: non-2xx or failed answers by status (0 = no answer): {total['statuses']}; "
                  f"server log: {log_path}")
        print(f"scale: {name}: p50 {percentile(total['latencies'], 0.5) * 1000:.1f} ms, p95 {p95:.1f} ms, "
              f"{rps:,.0f} req/s")
        if name == reference_name:
            continue
        rows.append({
            "name": f"{name} ({recorded['count']:,} dossiers, {clients} clients, {rps:,.0f} req/s)",
            "value": p95, "unit": "ms p95", "reference_name": f"{reference_name} p95",
            "reference_value": reference, "ratio": reference / p95 if p95 else 0.0,
            "target": f"p95 ≤ {TARGET_P95_MS:.0f} ms", "ok": p95 <= TARGET_P95_MS and total["failed"] == 0,
            "failures": total["failed"],
        })
    return rows
