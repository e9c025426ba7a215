"""Reads of the data-sharing component."""
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from django.db import connections, router

from egov.exchange.models import ClientSystem, ServiceGrant
from egov.kernel import row_cache
from egov.registries.models import Agency


def clients_granted(service: str) -> list[ClientSystem]:
    """The client systems holding a grant of ``service`` (e.g. ``registry.ho-kinh-doanh.read``)."""
    return list(ClientSystem.objects.filter(grants__service=service).select_related("agency").order_by("identifier"))


_CLIENT_SQL: dict[str, str] = {}


def _client_sql(connection, column: str) -> str:
    key = f"{connection.vendor}:{column}"
    if key not in _CLIENT_SQL:
        q = connection.ops.quote_name
        client, grant, agency = (q(m._meta.db_table) for m in (ClientSystem, ServiceGrant, Agency))
        _CLIENT_SQL[key] = (
            f"SELECT c.{q('id')}, c.{q('identifier')}, c.{q('name')}, c.{q('agency_id')}, "
            f"c.{q('verify_limit_per_minute')}, a.{q('code')}, g.{q('service')}, g.{q('purposes')} "
            f"FROM {client} c JOIN {agency} a ON a.{q('id')} = c.{q('agency_id')} "
            f"LEFT JOIN {grant} g ON g.{q('client_id')} = c.{q('id')} "
            f"WHERE c.{q(column)} = %s AND c.{q('is_active')} = %s")
    return _CLIENT_SQL[key]


_CLIENT_COLUMNS = ("id", "identifier", "name", "agency_id", "is_active", "verify_limit_per_minute")


def active_client(*, key_digest: str | None = None, identifier: str | None = None):
    """(client, agency code, [(service, purposes)]) of the active client system with this API key digest or
    identifier, or None. One round trip in raw SQL: it runs on every API call, and the ORM's query compilation cost
    more than the database work itself (measured with bench/bench_population.py). On PostgreSQL the answer is kept
    per connection until a client system, grant or agency changes (``egov.kernel.row_cache``); callers never change
    it."""
    column, value = ("key_digest", key_digest) if key_digest is not None else ("identifier", identifier)
    alias = router.db_for_read(ClientSystem)
    return row_cache.cached(alias, ("client", column, value), lambda: _read_active_client(alias, column, value))


def _read_active_client(alias: str, column: str, value: str):
    connection = connections[alias]
    with connection.cursor() as cursor:
        cursor.execute(_client_sql(connection, column), [value, True])
        rows = cursor.fetchall()
    if not rows:
        return None
    pk, ident, name, agency_id, limit, agency_code = rows[0][:6]
    # from_db (positional, unselected columns deferred) rather than a keyword ClientSystem(...): half the cost. The
    # values go in the model's field order (from_db fills the fields in that order, whatever field_names says).
    client = ClientSystem.from_db(alias, _CLIENT_COLUMNS, (pk, ident, name, agency_id, True, limit))
    grants = [(service, purposes if isinstance(purposes, list) else json.loads(purposes or "[]"))
              for *_, service, purposes in rows if service is not None]
    return client, agency_code, grants


@dataclass(frozen=True)
class TokenLookup:
    """What an access token presented to egov's APIs turned out to be: ``status`` is "ok" (then ``found`` is as
    ``active_client`` returns), "unknown" (never issued, revoked or deleted), "expired", "person" (issued to a
    person's sign-in, not to the system itself) or "disabled" (its client system is disabled or it has none)."""

    status: str
    found: tuple | None = None
    expires: datetime | None = None


def client_for_access_token(raw_token: str) -> TokenLookup:
    """The client system behind an OAuth 2.0 access token from egov's token endpoint (client credentials). DOT
    stores only the token's SHA-256 (``token_checksum``), so the token is looked up by its digest."""
    from oauth2_provider.models import get_access_token_model

    checksum = hashlib.sha256(raw_token.encode()).hexdigest()
    token = (get_access_token_model().objects.filter(token_checksum=checksum)
             .select_related("application__egov_link").only("expires", "user_id", "application__egov_link__client_id")
             .first())
    if token is None:
        return TokenLookup("unknown")
    if token.is_expired():
        return TokenLookup("expired", expires=token.expires)
    if token.user_id is not None:
        return TokenLookup("person")
    link = getattr(token.application, "egov_link", None) if token.application_id else None
    if link is None:
        return TokenLookup("disabled")
    client = ClientSystem.objects.filter(pk=link.client_id, is_active=True).values_list("identifier").first()
    found = active_client(identifier=client[0]) if client else None
    if found is None:
        return TokenLookup("disabled")
    return TokenLookup("ok", found=found, expires=token.expires)
