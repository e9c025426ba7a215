"""Fixtures of the base-registry tests."""
import pytest
from django.conf import settings

from egov.registries import services


@pytest.fixture
def units(db):
    """The administrative units, loaded from the pinned package inside the test's transaction."""
    return services.load_administrative_units()


@pytest.fixture
def superuser(db, django_user_model):
    return django_user_model.objects.create_superuser("root", "root@example.org", "correct-horse-battery-9")


@pytest.fixture
def admin_client_en(client, superuser):
    """A logged-in superuser who has passed the TOTP step, whose browser asks for English (so assertions read the
    English source messages)."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    client.force_login(superuser)
    # What django_otp.login() stores after a correct TOTP code: the admin requires a verified second factor.
    device = TOTPDevice.objects.create(user=superuser, name="test", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"  # the visitor's chosen language; Vietnamese otherwise
    return client


@pytest.fixture(autouse=True)
def english_messages():
    """These tests read the English source messages; the Vietnamese ones are checked by tests/i18n."""
    from django.utils import translation

    with translation.override("en"):
        yield
