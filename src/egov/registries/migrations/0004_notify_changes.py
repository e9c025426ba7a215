"""On PostgreSQL, a change to a registry's definition or to an agency notifies the connections that keep them
(egov.kernel.row_cache): the GovStack look-up of a registry is then served from memory until something changes."""
from django.db import migrations

from egov.kernel.row_cache import watch_tables


class Migration(migrations.Migration):
    dependencies = [("registries", "0003_enterprise")]
    operations = [watch_tables("registries_registry", "registries_agency")]
