"""Payment callbacks under load: verified callbacks/s over HTTP, with 20% duplicates mixed in, as a ratio to a bare
view that only checks the HMAC signature (``/bench/payments-hmac``), same server (``egov serve``: gunicorn, DEBUG
off), same run, same clients. Target: ≥ 500 callbacks/s.

1. N dossiers waiting for their fees (status 6, a fee pause open, a pending payment request of 200,000 VND) are
   written in bulk for this run (``--quick``: 800; else 4,000; ``EGOV_BENCH_PAYMENTS`` overrides) at one bench
   agency with its own procedure version.
2. Each dossier gets one signed "paid" callback; 20% more callbacks repeat one already sent (the same transaction id,
   as a provider retrying), shuffled together. ``EGOV_BENCH_CLIENTS`` (default 4) client processes send them, each
   signing its own (the timestamp is fresh), one keep-alive connection each. In 3 (``--quick``) or 5 interleaved
   rounds, the reference view gets a share of the bodies, then the real endpoint
   (``POST /api/v1/payments/callbacks/gateway``): its answer means verified and stored once (the stored row is the
   payments worker's queue).
3. ``egov payments work`` (a real worker process) then credits them; its rate is printed too (credits/s, no target).
4. Then checked: every dossier credited exactly once (one 6 → 4 move each, one "credited" notification each, no
   duplicate stored) and ``egov audit verify`` passes. A failure raises (the run reports the error).
"""
import datetime as dt
import http.client
import json
import multiprocessing
import os
import random
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
if str(BENCH_DIR) not in sys.path:
    sys.path.insert(0, str(BENCH_DIR))

import bench_home  # noqa: E402  (the server helpers)

TARGET_RPS = 500
DUPLICATE_SHARE = 0.2
CALLBACK = "/api/v1/payments/callbacks/gateway"
REFERENCE = "/bench/payments-hmac"
AGENCY_CODE = "000.00.97.H29"
PROCEDURE_CODE = "9.999997"
AMOUNT = 200000


def prepare(n: int) -> list[tuple[str, str]]:
    """N dossiers in status 6 with a pending request each; returns (payment reference, dossier code) pairs."""
    from django.db import transaction
    from django.utils import timezone

    from egov.dossiers.models import Dossier, Pause
    from egov.payments.models import PaymentRequest
    from egov.payments.services import _reference
    from egov.procedures.models import Level, OnlineLevel, Procedure, ProcedureVersion
    from egov.registries.models import Agency

    agency, _ = Agency.objects.get_or_create(code=AGENCY_CODE, defaults={"name": "Bench payments agency"})
    procedure, _ = Procedure.objects.get_or_create(code=PROCEDURE_CODE, defaults={"name": "Bench payments",
                                                                                  "sector": "Bench"})
    version = ProcedureVersion.objects.filter(procedure=procedure).first()
    if version is None:
        version = ProcedureVersion.objects.create(
            procedure=procedure, version=1, effective_from=dt.date(2025, 7, 1), name="Bench payments", sector="Bench",
            level=Level.PROVINCE, duration_days=Decimal(5), steps=[], components=[], form_schema={},
            online_level=OnlineLevel.FULL, min_assurance_level=1, fees=[{"code": "B", "name": "Phí", "amount": AMOUNT}],
            result_type="Bench", bpmn="")
        version.agencies.add(agency)
    now = timezone.now()
    run = f"{int(time.time()) % 1_000_000:06d}"
    dossiers = []
    for i in range(n):
        dossier = Dossier(code=f"{AGENCY_CODE}-{run}-{i + 1:05d}", procedure_version=version, receiving_agency=agency,
                          channel=2, status=6, submitted_at=now - dt.timedelta(days=2),
                          received_at=now - dt.timedelta(days=2), appointment_at=now + dt.timedelta(days=5),
                          allowed_hours=Decimal(40))
        dossier.seal({"applicant": {"full_name": "Bench"}, "form": {}})
        dossiers.append(dossier)
    with transaction.atomic():
        Dossier.objects.bulk_create(dossiers, batch_size=1000)
        created = list(Dossier.objects.filter(code__startswith=f"{AGENCY_CODE}-{run}-").order_by("id"))
        Pause.objects.bulk_create([Pause(dossier=d, reason="fees", started_at=now - dt.timedelta(hours=1))
                                   for d in created], batch_size=1000)
        requests = [PaymentRequest(reference=_reference("PR"), dossier=d, dossier_code=d.code, unit_code=agency.code,
                                   unit_name=agency.name, lines=[{"type": "fee", "code": "B", "name": "Phí",
                                                                  "amount": AMOUNT}], amount=AMOUNT,
                                   created_at=now) for d in created]
        PaymentRequest.objects.bulk_create(requests, batch_size=1000)
    return [(r.reference, r.dossier_code) for r in requests]


