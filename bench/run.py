"""Run egov's benchmarks: ``uv run python bench/run.py [--quick] [--only NAME ...]``.

Sets up an isolated environment (``EGOV_DATA_DIR=bench/.cache/<database>``, DEBUG off), migrates and seeds it (the
seeded database is cached between runs and seeded again only when the migrations change), then runs every
``bench/bench_*.py`` module's ``run(quick: bool) -> list[dict]``. Each row has the keys ``name``, ``value``, ``unit``,
``reference_name``, ``reference_value``, ``ratio``, ``target`` (text, e.g. "ratio ≥ 0.5"), ``ok`` (target met) and
optionally ``failures`` (requests answered with a non-2xx status, or failed).

Exit status: 0 when every benchmark ran without error or failed request; 1 otherwise. A missed target is printed
(``MISSED``) but only fails the run with ``--strict``.

PostgreSQL: set ``EGOV_DATABASE_URL=postgres://user@host:port/name``; the database is created when missing.
"""
import argparse
import hashlib
import importlib.util
import os
import sys
import time
import traceback
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
ROW_KEYS = ("name", "value", "unit", "reference_name", "reference_value", "ratio", "target", "ok")


def database_label() -> str:
    url = os.environ.get("EGOV_DATABASE_URL", "").strip()
    if not url:
        return "sqlite"
    return "postgres-" + url.rstrip("/").rsplit("/", 1)[-1].split("?")[0]


def prepare_environment() -> Path:
    data_dir = BENCH_DIR / ".cache" / database_label()
    data_dir.mkdir(parents=True, exist_ok=True)
    os.environ["EGOV_DATA_DIR"] = str(data_dir)
    os.environ["EGOV_DEBUG"] = "0"  # DEBUG keeps every SQL query in memory and serves slower error pages
    os.environ.setdefault("EGOV_ENV", "development")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "egov.settings")
    src = str(ROOT / "src")
    if src not in sys.path:
        sys.path.insert(0, src)
    return data_dir


def create_postgres_database_if_missing() -> None:
    url = os.environ.get("EGOV_DATABASE_URL", "").strip()
    if not url.startswith(("postgres://", "postgresql://")):
        return
    import dj_database_url
    import psycopg
    from psycopg import sql

    db = dj_database_url.parse(url)
    params = {"host": db.get("HOST") or None, "port": db.get("PORT") or None, "user": db.get("USER") or None,
              "password": db.get("PASSWORD") or None, "dbname": "postgres"}
    with psycopg.connect(**{k: v for k, v in params.items() if v}, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db["NAME"]]).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(db["NAME"])))
            print(f"created PostgreSQL database {db['NAME']}")


def migrate_and_seed(data_dir: Path) -> None:
    import django
    from django.core.management import call_command
    from django.db import connection
    from django.db.migrations.loader import MigrationLoader

    django.setup()
    call_command("migrate", interactive=False, verbosity=0)
    leaves = sorted(f"{app}.{name}" for app, name in MigrationLoader(connection).graph.leaf_nodes())
    key = hashlib.sha256("\n".join(leaves).encode()).hexdigest()
    marker = data_dir / "seeded"
    if marker.exists() and marker.read_text() == key:
        print(f"data: cached in {data_dir}")
        return
    started = time.perf_counter()
    with open(os.devnull, "w") as quiet:
        call_command("egov_seed", demo=True, verbosity=0, stdout=quiet)
    marker.write_text(key)
    print(f"data: seeded in {time.perf_counter() - started:.1f} s, cached in {data_dir}")


def discover(only: list[str]) -> list[tuple[str, Path]]:
    found = []
    for path in sorted(BENCH_DIR.glob("bench_*.py")):
        name = path.stem.removeprefix("bench_")
        if not only or name in only:
            found.append((name, path))
    return found


def load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(f"egov_bench_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def number(value) -> str:
    if value is None or value == "":
        return "-"
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) < 100 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def print_table(rows: list[dict]) -> None:
    headers = ["benchmark", "value", "unit", "reference", "ref. value", "ratio", "target", "result", "failures"]
    lines = [[r["name"], number(r["value"]), r.get("unit", ""), r.get("reference_name") or "-",
              number(r.get("reference_value")), number(r.get("ratio")), r.get("target") or "-",
              "-" if r.get("ok") is None else "ok" if r["ok"] else "MISSED", number(r.get("failures", 0))] for r in rows]
    widths = [max(len(str(x)) for x in column) for column in zip(headers, *lines, strict=True)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    print(fmt.format(*headers))
    print(fmt.format(*("-" * w for w in widths)))
    for line in lines:
        print(fmt.format(*line))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/run.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="CI-sized run: a few seconds per benchmark")
    parser.add_argument("--only", nargs="+", default=[], metavar="NAME",
                        help="run only these benchmarks (file bench_NAME.py)")
    parser.add_argument("--strict", action="store_true", help="also exit non-zero when a target is missed")
    args = parser.parse_args(argv)

    data_dir = prepare_environment()
    modules = discover(args.only)
    if not modules:
        print(f"no benchmark matches {args.only} (files bench/bench_*.py)", file=sys.stderr)
        return 1
    try:
        create_postgres_database_if_missing()
        migrate_and_seed(data_dir)
    except Exception as exc:  # noqa: BLE001 - report any set-up failure plainly
        traceback.print_exc()
        print(f"\nset-up failed: {exc}", file=sys.stderr)
        return 1

    from django.db import connection

    print(f"database: {connection.vendor}; mode: {'quick' if args.quick else 'full'}; "
          f"benchmarks: {', '.join(name for name, _ in modules)}\n")
    rows, errors = [], []
    for name, path in modules:
        started = time.perf_counter()
        try:
            result = load(name, path).run(quick=args.quick)
            for row in result:
                missing = [key for key in ROW_KEYS if key not in row]
                if missing:
                    raise ValueError(f"row {row.get('name')!r} lacks {missing}")
            rows.extend(result)
            print(f"{name}: done in {time.perf_counter() - started:.1f} s")
        except Exception as exc:  # noqa: BLE001 - one benchmark's error must not hide the others' figures
            traceback.print_exc()
            errors.append(f"{name}: {exc}")
    print()
    if rows:
        print_table(rows)
    failed = [r for r in rows if r.get("failures")]
    missed = [r for r in rows if r.get("ok") is False]
    for message in errors:
        print(f"ERROR {message}", file=sys.stderr)
    for row in failed:
        print(f"FAILED REQUESTS {row['name']}: {row['failures']} (non-2xx or no answer)", file=sys.stderr)
    if errors or failed or (args.strict and missed):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
