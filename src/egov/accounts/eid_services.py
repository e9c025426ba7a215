"""Sign-in with the national eID: match what the provider asserts to the population registry, then sign in to the
person's account, create it, or raise the signed-in citizen's account to level 2.

Kept apart from ``accounts/services.py`` (one business action per function all the same). Every outcome is a ledger
event: the registry read with its purpose (the person sees it in their access log), and every refusal with the rule
that refused it. Payloads carry no personal data.
"""
from __future__ import annotations

import secrets

from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from egov.accounts.eid import Assertion, EidError
from egov.accounts.models import AssuranceLevel, AssuranceMethod, Role, User
from egov.accounts.services import PLATFORM_PARTITION, AssuranceRefused, raise_assurance
from egov.kernel import crypto, ledger

# Kept in English in the ledger, shown in the reader's language on /my/data-access/.
READ_PURPOSE = gettext_noop("Sign-in with the national eID: identity matched to the population registry")


class EidRefused(Exception):
    """The eID sign-in is refused; ``reason`` is shown to the citizen, ``rule`` names the check (and is logged)."""

    def __init__(self, reason, rule: str):
        super().__init__(str(reason))
        self.reason = reason
        self.rule = rule


# The message for each way the protocol can fail (egov.accounts.eid.EidError.rule): specific enough to act on,
# without details that help an attacker.
PROTOCOL_MESSAGES = {
    "not_configured": _("Sign-in with the national eID is not available on this site."),
    "unreachable": _("The national eID service could not be reached. Try again in a few minutes, or sign in with "
                     "your password."),
    "access_denied": _("You cancelled the sign-in at the national eID, or did not allow it to share your identity. "
                       "Nothing was changed."),
    "provider_error": _("The national eID service answered with an error. Try again, or sign in with your "
                        "password."),
    "state": _("This eID sign-in could not be matched to your browser session (it expired, was already used, or "
               "was started elsewhere). Start again from the sign-in page."),
    "token": _("The national eID service did not confirm this sign-in (the answer expired or was already used). "
               "Start again from the sign-in page."),
    "id_token": _("The identity sent by the national eID service could not be verified, so it was not accepted. "
                  "Start again from the sign-in page."),
    "claims": _("The national eID service did not send your personal identification number, full name and date of "
                "birth, which are needed to match you to the population registry."),
}


def protocol_refusal(error: EidError, *, user: User | None = None) -> EidRefused:
    """Record a failed protocol step and return what to tell the citizen."""
    rule = error.rule if error.rule in PROTOCOL_MESSAGES else "provider_error"
    _refused_event(rule, user=user)
    return EidRefused(PROTOCOL_MESSAGES[rule], rule)


def _refused_event(rule: str, *, user: User | None = None, person=None) -> None:
    ledger.append("account.eid_refused", partition=PLATFORM_PARTITION, actor=user, subject=person or user,
                  payload={"rule": rule, "method": AssuranceMethod.EID.value})


def _refuse(reason, rule: str, *, user: User | None = None, person=None) -> EidRefused:
    _refused_event(rule, user=user, person=person)
    return EidRefused(reason, rule)


def _match(assertion: Assertion, *, user: User | None):
    """The registry person the assertion names, if number, name and date of birth all agree; the read is logged."""
    from egov.registries import queries
    from egov.registries import rules as registry_rules

    try:
        registry_rules.parse_personal_id(assertion.personal_id_number)
    except registry_rules.InvalidPersonalId:
        raise _refuse(_("The national eID sent a personal identification number that is not valid. Ask the "
                        "national eID service to check your record."), "invalid_number", user=user) from None
    person = queries.person_by_pin(assertion.personal_id_number)
    if person is None:
        raise _refuse(_("Your personal identification number is not in the population registry of this site, so "
                        "no account can be opened with it. Ask the commune police or a one-stop desk to check your "
                        "record."), "unknown_number", user=user)
    data = person.personal()
    name_matches = crypto.normalise(data.full_name) == crypto.normalise(assertion.full_name)
    born_matches = data.date_of_birth == assertion.date_of_birth
    ledger.append("person.verified", partition=PLATFORM_PARTITION, actor=user, subject=person,
                  payload={"registry": "population", "match": name_matches and born_matches, "via": "eid",
                           "purpose": READ_PURPOSE, "reader_kind": "system", "known_number": True})
    if not (name_matches and born_matches):
        raise _refuse(_("The full name or date of birth given by the national eID does not match the population "
                        "registry for this identification number, so you were not signed in and no account was "
                        "made. Ask the commune police or a one-stop desk to correct the record that is wrong."),
                      "mismatch", user=user, person=person)
    if person.status != "living":
        raise _refuse(_("This person is recorded as deceased in the population registry."), "deceased", user=user,
                      person=person)
    return person


