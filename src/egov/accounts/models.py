"""Accounts (tài khoản) and roles. The custom user model exists from the first migration so it never has to move."""
import uuid

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    CITIZEN = "citizen", _("Citizen")
    BUSINESS_REPRESENTATIVE = "business_representative", _("Business representative")
    DESK_OFFICER = "desk_officer", _("One-stop desk officer")
    SPECIALIST = "specialist", _("Specialist")
    HEAD_OF_UNIT = "head_of_unit", _("Head of unit")
    AGENCY_LEADER = "agency_leader", _("Agency leader")
    AGENCY_ADMIN = "agency_admin", _("Agency administrator")
    PLATFORM_ADMIN = "platform_admin", _("Platform administrator")


class AssuranceLevel(models.IntegerChoices):
    """How far an account's identity is trusted (mức độ tin cậy): procedures declare the minimum they need."""
    BASIC = 1, _("Level 1: identity declared, not verified")
    VERIFIED = 2, _("Level 2: identity verified")


class AssuranceMethod(models.TextChoices):
    """How an account reached level 2."""
    REGISTRY_CODE = "registry_code", _("Matched the population registry and a code sent to its registered contact")
    DESK = "desk", _("Identity checked in person by an officer at the desk")
    EID = "eid", _("Signed in with the national electronic identity (eID)")


class User(AbstractUser):
    role = models.CharField(_("role"), max_length=32, choices=Role.choices, default=Role.CITIZEN)
    agency = models.ForeignKey("registries.Agency", on_delete=models.PROTECT, null=True, blank=True,
                               related_name="officers", verbose_name=_("agency"))
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    # The citizen's own record in the population registry (verified identity): their data and its access log.
    person = models.OneToOneField("registries.Person", on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="account", verbose_name=_("person in the population registry"))
    assurance_level = models.PositiveSmallIntegerField(_("assurance level"), choices=AssuranceLevel.choices,
                                                       default=AssuranceLevel.BASIC)
    assurance_method = models.CharField(_("how the identity was verified"), max_length=16, blank=True,
                                        choices=AssuranceMethod.choices)
    assurance_at = models.DateTimeField(_("identity verified at"), null=True, blank=True)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.username

    def get_full_name(self) -> str:
        """Họ và tên: the family and middle names (``last_name``) before the given name (``first_name``), as a
        Vietnamese name is written and as the forms and results that officers sign print it ("Nguyễn Văn An", not
        Django's "An Nguyễn Văn")."""
        return " ".join(part for part in (self.last_name.strip(), self.first_name.strip()) if part)

    @property
    def is_officer(self) -> bool:
        """Cán bộ: every role except citizen and business representative."""
        from egov.accounts import rules

        return rules.is_officer_role(self.role)

    @property
    def needs_second_factor(self) -> bool:
        """Officers and anyone with access to the Django admin sign in with a TOTP code as well."""
        from egov.accounts import rules

        return rules.requires_second_factor(self.role, is_staff=self.is_staff, is_superuser=self.is_superuser)


class LoginFailure(models.Model):
    """One failed sign-in, counted per normalised username and per client address.

    Kept in the database (not a per-process cache) so the limit holds across every web process and machine.
    Rows older than the throttle window are useless and are pruned as new failures arrive."""

    class Kind(models.TextChoices):
        USERNAME = "username", _("username")
        ADDRESS = "address", _("client address")

    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    key = models.CharField(_("key"), max_length=255)
    at = models.DateTimeField(_("time"))

    class Meta:
        verbose_name = _("failed sign-in")
        verbose_name_plural = _("failed sign-ins")
        indexes = [models.Index(fields=["kind", "key", "at"], name="accounts_loginfailure_key_at")]

    def __str__(self) -> str:
        return f"{self.kind}:{self.key} @ {self.at:%Y-%m-%d %H:%M:%S}"


class OneTimeCode(models.Model):
    """A code sent to a contact the person controls (mã xác thực), to prove identity or a new contact detail.

    Only a keyed digest of the code is stored. What the code confirms is kept with it: the person matched in the
    population registry, or the new contact detail (sealed: it is personal data)."""

    class Purpose(models.TextChoices):
        IDENTITY = "identity", _("identity verification")
        CONTACT = "contact", _("contact detail change")

    uid = models.UUIDField(unique=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="one_time_codes")
    purpose = models.CharField(_("purpose"), max_length=16, choices=Purpose.choices)
    digest = models.CharField(max_length=64, editable=False)
    person = models.ForeignKey("registries.Person", on_delete=models.PROTECT, null=True, blank=True,
                               related_name="+")
    sealed_change = models.TextField(blank=True, editable=False)
    key_id = models.CharField(max_length=32, blank=True, editable=False)
    channel = models.CharField(_("sent by"), max_length=8)
    sent_to_hint = models.CharField(_("sent to"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"))
    tries = models.PositiveSmallIntegerField(_("wrong tries"), default=0)
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)

    class Meta:
        verbose_name = _("one-time code")
        verbose_name_plural = _("one-time codes")
        indexes = [models.Index(fields=["user", "purpose", "created_at"], name="accounts_code_user_purpose")]

    @property
    def aad(self) -> bytes:
        return f"accounts.code:{self.uid}".encode()


class UserSession(models.Model):
    """A signed-in browser of an account (phiên đăng nhập), listed and revocable by its owner.

    Django keeps the session itself; this row says which account it belongs to and what device, so that one query
    lists them. The address is kept masked to its network."""
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="browser_sessions")
    session_key = models.CharField(max_length=40, unique=True)
    device = models.CharField(_("device"), max_length=64, blank=True)
    network = models.CharField(_("network"), max_length=64, blank=True)
    started_at = models.DateTimeField(_("signed in at"), auto_now_add=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    end_reason = models.CharField(_("how it ended"), max_length=16, blank=True)

    class Meta:
        verbose_name = _("signed-in session")
        verbose_name_plural = _("signed-in sessions")
        indexes = [models.Index(fields=["user", "ended_at", "-started_at"], name="accounts_session_user_open")]


from egov.accounts.business_models import BusinessMembership  # noqa: E402,F401  (business accounts)
