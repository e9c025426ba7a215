"""Account actions: the only code that changes accounts, sign-in throttling rows and TOTP devices.

Every action writes its event to the ledger in the same transaction. Payloads carry the user id, never a name,
username, email or address."""
import hashlib
from base64 import b32encode
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import authenticate
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from egov.accounts import rules
from egov.accounts.models import LoginFailure, User
from egov.accounts.rules import Action
from egov.kernel.client_address import client_address

PLATFORM_PARTITION = "platform"


class AgencyPermissionDenied(PermissionDenied):
    """Raised when a user tries to act for an agency outside their scope; ``reason`` says why (shown to the user)."""

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


class LoginThrottled(Exception):
    def __init__(self, retry_at: datetime):
        super().__init__(f"throttled until {retry_at.isoformat()}")
        self.retry_at = retry_at


class TOTPRefused(Exception):
    """A TOTP code was wrong, or codes are refused for a while after several wrong ones (``retry_at`` is set)."""

    def __init__(self, reason, retry_at: datetime | None = None):
        super().__init__(str(reason))
        self.reason = reason
        self.retry_at = retry_at


# ---------------------------------------------------------------------------------------------------------------
# Ledger


def partition_for(user: User | None) -> str:
    if user is not None and user.agency_id:
        return user.agency.code
    return PLATFORM_PARTITION


def _event(event_type: str, *, user: User | None, actor: User | None = None, payload: dict | None = None) -> None:
    from egov.kernel import ledger

    ledger.append(event_type, partition=partition_for(user), actor=actor, subject=user, payload=payload or {})


# ---------------------------------------------------------------------------------------------------------------
# Agency scope


def agency_ancestor_codes(agency) -> tuple[str, ...]:
    """Organisation codes above ``agency``, parent first. The hierarchy is a few levels deep; the guard against
    cycles keeps a bad row from looping forever."""
    codes: list[str] = []
    seen = {agency.pk}
    parent = agency.parent
    while parent is not None and parent.pk not in seen:
        codes.append(parent.code)
        seen.add(parent.pk)
        parent = parent.parent
    return tuple(codes)


def require_same_agency(user: User, agency, *, action: Action = Action.ACT) -> None:
    """Server-side guard for every officer action: raises ``AgencyPermissionDenied`` with the reason."""
    if not user.is_authenticated:
        raise AgencyPermissionDenied(_("Sign in first."))
    if not user.is_active:
        raise AgencyPermissionDenied(_("This account is disabled."))
    verdict = rules.can_act_for_agency(
        user.role, user.agency.code if user.agency_id else None, agency.code,
        target_ancestor_codes=agency_ancestor_codes(agency) if action == Action.MANAGE_OFFICERS else (),
        action=action,
    )
    if not verdict:
        raise AgencyPermissionDenied(verdict.reason)


# ---------------------------------------------------------------------------------------------------------------
# Sign-in with throttling held in the database


def _throttle_settings() -> tuple[int, timedelta, int]:
    limit = getattr(settings, "LOGIN_THROTTLE_FAILURES", 5)
    window = timedelta(seconds=getattr(settings, "LOGIN_THROTTLE_WINDOW_SECONDS", 900))
    # One office behind one NAT address shares it: the address limit is wider than the per-account one.
    address_limit = getattr(settings, "LOGIN_THROTTLE_ADDRESS_FAILURES", limit * 4)
    return limit, window, address_limit


def _failure_times(kind: str, key: str, since: datetime) -> list[datetime]:
    return list(LoginFailure.objects.filter(kind=kind, key=key, at__gt=since).values_list("at", flat=True))


def login_retry_at(username: str, address: str | None, *, now: datetime | None = None) -> datetime | None:
    """When sign-in for this username (or from this address) may be tried again; None when it may be tried now."""
    now = now or timezone.now()
    limit, window, address_limit = _throttle_settings()
    waits = [rules.throttle_retry_at(_failure_times(LoginFailure.Kind.USERNAME, rules.normalise_username(username),
                                                    now - window), limit=limit, window=window, now=now)]
    if address:
        waits.append(rules.throttle_retry_at(_failure_times(LoginFailure.Kind.ADDRESS, address, now - window),
                                             limit=address_limit, window=window, now=now))
    waits = [w for w in waits if w is not None]
    return max(waits) if waits else None


