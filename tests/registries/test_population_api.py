"""Population API for client systems over HTTP: verification (xác thực) says yes or no and never the data, is
rate-limited and always logged; release (eKYC) gives data only for a purpose the client's grant lists."""
import time
from datetime import date

import pytest

from egov.exchange.services import register_client
from egov.kernel.access import SYSTEM
from egov.kernel.models import Event
from egov.registries import services
from egov.registries.models import Agency, PersonalData

pytestmark = pytest.mark.django_db

VERIFY = "/api/v1/population/verify"
RELEASE = "/api/v1/population/release"
PURPOSE = "Mở tài khoản ngân hàng"
AN = {"personal_id_number": "079090001234", "full_name": "Nguyễn Văn An", "date_of_birth": "1990-05-17"}


@pytest.fixture(autouse=True)
def english_requests(settings):
    """Requests are served in the default language: English here, so assertions read the source messages."""
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def agency(db):
    return Agency.objects.create(code="000.00.12.H29", name="Sở Tư pháp TP Hồ Chí Minh")


@pytest.fixture
def an(db):
    return services.register_person(PersonalData(personal_id_number="079090001234", full_name="Nguyễn Văn An",
                                                 date_of_birth=date(1990, 5, 17), sex="male"), caller=SYSTEM)


def _client(agency, subsystem: str, grants: dict, **extra) -> dict:
    _system, key = register_client(caller=SYSTEM, identifier=f"VN:GOV:000.00.12.H29:{subsystem}", name=subsystem,
                                   agency=agency, grants=grants, **extra)
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def bank(agency):
    """Verifies identities and receives data to open accounts."""
    return _client(agency, "ekyc", {"population.verify": [], "population.release": [PURPOSE]})


@pytest.fixture
def no_rights(agency):
    return _client(agency, "khac", {})


def post(client, path, body, headers=None):
    return client.post(path, body, content_type="application/json", headers=headers or {})


# --- Verification -----------------------------------------------------------------------------------------------------

def test_matching_details_are_a_match(client, an, bank):
    response = post(client, VERIFY, AN, bank)
    assert response.status_code == 200
    assert response.json() == {"match": True, "deceased": False}


def test_case_and_spacing_of_the_name_do_not_matter(client, an, bank):
    assert post(client, VERIFY, {**AN, "full_name": "  nguyễn   VĂN an "}, bank).json()["match"] is True


@pytest.mark.parametrize("change", [{"full_name": "Nguyen Van An"}, {"date_of_birth": "1990-05-18"},
                                    {"personal_id_number": "079090009999"}])
def test_any_difference_is_no_match_and_says_nothing_more(client, an, bank, change):
    assert post(client, VERIFY, {**AN, **change}, bank).json() == {"match": False, "deceased": None}


def test_deceased_is_said_only_when_all_three_match(client, an, bank):
    services.register_death(an.uid, caller=SYSTEM, date_of_death=date(2024, 1, 2))
    assert post(client, VERIFY, AN, bank).json() == {"match": True, "deceased": True}
    assert post(client, VERIFY, {**AN, "date_of_birth": "1990-01-01"}, bank).json() == {"match": False,
                                                                                        "deceased": None}


def test_every_verification_is_written_to_the_ledger(client, an, bank):
    post(client, VERIFY, AN, bank)
    post(client, VERIFY, {**AN, "full_name": "Người Khác"}, bank)
    post(client, VERIFY, {**AN, "personal_id_number": "079090009999"}, bank)
    events = list(Event.objects.filter(event_type="person.verified").order_by("id"))
    assert [e.payload["match"] for e in events] == [True, False, False]
    assert [e.payload["known_number"] for e in events] == [True, True, False]
    assert all(e.payload["reader_agency"] == "000.00.12.H29" for e in events)
    assert "Nguyễn" not in str([e.payload for e in events])  # facts only, never the data


