"""`egov notify [--once] [--interval S]`: turn dossier events into notices and send the queued messages, retrying
failures with back-off. Several can run at once (offsets are locked per partition; messages are claimed one by one).
The other ledger consumers ride the same loop: the service statistics (egov.monitoring) and the citizens' data store
(egov.portal: delivered results kept when delivered). Once a day (and at start) it also runs ``egov retention``."""
import time

from django.core.management.base import BaseCommand, CommandError

from egov.monitoring import services as statistics
from egov.notifications import services
from egov.portal import apply_services as data_store

RETENTION_EVERY = 24 * 3600  # seconds between two retention passes of a running loop


class Command(BaseCommand):
    help = "Notify applicants of dossier events (in-app, email, SMS) and retry failed messages."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="one pass, then exit")
        parser.add_argument("--interval", type=float, default=5.0, help="seconds between passes (default 5)")

    def handle(self, *args, once: bool = False, interval: float = 5.0, **options):
        if interval <= 0:
            raise CommandError("--interval must be a positive number of seconds")
        next_retention = time.monotonic()
        while True:
            events, report = services.run_once()
            statistics.update()  # the service statistics' ledger consumer rides the same loop (egov.monitoring)
            data_store.keep_delivered()  # and the data store's: delivered results kept when delivered (egov.portal)
            if time.monotonic() >= next_retention:  # and, once a day, the retention of drafts and uploads
                from egov.portal.management.commands.egov_retention import run_retention

                self.stdout.write(run_retention())
                next_retention = time.monotonic() + RETENTION_EVERY
            if once or events or report.sent or report.failed or report.gave_up:
                self.stdout.write(f"{events} events read; {report}")
            if once:
                return
            try:
                time.sleep(interval)
            except KeyboardInterrupt:
                return
