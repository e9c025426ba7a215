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


# --- Population registry ---------------------------------------------------------------------------------------

@pytest.fixture
def justice_department(db):
    from egov.registries.models import Agency

    province = Agency.objects.create(code="000.00.00.H29", name="UBND Thành phố Hồ Chí Minh")
    return Agency.objects.create(code="000.00.12.H29", name="Sở Tư pháp Thành phố Hồ Chí Minh", parent=province)


@pytest.fixture
def make_user(db, justice_department):
    from egov.accounts.models import Role, User

    def make(username: str, role: str = Role.DESK_OFFICER, agency=justice_department, person=None):
        # A linked person means a verified identity (level 2), as only raise_assurance links one.
        user = User(username=username, role=role, agency=agency if role not in (Role.CITIZEN,) else None,
                    person=person, assurance_level=2 if person else 1)
        user.set_unusable_password()
        user.save()
        return user

    return make


@pytest.fixture
def desk_officer(make_user):
    from egov.accounts.services import caller_for_user

    return caller_for_user(make_user("can-bo-mot-cua"))


@pytest.fixture
def person_data():
    from datetime import date

    from egov.registries.models import PersonalData

    def make(number="079303001234", name="Đỗ Thị Hà", born=date(2003, 5, 17), sex="female", **more):
        return PersonalData(personal_id_number=number, full_name=name, date_of_birth=born, sex=sex, **more)

    return make


@pytest.fixture
def registered(db, person_data):
    from egov.kernel.access import SYSTEM
    from egov.registries import services

    def register(**fields):
        return services.register_person(person_data(**fields), caller=SYSTEM)

    return register