def client(port: int, path: str, bodies: list[bytes], secret: str, results) -> None:
    from egov.payments import rules

    ok = failed = duplicates = 0
    statuses: dict[int, int] = {}
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    started = time.perf_counter()
    for body in bodies:
        stamp = str(int(time.time()))
        headers = {"Content-Type": "application/json", rules.TIMESTAMP_HEADER: stamp,
                   rules.SIGNATURE_HEADER: rules.sign(secret, stamp, body)}
        try:
            connection.request("POST", path, body=body, headers=headers)
            response = connection.getresponse()
            payload = response.read()
            if 200 <= response.status < 300:
                ok += 1
                duplicates += json.loads(payload).get("status") == "duplicate"
            else:
                failed += 1
                statuses[response.status] = statuses.get(response.status, 0) + 1
            if response.will_close:
                connection.close()
        except (OSError, http.client.HTTPException, ValueError):
            failed += 1
            statuses[0] = statuses.get(0, 0) + 1
            connection.close()
    results.put((ok, failed, duplicates, statuses, time.perf_counter() - started))


def send_all(port: int, path: str, bodies: list[bytes], clients: int, secret: str) -> dict:
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    shares = [bodies[k::clients] for k in range(clients)]
    started = time.perf_counter()
    processes = [context.Process(target=client, args=(port, path, share, secret, results)) for share in shares]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=900) for _ in processes]
    elapsed = time.perf_counter() - started
    for process in processes:
        process.join(timeout=30)
    statuses: dict[int, int] = {}
    for outcome in outcomes:
        for status, count in outcome[3].items():
            statuses[status] = statuses.get(status, 0) + count
    return {"ok": sum(o[0] for o in outcomes), "failed": sum(o[1] for o in outcomes),
            "duplicates": sum(o[2] for o in outcomes), "statuses": statuses, "seconds": elapsed}


def _add(total: dict, outcome: dict) -> None:
    for name in ("ok", "failed", "duplicates", "seconds"):
        total[name] = total.get(name, 0) + outcome[name]
    for status, count in outcome["statuses"].items():
        total.setdefault("statuses", {})[status] = total.get("statuses", {}).get(status, 0) + count


def callbacks(pairs: list[tuple[str, str]], run_tag: str, seed: int = 7) -> list[bytes]:
    rng = random.Random(seed)
    bodies = [json.dumps({"transaction_id": f"BENCH-{run_tag}-{i}", "kind": "paid", "amount": AMOUNT,
                          "reference": reference}, separators=(",", ":")).encode()
              for i, (reference, _code) in enumerate(pairs)]
    extra = int(len(bodies) * DUPLICATE_SHARE / (1 - DUPLICATE_SHARE))
    mixed = bodies + [rng.choice(bodies) for _ in range(extra)]
    rng.shuffle(mixed)
    return mixed


