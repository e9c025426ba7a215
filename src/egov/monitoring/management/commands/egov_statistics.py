"""`egov statistics update|rebuild`: keep the service statistics up to date from the event ledger, or recompute
them from scratch."""
from django.core.management.base import BaseCommand

from egov.monitoring import services


class Command(BaseCommand):
    help = "Service statistics: update (read new ledger events) or rebuild (recompute from the whole ledger)."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["update", "rebuild"])

    def handle(self, *args, action: str, **options):
        if action == "rebuild":
            events = services.rebuild()
            self.stdout.write(f"Statistics rebuilt from {events} ledger events.")
        else:
            events = services.update()
            self.stdout.write(f"Statistics: {events} new ledger events read.")
