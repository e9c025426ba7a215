"""Procedure search page requests/s over 5,000 procedures, against a bare Django view under the same server and run.

Fills the catalogue with N generated procedures first (``ensure_procedures``: 5,000; ``EGOV_BENCH_PROCEDURES``
overrides), each with one version in force, one to three implementing agencies (the demo agencies) and up to two
life events; names are drawn from word lists of real procedure names, so folded queries match a realistic share of
them. Generated once per database: procedures with codes ``8.xxxxxx`` are counted, and only the missing ones added
(bulk inserts; the folded search text is computed exactly as ``Procedure.save`` does).

Then starts the production server like ``bench_home.py`` (``egov serve``: gunicorn, DEBUG off,
``EGOV_BENCH_BARE_VIEW=1``) and measures ``GET /procedures/?…`` with a rotation of realistic folded queries (words
typed without diacritics, with and without filters), against ``GET /bench/bare``: ``EGOV_BENCH_CLIENTS`` (default 4)
client processes, each one keep-alive connection; a warm-up, then 1 round (``--quick``: 3 s per URL) or 3 interleaved
rounds (10 s per URL). Target: ratio ≥ 0.3. Every answer other than 2xx, and every request without an answer,
counts as a failure and is reported.

Measured twice, each time against the bare view in the same server: as configured (pages of results kept
``EGOV_SEARCH_CACHE_SECONDS``, default 60 s, per process: the rotation's popular searches are read from the cache
after their first time, as popular searches are), and with that cache off (every search counted in the database),
printed as an informative row so the cost of the search itself stays visible.
"""
import datetime as dt
import multiprocessing
import os
import random
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
if str(BENCH_DIR) not in sys.path:
    sys.path.insert(0, str(BENCH_DIR))

import bench_home  # noqa: E402  (the server helpers)

TARGET_RATIO = 0.3
PROCEDURES = 5_000
CODE_PREFIX = "8."
BATCH = 1_000
SEED = 104_729
BARE = bench_home.BARE
# What citizens type: no diacritics, sometimes a filter from the page's lists.
QUERIES = [
    "/procedures/?q=dang+ky+khai+sinh",
    "/procedures/?q=cap+giay+phep",
    "/procedures/?q=giay+phep+xay+dung&province=79",
    "/procedures/?q=dang+ky&life_event=business",
    "/procedures/?q=cap+lai+chung+chi",
    "/procedures/?q=ho+kinh+doanh",
    "/procedures/?life_event=birth",
    "/procedures/?q=thu+tuc+dat+dai&sector=%C4%90%E1%BA%A5t+%C4%91ai",
]

ACTIONS = ["Đăng ký", "Cấp", "Cấp lại", "Cấp đổi", "Gia hạn", "Điều chỉnh", "Thu hồi", "Xác nhận", "Chứng thực",
           "Công nhận", "Thẩm định", "Phê duyệt", "Thay đổi thông tin", "Đăng ký lại", "Xóa đăng ký"]
OBJECTS = ["giấy phép xây dựng", "giấy chứng nhận quyền sử dụng đất", "khai sinh", "kết hôn", "khai tử", "thường trú",
           "tạm trú", "hộ kinh doanh", "doanh nghiệp tư nhân", "chứng chỉ hành nghề dược", "giấy phép lái xe",
           "chứng chỉ hành nghề kiến trúc", "giấy phép kinh doanh vận tải", "hộ chiếu phổ thông", "lý lịch tư pháp",
           "giấy phép lao động", "nhãn hiệu", "giấy phép môi trường", "thủ tục đất đai", "giấy phép khai thác nước",
           "giấy phép bán lẻ rượu", "giấy chứng nhận đủ điều kiện an toàn thực phẩm", "giám hộ", "nhận cha, mẹ, con",
           "giấy phép hoạt động khám bệnh, chữa bệnh", "chứng chỉ hành nghề luật sư", "trang trại", "hợp tác xã"]
QUALIFIERS = ["", "", "", "cho cá nhân", "cho tổ chức", "tại cấp xã", "tại cấp tỉnh", "có yếu tố nước ngoài",
              "trường hợp bị mất, hư hỏng", "đối với công trình cấp III", "lưu động", "trực tuyến"]