def sign_in(request, username: str, password: str) -> User | None:
    """Check a username and password, refusing while throttled. Returns the user, or None for bad credentials.

    Raises ``LoginThrottled``. Unknown usernames are counted exactly like known ones, so the answers never tell
    whether an account exists. The password hash is checked outside any transaction: Argon2 is slow on purpose and
    must not hold the database's write lock."""
    now = timezone.now()
    address = client_address(request) or None
    key = rules.normalise_username(username)
    known = User.objects.filter(username=username).first()
    retry_at = login_retry_at(username, address, now=now)
    if retry_at is not None:
        with transaction.atomic():
            _event("account.login_throttled", user=known, payload={"known_account": known is not None})
        raise LoginThrottled(retry_at)
    user = authenticate(request, username=username, password=password)
    with transaction.atomic():
        if user is None:
            _record_failure(key, address, now)
            _event("account.login_failed", user=known, payload={"known_account": known is not None})
            return None
        LoginFailure.objects.filter(kind=LoginFailure.Kind.USERNAME, key=key).delete()
        _event("account.login_succeeded", user=user, actor=user,
               payload={"second_factor_required": user.needs_second_factor})
    return user


def _record_failure(key: str, address: str | None, now: datetime) -> None:
    _, window, _ = _throttle_settings()
    rows = [LoginFailure(kind=LoginFailure.Kind.USERNAME, key=key, at=now)]
    if address:
        rows.append(LoginFailure(kind=LoginFailure.Kind.ADDRESS, key=address, at=now))
    LoginFailure.objects.bulk_create(rows)
    # Prune what no longer counts, for these keys only (cheap, indexed).
    for row in rows:
        LoginFailure.objects.filter(kind=row.kind, key=row.key, at__lte=now - window).delete()


# ---------------------------------------------------------------------------------------------------------------
# TOTP second factor


def confirmed_totp_device(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


@transaction.atomic
def start_totp_enrolment(user: User) -> TOTPDevice:
    """Give an officer without a confirmed device a fresh unconfirmed one (reused on reload until confirmed)."""
    if confirmed_totp_device(user) is not None:
        raise TOTPRefused(_("This account already has an authenticator. Sign in with its code."))
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=False)
    return device


def _check_code(device: TOTPDevice, code: str) -> TOTPRefused | None:
    """None when ``code`` is right; otherwise the refusal. A wrong code is counted on the device (django-otp's
    exponential back-off, held in the database), so the caller must commit before raising the refusal."""
    code = (code or "").strip().replace(" ", "")
    allowed, info = device.verify_is_allowed()
    if not allowed:
        locked_until = timezone.localtime((info or {}).get("locked_until") or timezone.now())
        return TOTPRefused(_("Too many wrong codes. Wait until %(time)s, then enter the current code.")
                           % {"time": locked_until.strftime("%H:%M:%S")}, retry_at=locked_until)
    if not (code.isdigit() and len(code) == device.digits):
        device.throttle_increment(commit=True)
        return TOTPRefused(_("Enter the %(digits)s-digit code shown in your authenticator app.")
                           % {"digits": device.digits})
    if not device.verify_token(code):
        return TOTPRefused(_("This code is not correct or has expired. Enter the current code from your "
                             "authenticator app."))
    return None


def verify_totp(user: User, code: str) -> TOTPDevice:
    """Check a TOTP code against the user's confirmed device. Raises ``TOTPRefused`` with a specific reason."""
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True).order_by("pk").first()
        if device is None:
            refusal = TOTPRefused(_("This account has no authenticator yet."))
        else:
            refusal = _check_code(device, code)
            if refusal is None:
                _event("account.totp_verified", user=user, actor=user, payload={"device_id": device.pk})
    if refusal is not None:
        raise refusal
    return device


def confirm_totp_enrolment(user: User, device_id: int, code: str) -> TOTPDevice:
    """Confirm a new device with its first code; from then on the officer signs in with it."""
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().filter(pk=device_id, user=user, confirmed=False).first()
        if device is None:
            refusal = TOTPRefused(_("This enrolment has expired. Start again."))
        else:
            refusal = _check_code(device, code)
            if refusal is None:
                device.confirmed = True
                device.save(update_fields=["confirmed"])
                TOTPDevice.objects.filter(user=user, confirmed=False).delete()
                _event("account.totp_enrolled", user=user, actor=user, payload={"device_id": device.pk})
    if refusal is not None:
        raise refusal
    return device


