"""`egov payments work [--once] [--interval S]`: apply the providers' notifications and send refunds, in a loop (a
claimed-row loop: several can run at once). `egov payments reconcile [--date YYYY-MM-DD]`: the daily reconciliation
with the payment provider."""
import datetime as dt
import time

from django.core.management.base import BaseCommand, CommandError

from egov.kernel.calendar_rules import VN_TZ
from egov.payments import services
from egov.payments.gateways import GatewayError


class Command(BaseCommand):
    help = "Payments: reconcile a day with the provider, or apply pending notifications."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["reconcile", "work"])
        parser.add_argument("--once", action="store_true", help="work: one pass, then exit")
        parser.add_argument("--interval", type=float, default=0.5, help="work: seconds between idle passes")
        parser.add_argument("--date", default="", help="YYYY-MM-DD (Vietnam's calendar); default: yesterday")

    def handle(self, *args, action: str, date: str = "", once: bool = False, interval: float = 0.5, **options):
        if action == "work":
            self.work(once=once, interval=interval)
            return
        try:
            day = dt.date.fromisoformat(date) if date else dt.datetime.now(VN_TZ).date() - dt.timedelta(days=1)
        except ValueError:
            raise CommandError(f"--date {date!r} is not a date: use YYYY-MM-DD.") from None
        try:
            report = services.reconcile(day)
        except GatewayError as exc:
            raise CommandError(f"the payment provider could not be reached ({exc}); nothing was stored.") from None
        self.stdout.write(f"Reconciliation of {day}: {report.provider_count} provider transactions, "
                          f"{report.platform_count} platform records, {report.recovered} recovered, "
                          f"{len(report.mismatches)} mismatches.")
        for mismatch in report.mismatches:
            self.stdout.write("  " + ", ".join(f"{key}={value}" for key, value in mismatch.items()
                                               if value not in (None, "")))

    def work(self, *, once: bool, interval: float) -> None:
        if interval <= 0:
            raise CommandError("--interval must be a positive number of seconds")
        while True:
            applied, refunds = services.work_once()
            if once or applied or refunds:
                self.stdout.write(f"{applied} notifications applied, {refunds} refunds sent.")
            if once:
                return
            if not applied:  # busy: go straight on; idle: wait
                try:
                    time.sleep(interval)
                except KeyboardInterrupt:
                    return
