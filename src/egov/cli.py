"""The ``egov`` command: one entry point for operators (demo, serve, worker, migrate, seed, check, audit, backup)."""
import argparse
import os
import subprocess
import sys


def _django():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "egov.settings")
    import django
    from django.core.exceptions import ImproperlyConfigured

    try:
        django.setup()
    except ImproperlyConfigured as exc:
        print(f"egov: configuration error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def _call(name: str, *args, **options) -> None:
    from django.core.management import call_command
    from django.core.management.base import CommandError

    try:
        call_command(name, *args, **options)
    except CommandError as exc:
        shown = {"db_worker": "worker"}.get(name, name.removeprefix("egov_").replace("_", " "))
        print(f"egov {shown}: {exc}", file=sys.stderr)
        raise SystemExit(1) from None


def _database_reachable() -> None:
    """Fail with one line naming the setting to fix, rather than a driver traceback, when the database is not there."""
    from django.db import OperationalError, connection

    try:
        connection.ensure_connection()
    except OperationalError as exc:
        db = connection.settings_dict
        if db["ENGINE"].endswith("sqlite3"):
            where, variable = str(db["NAME"]), "EGOV_DATA_DIR or EGOV_DATABASE_URL"
        else:
            where = f"{db.get('HOST') or 'local socket'}:{db.get('PORT') or 5432}/{db['NAME']}"
            variable = "EGOV_DATABASE_URL"
        reason = " ".join(str(exc).split())  # the driver's message spans several lines
        print(f"egov: cannot connect to the database at {where} ({variable}): {reason}", file=sys.stderr)
        raise SystemExit(1) from None


def _worker_count(text: str) -> int:
    """--workers, or EGOV_WEB_WORKERS (argparse passes a text default through this too)."""
    try:
        count = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number (--workers or EGOV_WEB_WORKERS)") from None
    if count < 1:
        raise argparse.ArgumentTypeError(f"{count} server processes: at least 1 (--workers or EGOV_WEB_WORKERS)")
    return count


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="egov", description="egov: an open-source e-Government platform.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = sub.add_parser("demo", help="migrate, load reference and demo data, then serve on http://127.0.0.1:8000")
    serve = sub.add_parser("serve", help="serve the web application with gunicorn (production WSGI server)")
    for p in (demo, serve):
        p.add_argument("--bind", default=os.environ.get("EGOV_BIND", "127.0.0.1:8000"), help="address:port")
        p.add_argument("--workers", type=_worker_count, default=os.environ.get("EGOV_WEB_WORKERS", "2"),
                       help="server processes (default: EGOV_WEB_WORKERS or 2)")
    fake_eid = sub.add_parser("fake-eid", help="serve a fake national eID (OpenID Connect) for the demo on "
                                               "http://127.0.0.1:8002 (not in production)")
    fake_eid.add_argument("--bind", default="127.0.0.1:8002", help="address:port")
    sub.add_parser("worker", help="run the background task worker")
    notify = sub.add_parser("notify", help="notify applicants of dossier events (in-app, email, SMS) and retry "
                                           "failed messages, in a loop")
    notify.add_argument("--once", action="store_true", help="one pass, then exit")
    notify.add_argument("--interval", type=float, default=5.0, help="seconds between passes (default 5)")
    retention = sub.add_parser("retention", help="delete drafts untouched for EGOV_DRAFT_RETENTION_DAYS days (with "
                                                  "their files) and registration uploads never linked (egov notify "
                                                  "does it once a day)")
    retention.add_argument("--days", type=int, default=None, help="drafts untouched for this many days (default: "
                                                                  "EGOV_DRAFT_RETENTION_DAYS; 0 keeps them)")
    statistics = sub.add_parser("statistics", help="service statistics: read new ledger events (update) or "
                                                   "recompute from the whole ledger (rebuild)")
    statistics.add_argument("statistics_command", choices=["update", "rebuild"], metavar="ACTION",
                            help="update | rebuild")
    sub.add_parser("migrate", help="apply database migrations")
    seed = sub.add_parser("seed", help="load reference data (administrative units, holidays) and, with --demo, demo data")
    seed.add_argument("--demo", action="store_true", help="also load demo agencies and accounts")
    totp = sub.add_parser("demo-totp", help="print the current TOTP code of a demo officer account (not in production)")
    totp.add_argument("username")
    demo_client = sub.add_parser("demo-client", help="run a demo agency system on http://127.0.0.1:8001 whose users "
                                 "sign in with egov (single sign-on; not in production)")
    demo_client.add_argument("--bind", default="127.0.0.1:8001", help="address:port of the demo agency system")
    demo_client.add_argument("--provider", default="http://127.0.0.1:8000", help="egov's address (the OpenID provider)")
    catalogue = sub.add_parser("catalogue", help="procedure catalogue: import a file, export to a directory")
    catalogue_sub = catalogue.add_subparsers(dest="catalogue_command", required=True, metavar="ACTION")
    catalogue_import = catalogue_sub.add_parser("import", help="load a catalogue file (egov-catalogue/1); nothing "
                                                "is loaded when it has errors")
    catalogue_import.add_argument("file", help="the catalogue's YAML file")
    catalogue_export = catalogue_sub.add_parser("export", help="write catalogue.yaml and its BPMN files")
    catalogue_export.add_argument("directory", help="directory to write into")
    payments = sub.add_parser("payments", help="payments: apply providers' notifications and send refunds in a loop "
                                                "(work), reconcile a day with the provider (reconcile)")
    payments.add_argument("payments_command", choices=["work", "reconcile"], metavar="ACTION", help="work | reconcile")
    payments.add_argument("--date", default="", help="reconcile: the day, YYYY-MM-DD (default: yesterday)")
    payments.add_argument("--once", action="store_true", help="work: one pass, then exit")
    payments.add_argument("--interval", type=float, default=0.5, help="work: seconds between idle passes (default 0.5)")
    sandbox_pay = sub.add_parser("sandbox-pay", help="run a sandbox payment gateway and bank on http://127.0.0.1:8003 "
                                                     "that call back the platform (not in production)")
    sandbox_pay.add_argument("--bind", default="127.0.0.1:8003", help="address:port")
    sandbox_pay.add_argument("--callback", default="http://127.0.0.1:8000/api/v1/payments/callbacks",
                             help="the platform's callback address (the provider's name is appended)")
    sandbox_pay.add_argument("--state", default="", help="its SQLite state file (default: $EGOV_DATA_DIR/sandbox-pay.sqlite3)")
    sandbox_pay.add_argument("--max-backoff", type=float, default=30.0, help="longest wait between callback retries (s)")
    sub.add_parser("check", help="check configuration and that no model change lacks a migration")
    audit = sub.add_parser("audit", help="event ledger integrity")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True, metavar="ACTION")
    audit_sub.add_parser("verify", help="verify every hash chain and signed checkpoint; name the first broken link")
    checkpoint = audit_sub.add_parser("checkpoint", help="sign a checkpoint of every chain head now")
    checkpoint.add_argument("--create-key", action="store_true",
                            help="create the signing key (EGOV_LEDGER_KEY_FILE) if it does not exist yet")
    keys = sub.add_parser("keys", help="personal-data keys: new, status, rotate")
    keys_sub = keys.add_subparsers(dest="keys_command", required=True, metavar="ACTION")
    keys_new = keys_sub.add_parser("new", help="print a new random key for EGOV_DATA_KEYS")
    keys_new.add_argument("key_id", help="a name for the key, e.g. 2027-01")
    keys_sub.add_parser("status", help="how many persons and records each key seals")
    keys_rotate = keys_sub.add_parser("rotate", help="re-encrypt under the active key and rebuild blind indexes")
    keys_rotate.add_argument("--batch", type=int, default=500, help="records per transaction")
    keys_rotate.add_argument("--pause", type=float, default=0.0, help="seconds between batches (gentler on a busy server)")
    pki_parser = sub.add_parser("pki", help="certificates that sign results: status, revoke ORG_CODE")
    pki_sub = pki_parser.add_subparsers(dest="pki_command", required=True, metavar="ACTION")
    pki_sub.add_parser("status", help="the demo CA, trusted CAs and each agency's signing certificate")
    pki_revoke = pki_sub.add_parser("revoke", help="revoke the certificate that signs an agency's results")
    pki_revoke.add_argument("org_code", help="the agency's organisation code, e.g. 000.00.12.H29")
    pki_revoke.add_argument("--reason", default="", help="why (kept with the revocation)")
    backup = sub.add_parser("backup", help="write a consistent copy of the database and files to an archive")
    backup.add_argument("archive", help="path of the .tar.gz archive to write")
    restore = sub.add_parser("restore", help="restore database and files from an archive made by `egov backup`")
    restore.add_argument("archive", help="path of the archive to read")
    restore.add_argument("--force", action="store_true", help="replace existing data in a non-empty database")
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    if args.command == "demo" and os.environ.get("EGOV_ENV", "development") != "production":
        # The demo's "Sign in with national eID" button talks to `egov fake-eid` unless another issuer is set.
        os.environ.setdefault("EGOV_EID_ISSUER", "http://127.0.0.1:8002")
    if args.command == "demo":
        # The demo is what officials and citizens try first: a mistyped address gets the platform's own page, not
        # Django's debug page with the settings in it. EGOV_DEBUG=1 brings the debug page back for a developer.
        os.environ.setdefault("EGOV_DEBUG", "0")
    if args.command == "fake-eid":
        fake_eid_serve(args.bind)
        return
    if args.command == "sandbox-pay":
        sandbox_pay_serve(args)
        return
    _django()
    _database_reachable()
    if args.command == "migrate":
        _call("migrate", interactive=False)
    elif args.command == "seed":
        _call("egov_seed", demo=args.demo)
    elif args.command == "demo-totp":
        _call("demo_totp", args.username)
    elif args.command == "demo-client":
        from django.core.exceptions import ImproperlyConfigured

        from egov.accounts import demo_client

        try:
            demo_client.run(bind=args.bind, provider=args.provider)
        except ImproperlyConfigured as exc:
            print(f"egov demo-client: {exc}", file=sys.stderr)
            raise SystemExit(2) from None
        except KeyboardInterrupt:
            pass
    elif args.command == "catalogue":
        if args.catalogue_command == "import":
            _call("egov_catalogue", "import", args.file)
        else:
            _call("egov_catalogue", "export", args.directory)
    elif args.command == "check":
        _call("egov_check")
    elif args.command == "audit":
        if args.audit_command == "checkpoint":
            _call("audit_checkpoint", create_key=args.create_key)
        else:
            _call("audit_verify")
    elif args.command == "keys":
        if args.keys_command == "new":
            _call("egov_keys", "new", args.key_id)
        elif args.keys_command == "status":
            _call("egov_keys", "status")
        else:
            _call("egov_keys", "rotate", "--batch", str(args.batch), "--pause", str(args.pause))
    elif args.command == "pki":
        if args.pki_command == "status":
            _call("egov_pki", "status")
        else:
            _call("egov_pki", "revoke", args.org_code, "--reason", args.reason)
    elif args.command == "backup":
        _call("egov_backup", args.archive)
    elif args.command == "restore":
        _call("egov_restore", args.archive, force=args.force)
    elif args.command == "worker":
        _call("db_worker")
    elif args.command == "payments":
        _call("egov_payments", args.payments_command, date=args.date, once=args.once, interval=args.interval)
    elif args.command == "retention":
        _call("egov_retention", days=args.days)
    elif args.command == "statistics":
        _call("egov_statistics", args.statistics_command)
    elif args.command == "notify":
        _call("egov_notify", once=args.once, interval=args.interval)
    elif args.command == "serve":
        serve(args.bind, args.workers)
    elif args.command == "demo":
        _call("migrate", interactive=False, verbosity=0)
        _call("egov_seed", demo=True)
        companions = start_demo_companions(args.bind)
        print(f"\negov demo: open http://{args.bind}/ (stop with Ctrl+C)\n", flush=True)
        try:
            serve(args.bind, args.workers)
        finally:
            stop_demo_companions(companions)


