"""Claims by scope, computed by egov's OAuth2 validator (no server needed): what an agency system learns about a
person is exactly what the granted scopes allow, and the personal ID is read (and logged) only when granted."""
from datetime import date

import pytest
from oauthlib.common import Request

from egov.accounts.models import Role
from egov.accounts.oidc import EgovOAuth2Validator
from egov.exchange.services import register_client, register_oidc_client
from egov.kernel.access import SYSTEM
from egov.kernel.models import Event
from egov.registries import services as registries
from egov.registries.models import PersonalData


@pytest.fixture
def application(agencies):
    system, _key = register_client(caller=SYSTEM, identifier="VN:GOV:000.00.12.H29:hotich", name="Hộ tịch",
                                   agency=agencies["justice"])
    app, _secret = register_oidc_client(caller=SYSTEM, client=system, kind="sign-in",
                                        redirect_uris=["https://hotich.example.gov.vn/cb"])
    return app


def claims(user, application, *scopes):
    request = Request("https://egov.example/o/token/")
    request.user, request.client, request.scopes = user, application, list(scopes)
    return EgovOAuth2Validator().get_oidc_claims(None, None, request)


def test_each_scope_gives_its_claims_and_nothing_else(make_user, application):
    user = make_user("ha", Role.CITIZEN, first_name="Hà", last_name="Đỗ Thị", phone="")
    assert set(claims(user, application, "openid")) == {"sub", "acr", "assurance_level"}
    profile = claims(user, application, "openid", "profile")
    assert profile["name"] == "Đỗ Thị Hà"  # family name first, as Vietnamese names are written
    assert profile["family_name"] == "Đỗ Thị" and profile["given_name"] == "Hà"
    assert "email" not in profile
    assert claims(user, application, "openid", "email")["email"] == "ha@example.org"
    assert "phone_number" not in claims(user, application, "openid", "phone")  # empty values are left out


def test_sub_is_stable_per_account_and_different_between_accounts(make_user, application):
    first, second = make_user("a1", password=None), make_user("a2", password=None)
    sub = claims(first, application, "openid")["sub"]
    assert sub == claims(first, application, "openid")["sub"]
    assert sub != claims(second, application, "openid")["sub"]
    assert sub not in {"a1", str(first.pk)}


def test_the_assurance_level_is_the_acr(make_user, application):
    user = make_user("verified", password=None, assurance_level=2)
    got = claims(user, application, "openid")
    assert got["acr"] == "urn:egov:loa:2" and got["assurance_level"] == 2


def test_the_personal_id_only_with_its_scope_and_each_release_is_logged(make_user, application):
    person = registries.register_person(PersonalData(personal_id_number="079090001234", full_name="Nguyễn Văn An",
                                                     date_of_birth=date(1990, 5, 17), sex="male"), caller=SYSTEM)
    user = make_user("an", password=None, person=person)
    assert "personal_id_number" not in claims(user, application, "openid", "profile", "email", "phone")
    assert not Event.objects.filter(event_type="person.read").exists()
    assert claims(user, application, "openid", "personal_id")["personal_id_number"] == "079090001234"
    event = Event.objects.get(event_type="person.read")
    assert event.subject_id == str(person.pk) and event.partition == "000.00.12.H29"
    assert event.payload["reader_system"] == "VN:GOV:000.00.12.H29:hotich" and event.payload["via"] == "oidc"


def test_an_account_not_linked_to_the_registry_has_no_personal_id_to_give(make_user, application):
    user = make_user("unlinked", password=None)
    assert "personal_id_number" not in claims(user, application, "openid", "personal_id")
    assert not Event.objects.filter(event_type="person.read").exists()
