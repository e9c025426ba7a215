"""`egov keys new ID | status | rotate`: personal-data keys (EGOV_DATA_KEYS) and their rotation."""
from django.core.management.base import BaseCommand, CommandError

from egov.kernel import crypto


class Command(BaseCommand):
    help = "Personal-data keys: make a new one, show which keys seal how many records, rotate to the active key."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        new = sub.add_parser("new", help="print a new random key in the EGOV_DATA_KEYS notation")
        new.add_argument("key_id", help="a name for the key, e.g. 2027-01")
        sub.add_parser("status", help="how many persons and records each key seals")
        rotate = sub.add_parser("rotate", help="re-encrypt everything under the active (first) key, in batches")
        rotate.add_argument("--batch", type=int, default=500, help="records per transaction (default 500)")
        rotate.add_argument("--pause", type=float, default=0.0, help="seconds to wait between batches")

    def handle(self, *args, action: str, **options):
        if action == "new":
            try:
                spec = crypto.new_key_spec(options["key_id"])
            except ValueError as exc:
                raise CommandError(str(exc)) from None
            self.stdout.write(spec)
            self.stdout.write("Put it FIRST in EGOV_DATA_KEYS (keep the old keys after it), restart, then run "
                              "`egov keys rotate`.")
            return
        from egov.registries import services

        ring = crypto.keyring()
        if action == "status":
            usage = services.key_usage()
            self.stdout.write(f"active key: {ring.active.key_id}; configured: {', '.join(ring.ids)}")
            for key_id in sorted(set(usage) | set(ring.ids)):
                counts = usage.get(key_id, {})
                state = "active" if key_id == ring.active.key_id else (
                    "configured" if key_id in ring.ids else "MISSING: records unreadable until it is configured")
                others = "".join(f", {n} {services.TABLE_NAMES.get(label, label)}" for label, n in counts.items()
                                 if label not in ("persons", "records") and n)
                self.stdout.write(f"  {key_id}: {counts.get('persons', 0)} persons, {counts.get('records', 0)} "
                                  f"records{others} ({state})")
            return
        if options["batch"] < 1:
            raise CommandError("--batch must be at least 1")
        report = services.rotate_keys(
            batch_size=options["batch"], pause_seconds=max(0.0, options["pause"]),
            progress=lambda r: self.stdout.write(f"  … {r.persons} persons, {r.records} records, {r.batches} batches",
                                                 ending="\r"))
        self.stdout.write(f"egov keys rotate: {report.line()} (active key {ring.active.key_id}).")
        leftover = {k: v for k, v in services.key_usage().items() if k != ring.active.key_id}
        if leftover:
            raise CommandError(f"still sealed under other keys: {leftover}")
