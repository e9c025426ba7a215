"""Demo accounts: idempotent, one of each role, a fixed TOTP secret, refused in production."""
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import CommandError
from django_otp.plugins.otp_totp.models import TOTPDevice

from egov.accounts import demo, services
from egov.accounts.models import Role, User
from tests.accounts.conftest import totp_code


def test_demo_accounts_cover_every_role_and_are_idempotent(agencies):
    lines = demo.load_demo_accounts()
    again = demo.load_demo_accounts()
    assert lines == again  # same secrets, same text
    users = {u.username: u for u in User.objects.filter(username__in=demo.DEMO_USERNAMES)}
    assert len(users) == len(demo.DEMO_ACCOUNTS)
    assert {u.role for u in users.values()} >= {Role.DESK_OFFICER, Role.SPECIALIST, Role.HEAD_OF_UNIT,
                                                Role.AGENCY_LEADER, Role.AGENCY_ADMIN, Role.PLATFORM_ADMIN,
                                                Role.CITIZEN}
    assert users["demo.desk"].agency.code == demo.DEMO_OFFICER_AGENCY_CODE
    assert users["demo.platformadmin"].is_superuser and users["demo.platformadmin"].is_staff
    assert users["demo.citizen"].check_password(demo.DEMO_PASSWORD)
    device = TOTPDevice.objects.get(user=users["demo.desk"])
    assert device.confirmed and device.key == services.demo_totp_key("demo.desk")
    text = "\n".join(lines)
    assert services.totp_secret_base32(device) in text and "otpauth://totp/" in text and demo.DEMO_PASSWORD in text
    assert not TOTPDevice.objects.filter(user=users["demo.citizen"]).exists()


def test_demo_officer_signs_in_with_the_printed_code(client, agencies, capsys):
    demo.load_demo_accounts()
    call_command("demo_totp", "demo.desk")
    code = capsys.readouterr().out.strip()
    assert len(code) == 6 and code.isdigit()
    client.post("/accounts/login/", {"username": "demo.desk", "password": demo.DEMO_PASSWORD})
    assert client.post("/accounts/login/totp/", {"code": code}).status_code == 302


def test_demo_totp_refuses_other_accounts(agencies, make_user):
    demo.load_demo_accounts()
    with pytest.raises(CommandError, match="not a demo account"):
        call_command("demo_totp", "someone.real")


def test_demo_totp_refuses_a_demo_username_whose_secret_was_changed(agencies):
    demo.load_demo_accounts()
    TOTPDevice.objects.filter(user__username="demo.desk").update(key=services.demo_totp_key("other"))
    with pytest.raises(CommandError, match="no demo authenticator"):
        call_command("demo_totp", "demo.desk")


def test_demo_accounts_refused_in_production(settings, agencies):
    settings.ENV = "production"
    with pytest.raises(ImproperlyConfigured, match="production"):
        demo.load_demo_accounts()
    with pytest.raises(CommandError, match="production"):
        call_command("demo_totp", "demo.desk")
    assert not User.objects.filter(username__in=demo.DEMO_USERNAMES).exists()


def test_totp_code_helper_matches_the_command(agencies, capsys):
    demo.load_demo_accounts()
    call_command("demo_totp", "demo.agencyadmin")
    device = TOTPDevice.objects.get(user__username="demo.agencyadmin")
    assert capsys.readouterr().out.strip() in {totp_code(device, -1), totp_code(device), totp_code(device, 1)}
