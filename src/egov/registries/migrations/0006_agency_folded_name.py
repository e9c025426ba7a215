"""Agency.folded_name: the name without case or diacritics (egov.kernel.text.fold), for finding an agency by typing
part of its name; existing agencies are folded here."""
from django.db import migrations, models


def fold_names(apps, schema_editor):
    from egov.kernel.text import fold

    Agency = apps.get_model("registries", "Agency")
    batch = []
    for agency in Agency.objects.only("id", "name").order_by("id").iterator(chunk_size=2000):
        agency.folded_name = fold(agency.name)
        batch.append(agency)
        if len(batch) == 2000:
            Agency.objects.bulk_update(batch, ["folded_name"])
            batch = []
    Agency.objects.bulk_update(batch, ["folded_name"])


class Migration(migrations.Migration):

    dependencies = [
        ('registries', '0005_agency_address_and_phone'),
    ]

    operations = [
        migrations.AddField(
            model_name='agency',
            name='folded_name',
            field=models.CharField(db_index=True, default='', editable=False, max_length=255),
        ),
        migrations.RunPython(fold_names, migrations.RunPython.noop),
    ]