def totp_secret_base32(device: TOTPDevice) -> str:
    """The secret as people type it into an authenticator app (base32, no padding)."""
    return b32encode(device.bin_key).decode("ascii").rstrip("=")


def demo_totp_key(username: str) -> str:
    """A fixed, per-account TOTP secret for demo officers (hex, 20 bytes), so the printed secret never changes."""
    return hashlib.sha1(f"egov-demo-totp:{username}".encode()).hexdigest()


# ---------------------------------------------------------------------------------------------------------------
# Password reset


@transaction.atomic
def password_reset_requested(users: list[User]) -> None:
    """Record the request; an unknown address is recorded too (without any trace of the address)."""
    if not users:
        _event("account.password_reset_requested", user=None, payload={"matched_accounts": 0})
    for user in users:
        _event("account.password_reset_requested", user=user, payload={"matched_accounts": 1})


@transaction.atomic
def complete_password_reset(user: User, new_password: str) -> User:
    user.set_password(new_password)
    user.save(update_fields=["password"])
    # A new password starts with a clean slate: the owner proved control of the mailbox.
    LoginFailure.objects.filter(kind=LoginFailure.Kind.USERNAME, key=rules.normalise_username(user.username)).delete()
    _event("account.password_reset_completed", user=user, actor=user, payload={})
    return user


# ---------------------------------------------------------------------------------------------------------------
# The caller a signed-in user acts as, and reactions to the population registry


def caller_for_user(user: User):
    """The ``Caller`` that services check: officers with their agency and role's rights, citizens with their own
    population record."""
    from egov.kernel.access import Caller

    if user.is_officer:
        agency_code = user.agency.code if user.agency_id else None
        return Caller(kind="officer", actor=user, agency_code=agency_code, role=user.role,
                      rights=rules.rights_of(user.role), label=user.get_role_display())
    return Caller(kind="citizen", actor=user, role=user.role, person_id=user.person_id, label="")


def disable_accounts_of_deceased(sender, person, caller, **kwargs) -> None:
    """Receiver of ``registries.signals.person_deceased``: runs inside the death registration's transaction."""
    for user in User.objects.select_for_update().filter(person=person, is_active=True):
        user.is_active = False
        user.save(update_fields=["is_active"])
        _event("account.disabled", user=user, actor=caller.actor,
               payload={"reason": "death_registered"})


# ---------------------------------------------------------------------------------------------------------------
# Assurance levels (mức độ tin cậy của tài khoản)


class AssuranceRefused(Exception):
    """Identity could not be verified; ``reason`` says why (shown to the user) and ``rule`` names the check."""

    def __init__(self, reason, rule: str = ""):
        super().__init__(str(reason))
        self.reason = reason
        self.rule = rule


class AssuranceTooLow(PermissionDenied):
    """The account's level is below what is asked for; ``reason`` explains how to reach the level needed."""

    def __init__(self, required: int, have: int):
        self.required, self.have = int(required), int(have)
        self.reason = _("This needs an account at level %(required)d (identity verified); yours is at level "
                        "%(have)d. Verify your identity in “My account”: with your personal identification number "
                        "and the code we send to the phone or email registered in the population registry, with "
                        "the national eID, or in person at any one-stop desk.") % {
            "required": self.required, "have": self.have}
        super().__init__(self.reason)


def require_assurance(user: User, required: int) -> None:
    """Raise ``AssuranceTooLow`` unless ``user``'s account is at ``required`` or above."""
    if not rules.meets_assurance(user.assurance_level, required):
        raise AssuranceTooLow(required, user.assurance_level)


def raise_assurance(user: User, *, person, method: str, actor: User | None = None) -> User:
    """Bring ``user`` to level 2, linked to ``person`` (their record in the population registry).

    Callers have already checked the identity their way (registry match + code, desk, eID); this is the one place
    that records it. A person holds one account: a person already linked to another account, or deceased, is
    refused, and nothing is changed."""
    from egov.accounts.models import AssuranceLevel, AssuranceMethod

    if method not in AssuranceMethod.values:
        raise ValueError(f"unknown assurance method {method!r}")
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        if person.status != "living":
            raise AssuranceRefused(_("This person is recorded as deceased in the population registry."),
                                   rule="deceased")
        taken = User.objects.filter(person_id=person.pk).exclude(pk=user.pk).exists()
        if taken or (user.person_id and user.person_id != person.pk):
            raise AssuranceRefused(_("This identity is already linked to another account. Sign in with that "
                                     "account, or ask a one-stop desk for help."), rule="linked")
        user.person = person
        user.assurance_level = AssuranceLevel.VERIFIED
        user.assurance_method = method
        user.assurance_at = timezone.now()
        user.save(update_fields=["person", "assurance_level", "assurance_method", "assurance_at"])
        _event("account.assurance_raised", user=user, actor=actor or user,
               payload={"level": int(AssuranceLevel.VERIFIED), "method": method})
    return user


