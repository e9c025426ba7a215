"""Reads for accounts."""
from egov.accounts.models import User
from egov.accounts.rules import OFFICER_ROLES

OFFICERS_PAGE_SIZE = 50


def officers_of_agency(agency, *, after_id: int = 0, limit: int = OFFICERS_PAGE_SIZE) -> tuple[list[User], int | None]:
    """One page of an agency's officers in id order, paginated by key (``after_id``), never by offset.

    Returns the page and the key of the next page (None on the last page)."""
    rows = list(User.objects.filter(agency=agency, role__in=OFFICER_ROLES, pk__gt=after_id)
                .order_by("pk").only("pk", "username", "first_name", "last_name", "role", "is_active")[: limit + 1])
    next_after = rows[limit - 1].pk if len(rows) > limit else None
    return rows[:limit], next_after


HISTORY_PAGE_SIZE = 50


def open_sessions(user: User) -> list:
    """The account's signed-in browsers whose Django session still exists and has not expired, newest first."""
    from django.contrib.sessions.models import Session
    from django.utils import timezone

    from egov.accounts.models import UserSession

    live = Session.objects.filter(expire_date__gt=timezone.now()).values("session_key")
    return list(UserSession.objects.filter(user=user, ended_at__isnull=True, session_key__in=live)
                .order_by("-started_at", "-id"))


def _history_labels() -> dict:
    from django.utils.translation import gettext_lazy as _

    return {
        "account.registered": _("Account opened"),
        "account.login_succeeded": _("Signed in"),
        "account.login_failed": _("Failed sign-in (wrong password)"),
        "account.login_throttled": _("Sign-in refused: too many failed attempts"),
        "account.totp_verified": _("Second sign-in step passed"),
        "account.totp_enrolled": _("Authenticator app added"),
        "account.password_reset_requested": _("Password reset asked for"),
        "account.password_reset_completed": _("Password changed by reset"),
        "account.assurance_raised": _("Identity verified: level 2"),
        "account.contact_changed": _("Contact details changed"),
        "account.session_revoked": _("A session was signed out from the sessions page"),
        "account.system_access_revoked": _("Signed out of an agency system from the sessions page"),
        "account.disabled": _("Account disabled"),
        "account.eid_signed_in": _("Signed in with the national eID"),
        "account.eid_refused": _("Sign-in with the national eID refused"),
        "account.created": _("Account opened with the national eID"),
    }


def account_history(user: User, *, before_id: int | None = None, limit: int = HISTORY_PAGE_SIZE):
    """The account's own events (sign-ins, failures, changes), newest first, keyset-paged by event id.

    Returns the page (dicts with at, what, how) and the id to pass as ``before`` for older entries (or None)."""
    from egov.accounts.models import AssuranceMethod
    from egov.kernel.ledger_models import Event

    labels = _history_labels()
    events = Event.objects.filter(subject_type=User._meta.label_lower, subject_id=str(user.pk),
                                  event_type__in=list(labels))
    if before_id:
        events = events.filter(id__lt=before_id)
    page = list(events.order_by("-id").only("id", "event_type", "occurred_at", "payload")[: limit + 1])
    methods = dict(AssuranceMethod.choices)
    rows = []
    for event in page[:limit]:
        payload = event.payload or {}
        how = methods.get(payload.get("method"), "") if event.event_type == "account.assurance_raised" else ""
        if event.event_type == "account.contact_changed":
            how = payload.get("field", "")
        rows.append({"id": event.id, "at": event.occurred_at, "what": labels[event.event_type], "how": how})
    older = page[limit - 1].id if len(page) > limit else None
    return rows, older


def connected_systems(user: User) -> list[dict]:
    """Agency systems the person signed in to with egov (single sign-on) that still hold a live token or a refresh
    token: one row per system, newest first. Revoking one (``services.revoke_system_access``) ends them all."""
    from django.db.models import Max
    from django.utils import timezone
    from oauth2_provider.models import get_access_token_model, get_application_model, get_refresh_token_model

    from egov.exchange.models import OidcApplication

    now = timezone.now()
    live = (get_access_token_model().objects.filter(user=user, expires__gt=now)
            .values("application_id").annotate(last=Max("created")))
    refresh = (get_refresh_token_model().objects.filter(user=user, revoked__isnull=True)
               .values("application_id").annotate(last=Max("created")))
    last: dict[int, object] = {}
    for row in [*live, *refresh]:
        if row["application_id"] is not None:
            last[row["application_id"]] = max(last.get(row["application_id"], row["last"]), row["last"])
    if not last:
        return []
    applications = {a.pk: a for a in get_application_model().objects.filter(pk__in=last)}
    links = {link.application_id: link for link in
             OidcApplication.objects.select_related("client__agency").filter(application_id__in=last)}
    rows = []
    for application_id, at in last.items():
        link = links.get(application_id)
        rows.append({"application_id": application_id, "last_signed_in": at,
                     "name": link.client.name if link else applications[application_id].name,
                     "agency": link.client.agency.name if link else ""})
    return sorted(rows, key=lambda row: row["last_signed_in"], reverse=True)