def _host_port(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port or 80}"


def start_demo_companions(bind: str) -> list:
    """The processes a production installation runs next to its web servers, started with the demo so that every
    journey works from one command: the notifications and statistics loop, the payments worker, and the demo's
    sandbox payment gateway and fake national eID on their loopback ports (EGOV_PAYMENT_GATEWAY_URL,
    EGOV_EID_ISSUER). Each is an ``egov`` command of its own; they stop with the demo."""
    from django.conf import settings

    gateway = _host_port(settings.PAYMENT_GATEWAY_URL)
    eid = _host_port(os.environ.get("EGOV_EID_ISSUER", "http://127.0.0.1:8002"))
    commands = {
        "notifications and statistics (egov notify)": ["notify"],
        "payments worker (egov payments work)": ["payments", "work"],
        f"sandbox payment gateway and bank on http://{gateway} (egov sandbox-pay)":
            ["sandbox-pay", "--bind", gateway, "--callback", f"http://{bind}/api/v1/payments/callbacks"],
        f"fake national eID on http://{eid} (egov fake-eid)": ["fake-eid", "--bind", eid],
    }
    started = []
    for label, command in commands.items():
        started.append(subprocess.Popen([sys.executable, "-m", "egov.cli", *command]))
        print(f"egov demo: started the {label}", flush=True)
    return started


