"""Home page requests/s under the production server, against a bare Django view under the same server and settings.

Starts ``egov serve`` (gunicorn, the production WSGI server, with its default workers and threads, DEBUG off) on a
free loopback port with ``EGOV_BENCH_BARE_VIEW=1``, which adds ``/bench/bare`` (a view returning a 2-byte response).
Load: several client processes, each one keep-alive HTTP/1.1 connection (``http.client``) that keeps its cookies like
a browser, for a bounded time and a bounded number of requests. The client runs on the same machine and takes CPU
from the server; it costs the same per request for both URLs, so it flattens the ratio somewhat
toward 1 (said in bench/README.md).

Every answer other than 2xx, and every request that gets no answer, counts as a failure and is reported.
"""
import http.client
import multiprocessing
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

TARGET_RATIO = 0.5
HOME = "/"
BARE = "/bench/bare"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(port: int, workers: int, log_path: Path, extra_env: dict[str, str] | None = None
                 ) -> subprocess.Popen:
    env = dict(os.environ, EGOV_BENCH_BARE_VIEW="1", EGOV_DEBUG="0", EGOV_LOG_LEVEL="WARNING",
               EGOV_WEB_WORKERS=str(workers), **(extra_env or {}))
    with open(log_path, "wb") as log:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            [sys.executable, "-m", "egov.cli", "serve", "--bind", f"127.0.0.1:{port}", "--workers", str(workers)],
            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )


def cpu_snapshot(server_pid: int) -> dict[str, float]:
    """CPU seconds used so far (user + system, read from /proc; Linux only, else empty): ``server``, the processes of
    the server's session (the gunicorn master and its workers, started with ``start_new_session``); ``database``,
    PostgreSQL's processes; ``other``, every other process (the load generator among them); ``idle``, the machine's
    idle and I/O-wait time over all its cores. Two snapshots' difference over the time between them says where the
    cores went during a load (``cpu_report``)."""
    ticks = os.sysconf("SC_CLK_TCK")
    used = {"server": 0, "database": 0, "other": 0}
    try:
        with open("/proc/stat") as stat:
            fields = stat.readline().split()[1:]
        idle = int(fields[3]) + int(fields[4])
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                with open(f"/proc/{entry.name}/stat") as stat:
                    text = stat.read()
            except OSError:
                continue  # ended meanwhile
            command, rest = text[text.index("(") + 1:text.rindex(")")], text[text.rindex(")") + 2:].split()
            group = ("server" if int(rest[3]) == server_pid else "database" if command.startswith("postgres")
                     else "other")
            used[group] += int(rest[11]) + int(rest[12])
    except OSError:
        return {}
    return {**{group: value / ticks for group, value in used.items()}, "idle": idle / ticks}


def cpu_report(before: dict, after: dict, seconds: float, per: float, unit: str) -> str:
    """Cores used by each group between two ``cpu_snapshot``s, and their CPU ms per ``unit`` (``per`` of them)."""
    if not before or not after or seconds <= 0 or per <= 0:
        return "CPU: not measured (no /proc)"
    parts = []
    for group in ("server", "database", "other", "idle"):
        spent = max(after[group] - before[group], 0.0)
        parts.append(f"{group} {spent / seconds:.2f} cores ({spent / per * 1000:.1f} ms/{unit})")
    return f"CPU over the load ({os.cpu_count()} cores): " + ", ".join(parts)


