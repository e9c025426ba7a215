"""`egov retention [--days N]`: delete what is kept no longer than its retention period: drafts nobody has touched for
EGOV_DRAFT_RETENTION_DAYS days (with their files), and registration uploads never linked to an application. The
notify loop runs it once a day; run it from cron where that loop does not run."""
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from egov.govstack import registration_services
from egov.portal import apply_services


def run_retention(days: int | None = None) -> str:
    days = settings.DRAFT_RETENTION_DAYS if days is None else days
    drafts, files = apply_services.purge_stale_drafts(older_than_days=days)
    staged = registration_services.purge_expired_staged()
    kept = "drafts kept for ever (EGOV_DRAFT_RETENTION_DAYS=0)" if days <= 0 else (
        f"{drafts} drafts untouched for {days} days deleted with {files} files")
    return f"{kept}; {staged} expired registration uploads deleted"


class Command(BaseCommand):
    help = "Delete drafts past their retention period and registration uploads never linked to an application."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=None,
                            help="drafts untouched for this many days (default: EGOV_DRAFT_RETENTION_DAYS; 0 keeps them)")

    def handle(self, *args, days: int | None = None, **options):
        if days is not None and days < 0:
            raise CommandError("--days is a number of days, 0 or more")
        self.stdout.write(run_retention(days))
