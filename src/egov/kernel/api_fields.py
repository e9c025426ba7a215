"""Field types and schema notes shared by egov's APIs (Django Ninja, pydantic v2).

* ``IsoDate`` and ``IsoDateTime``: a date, a date and time, as the OpenAPI document says them (``format: date`` and
  ``date-time``): ISO 8601 text. pydantic alone would also read a JSON number, or text of digits, as Unix time
  (``"date_of_birth": 0`` as 1970-01-01): a client's mistake answered as if it were a date.
* ``documented(...)``: states in the OpenAPI document a rule that the handler or its services check themselves, with
  their own status, field and message (``Annotated[str, documented(pattern=…)] = Query(…)``). The document says
  the rule; the answer to a breach of it stays the one the services give.
"""
import datetime as dt
import re
from typing import Annotated

from pydantic import BeforeValidator, Field
from pydantic_core import PydanticCustomError

_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_ISO_DATE_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}")


def _date_text(value):
    if isinstance(value, dt.date) or (isinstance(value, str) and _ISO_DATE.fullmatch(value.strip())):
        return value
    raise PydanticCustomError("date_type", "Input should be a date written YYYY-MM-DD")


def _date_time_text(value):
    if isinstance(value, dt.datetime) or (isinstance(value, str) and _ISO_DATE_TIME.match(value.strip())):
        return value
    raise PydanticCustomError("datetime_type", "Input should be a date and time written YYYY-MM-DDTHH:MM[:SS][±HH:MM]")


IsoDate = Annotated[dt.date, BeforeValidator(_date_text)]
IsoDateTime = Annotated[dt.datetime, BeforeValidator(_date_time_text)]


def documented(**schema):
    """The JSON Schema keywords (``pattern``, ``enum``, ``minLength`` …) of a rule checked elsewhere, for the
    document only."""
    return Field(json_schema_extra=schema)


# Rules the services check, as the document states them.
PERSONAL_ID_PATTERN = r"^[0-9]{12}$"
UUID_PATTERN = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
