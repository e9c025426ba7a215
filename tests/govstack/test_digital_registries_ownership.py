"""A registry code belongs to the agency that defined it first: another agency can neither define a version of it nor
grant its own systems rights on it, so its client systems never reach the owner's records (audit: a takeover through
version 2.0 of another agency's code)."""
import pytest

from egov.accounts.models import Role, User
from egov.accounts.services import caller_for_user
from egov.exchange.models import ServiceGrant
from egov.exchange.services import register_client, set_registry_grants
from egov.kernel.access import SYSTEM, Denied
from egov.registries import services
from egov.registries.models import Registry
from tests.govstack.conftest import SHOP_SCHEMA, SHOPS, ClientSystem

pytestmark = pytest.mark.django_db

SHOP = {"tax_code": "0312345678", "name": "Tạp hoá Minh Anh", "owner_pin": "079090001234"}
QUERY = {"query": {"content": {"tax_code": "0312345678"}}}


def admin_of(agency, username: str):
    return caller_for_user(User.objects.create(username=username, role=Role.AGENCY_ADMIN, agency=agency))


@pytest.fixture
def intruder(other_agency):
    """Agency B's own client system, which B would like to read agency A's shops with."""
    client, key = register_client(caller=SYSTEM, identifier="VN:GOV:000.00.15.H29:lay-du-lieu", name="B",
                                  agency=other_agency)
    return ClientSystem(client, key)


def define(caller, agency, version: str = "2.0"):
    return services.define_registry(caller=caller, agency=agency, code="ho-kinh-doanh", version=version,
                                    name="Hộ kinh doanh (bản của cơ quan khác)", schema=SHOP_SCHEMA,
                                    searchable_fields=["tax_code"])


def test_another_agencys_admin_cannot_take_a_registry_over_and_its_systems_never_read_the_records(
        api, shops, hotich, intruder, agency, other_agency):
    assert api.post(f"{SHOPS}/create", {"write": {"content": SHOP}}, headers=hotich.headers).status_code == 200
    b_admin = admin_of(other_agency, "quan-tri-b")

    # 1. B defines version 2.0 of A's code: refused, beside the code, naming the owner.
    with pytest.raises(services.Conflict) as refused:
        define(b_admin, other_agency)
    assert refused.value.status == 409 and refused.value.field == "code"
    assert str(refused.value.message) == (f"This code belongs to {agency.name}'s registry; choose another code.")
    assert Registry.objects.filter(code="ho-kinh-doanh").count() == 1

    # 2. B grants its own system the rights on A's code: refused (403), and A's grants are untouched.
    before = set(ServiceGrant.objects.filter(service__startswith="registry.ho-kinh-doanh.")
                 .values_list("client_id", "service"))
    with pytest.raises(Denied) as denied:
        set_registry_grants(shops, caller=b_admin, readers=[intruder.client], writers=[intruder.client])
    assert f"belongs to {agency.name}" in str(denied.value.reason)
    after = set(ServiceGrant.objects.filter(service__startswith="registry.ho-kinh-doanh.")
                .values_list("client_id", "service"))
    assert after == before and (hotich.client.pk, "registry.ho-kinh-doanh.read") in after

    # 3. B's system reads and updates nothing of A's; A's own system still does.
    assert api.post(f"{SHOPS}/read", QUERY, headers=intruder.headers).status_code == 403
    update = {**QUERY, "write": {"content": {"name": "Đã bị chiếm"}}}
    assert api.put(f"{SHOPS}/update", update, headers=intruder.headers).status_code == 403
    read = api.post(f"{SHOPS}/read", QUERY, headers=hotich.headers)
    assert read.status_code == 200 and read.json()["content"]["name"] == "Tạp hoá Minh Anh"


def test_the_platform_admin_cannot_give_another_agency_a_version_of_the_code_but_may_add_one_for_the_owner(
        shops, agency, other_agency):
    platform = caller_for_user(User.objects.create(username="nen-tang", role=Role.PLATFORM_ADMIN))
    for caller in (platform, SYSTEM):
        with pytest.raises(services.Conflict):
            define(caller, other_agency)
    assert define(platform, agency).agency == agency
    assert define(admin_of(agency, "quan-tri-a"), agency, version="3.0").agency == agency


def test_a_deactivated_registry_keeps_its_code(shops, other_agency):
    Registry.objects.filter(pk=shops.pk).update(is_active=False)
    with pytest.raises(services.Conflict):
        define(admin_of(other_agency, "quan-tri-b"), other_agency)


def test_a_version_another_agency_holds_from_before_gives_it_no_say_over_the_owners_grants(
        shops, hotich, intruder, agency, other_agency):
    """A version of A's code that B defined before codes had owners: B setting grants through it would replace A's
    (the rights are per code), so it is refused; A, the owner, still decides for every version."""
    legacy = Registry.objects.create(code="ho-kinh-doanh", version="2.0", name="Bản cũ của B", agency=other_agency,
                                     schema=SHOP_SCHEMA, searchable_fields=["tax_code"])
    with pytest.raises(Denied):
        set_registry_grants(legacy, caller=admin_of(other_agency, "quan-tri-b"), readers=[intruder.client],
                            writers=[])
    assert set(ServiceGrant.objects.filter(service="registry.ho-kinh-doanh.read").values_list("client_id", flat=True)) \
        == {hotich.client.pk}
    set_registry_grants(legacy, caller=admin_of(agency, "quan-tri-a"), readers=[hotich.client], writers=[hotich.client])
    assert set(ServiceGrant.objects.filter(service__startswith="registry.ho-kinh-doanh.")
               .values_list("client_id", flat=True)) == {hotich.client.pk}