# ---------------------------------------------------------------------------------------------------------------
# Self-registration (đăng ký tài khoản)


class RegistrationRefused(Exception):
    """``errors`` maps a form field ("" for the whole form) to its messages."""

    def __init__(self, errors: dict[str, list]):
        super().__init__("; ".join(str(m) for messages in errors.values() for m in messages))
        self.errors = errors


def register_citizen(*, username: str, email: str, password: str) -> User:
    """A citizen opens an account at level 1. Identity is verified afterwards (``start_identity_check``)."""
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    username, email = username.strip(), email.strip().lower()
    errors: dict[str, list] = {}
    if User.objects.filter(username__iexact=username).exists():
        errors["username"] = [_("This username is taken: choose another.")]
    if email and User.objects.filter(email__iexact=email).exists():
        errors["email"] = [_("An account with this email address exists already. Sign in, or reset its password.")]
    candidate = User(username=username, email=email, role=rules.Role.CITIZEN)
    try:
        validate_password(password, candidate)
    except ValidationError as error:
        errors["password1"] = list(error.messages)
    if errors:
        raise RegistrationRefused(errors)
    candidate.set_password(password)
    from django.db import IntegrityError

    try:
        with transaction.atomic():
            candidate.save()
            _event("account.registered", user=candidate, actor=candidate, payload={"level": 1})
    except IntegrityError:  # the same username registered a moment ago by someone else
        raise RegistrationRefused({"username": [_("This username is taken: choose another.")]}) from None
    return candidate


# ---------------------------------------------------------------------------------------------------------------
# One-time codes


class CodeRefused(Exception):
    """A one-time code was not accepted; ``reason`` says why and what to do, ``rule`` names the check."""

    def __init__(self, reason, rule: str):
        super().__init__(str(reason))
        self.reason = reason
        self.rule = rule


def _code_digest(code_uid, code: str) -> str:
    import hmac

    key = hashlib.sha256(b"egov.accounts.code:" + settings.SECRET_KEY.encode()).digest()
    return hmac.new(key, f"{code_uid}:{code.strip()}".encode(), hashlib.sha256).hexdigest()


def _new_code(user: User, purpose: str, *, channel: str, hint: str, person=None, change: dict | None = None):
    import secrets

    from egov.accounts.models import OneTimeCode
    from egov.kernel import crypto

    code = f"{secrets.randbelow(10 ** rules.CODE_DIGITS):0{rules.CODE_DIGITS}d}"
    row = OneTimeCode(user=user, purpose=purpose, person=person, channel=channel, sent_to_hint=hint,
                      expires_at=timezone.now() + rules.CODE_LIFETIME)
    row.digest = _code_digest(row.uid, code)
    if change is not None:
        key = crypto.keyring().active
        row.sealed_change, row.key_id = crypto.seal_json(change, row.aad, key=key), key.key_id
    row.save()
    return row, code


def _send_code(user: User, *, channel: str, to: str, subject, text, purpose: str) -> None:
    """Send a one-time code's message (kept in the outbox); a failed delivery is a ``CodeRefused`` to show."""
    from egov.notifications import backends
    from egov.notifications import services as notifications

    try:
        notifications.send(channel=channel, to=to, subject=str(subject), text=str(text), purpose=purpose, user=user)
    except backends.DeliveryFailed:
        raise CodeRefused(_("The code could not be sent just now. Try again in a few minutes."),
                          rule="delivery") from None


