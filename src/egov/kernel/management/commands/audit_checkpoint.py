"""``egov audit checkpoint``: sign every ledger chain head with the checkpoint key kept outside the database.

Run it periodically (e.g. every few minutes from cron or a scheduled task). Each printed line is a self-contained
signed checkpoint; shipping the lines to a second place (syslog, another machine) also protects against someone who
deletes the newest events together with the newest checkpoint rows.
"""
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from egov.kernel import ledger, signing


class Command(BaseCommand):
    help = "Sign a checkpoint of every event ledger chain head now."

    def add_arguments(self, parser):
        parser.add_argument("--create-key", action="store_true",
                            help="create the checkpoint key file if it is missing (also in production)")

    def handle(self, *args, create_key=False, **options):
        try:
            signing.checkpoint_key(create=True if create_key else None)
            created = ledger.checkpoint()
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from None
        for cp in created:
            self.stdout.write(f"checkpoint partition={cp.partition} seq={cp.seq} hash={cp.hash} "
                              f"signed_at={cp.signed_at} key_id={cp.key_id} signature={cp.signature}")
        self.stdout.write(f"OK: {len(created)} new checkpoint(s) signed")
