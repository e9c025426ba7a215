"""``egov audit verify``: check every ledger hash chain and signed checkpoint; name the first broken link."""
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from egov.kernel import ledger


class Command(BaseCommand):
    help = "Verify every event ledger hash chain and signed checkpoint; name the first broken link per partition."

    def add_arguments(self, parser):
        parser.add_argument("--partition", action="append", dest="partitions", metavar="PARTITION",
                            help="verify only this partition (repeatable)")

    def handle(self, *args, partitions=None, **options):
        try:
            report = ledger.verify(partitions)
        except DatabaseError as exc:
            raise CommandError(f"cannot read the ledger tables ({exc}); has `egov migrate` been run?") from None
        for item in report.partitions:
            if item.ok:
                self.stdout.write(item.line())
            else:
                self.stderr.write(item.line())
        if not report.partitions:
            self.stdout.write("OK: the ledger is empty")
        if not report.ok:
            broken = report.broken
            raise CommandError(f"ledger verification failed in {len(broken)} partition(s): "
                               + "; ".join(p.problem for p in broken))
        self.stdout.write(f"OK: {len(report.partitions)} partition(s) verified")
