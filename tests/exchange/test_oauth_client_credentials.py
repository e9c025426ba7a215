"""System-to-system calls with OAuth 2.0 client credentials, over real HTTP: an agency system gets an access token
from egov's token endpoint with Authlib, then calls the population API with it instead of its API key."""
from datetime import date, timedelta

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from django.utils import timezone
from oauth2_provider.models import AccessToken

from egov.exchange import services
from egov.kernel.access import SYSTEM, Caller, Denied
from egov.kernel.models import Event
from egov.registries import services as registries
from egov.registries.models import Agency, PersonalData
from tests.accounts.conftest import django_db_modify_db_settings, server_processes  # noqa: F401 (fixtures)

VERIFY = "/api/v1/population/verify"
AN = {"personal_id_number": "079090001234", "full_name": "Nguyễn Văn An", "date_of_birth": "1990-05-17"}


@pytest.fixture
def agency(db):
    return Agency.objects.create(code="000.00.12.H29", name="Sở Tư pháp Thành phố Hồ Chí Minh")


def system_app(agency, subsystem: str, grants: dict) -> tuple[str, str]:
    client, _key = services.register_client(caller=SYSTEM, identifier=f"VN:GOV:000.00.12.H29:{subsystem}",
                                            name=subsystem, agency=agency, grants=grants)
    application, secret = services.register_oidc_client(caller=SYSTEM, client=client, kind="system")
    return application.client_id, secret


@pytest.fixture
def served(server_processes, agency):  # noqa: F811 (the imported fixture)
    (base,) = server_processes(1)
    registries.register_person(PersonalData(personal_id_number="079090001234", full_name="Nguyễn Văn An",
                                            date_of_birth=date(1990, 5, 17), sex="male"), caller=SYSTEM)
    return base


def fetch(base: str, client_id: str, secret: str) -> str:
    session = OAuth2Session(client_id, secret)
    return session.fetch_token(f"{base}/o/token/", grant_type="client_credentials")["access_token"]


def call(base: str, token: str) -> requests.Response:
    return requests.post(f"{base}{VERIFY}", json=AN, timeout=30, cookies={"django_language": "en"},
                         headers={"Authorization": f"Bearer {token}"})


def test_a_client_credentials_token_calls_the_registry_api(served, agency):
    token = fetch(served, *system_app(agency, "ekyc", {"population.verify": []}))
    answer = call(served, token)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"match": True, "deceased": False}
    verified = Event.objects.get(event_type="person.verified")
    assert verified.payload["reader_system"] == "VN:GOV:000.00.12.H29:ekyc"
    issued = Event.objects.get(event_type="oidc.token_issued")
    assert issued.payload["grant_type"] == "client_credentials" and issued.payload["for_person"] is False


def test_a_client_without_the_right_gets_403(served, agency):
    token = fetch(served, *system_app(agency, "khac", {}))
    answer = call(served, token)
    assert answer.status_code == 403
    assert "no right to verify" in answer.json()["detail"]


def test_an_expired_token_gets_401_saying_so(served, agency):
    token = fetch(served, *system_app(agency, "ekyc", {"population.verify": []}))
    AccessToken.objects.update(expires=timezone.now() - timedelta(seconds=1))
    answer = call(served, token)
    assert answer.status_code == 401
    assert "expired" in answer.json()["detail"]


def test_a_garbage_token_gets_401_saying_what_is_accepted(served):
    answer = call(served, "not-a-token")
    assert answer.status_code == 401
    assert "neither an API key" in answer.json()["detail"]


def test_a_disabled_client_systems_token_stops_working(served, agency):
    token = fetch(served, *system_app(agency, "ekyc", {"population.verify": []}))
    services.ClientSystem.objects.update(is_active=False)
    answer = call(served, token)
    assert answer.status_code == 401
    assert "disabled" in answer.json()["detail"]


def test_a_wrong_client_secret_gets_no_token(served, agency):
    client_id, _secret = system_app(agency, "ekyc", {"population.verify": []})
    answer = requests.post(f"{served}/o/token/", data={"grant_type": "client_credentials"}, auth=(client_id, "wrong"),
                           timeout=30)
    assert answer.status_code == 401 and answer.json()["error"] == "invalid_client"


def test_api_keys_keep_working_beside_tokens(served, agency):
    client, key = services.register_client(caller=SYSTEM, identifier="VN:GOV:000.00.12.H29:ekyc", name="eKYC",
                                           agency=agency, grants={"population.verify": []})
    services.register_oidc_client(caller=SYSTEM, client=client, kind="system")
    assert call(served, key).status_code == 200


# --- Registration rules (no server needed) -------------------------------------------------------------------------

@pytest.fixture
def client_system(agency):
    client, _key = services.register_client(caller=SYSTEM, identifier="VN:GOV:000.00.12.H29:hotich", name="Hộ tịch",
                                            agency=agency)
    return client


@pytest.mark.parametrize("uri, message", [
    ("http://hotich.example.gov.vn/callback", "use https"),
    ("https://hotich.example.gov.vn/cb#top", "fragment"),
    ("https://*.example.gov.vn/cb", "wildcard"),
    ("hotich/callback", "absolute"),
])
def test_redirect_addresses_are_checked(client_system, uri, message):
    with pytest.raises(services.InvalidClient) as refused:
        services.register_oidc_client(caller=SYSTEM, client=client_system, kind="sign-in", redirect_uris=[uri])
    assert refused.value.field == "redirect_uris" and message in str(refused.value)


def test_a_sign_in_application_needs_a_redirect_address(client_system):
    with pytest.raises(services.InvalidClient, match="at least one redirect"):
        services.register_oidc_client(caller=SYSTEM, client=client_system, kind="sign-in")


def test_only_the_platform_admin_registers_applications(client_system, agency):
    officer = Caller(kind="officer", agency_code=agency.code, role="agency_admin")
    with pytest.raises(Denied):
        services.register_oidc_client(caller=officer, client=client_system, kind="system")


def test_registration_is_a_ledger_event_without_the_secret(client_system):
    application, secret = services.register_oidc_client(caller=SYSTEM, client=client_system, kind="sign-in",
                                                        redirect_uris=["https://hotich.example.gov.vn/cb"])
    event = Event.objects.get(event_type="exchange.oidc_client_registered")
    assert event.payload["client_id"] == application.client_id and event.payload["kind"] == "sign-in"
    assert secret not in str(event.payload)
    assert application.client_secret != secret  # only a hash is stored