def wait_ready(server: subprocess.Popen, port: int, log_path: Path, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited with {server.returncode}:\n{log_path.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the server was not ready within {timeout:.0f} s:\n{log_path.read_text()[-3000:]}")


def stop_server(server: subprocess.Popen) -> None:
    if server.poll() is None:
        server.terminate()  # gunicorn's arbiter stops its workers on SIGTERM
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def get_loop(port: int, next_path, *, seconds: float, max_requests: int, headers: dict | None = None,
             keep_cookies: bool = True, latencies: list | None = None) -> tuple[int, int, dict, float]:
    """One keep-alive connection GETting ``next_path()`` until the time or the request budget runs out; returns
    (ok, failed, statuses of the failures, elapsed seconds). Every benchmark's client uses it.

    With ``keep_cookies``, like a browser, it returns the cookies it was given (the CSRF cookie of the language
    form): one client is one visitor browsing, not a new visitor on every request. ``latencies``, when given,
    receives each answered request's time in seconds."""
    ok = failed = 0
    cookies: dict[str, str] = {}
    statuses: dict[int, int] = {}
    base = {"Host": "127.0.0.1", "Accept-Language": "vi", **(headers or {})}
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    started = time.perf_counter()
    deadline = started + seconds
    while ok + failed < max_requests and time.perf_counter() < deadline:
        request_headers = base
        if cookies:
            request_headers = {**base, "Cookie": "; ".join(f"{name}={value}" for name, value in cookies.items())}
        sent = time.perf_counter()
        try:
            connection.request("GET", next_path(), headers=request_headers)
            response = connection.getresponse()
            response.read()
            if latencies is not None:
                latencies.append(time.perf_counter() - sent)
            if keep_cookies:
                for header in response.headers.get_all("Set-Cookie") or ():
                    name, _, value = header.split(";", 1)[0].partition("=")
                    cookies[name.strip()] = value.strip()
            if 200 <= response.status < 300:
                ok += 1
            else:
                failed += 1
                statuses[response.status] = statuses.get(response.status, 0) + 1
            if response.will_close:
                connection.close()
        except (OSError, http.client.HTTPException):
            failed += 1
            statuses[0] = statuses.get(0, 0) + 1
            connection.close()
    elapsed = time.perf_counter() - started
    connection.close()
    return ok, failed, statuses, elapsed


def client(port: int, path: str, seconds: float, max_requests: int, results) -> None:
    """One visitor asking for ``path`` again and again (``get_loop``)."""
    results.put(get_loop(port, lambda: path, seconds=seconds, max_requests=max_requests))


def load(port: int, path: str, *, seconds: float, clients: int, max_requests: int) -> dict:
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    processes = [context.Process(target=client, args=(port, path, seconds, max_requests // clients, results))
                 for _ in range(clients)]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=seconds + 60) for _ in processes]
    for process in processes:
        process.join(timeout=30)
    ok = sum(o[0] for o in outcomes)
    failed = sum(o[1] for o in outcomes)
    statuses: dict[int, int] = {}
    for outcome in outcomes:
        for status, count in outcome[2].items():
            statuses[status] = statuses.get(status, 0) + count
    elapsed = max(o[3] for o in outcomes)
    return {"ok": ok, "failed": failed, "statuses": statuses, "seconds": elapsed, "rps": ok / elapsed}


def run(quick: bool) -> list[dict]:
    seconds = 3.0 if quick else 10.0
    warmup = 0.5 if quick else 2.0
    rounds = 1 if quick else 3
    workers = int(os.environ.get("EGOV_WEB_WORKERS", "2"))
    clients = int(os.environ.get("EGOV_BENCH_CLIENTS", "4"))
    max_requests = 200_000

    data_dir = Path(os.environ["EGOV_DATA_DIR"])
    log_path = data_dir / "bench_home_server.log"
    port = free_port()
    server = start_server(port, workers, log_path)
    try:
        wait_ready(server, port, log_path)
        totals = {HOME: {"ok": 0, "failed": 0, "seconds": 0.0, "statuses": {}},
                  BARE: {"ok": 0, "failed": 0, "seconds": 0.0, "statuses": {}}}
        for path in (BARE, HOME):  # warm every worker's caches (templates, translations, connections)
            load(port, path, seconds=warmup, clients=clients, max_requests=max_requests)
        for _ in range(rounds):
            for path in (BARE, HOME):  # interleaved so that drift in machine load hits both alike
                outcome = load(port, path, seconds=seconds, clients=clients, max_requests=max_requests)
                total = totals[path]
                total["ok"] += outcome["ok"]
                total["failed"] += outcome["failed"]
                total["seconds"] += outcome["seconds"]
                for status, count in outcome["statuses"].items():
                    total["statuses"][status] = total["statuses"].get(status, 0) + count
    finally:
        stop_server(server)

    home_rps = totals[HOME]["ok"] / totals[HOME]["seconds"]
    bare_rps = totals[BARE]["ok"] / totals[BARE]["seconds"]
    ratio = home_rps / bare_rps if bare_rps else 0.0
    failures = totals[HOME]["failed"] + totals[BARE]["failed"]
    detail = {path: totals[path]["statuses"] for path in totals if totals[path]["statuses"]}
    if detail:
        print(f"home: non-2xx or failed answers by status (0 = no answer): {detail}; server log: {log_path}")
    return [{
        "name": f"home page (gunicorn, {workers} workers, {clients} clients)",
        "value": home_rps, "unit": "req/s",
        "reference_name": "bare Django view", "reference_value": bare_rps,
        "ratio": ratio, "target": f"ratio ≥ {TARGET_RATIO}", "ok": ratio >= TARGET_RATIO and failures == 0,
        "failures": failures,
    }]
