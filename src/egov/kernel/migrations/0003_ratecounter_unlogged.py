"""Rate counters need no crash safety: on PostgreSQL their table is UNLOGGED, so counting a call writes no WAL and
waits for no flush (a lost count after a crash only lets a few calls through early). SQLite has no such notion."""
from django.db import migrations


def unlogged(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE kernel_ratecounter SET UNLOGGED")


def logged(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE kernel_ratecounter SET LOGGED")


class Migration(migrations.Migration):
    dependencies = [("kernel", "0002_ratecounter")]
    operations = [migrations.RunPython(unlogged, logged, elidable=False)]