def drain_with_worker(codes: list[str], log_path: Path, timeout: float = 900) -> float:
    from egov.payments.models import PaymentRequest

    env = dict(os.environ, EGOV_LOG_LEVEL="WARNING")
    started = time.perf_counter()
    with open(log_path, "wb") as log:
        worker = subprocess.Popen([sys.executable, "-m", "egov.cli", "payments", "work"], env=env, stdout=log,
                                  stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            left = PaymentRequest.objects.filter(dossier_code__in=codes, status="pending").count()
            if not left:
                break
            if worker.poll() is not None:
                raise RuntimeError(f"the worker exited:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.5)
        else:
            raise RuntimeError(f"{left} payments still pending after {timeout:.0f} s")
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
    return time.perf_counter() - started


def check_exactly_once(codes: list[str], unique: int) -> None:
    from django.core.management import call_command
    from django.db.models import Count

    from egov.dossiers.models import Dossier, Transition
    from egov.payments.models import PaymentNotification

    moves = dict(Transition.objects.filter(dossier__code__in=codes, from_status=6, to_status=4)
                 .values_list("dossier__code").annotate(n=Count("id")))
    wrong = [code for code in codes if moves.get(code) != 1]
    if wrong:
        raise AssertionError(f"{len(wrong)} dossiers not credited exactly once, e.g. {wrong[:3]}")
    if Dossier.objects.filter(code__in=codes).exclude(status=4).exists():
        raise AssertionError("a credited dossier is not back in processing (4)")
    stored = PaymentNotification.objects.filter(request__dossier_code__in=codes)
    if stored.count() != unique or stored.filter(outcome="credited").count() != unique:
        raise AssertionError(f"{stored.count()} notifications stored for {unique} payments")
    with open(os.devnull, "w") as quiet:
        call_command("audit_verify", stdout=quiet)  # raises CommandError when a chain is broken


def run(quick: bool) -> list[dict]:
    from django.conf import settings
    from django.db import connections

    n = int(os.environ.get("EGOV_BENCH_PAYMENTS", "800" if quick else "4000"))
    workers = int(os.environ.get("EGOV_WEB_WORKERS", "2"))
    clients = int(os.environ.get("EGOV_BENCH_CLIENTS", "4"))
    rounds = 3 if quick else 5
    pairs = prepare(n)
    codes = [code for _reference, code in pairs]
    bodies = callbacks(pairs, run_tag=codes[0].rsplit("-", 2)[1])
    secret = settings.PAYMENT_SECRETS["gateway"]
    connections.close_all()  # the client processes fork from here

    data_dir = Path(os.environ["EGOV_DATA_DIR"])
    log_path = data_dir / "bench_payments_server.log"
    port = bench_home.free_port()
    server = bench_home.start_server(port, workers, log_path)
    try:
        bench_home.wait_ready(server, port, log_path)
        # Warm every worker on both paths (the real one with a signed but malformed body: answered 400, nothing kept).
        send_all(port, REFERENCE, [b'{"transaction_id":"warm","kind":"paid","amount":1}'] * 100, clients, secret)
        send_all(port, CALLBACK, [b'{"kind":"warm"}'] * 100, clients, secret)
        reference, real = {}, {}
        for k in range(rounds):  # interleaved, so that drift in the machine's load hits both alike
            chunk = bodies[k::rounds]
            _add(reference, send_all(port, REFERENCE, chunk, clients, secret))
            _add(real, send_all(port, CALLBACK, chunk, clients, secret))
    finally:
        bench_home.stop_server(server)
    drain_seconds = drain_with_worker(codes, data_dir / "bench_payments_worker.log")
    check_exactly_once(codes, unique=n)

    rps = real["ok"] / real["seconds"]
    reference_rps = reference["ok"] / reference["seconds"]
    print(f"payments: {len(bodies)} callbacks ({len(bodies) - n} repeats, {real['duplicates']} answered duplicate) "
          f"by {clients} clients; every one of {n} dossiers credited exactly once by the worker in "
          f"{drain_seconds:.1f} s; audit verify ok; non-2xx {real.get('statuses') or '{}'}")
    return [
        {"name": "payments: verified callbacks/s (20% repeats)", "value": rps, "unit": "req/s",
         "reference_name": "bare HMAC-check view", "reference_value": reference_rps,
         "ratio": rps / reference_rps if reference_rps else 0.0, "target": f"≥ {TARGET_RPS} req/s",
         "ok": rps >= TARGET_RPS, "failures": real["failed"] + reference["failed"]},
        {"name": "payments: worker credits/s (after the load)", "value": n / drain_seconds, "unit": "credits/s",
         "reference_name": "", "reference_value": None, "ratio": None, "target": "", "ok": True},
    ]
