"""Kernel models: the working-day calendar table, the event ledger and rate counters (each in its own module)."""
from egov.kernel.calendar_models import *  # noqa: F401,F403
from egov.kernel.ledger_models import *  # noqa: F401,F403
from egov.kernel.ratelimit_models import *  # noqa: F401,F403
from egov.kernel.pki_models import *  # noqa: F401,F403
