"""On PostgreSQL, a change to a client system or its grants notifies the connections that keep them
(egov.kernel.row_cache): the API look-ups of every call are then served from memory until something changes."""
from django.db import migrations

from egov.kernel.row_cache import watch_tables


class Migration(migrations.Migration):
    dependencies = [("exchange", "0002_oidc_applications")]
    operations = [watch_tables("exchange_clientsystem", "exchange_servicegrant")]
