"""Page links by key (``?after=<id>``, ``?before=<id>``) and ids posted by forms, read safely.

A link is typed, cut, pasted and tampered with: only a plain ASCII number that a database id column can hold is a
key. ``str.isdigit`` alone is not enough: it accepts "²" (which ``int`` refuses) and a 30-digit number (which SQLite
and PostgreSQL refuse as a BIGINT parameter), both of which used to end in a 500."""

MAX_ROW_ID = 2**63 - 1  # BIGINT / SQLite INTEGER


def row_id(raw) -> int | None:
    """The id in ``raw`` (0 to ``MAX_ROW_ID``), or None when it is not one."""
    if not isinstance(raw, str) or not raw.isascii() or not raw.isdigit() or len(raw) > 19:
        return None
    value = int(raw)
    return value if value <= MAX_ROW_ID else None