def _new_username() -> str:
    """A username that reveals nothing about the person (no number, no name): it may be shown or logged anywhere."""
    while True:
        candidate = f"eid-{secrets.token_hex(5)}"
        if not User.objects.filter(username=candidate).exists():
            return candidate


def sign_in_with_eid(assertion: Assertion, *, current_user: User | None = None) -> User:
    """The account to sign in after the eID asserted ``assertion``.

    * the person's account exists: that account (the eID is proof enough for a citizen account);
    * a citizen is signed in (level 1) and the person has no account yet: their account is raised to level 2;
    * otherwise a new citizen account, linked to the person, level 2, with no usable password.

    The registry read and a failed match are logged as they happen; the account work is one transaction, so a refusal
    there leaves no account behind, and its ledger event is written after the rollback."""
    if current_user is not None and not current_user.is_authenticated:
        current_user = None
    person = _match(assertion, user=current_user)  # logs the read and its own refusals
    try:
        try:
            with transaction.atomic():
                return _account_for(person, current_user)
        except IntegrityError:
            # Two first sign-ins of one person at once: the other one linked the person first (one account per
            # person is a unique constraint). Once more, and this one finds that account.
            with transaction.atomic():
                return _account_for(person, current_user)
    except EidRefused as refusal:
        _refused_event(refusal.rule, user=current_user, person=person)  # after the rollback, so it stays
        raise


def _account_for(person, current_user: User | None) -> User:
    linked = User.objects.select_for_update().filter(person=person).first()
    if current_user is not None:
        if current_user.is_officer or current_user.needs_second_factor:
            raise EidRefused(_("Officer accounts cannot be linked to the national eID. Sign out first to sign in "
                               "as a citizen."), "officer")
        if linked is not None and linked.pk != current_user.pk:
            raise EidRefused(_("This identity is already linked to another account. Sign in with that account, or "
                               "ask a one-stop desk for help."), "linked")
        return _raise(current_user, person)
    if linked is not None:
        if linked.needs_second_factor:
            # An eID must not become a way around an officer's authenticator code.
            raise EidRefused(_("This identity belongs to an officer account, which signs in with its password and "
                               "authenticator code."), "officer")
        if not linked.is_active:
            raise EidRefused(_("The account linked to this identity is disabled. Ask a one-stop desk for help."),
                             "disabled")
        if linked.assurance_level < AssuranceLevel.VERIFIED:
            return _raise(linked, person)
        ledger.append("account.eid_signed_in", partition=PLATFORM_PARTITION, actor=linked, subject=linked,
                      payload={"method": AssuranceMethod.EID.value})
        return linked
    user = User(username=_new_username(), role=Role.CITIZEN)
    user.set_unusable_password()  # the eID is how this account signs in; a password can be set later by reset
    user.save()
    ledger.append("account.created", partition=PLATFORM_PARTITION, actor=user, subject=user,
                  payload={"role": Role.CITIZEN.value, "method": AssuranceMethod.EID.value})
    return _raise(user, person)


def _raise(user: User, person) -> User:
    try:
        return raise_assurance(user, person=person, method=AssuranceMethod.EID, actor=user)
    except AssuranceRefused as exc:
        raise EidRefused(exc.reason, exc.rule or "refused") from None
