"""Demo accounts (tài khoản dùng thử): one of each role, with a known password and, for officers, a fixed TOTP secret.

Idempotent: running it again resets the demo accounts to their known state. Refused in production, because the
password is printed in the README."""
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from egov.accounts import services
from egov.accounts.models import Role, User

DEMO_PASSWORD = "demo-egov-2026"
DEMO_OFFICER_AGENCY_CODE = "000.00.12.H29"  # Sở Tư pháp Thành phố Hồ Chí Minh, in egov.registries.demo


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role: str
    first_name: str
    last_name: str
    agency: str = "officer"  # "officer": the demo department; "parent": the province above it; "": none


DEMO_ACCOUNTS = (
    DemoAccount("demo.desk", Role.DESK_OFFICER, "An", "Nguyễn Văn"),
    DemoAccount("demo.specialist", Role.SPECIALIST, "Bình", "Trần Thị"),
    DemoAccount("demo.head", Role.HEAD_OF_UNIT, "Cường", "Lê Văn"),
    DemoAccount("demo.leader", Role.AGENCY_LEADER, "Dung", "Phạm Thị"),
    DemoAccount("demo.agencyadmin", Role.AGENCY_ADMIN, "Em", "Hoàng Văn"),
    DemoAccount("demo.platformadmin", Role.PLATFORM_ADMIN, "Giang", "Vũ Thị", agency=""),
    DemoAccount("demo.citizen", Role.CITIZEN, "Hà", "Đỗ Thị", agency=""),
)
DEMO_USERNAMES = frozenset(account.username for account in DEMO_ACCOUNTS)


def refuse_in_production(what: str) -> None:
    if getattr(settings, "ENV", "development") == "production":
        raise ImproperlyConfigured(
            f"{what} is refused with EGOV_ENV=production: demo accounts have a published password and TOTP secret.")


def demo_agency():
    """The agency the demo officers work for: the Ho Chi Minh City Department of Justice from the registries' demo
    data (``egov.registries.demo``), else any department (an agency with a parent), else any agency."""
    from egov.registries.models import Agency

    return (Agency.objects.filter(code=DEMO_OFFICER_AGENCY_CODE).first()
            or Agency.objects.filter(parent__isnull=False, is_active=True).order_by("code").first()
            or Agency.objects.order_by("code").first())


@transaction.atomic
def load_demo_accounts() -> list[str]:
    """Create or reset the demo accounts; return lines to print (username, password, role, agency, TOTP secret)."""
    refuse_in_production("Loading demo accounts")
    agency = demo_agency()
    lines = []
    for account in DEMO_ACCOUNTS:
        is_officer = account.role not in (Role.CITIZEN, Role.BUSINESS_REPRESENTATIVE)
        user_agency = agency if (account.agency and is_officer) else None
        if is_officer and account.role != Role.PLATFORM_ADMIN and user_agency is None:
            continue  # no agency loaded: officers cannot exist without one
        user, _ = User.objects.get_or_create(username=account.username)
        user.role = account.role
        user.agency = user_agency
        user.first_name, user.last_name = account.first_name, account.last_name
        user.email = f"{account.username}@demo.egov.localhost"
        user.is_active = True
        user.is_staff = user.is_superuser = account.role == Role.PLATFORM_ADMIN
        user.set_password(DEMO_PASSWORD)
        user.save()
        line = (f"{account.username:<20} password {DEMO_PASSWORD}  role {user.get_role_display()}"
                f"  agency {user_agency.code if user_agency else '-'}")
        if user.needs_second_factor:
            TOTPDevice.objects.filter(user=user).exclude(name="demo").delete()
            device, _ = TOTPDevice.objects.update_or_create(
                user=user, name="demo",
                defaults={"key": services.demo_totp_key(user.username), "confirmed": True,
                          "throttling_failure_count": 0, "throttling_failure_timestamp": None})
            line += f"\n{'':<20} TOTP secret {services.totp_secret_base32(device)}  ({device.config_url})"
            line += f"\n{'':<20} current code: uv run egov demo-totp {user.username}"
        lines.append(line)
    return lines
