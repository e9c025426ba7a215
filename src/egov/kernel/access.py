"""Who is calling (người gọi): one value that every service checks rights against, whoever authenticated it.

The web and API layers turn a signed-in officer, a signed-in citizen or an authenticated client system into a
``Caller``; services decide with it, server-side, and name it in the ledger. Rights are strings such as
``population.verify`` or ``registry.ho-tich.read`` (see ``egov.registries.rules``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from django.core.exceptions import PermissionDenied

CallerKind = Literal["officer", "citizen", "client", "system"]


class Denied(PermissionDenied):
    """The caller may not do this; ``reason`` is shown to them (translatable)."""

    def __init__(self, reason):
        super().__init__(str(reason))
        self.reason = reason


@dataclass(frozen=True)
class Caller:
    kind: CallerKind
    actor: Any = None                 # the User or ClientSystem instance named in the ledger (None: the system)
    agency_code: str | None = None    # the officer's or client system's agency; ledger partition of its reads
    role: str = ""                    # officer role (accounts.Role) for officers
    rights: frozenset[str] = field(default_factory=frozenset)
    person_id: int | None = None      # for a citizen: their own population record
    label: str = ""                   # how the caller is shown to a citizen: agency and role or system name

    def may(self, right: str) -> bool:
        return right in self.rights or "*" in self.rights

    @property
    def partition(self) -> str:
        return self.agency_code or "platform"


SYSTEM = Caller(kind="system", rights=frozenset({"*"}), label="egov")
