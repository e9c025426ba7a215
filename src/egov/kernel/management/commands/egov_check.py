"""``egov check``: is this installation ready to run?

1. Django's system checks (with the deployment checks when ``EGOV_ENV=production``);
2. no model change lacks a migration (what ``makemigrations --check`` reports), and no two migrations conflict;
3. the database is reachable and every migration is applied.

It prints a configuration summary without secrets first, then every problem, and exits 1 when there is any.
"""
from django.apps import apps
from django.conf import settings
from django.core import checks
from django.core.management.base import BaseCommand, CommandError, no_translations
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.migrations.autodetector import MigrationAutodetector
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.questioner import NonInteractiveMigrationQuestioner
from django.db.migrations.state import ProjectState
from django.utils import translation


def configuration_summary() -> list[tuple[str, str]]:
    """What this installation runs on, with no password, key or secret."""
    db = settings.DATABASES[DEFAULT_DB_ALIAS]
    engine = db["ENGINE"].rsplit(".", 1)[-1]
    if engine == "sqlite3":
        where = str(db["NAME"])
    else:
        host = db.get("HOST") or "local socket"
        port = f":{db['PORT']}" if db.get("PORT") else ""
        where = f"{host}{port}/{db.get('NAME', '')}"
    return [
        ("environment (EGOV_ENV)", getattr(settings, "ENV", "development")),
        ("debug (EGOV_DEBUG)", "on" if settings.DEBUG else "off"),
        ("allowed hosts (EGOV_ALLOWED_HOSTS)", ", ".join(settings.ALLOWED_HOSTS) or "(none)"),
        ("database (EGOV_DATABASE_URL)", f"{engine} at {where}"),
        ("data directory (EGOV_DATA_DIR)", str(getattr(settings, "DATA_DIR", ""))),
        ("files (EGOV_MEDIA_ROOT)", str(settings.MEDIA_ROOT)),
        ("background tasks (EGOV_TASKS_BACKEND)", settings.TASKS["default"]["BACKEND"]),
        ("ledger checkpoint key (EGOV_LEDGER_KEY_FILE)", str(getattr(settings, "LEDGER_CHECKPOINT_KEY_FILE", ""))),
        ("personal-data keys (EGOV_DATA_KEYS)", _key_ids()),
    ]


def _key_ids() -> str:
    """The key ids only (never the keys): active first."""
    from egov.kernel import crypto

    ids = crypto.keyring().ids
    return f"active {ids[0]}" + (f", older {', '.join(ids[1:])}" if len(ids) > 1 else "")


def missing_migrations() -> dict[str, list[str]]:
    """App label -> descriptions of the model changes that no migration covers (the ``makemigrations`` autodetector,
    on every installed app, without writing anything). An app with models but no migrations package counts too
    (``convert_apps``): every table of egov is created by a committed migration."""
    with translation.override(None):  # model options hold lazy translations: compare them untranslated
        return _missing_migrations()


def _missing_migrations() -> dict[str, list[str]]:
    loader = MigrationLoader(None, ignore_no_migrations=True)
    labels = {config.label for config in apps.get_app_configs()}
    questioner = NonInteractiveMigrationQuestioner(specified_apps=labels, dry_run=True, verbosity=0)
    autodetector = MigrationAutodetector(loader.project_state(), ProjectState.from_apps(apps), questioner)
    changes = autodetector.changes(graph=loader.graph, trim_to_apps=labels, convert_apps=labels)
    return {
        app_label: [operation.describe() for migration in migrations for operation in migration.operations]
        for app_label, migrations in sorted(changes.items())
    }


def migration_conflicts() -> dict[str, list[str]]:
    return MigrationLoader(None, ignore_no_migrations=True).detect_conflicts()


def unapplied_migrations(using: str = DEFAULT_DB_ALIAS) -> list[str]:
    connection = connections[using]
    executor = MigrationExecutor(connection)
    targets = executor.loader.graph.leaf_nodes()
    return [f"{migration.app_label}.{migration.name}" for migration, _ in executor.migration_plan(targets)]


def unreadable_personal_data() -> list[str]:
    """Rows sealed under a key that EGOV_DATA_KEYS no longer lists cannot be read: a problem, named with the key."""
    from egov.kernel import crypto
    from egov.registries.services import TABLE_NAMES, key_usage

    configured = set(crypto.keyring().ids)
    return [f"{', '.join(f'{n} {TABLE_NAMES.get(label, label)}' for label, n in counts.items() if n)} "
            f"are sealed under key {key_id!r}, which EGOV_DATA_KEYS does not list: add it back (after the active key) "
            "and run `egov keys rotate`"
            for key_id, counts in key_usage().items() if key_id not in configured]


class Command(BaseCommand):
    help = "Check configuration, system checks, missing migrations and the database; exit 1 on any problem."
    requires_system_checks = ()  # run below, where their output is part of the report

    @no_translations  # model options hold lazy translations: compare them untranslated, as makemigrations does
    def handle(self, *args, **options):
        problems: list[str] = []
        self.stdout.write("egov configuration:")
        for name, value in configuration_summary():
            self.stdout.write(f"  {name}: {value}")

        production = getattr(settings, "ENV", "development") == "production"
        issues = [issue for issue in checks.run_checks(include_deployment_checks=production) if not issue.is_silenced()]
        for issue in issues:
            line = str(issue).replace("\n\tHINT:", " hint:")  # "object: (id) message hint: …"
            if issue.is_serious():
                problems.append(f"system check {line}")
            else:
                self.stderr.write(f"warning: {line}")

        for app_label, names in migration_conflicts().items():
            problems.append(
                f"app {app_label} has conflicting migrations ({', '.join(names)}): merge them into one line"
            )
        for app_label, operations in missing_migrations().items():
            problems.append(
                f"app {app_label} has model changes without a migration ({'; '.join(operations)}): run "
                f"`uv run django-admin makemigrations {app_label} --settings=egov.settings` and commit the file"
            )

        try:
            pending = unapplied_migrations()
        except DatabaseError as exc:
            problems.append(f"cannot read the database's migration state (EGOV_DATABASE_URL): {exc}".strip())
        else:
            if pending:
                problems.append(
                    f"the database is missing {len(pending)} migration(s), first {pending[0]}: run `egov migrate`"
                )
            else:
                problems.extend(unreadable_personal_data())

        if problems:
            for problem in problems:
                self.stderr.write(f"problem: {problem}")
            raise CommandError(f"{len(problems)} problem(s) found")
        self.stdout.write("egov check: no problems found.")
