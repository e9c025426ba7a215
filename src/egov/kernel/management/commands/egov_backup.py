"""``egov backup ARCHIVE``: a consistent copy of the database and files (see egov.kernel.backup)."""
from django.core.management.base import BaseCommand, CommandError

from egov.kernel import backup


class Command(BaseCommand):
    help = "Write a consistent copy of the database and files (MEDIA_ROOT) to a .tar.gz archive."

    def add_arguments(self, parser):
        parser.add_argument("archive", help="path of the .tar.gz archive to write")

    def handle(self, *args, archive: str, **options):
        try:
            result = backup.create_backup(archive)
        except backup.BackupError as exc:
            raise CommandError(str(exc)) from None
        for warning in result.warnings:
            self.stderr.write(f"warning: {warning}")
        self.stdout.write(
            f"Backup written to {result.path}: {result.tables} tables, {result.rows} rows, {result.files} files."
        )
