from django.db import migrations

from egov.procedures.models import procedure_words


def add_sector_and_result_words(apps, schema_editor):
    """Every procedure is also found by the words of its sector and of the results its versions issue ("ho tich",
    "giay khai sinh"): its words and its rows in the word index are made again (Procedure.save keeps them after)."""
    Procedure = apps.get_model("procedures", "Procedure")
    ProcedureVersion = apps.get_model("procedures", "ProcedureVersion")
    ProcedureWord = apps.get_model("procedures", "ProcedureWord")
    results: dict[int, set[str]] = {}
    for procedure_id, result in ProcedureVersion.objects.values_list("procedure_id", "result_type").iterator():
        results.setdefault(procedure_id, set()).add(result)
    rows = []
    for procedure in Procedure.objects.only("id", "code", "name", "sector").iterator(chunk_size=2000):
        words = procedure_words(procedure.code, procedure.name, procedure.sector, sorted(results.get(procedure.pk, ())))
        Procedure.objects.filter(pk=procedure.pk).update(words=f" {' '.join(words)} ")
        rows += [ProcedureWord(word=word, procedure_id=procedure.pk) for word in words]
        if len(rows) >= 10_000:
            ProcedureWord.objects.bulk_create(rows, ignore_conflicts=True)
            rows = []
    ProcedureWord.objects.bulk_create(rows, ignore_conflicts=True)
    if schema_editor.connection.vendor == "postgresql":  # statistics now, or the planner guesses until autovacuum
        schema_editor.execute("ANALYZE procedures_procedureword")


class Migration(migrations.Migration):

    dependencies = [
        ("procedures", "0003_search_words"),
    ]

    operations = [
        migrations.RunPython(add_sector_and_result_words, migrations.RunPython.noop, elidable=True),
    ]
