"""The API root: problem+json errors and the administrative units endpoint (keyset pagination by code)."""
import pytest

from egov.registries.models import AdministrativeUnit

pytestmark = pytest.mark.django_db
URL = "/api/v1/administrative-units"


@pytest.fixture
def units():
    hanoi = AdministrativeUnit.objects.create(generation="2025", level="province", code="01", name="Thành phố Hà Nội",
                                              kind="thành phố")
    danang = AdministrativeUnit.objects.create(generation="2025", level="province", code="48",
                                               name="Thành phố Đà Nẵng", kind="thành phố")
    for i, name in enumerate(["Phường Ba Đình", "Phường Ngọc Hà", "Phường Giảng Võ", "Phường Hoàn Kiếm"]):
        AdministrativeUnit.objects.create(generation="2025", level="commune", code=f"0000{i + 1}", name=name,
                                          kind="phường", parent=hanoi)
    AdministrativeUnit.objects.create(generation="legacy", level="province", code="01", name="Thành phố Hà Nội")
    return hanoi, danang


def test_pages_follow_codes_without_gaps_or_repeats(client, units):
    seen, after = [], None
    for _ in range(10):
        params = {"limit": 2, **({"after": after} if after else {})}
        body = client.get(URL, params).json()
        seen += [item["code"] for item in body["items"]]
        after = body["next_after"]
        if after is None:
            break
    assert seen == ["00001", "00002", "00003", "00004", "01", "48"]


def test_filters_by_level_and_generation(client, units):
    body = client.get(URL, {"level": "province"}).json()
    assert [i["code"] for i in body["items"]] == ["01", "48"]
    assert body["items"][0]["parent_code"] is None
    legacy = client.get(URL, {"generation": "legacy"}).json()
    assert [(i["code"], i["generation"]) for i in legacy["items"]] == [("01", "legacy")]
    commune = client.get(URL, {"level": "commune", "limit": 1}).json()["items"][0]
    assert commune["parent_code"] == "01" and commune["kind"] == "phường"


def test_search_folds_vietnamese(client, units):
    body = client.get(URL, {"q": "da nang"}).json()
    assert [item["name"] for item in body["items"]] == ["Thành phố Đà Nẵng"]
    assert body["next_after"] is None


def test_limit_is_capped_at_100(client, units):
    assert client.get(URL, {"limit": 1000}).status_code == 200


@pytest.mark.parametrize("params, field", [
    ({"limit": 0}, "query.limit"),
    ({"limit": "many"}, "query.limit"),
    ({"generation": "1999"}, "query.generation"),
    ({"level": "village"}, "query.level"),
    ({"after": "'; drop"}, "query.after"),
])
def test_bad_input_gets_problem_json_naming_the_field(client, params, field):
    response = client.get(URL, params)
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 422 and body["title"] == "Invalid input"
    assert [error["field"] for error in body["errors"]] == [field]


def test_search_with_after_is_refused_clearly(client, units):
    response = client.get(URL, {"q": "ha noi", "after": "01"})
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert "after" in response.json()["detail"]


def test_openapi_documents_the_endpoint(client):
    schema = client.get("/api/openapi.json").json()
    params = {p["name"] for p in schema["paths"][URL]["get"]["parameters"]}
    assert params == {"q", "generation", "level", "after", "limit"}