def _limit_codes(user: User) -> None:
    from egov.kernel import ratelimit

    decision = ratelimit.hit(f"codes:{user.pk}", limit=rules.CODES_PER_HOUR, window_seconds=3600)
    if not decision.allowed:
        minutes = max(1, decision.retry_after // 60)
        raise CodeRefused(_("Too many codes asked for: try again in %(minutes)d minutes.") % {"minutes": minutes},
                          rule="too_many")


def _use_code(user: User, code_uid, code: str, purpose: str):
    """The code row if ``code`` is right and still usable; a wrong try is counted (committed) before refusing."""
    from egov.accounts.models import OneTimeCode

    code = (code or "").strip()
    if not code.isdigit() or len(code) != rules.CODE_DIGITS:
        raise CodeRefused(_("Enter the %(digits)d-digit code from the message.") % {"digits": rules.CODE_DIGITS},
                          rule="format")
    with transaction.atomic():
        row = OneTimeCode.objects.select_for_update().filter(uid=code_uid, user=user, purpose=purpose).first()
        if row is None:
            raise CodeRefused(_("This code request is not yours or no longer exists. Ask for a new code."),
                              rule="unknown")
        state = rules.code_state(now=timezone.now(), expires_at=row.expires_at, tries=row.tries,
                                 used=row.used_at is not None)
        if state == rules.CodeState.USED:
            raise CodeRefused(_("This code has been used already. Ask for a new code."), rule="used")
        if state == rules.CodeState.LOCKED:
            raise CodeRefused(_("Too many wrong codes: this code no longer works. Ask for a new code."),
                              rule="locked")
        if state == rules.CodeState.EXPIRED:
            raise CodeRefused(_("This code has expired (codes last %(minutes)d minutes). Ask for a new code.")
                              % {"minutes": rules.CODE_MINUTES}, rule="expired")
        import hmac

        if not hmac.compare_digest(row.digest, _code_digest(row.uid, code)):
            row.tries += 1
            row.save(update_fields=["tries"])
            left = rules.CODE_MAX_TRIES - row.tries
            wrong = CodeRefused(_("The code is wrong. %(left)d tries left.") % {"left": left} if left > 0 else
                                _("The code is wrong, and that was the last try. Ask for a new code."), rule="wrong")
        else:
            row.used_at = timezone.now()
            row.save(update_fields=["used_at"])
            return row
    raise wrong  # after the block: the counted try is committed


# ---------------------------------------------------------------------------------------------------------------
# Identity verification against the population registry (xác thực danh tính)


def _check_pin(personal_id_number: str) -> None:
    from egov.registries import rules as registry_rules

    try:
        registry_rules.parse_personal_id(personal_id_number)
    except registry_rules.InvalidPersonalId as invalid:
        raise AssuranceRefused(invalid.message, rule="personal_id") from None


def start_identity_check(user: User, *, personal_id_number: str, full_name: str, date_of_birth, channel: str):
    """Match the person in the population registry and send a code to the phone or email registered THERE (never
    one the applicant types). Returns the code row (its ``uid`` identifies the request; ``sent_to_hint`` is masked).

    The answer never tells whether a number exists: unknown number and wrong name or date read alike. The account
    is not changed until the code is confirmed (``confirm_identity_code``)."""
    from egov.kernel import crypto, ledger, ratelimit
    from egov.notifications import services as notifications
    from egov.registries import queries as registry
    from egov.registries.models import Person

    if user.assurance_level >= 2:
        raise AssuranceRefused(_("Your identity is verified already."), rule="verified")
    if channel not in ("sms", "email"):
        raise AssuranceRefused(_("Choose where to send the code: phone or email."), rule="channel")
    _check_pin(personal_id_number)
    decision = ratelimit.hit(f"identity:{user.pk}", limit=rules.IDENTITY_CHECKS_PER_HOUR, window_seconds=3600)
    if not decision.allowed:
        raise AssuranceRefused(_("Too many attempts: try again in %(minutes)d minutes, or verify at a one-stop "
                                 "desk.") % {"minutes": max(1, decision.retry_after // 60)}, rule="too_many")
    person = registry.person_by_pin(personal_id_number)
    match = False
    if person is not None:
        data = person.personal()
        match = (crypto.normalise(data.full_name) == crypto.normalise(full_name)
                 and data.date_of_birth == date_of_birth)
    with transaction.atomic():  # the registry read is logged whether or not it matched
        ledger.append("person.verified", partition=PLATFORM_PARTITION, actor=user, subject=person,
                      payload={"registry": "population", "match": match, "via": "account",
                               "known_number": person is not None, "reader_kind": "citizen"})
    if not match:
        raise AssuranceRefused(_("The personal identification number, full name and date of birth do not match "
                                 "the population registry. Check them against your citizen identity card."),
                               rule="mismatch")
    if person.status != Person.Status.LIVING:
        raise AssuranceRefused(_("This person is recorded as deceased in the population registry."),
                               rule="deceased")
    if User.objects.filter(person_id=person.pk).exclude(pk=user.pk).exists():
        raise AssuranceRefused(_("This identity is already linked to another account. Sign in with that account, "
                                 "or ask a one-stop desk for help."), rule="linked")
    contact = data.phone if channel == "sms" else data.email
    if not contact:
        raise AssuranceRefused(
            _("The population registry has no phone number for you: choose email, or verify at a one-stop desk.")
            if channel == "sms" else
            _("The population registry has no email address for you: choose phone, or verify at a one-stop desk."),
            rule="no_contact")
    _limit_codes(user)
    row, code = _new_code(user, "identity", channel=channel, hint=notifications.mask(contact), person=person)
    _send_code(user, channel=channel, to=contact, subject=_("Your egov verification code"),
               text=_("egov: your identity verification code is %(code)s. It expires in %(minutes)d minutes. Never "
                      "give it to anyone, even someone who says they work for egov.")
               % {"code": code, "minutes": rules.CODE_MINUTES}, purpose="account.identity_code")
    return row


def confirm_identity_code(user: User, code_uid, code: str) -> User:
    """The code from the registered contact: the account reaches level 2, linked to the person."""
    from egov.accounts.models import AssuranceMethod

    row = _use_code(user, code_uid, code, "identity")
    return raise_assurance(user, person=row.person, method=AssuranceMethod.REGISTRY_CODE)


def verify_at_desk(officer: User, *, username: str, personal_id_number: str, document_checked: bool) -> User:
    """A desk officer saw the citizen and their identity card: the citizen's account reaches level 2."""
    from egov.accounts.models import AssuranceMethod
    from egov.registries import queries as registry

    if "accounts.verify_identity" not in rules.rights_of(officer.role):
        raise PermissionDenied(_("Only one-stop desk officers verify identities in person."))
    if not document_checked:
        raise AssuranceRefused(_("Confirm that you checked the citizen's identity card."), rule="document")
    _check_pin(personal_id_number)
    user = User.objects.filter(username__iexact=username.strip(), role=rules.Role.CITIZEN).first()
    if user is None:
        raise AssuranceRefused(_("No citizen account has this username."), rule="account")
    person = registry.person_by_pin(personal_id_number)
    if person is None:
        raise AssuranceRefused(_("No person with this identification number in the population registry."),
                               rule="unknown")
    return raise_assurance(user, person=person, method=AssuranceMethod.DESK, actor=officer)


# ---------------------------------------------------------------------------------------------------------------
# Contact details: a change takes effect only once a code sent to the new address or number is entered


def start_contact_change(user: User, *, field: str, value: str):
    from django.core.exceptions import ValidationError
    from django.core.validators import validate_email

    from egov.notifications import services as notifications

    value = (value or "").strip()
    if field == "email":
        value = value.lower()
        try:
            validate_email(value)
        except ValidationError:
            raise CodeRefused(_("Enter a valid email address, like name@example.org."), rule="format") from None
        if User.objects.filter(email__iexact=value).exclude(pk=user.pk).exists():
            raise CodeRefused(_("Another account uses this email address."), rule="taken")
        channel = "email"
    elif field == "phone":
        digits = value.replace(" ", "").replace(".", "").replace("-", "")
        if digits.startswith("+84"):
            digits = "0" + digits[3:]
        if not (digits.isdigit() and len(digits) == 10 and digits.startswith("0")):
            raise CodeRefused(_("Enter a Vietnamese mobile number of 10 digits, like 0912 345 678."), rule="format")
        value, channel = digits, "sms"
    else:
        raise CodeRefused(_("Only the email address and the phone number can be changed here."), rule="field")
    if value == (user.email if field == "email" else user.phone):
        raise CodeRefused(_("This is already your %(field)s.") % {
            "field": _("email address") if field == "email" else _("phone number")}, rule="same")
    _limit_codes(user)
    row, code = _new_code(user, "contact", channel=channel, hint=notifications.mask(value),
                          change={"field": field, "value": value})
    _send_code(user, channel=channel, to=value, subject=_("Confirm your new contact detail"),
               text=_("egov: your code to confirm this %(what)s is %(code)s. It expires in %(minutes)d minutes.")
               % {"what": _("email address") if field == "email" else _("phone number"), "code": code,
                  "minutes": rules.CODE_MINUTES}, purpose="account.contact_code")
    return row


def confirm_contact_change(user: User, code_uid, code: str) -> User:
    from egov.kernel import crypto

    row = _use_code(user, code_uid, code, "contact")
    change = crypto.open_json(row.sealed_change, row.aad)
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        setattr(user, change["field"], change["value"])
        user.save(update_fields=[change["field"]])
        _event("account.contact_changed", user=user, actor=user, payload={"field": change["field"]})
    return user


# ---------------------------------------------------------------------------------------------------------------
# Signed-in sessions (phiên đăng nhập)


def session_started(request, user: User) -> None:
    """Receiver of ``user_logged_in``: remember which browser holds the new session."""
    from egov.accounts.models import UserSession

    if request is None or not hasattr(request, "session"):  # a sign-in without a browser session (an API client)
        return
    if not request.session.session_key:
        request.session.save()
    UserSession.objects.update_or_create(
        session_key=request.session.session_key,
        defaults={"user": user, "device": rules.device_label(request.META.get("HTTP_USER_AGENT", ""))[:64],
                  "network": rules.masked_address(client_address(request)), "ended_at": None,
                  "end_reason": ""})


def session_ended(request, user: User | None) -> None:
    """Receiver of ``user_logged_out`` (the session key is still the old one when it fires)."""
    from egov.accounts.models import UserSession

    key = getattr(getattr(request, "session", None), "session_key", None)
    if key:
        UserSession.objects.filter(session_key=key, ended_at__isnull=True).update(ended_at=timezone.now(),
                                                                                  end_reason="signed_out")


def revoke_session(user: User, session_id: int, *, current_key: str | None) -> None:
    """End one of the user's own sessions: that browser is signed out at its next request."""
    from django.contrib.sessions.models import Session

    from egov.accounts.models import UserSession

    with transaction.atomic():
        row = UserSession.objects.select_for_update().filter(pk=session_id, user=user, ended_at__isnull=True).first()
        if row is None:
            raise PermissionDenied(_("This session is not one of yours, or it has ended already."))
        Session.objects.filter(session_key=row.session_key).delete()
        row.ended_at, row.end_reason = timezone.now(), "revoked"
        row.save(update_fields=["ended_at", "end_reason"])
        _event("account.session_revoked", user=user, actor=user,
               payload={"session": row.pk, "own_browser": row.session_key == current_key})


def code_key_usage() -> dict[str, int]:
    from egov.accounts.models import OneTimeCode
    from egov.kernel import crypto

    return crypto.count_by_key(OneTimeCode)


def rotate_code_batch(old_key_ids: list[str], active, batch_size: int) -> int:
    """Re-seal a batch of pending contact changes still under an old key (``egov keys rotate``)."""
    from egov.accounts.models import OneTimeCode
    from egov.kernel import crypto

    def reseal(row):
        row.sealed_change = crypto.seal_json(crypto.open_json(row.sealed_change, row.aad), row.aad, key=active)
        row.key_id = active.key_id

    return crypto.reseal_batch(OneTimeCode, old_key_ids, batch_size, reseal, ["sealed_change", "key_id"])


def revoke_system_access(user: User, application_id: int) -> int:
    """Sign the person out of an agency system they entered with egov: every access token, refresh token, ID token
    and pending authorization code that system holds for them is revoked at once. Returns how many were."""
    from oauth2_provider.models import (
        get_access_token_model, get_grant_model, get_id_token_model, get_refresh_token_model,
    )

    with transaction.atomic():
        refresh = get_refresh_token_model().objects.filter(user=user, application_id=application_id,
                                                           revoked__isnull=True)
        access = get_access_token_model().objects.filter(user=user, application_id=application_id)
        grants = get_grant_model().objects.filter(user=user, application_id=application_id)
        ids = get_id_token_model().objects.filter(user=user, application_id=application_id)
        count = refresh.count() + access.count()
        if not count and not grants.exists():
            raise PermissionDenied(_("You are not signed in to this system with egov, or it was signed out "
                                     "already."))
        refresh.update(revoked=timezone.now())
        access.delete()
        grants.delete()
        ids.delete()
        _event("account.system_access_revoked", user=user, actor=user, payload={"application": application_id})
    return count
