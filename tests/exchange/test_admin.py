"""The platform administrator registers client systems in the admin: the API key is shown once, then never again."""
import re

import pytest
from django.conf import settings
from django.test import Client

from egov.accounts.models import Role
from egov.exchange import services
from egov.exchange.models import ClientSystem, ServiceGrant
from egov.kernel.models import Event
from egov.registries.models import Agency, Person, Registry

ADD = "/admin/exchange/clientsystem/add/"
KEY = re.compile(r"<code>(egk_[A-Za-z0-9_-]+)</code>")


@pytest.fixture
def agency(db):
    return Agency.objects.create(code="000.00.12.H29", name="Sở Tư pháp Thành phố Hồ Chí Minh")


def admin_client(user) -> Client:
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.force_login(user)
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


@pytest.fixture
def platform_admin(db, django_user_model):
    user = django_user_model.objects.create_superuser("nen-tang", "nen-tang@example.org", "correct-horse-battery-9",
                                                      role=Role.PLATFORM_ADMIN)
    return admin_client(user)


def registration(agency, **fields) -> dict:
    form = {"agency": agency.pk, "identifier": "VN:GOV:000.00.12.H29:hotich", "name": "Hộ tịch điện tử",
            "verify_limit_per_minute": "600",
            "grants": "population.verify\npopulation.release: Đăng ký khai sinh; Cấp bản sao trích lục\n\n"
                      "registry.ho-tich.read", "_save": "Save"}
    form.update(fields)
    return form


def test_the_key_is_shown_once_after_registering_and_it_works(platform_admin, agency):
    response = platform_admin.post(ADD, registration(agency), follow=True)
    assert response.status_code == 200
    page = response.content.decode()
    [shown_key] = set(KEY.findall(page))
    client = ClientSystem.objects.get()
    assert client.key_digest == services.key_digest(shown_key)
    assert client.identifier == "VN:GOV:000.00.12.H29:hotich" and client.agency == agency
    assert dict(client.grants.values_list("service", "purposes")) == {
        "population.verify": [], "population.release": ["Đăng ký khai sinh", "Cấp bản sao trích lục"],
        "registry.ho-tich.read": []}
    assert Event.objects.filter(event_type="exchange.client_registered").count() == 1
    # Never again: not on the list, not on the change page, not on the next page after the message was shown.
    for path in ("/admin/exchange/clientsystem/", f"/admin/exchange/clientsystem/{client.pk}/change/",
                 "/admin/exchange/clientsystem/"):
        page = platform_admin.get(path).content.decode()
        assert shown_key not in page and client.key_hint in page


def test_an_identifier_of_another_agency_is_refused_beside_the_field_and_nothing_is_lost(platform_admin, agency):
    response = platform_admin.post(ADD, registration(agency, identifier="VN:GOV:000.00.12.H41:hotich"))
    assert response.status_code == 200  # the admin's form page, with the error
    page = response.content.decode()
    assert "The identifier&#x27;s organisation code must be the agency&#x27;s (000.00.12.H29)." in page
    assert 'value="VN:GOV:000.00.12.H41:hotich"' in page and "Cấp bản sao trích lục" in page
    assert not ClientSystem.objects.exists() and not KEY.search(page)


@pytest.mark.parametrize(("grants", "message"), [
    ("population.everything", "“population.everything” is not a service"),
    ("population.verify\npopulation.verify", "Line 2: population.verify is listed twice"),
    (": a purpose", "Line 1: write the service before the colon."),
])
def test_bad_grants_are_refused_beside_the_field(platform_admin, agency, grants, message):
    response = platform_admin.post(ADD, registration(agency, grants=grants))
    page = response.content.decode().replace("&#x27;", "'")
    assert message in page
    assert not ClientSystem.objects.exists() and not ServiceGrant.objects.exists()


def test_grants_are_changed_through_set_grants(platform_admin, agency):
    from egov.kernel.access import SYSTEM

    client, _key = services.register_client(caller=SYSTEM, identifier="VN:GOV:000.00.12.H29:hotich", name="Hộ tịch",
                                            agency=agency, grants={"population.verify": []})
    change = f"/admin/exchange/clientsystem/{client.pk}/change/"
    page = platform_admin.get(change).content.decode()
    assert "population.verify</textarea>" in page
    response = platform_admin.post(change, {"grants": "registry.ho-tich.write", "_save": "Save"})
    assert response.status_code == 302
    assert list(client.grants.values_list("service", flat=True)) == ["registry.ho-tich.write"]
    assert Event.objects.filter(event_type="exchange.grants_set").count() == 2
    client.refresh_from_db()
    assert client.identifier == "VN:GOV:000.00.12.H29:hotich"
    # Unchanged rights are not recorded again.
    platform_admin.post(change, {"grants": "registry.ho-tich.write", "_save": "Save"})
    assert Event.objects.filter(event_type="exchange.grants_set").count() == 2
    assert platform_admin.post(f"/admin/exchange/clientsystem/{client.pk}/delete/").status_code == 403