SECTORS = ["Hộ tịch", "Đất đai", "Hoạt động xây dựng", "Đăng ký, quản lý cư trú", "Thành lập và hoạt động doanh nghiệp",
           "Dược phẩm", "Đường bộ", "Lao động", "Sở hữu trí tuệ", "Môi trường", "Tài nguyên nước", "Lưu thông hàng hóa",
           "An toàn thực phẩm", "Khám bệnh, chữa bệnh", "Luật sư", "Nông nghiệp", "Kinh tế hợp tác", "Chứng thực",
           "Quản lý xuất nhập cảnh", "Lý lịch tư pháp", "Giáo dục và Đào tạo", "Văn hóa", "Du lịch", "Thuế",
           "Bảo trợ xã hội", "Người có công", "Thủy sản", "Lâm nghiệp", "Giao thông đường thủy", "Công nghiệp"]
LIFE_EVENTS = ["birth", "marriage", "death", "moving", "business", "building", "work", "travel", "papers"]


def procedure_row(i: int, rng: random.Random) -> dict:
    """Procedure ``i``: a pure function of ``i`` and the generator's state (seeded once per run of the filler)."""
    name = " ".join(part for part in (rng.choice(ACTIONS), rng.choice(OBJECTS), rng.choice(QUALIFIERS)) if part)
    return {"code": f"{CODE_PREFIX}{i:06d}", "name": name[0].upper() + name[1:], "sector": rng.choice(SECTORS),
            "events": rng.sample(LIFE_EVENTS, rng.choice((0, 1, 1, 2))),
            "agencies": rng.sample(range(100), rng.choice((1, 2, 3))), "online": rng.choice(("full", "partial", "none")),
            "days": rng.choice((1, 3, 5, 10, 15, 20)), "fee": rng.choice((0, 0, 20000, 50000, 100000, 500000))}


def ensure_procedures(n: int) -> int:
    """At least ``n`` generated procedures (codes 8.000000 …) with one version each; returns how many were added."""
    from django.db import connection, transaction

    from egov.procedures.models import Procedure, ProcedureLifeEvent, ProcedureVersion, ProcedureWord
    from egov.registries.models import Agency

    existing = Procedure.objects.filter(code__startswith=CODE_PREFIX).count()
    if existing >= n:
        return 0
    agencies = list(Agency.objects.order_by("code").values_list("id", flat=True))
    if not agencies:
        raise RuntimeError("no agency: the benchmark database must be seeded with `egov seed --demo`")
    rng = random.Random(SEED)
    rows = [procedure_row(i, rng) for i in range(n)]  # all drawn, so procedure i is the same whatever n was before
    links = ProcedureVersion.agencies.through
    bpmn = "<!-- generated for the search benchmark: never processed -->"
    added = 0
    for start in range(existing, n, BATCH):
        chunk = rows[start:start + BATCH]
        with transaction.atomic():
            procedures = Procedure.objects.bulk_create([
                Procedure(code=row["code"], name=row["name"], sector=row["sector"],
                          search_text=Procedure.search_text_of(row["code"], row["name"]),
                          words=Procedure.words_text_of(row["code"], row["name"], row["sector"], ["Kết quả"]))
                for row in chunk])
            by_code = {p.code: p for p in Procedure.objects.filter(code__in=[row["code"] for row in chunk])}
            ProcedureWord.objects.bulk_create([word for procedure in by_code.values()
                                               for word in ProcedureWord.rows_of(procedure)])
            ProcedureVersion.objects.bulk_create([
                ProcedureVersion(procedure=by_code[row["code"]], version=1, effective_from=dt.date(2025, 7, 1),
                                 name=row["name"], sector=row["sector"], level="province", legal_basis="",
                                 duration_days=row["days"], steps=[{"id": "process", "name": "Xử lý",
                                                                    "role": "specialist", "working_days": row["days"]}],
                                 fees=[{"code": "LP", "name": "Lệ phí", "amount": row["fee"]}] if row["fee"] else [],
                                 components=[], form_schema={"type": "object", "properties": {}},
                                 online_level=row["online"], result_type="Kết quả", bpmn=bpmn) for row in chunk])
            version_ids = dict(ProcedureVersion.objects.filter(procedure__code__in=[row["code"] for row in chunk])
                               .values_list("procedure__code", "id"))
            links.objects.bulk_create([links(procedureversion_id=version_ids[row["code"]],
                                             agency_id=agencies[k % len(agencies)])
                                       for row in chunk for k in row["agencies"]], ignore_conflicts=True)
            ProcedureLifeEvent.objects.bulk_create([ProcedureLifeEvent(procedure=by_code[row["code"]], event=event)
                                                    for row in chunk for event in row["events"]])
        added += len(procedures)
    if connection.vendor == "postgresql":  # fresh statistics, or the planner guesses one row per filter
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {Procedure._meta.db_table}, {ProcedureVersion._meta.db_table}, "
                           f"{links._meta.db_table}, {ProcedureLifeEvent._meta.db_table}, "
                           f"{ProcedureWord._meta.db_table}")
    return added