def stop_demo_companions(processes: list) -> None:
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def fake_eid_serve(bind: str) -> None:
    """Serve the fake national eID with the demo population's identities. Needs no database: the identities are
    fixed (see egov.accounts.fake_eid.demo_identities)."""
    if os.environ.get("EGOV_ENV", "development") == "production":
        print("egov fake-eid: refused with EGOV_ENV=production (it signs in anyone who asks)", file=sys.stderr)
        raise SystemExit(2)
    from egov.accounts.fake_eid import DEMO_CLIENT_ID, demo_identities, serve as serve_eid

    host, _, port = bind.rpartition(":")
    provider, server = serve_eid(host or "127.0.0.1", int(port), demo_identities(), quiet=False)
    print(f"egov fake-eid: issuer {provider.issuer} (client id {DEMO_CLIENT_ID}); NOT the real VNeID. "
          "Stop with Ctrl+C.", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def sandbox_pay_serve(args) -> None:
    """The sandbox payment gateway and bank: no database of the platform, only its own state file."""
    if os.environ.get("EGOV_ENV", "development") == "production":
        print("egov sandbox-pay: refused with EGOV_ENV=production (it pays without money)", file=sys.stderr)
        raise SystemExit(2)
    from egov import config
    from egov.payments import sandbox

    state = args.state or str(config.data_dir() / "sandbox-pay.sqlite3")
    sandbox.main(args.bind, args.callback, state, args.max_backoff)


def serve(bind: str, workers: int) -> None:
    from egov.kernel.server import run_gunicorn

    run_gunicorn(bind=bind, workers=workers)


if __name__ == "__main__":
    main()
