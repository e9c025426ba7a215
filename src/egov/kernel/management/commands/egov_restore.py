"""``egov restore ARCHIVE [--force]``: verify an archive made by ``egov backup``, then replace the database and files
with its contents in one transaction (see egov.kernel.backup)."""
from django.core.management.base import BaseCommand, CommandError

from egov.kernel import backup


class Command(BaseCommand):
    help = "Restore the database and files from an archive made by `egov backup`."

    def add_arguments(self, parser):
        parser.add_argument("archive", help="path of the archive to read")
        parser.add_argument("--force", action="store_true", help="replace existing data in a non-empty database")

    def handle(self, *args, archive: str, force: bool = False, **options):
        try:
            result = backup.restore_backup(archive, force=force)
        except backup.BackupError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"Restored from {archive}: {result.tables} tables, {result.rows} rows, {result.files} files."
        )