def client(port: int, paths: list[str], seconds: float, max_requests: int, seed: int, results) -> None:
    """One visitor (keeping its cookies, like a browser) searching the paths in a random rotation
    (``bench_home.get_loop``)."""
    rng = random.Random(seed)
    results.put(bench_home.get_loop(port, lambda: rng.choice(paths), seconds=seconds, max_requests=max_requests))


def load(port: int, paths: list[str], *, seconds: float, clients: int, max_requests: int = 200_000) -> dict:
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    processes = [context.Process(target=client, args=(port, paths, seconds, max_requests // clients,
                                                      random.randrange(1 << 30), results)) for _ in range(clients)]
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
            "seconds": max(o[3] for o in outcomes)}


def run(quick: bool) -> list[dict]:
    from django.db import connection

    from egov.procedures.models import Procedure

    seconds = 3.0 if quick else 10.0
    warmup = 0.5 if quick else 2.0
    rounds = 1 if quick else 3
    workers = int(os.environ.get("EGOV_WEB_WORKERS", "2"))
    clients = int(os.environ.get("EGOV_BENCH_CLIENTS", "4"))
    wanted = int(os.environ.get("EGOV_BENCH_PROCEDURES", str(PROCEDURES)))

    started = time.perf_counter()
    added = ensure_procedures(wanted)
    total = Procedure.objects.count()
    print(f"search: {total:,} procedures ({added:,} generated in {time.perf_counter() - started:.1f} s)")
    connection.close()  # the server's workers open their own; SQLite readers must not see a half-open writer

    rows = []
    # The server as configured (pages of results kept EGOV_SEARCH_CACHE_SECONDS, default 60 s: the bench's queries
    # repeat, as popular searches do), then with the cache off: every search counted in the database.
    for label, cache_seconds in (("results kept as configured", None), ("results cache off", "0")):
        rows.append(_measure(label, cache_seconds, total=total, workers=workers, clients=clients, seconds=seconds,
                             warmup=warmup, rounds=rounds, target=cache_seconds is None))
    return rows


def _measure(label: str, cache_seconds: str | None, *, total: int, workers: int, clients: int, seconds: float,
             warmup: float, rounds: int, target: bool) -> dict:
    data_dir = Path(os.environ["EGOV_DATA_DIR"])
    log_path = data_dir / "bench_search_server.log"
    port = bench_home.free_port()
    extra = {} if cache_seconds is None else {"EGOV_SEARCH_CACHE_SECONDS": cache_seconds}
    server = bench_home.start_server(port, workers, log_path, extra)
    totals = {name: {"ok": 0, "failed": 0, "seconds": 0.0, "statuses": {}} for name in ("search", "bare")}
    try:
        bench_home.wait_ready(server, port, log_path)
        for paths in ([BARE], QUERIES):  # warm every worker's caches (templates, translations, connections)
            load(port, paths, seconds=warmup, clients=clients)
        for _ in range(rounds):
            for name, paths in (("bare", [BARE]), ("search", QUERIES)):  # interleaved against drift in machine load
                outcome = load(port, paths, seconds=seconds, clients=clients)
                entry = totals[name]
                entry["ok"] += outcome["ok"]
                entry["failed"] += outcome["failed"]
                entry["seconds"] += outcome["seconds"]
                for status, count in outcome["statuses"].items():
                    entry["statuses"][status] = entry["statuses"].get(status, 0) + count
    finally:
        bench_home.stop_server(server)

    search_rps = totals["search"]["ok"] / totals["search"]["seconds"]
    bare_rps = totals["bare"]["ok"] / totals["bare"]["seconds"]
    ratio = search_rps / bare_rps if bare_rps else 0.0
    failures = totals["search"]["failed"] + totals["bare"]["failed"]
    detail = {name: entry["statuses"] for name, entry in totals.items() if entry["statuses"]}
    if detail:
        print(f"search: non-2xx or failed answers by status (0 = no answer): {detail}; server log: {log_path}")
    print(f"search ({label}): {search_rps:,.0f} req/s over {len(QUERIES)} queries; bare view {bare_rps:,.0f} req/s; "
          f"ratio {ratio:.2f}")
    return {
        "name": f"procedure search page, {total:,} procedures, {label} (gunicorn, {workers} workers, "
                f"{clients} clients)",
        "value": search_rps, "unit": "req/s",
        "reference_name": "bare Django view", "reference_value": bare_rps,
        "ratio": ratio, "target": f"ratio ≥ {TARGET_RATIO}" if target else "(informative)",
        "ok": (ratio >= TARGET_RATIO and failures == 0) if target else None,
        "failures": failures,
    }
