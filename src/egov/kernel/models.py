"""Kernel models: the working-day calendar table and the event ledger (each in its own module)."""
from egov.kernel.calendar_models import *  # noqa: F401,F403
from egov.kernel.ledger_models import *  # noqa: F401,F403
