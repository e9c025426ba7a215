"""Fixtures of the GovStack adapter tests: an agency, persons in the population registry, a digital registry of
household businesses, client systems with and without rights, a citizen, and an HTTP helper that speaks JSON."""
import json
from dataclasses import dataclass
from datetime import date

import pytest

from egov.accounts.models import Role, User
from egov.exchange.services import register_client
from egov.kernel.access import SYSTEM
from egov.registries import services
from egov.registries.models import Agency, PersonalData

BASE = "/api/govstack/digital-registries/data"
SHOPS = f"{BASE}/ho-kinh-doanh/1.0"
POPULATION = f"{BASE}/population/1.0"
PURPOSE = "Xác minh hồ sơ đăng ký kinh doanh"

SHOP_SCHEMA = {
    "type": "object",
    "properties": {
        "tax_code": {"type": "string", "pattern": "^[0-9]{10}$"},
        "name": {"type": "string", "minLength": 1},
        "owner_pin": {"type": "string"},
        "employees": {"type": "integer", "minimum": 0},
        "district": {"type": "string"},
    },
    "required": ["tax_code", "name"],
    "additionalProperties": False,
}


@pytest.fixture(autouse=True)
def english(settings):
    """Assertions read the English source messages (requests are in the default language, so it is set too)."""
    from django.utils import translation

    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def agency(db):
    return Agency.objects.create(code="000.00.12.H29", name="Sở Tư pháp TP Hồ Chí Minh")


@pytest.fixture
def other_agency(db):
    return Agency.objects.create(code="000.00.15.H29", name="Sở Xây dựng TP Hồ Chí Minh")


@pytest.fixture
def population(agency):
    return services.ensure_population_registry(agency)


def _person(number: str, name: str, born: date, sex: str):
    return services.register_person(PersonalData(personal_id_number=number, full_name=name, date_of_birth=born, sex=sex),
                                    caller=SYSTEM)


@pytest.fixture
def an(db):
    """Nguyễn Văn An, male, born 1990 in Ho Chi Minh City (079, digit 0: male 1900s, 90)."""
    return _person("079090001234", "Nguyễn Văn An", date(1990, 5, 17), "male")


@pytest.fixture
def binh(db):
    """Trần Thị Bình, female, born 1950 in Hà Nội (001, digit 1: female 1900s, 50)."""
    return _person("001150012345", "Trần Thị Bình", date(1950, 3, 2), "female")


@pytest.fixture
def shops(agency):
    """Hộ kinh doanh: searchable by tax code and by the owner's identification number (reads shown to the owner)."""
    return services.define_registry(caller=SYSTEM, agency=agency, code="ho-kinh-doanh", version="1.0",
                                    name="Hộ kinh doanh", schema=SHOP_SCHEMA, searchable_fields=["tax_code", "owner_pin"],
                                    person_field="owner_pin")


@dataclass
class ClientSystem:
    client: object
    key: str

    @property
    def identifier(self) -> str:
        return self.client.identifier

    @property
    def headers(self) -> dict:
        return {"Authorization": f"Bearer {self.key}"}


@pytest.fixture
def hotich(agency):
    """The civil-status system of the Department of Justice: reads and writes shops, reads the population registry,
    verifies identities and receives data for one purpose."""
    client, key = register_client(caller=SYSTEM, identifier="VN:GOV:000.00.12.H29:hotich", name="Hộ tịch",
                                  agency=agency, grants={
                                      "registry.ho-kinh-doanh.read": [], "registry.ho-kinh-doanh.write": [],
                                      "registry.population.read": [], "population.verify": [],
                                      "population.release": [PURPOSE]})
    return ClientSystem(client, key)


@pytest.fixture
def reader(agency):
    """A system that may only read shops."""
    client, key = register_client(caller=SYSTEM, identifier="VN:GOV:000.00.12.H29:tra-cuu", name="Tra cứu",
                                  agency=agency, grants={"registry.ho-kinh-doanh.read": []})
    return ClientSystem(client, key)


@pytest.fixture
def stranger(other_agency):
    """A registered system without any right."""
    client, key = register_client(caller=SYSTEM, identifier="VN:GOV:000.00.15.H29:xay-dung", name="Xây dựng",
                                  agency=other_agency, grants={})
    return ClientSystem(client, key)


@pytest.fixture
def citizen_an(an):
    return User.objects.create(username="an", role=Role.CITIZEN, person=an, email="an@example.org")


@pytest.fixture
def trusted_mediator(settings):
    settings.TRUSTED_MEDIATORS = ["10.20.0.0/16"]
    return "10.20.1.5"


class Api:
    """JSON over the in-process test client: ``api.post(path, body, headers=…)`` → response."""

    def __init__(self, client):
        self.client = client

    def call(self, method: str, path: str, body=None, headers: dict | None = None, **extra):
        data = body if isinstance(body, (str, bytes)) else (json.dumps(body) if body is not None else "")
        return self.client.generic(method, path, data=data, content_type="application/json",
                                   headers=headers or {}, **extra)

    def get(self, path, params=None, headers=None, **extra):
        return self.client.get(path, params or {}, headers=headers or {}, **extra)

    def post(self, path, body=None, headers=None, **extra):
        return self.call("POST", path, body, headers, **extra)

    def put(self, path, body=None, headers=None, **extra):
        return self.call("PUT", path, body, headers, **extra)

    def delete(self, path, headers=None, **extra):
        return self.call("DELETE", path, None, headers, **extra)


@pytest.fixture
def api(client):
    return Api(client)