def test_a_superuser_who_is_not_the_platform_administrator_is_refused(db, django_user_model, agency):
    user = django_user_model.objects.create_superuser("root", "root@example.org", "correct-horse-battery-9")
    response = admin_client(user).post(ADD, registration(agency))
    assert "Only the platform administrator registers client systems." in response.content.decode()
    assert not ClientSystem.objects.exists()


def test_persons_and_registries_are_shown_without_personal_data(platform_admin, agency):
    from datetime import date

    from egov.kernel.access import SYSTEM
    from egov.registries import services as registries
    from egov.registries.models import PersonalData

    person = registries.register_person(PersonalData(personal_id_number="079303001234", full_name="Đỗ Thị Hà",
                                                     date_of_birth=date(2003, 5, 17), sex="female"), caller=SYSTEM)
    registry = registries.ensure_population_registry(agency)
    for path in ("/admin/registries/person/", f"/admin/registries/person/{person.pk}/change/",
                 "/admin/registries/registry/", f"/admin/registries/registry/{registry.pk}/change/"):
        response = platform_admin.get(path)
        assert response.status_code == 200, path
        page = response.content.decode()
        assert "Đỗ Thị Hà" not in page and "079303001234" not in page and person.sealed[:20] not in page
    assert str(person.uid) in platform_admin.get("/admin/registries/person/").content.decode()
    assert platform_admin.get("/admin/registries/person/?q=079303001234").status_code == 200
    assert platform_admin.post(f"/admin/registries/person/{person.pk}/delete/").status_code == 403
    assert platform_admin.get("/admin/registries/person/add/").status_code == 403
    assert Person.objects.count() == 1 and Registry.objects.count() == 1


SECRET = re.compile(r"client secret <code>([A-Za-z0-9_-]+)</code>")


def test_the_platform_admin_gives_a_client_system_a_sign_in_application_and_sees_the_secret_once(platform_admin,
                                                                                                  agency):
    from oauth2_provider.models import Application

    from egov.kernel.access import SYSTEM

    client, _key = services.register_client(caller=SYSTEM, identifier="VN:GOV:000.00.12.H29:hotich", name="Hộ tịch",
                                            agency=agency, grants={"population.verify": []})
    change = f"/admin/exchange/clientsystem/{client.pk}/change/"
    response = platform_admin.post(change, {"grants": "population.verify", "oidc_kind": "sign-in",
                                            "oidc_redirect_uris": "https://hotich.example.gov.vn/oidc/callback\n",
                                            "_continue": "Save"}, follow=True)
    page = response.content.decode()
    [secret] = SECRET.findall(page)
    application = Application.objects.get()
    assert application.egov_link.client == client
    assert application.redirect_uris == "https://hotich.example.gov.vn/oidc/callback"
    assert application.client_id in page and application.client_secret != secret
    assert Event.objects.filter(event_type="exchange.oidc_client_registered").count() == 1
    assert secret not in platform_admin.get(change).content.decode()  # shown once
    assert application.client_id in platform_admin.get(change).content.decode()  # listed


def test_a_bad_redirect_address_is_refused_beside_its_field(platform_admin, agency):
    from oauth2_provider.models import Application

    from egov.kernel.access import SYSTEM

    client, _key = services.register_client(caller=SYSTEM, identifier="VN:GOV:000.00.12.H29:hotich", name="Hộ tịch",
                                            agency=agency)
    response = platform_admin.post(f"/admin/exchange/clientsystem/{client.pk}/change/", {
        "grants": "", "oidc_kind": "sign-in", "oidc_redirect_uris": "http://hotich.example.gov.vn/cb", "_save": "Save"})
    page = response.content.decode()
    assert response.status_code == 200 and "use https" in page and "http://hotich.example.gov.vn/cb" in page
    assert not Application.objects.exists()


def test_applications_are_not_added_outside_a_client_system(platform_admin):
    assert platform_admin.get("/admin/oauth2_provider/application/add/").status_code == 403