def test_verifications_beyond_the_client_limit_are_429_with_retry_after(client, an, agency):
    limited = _client(agency, "gioi-han", {"population.verify": []}, verify_limit_per_minute=2)
    if time.time() % 60 > 50:  # the limit counts per minute: keep the three calls inside one
        time.sleep(61 - time.time() % 60)
    assert [post(client, VERIFY, AN, limited).status_code for _ in range(2)] == [200, 200]
    response = post(client, VERIFY, AN, limited)
    assert response.status_code == 429
    assert response["Content-Type"] == "application/problem+json"
    assert 1 <= int(response["Retry-After"]) <= 60
    assert "at most 2 a minute" in response.json()["detail"]


def test_an_invalid_number_is_422_naming_the_field(client, an, bank):
    body = post(client, VERIFY, {**AN, "personal_id_number": "12345"}, bank).json()
    assert body["status"] == 422 and body["field"] == "personal_id_number"


@pytest.mark.parametrize("change, field", [({"date_of_birth": "17/05/1990"}, "body.date_of_birth"),
                                           ({"full_name": None}, "body.full_name"),
                                           ({"full_name": "x" * 151}, "body.full_name")])
def test_malformed_input_is_422(client, an, bank, change, field):
    response = post(client, VERIFY, {**AN, **change}, bank)
    assert response.status_code == 422
    assert field in [error["field"] for error in response.json()["errors"]]


def test_not_json_is_422(client, bank):
    response = client.post(VERIFY, b"{oops", content_type="application/json", headers=bank)
    assert response.status_code == 422 and response["Content-Type"] == "application/problem+json"


def test_verification_needs_credentials_and_the_right(client, an, no_rights):
    anonymous = post(client, VERIFY, AN)
    assert anonymous.status_code == 401 and anonymous["WWW-Authenticate"]
    assert post(client, VERIFY, AN, no_rights).status_code == 403
    assert not Event.objects.filter(event_type="person.verified").exists()


# --- Release (eKYC) -----------------------------------------------------------------------------------------------------

def test_an_allowed_purpose_releases_the_data(client, an, bank):
    response = post(client, RELEASE, {"personal_id_number": "079090001234", "purpose": PURPOSE}, bank)
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["full_name"] == "Nguyễn Văn An" and data["date_of_birth"] == "1990-05-17"
    assert data["status"] == "living"
    event = Event.objects.get(event_type="person.released")
    assert event.payload["purpose"] == PURPOSE


def test_only_the_fields_asked_for_are_released(client, an, bank):
    body = {"personal_id_number": "079090001234", "purpose": PURPOSE, "fields": ["full_name"]}
    assert post(client, RELEASE, body, bank).json() == {"data": {"full_name": "Nguyễn Văn An"}}
    unknown = post(client, RELEASE, {**body, "fields": ["religion"]}, bank)
    assert unknown.status_code == 422 and unknown.json()["field"] == "fields"


def test_an_undeclared_purpose_is_403(client, an, bank):
    response = post(client, RELEASE, {"personal_id_number": "079090001234", "purpose": "Tiếp thị"}, bank)
    assert response.status_code == 403
    assert "not one this client system is authorised for" in response.json()["detail"]
    assert not Event.objects.filter(event_type="person.released").exists()


def test_release_needs_the_right(client, an, no_rights):
    response = post(client, RELEASE, {"personal_id_number": "079090001234", "purpose": PURPOSE}, no_rights)
    assert response.status_code == 403


def test_an_unknown_person_is_404(client, an, bank):
    response = post(client, RELEASE, {"personal_id_number": "079090009999", "purpose": PURPOSE}, bank)
    assert response.status_code == 404 and response["Content-Type"] == "application/problem+json"


def test_the_endpoints_are_in_the_openapi_document(client):
    paths = client.get("/api/openapi.json").json()["paths"]
    for path in (VERIFY, RELEASE):
        operation = paths[path]["post"]
        assert "Information-Mediator-Client" in [p["name"] for p in operation["parameters"]]
        assert {"401", "403", "422"} <= set(operation["responses"])
    assert "xác thực" in paths[VERIFY]["post"]["summary"] and "eKYC" in paths[RELEASE]["post"]["summary"]
