"""`egov payments reconcile [--date YYYY-MM-DD]` and `egov payments apply`: the daily reconciliation with the
payment provider, and a pass over notifications not applied yet."""
import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from egov.kernel.calendar_rules import VN_TZ
from egov.payments import services
from egov.payments.gateways import GatewayError


class Command(BaseCommand):
    help = "Payments: reconcile a day with the provider, or apply pending notifications."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["reconcile", "apply"])
        parser.add_argument("--date", default="", help="YYYY-MM-DD (Vietnam's calendar); default: yesterday")

    def handle(self, *args, action: str, date: str = "", **options):
        if action == "apply":
            self.stdout.write(f"{services.apply_pending()} notifications applied.")
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
