"""`egov catalogue import FILE` / `egov catalogue export DIR`: load or write the procedure catalogue
(format egov-catalogue/1, docs/catalogue-format.md). Errors: one line each (file:line: path: what), exit 1."""
from django.core.management.base import BaseCommand, CommandError

from egov.procedures import services
from egov.procedures.catalogue import CatalogueErrors


class Command(BaseCommand):
    help = "Import a procedure catalogue file, or export the catalogue to a directory."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        importing = sub.add_parser("import", help="load a catalogue file (all of it, or nothing on any error)")
        importing.add_argument("file")
        exporting = sub.add_parser("export", help="write catalogue.yaml and its BPMN files into a directory")
        exporting.add_argument("directory")

    def handle(self, *args, action: str, **options):
        if action == "import":
            try:
                report = services.import_catalogue(services.Path(options["file"]))
            except CatalogueErrors as exc:
                for error in exc.errors:
                    self.stderr.write(str(error))
                raise CommandError(f"{len(exc.errors)} error(s); nothing was imported") from None
            self.stdout.write(report.summary())
        else:
            path = services.export_catalogue(options["directory"])
            self.stdout.write(f"Catalogue written to {path}")
