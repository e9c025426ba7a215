"""Agencies: organisation codes validated in the model, the admin and the service; ledger events; demo data."""
import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from egov.kernel.models import Event
from egov.registries import demo, services
from egov.registries.models import AdministrativeUnit, Agency

pytestmark = pytest.mark.django_db
ADD_URL = "admin:registries_agency_add"


def agency_form(**overrides):
    data = {"code": "000.00.00.G12", "name": "Bộ Tài chính", "name_en": "Ministry of Finance", "parent": "",
            "administrative_unit": "", "is_active": "on", "morning_opens": "07:30", "morning_closes": "11:30",
            "afternoon_opens": "13:00", "afternoon_closes": "17:00"}
    data.update(overrides)
    return data


@pytest.fixture
def finance(db):
    return services.save_agency(Agency(code="000.00.00.G12", name="Bộ Tài chính", name_en="Ministry of Finance"))


def test_service_creates_an_agency_and_records_it(finance):
    event = Event.objects.get(event_type="agency.created", partition="000.00.00.G12")
    assert event.subject_id == str(finance.pk)
    assert event.payload["code"] == "000.00.00.G12" and event.payload["morning_opens"] == "07:30:00"
    assert "name" not in event.payload  # the subject points at the row; payloads carry facts, not names


def test_service_records_what_changed(finance):
    finance.name_en = "Ministry of Finance of Viet Nam"
    finance.afternoon_closes = "16:30"
    services.save_agency(finance)
    event = Event.objects.get(event_type="agency.changed", partition="000.00.00.G12")
    assert event.payload == {"changed_fields": ["afternoon_closes", "name_en"],
                             "values": {"afternoon_closes": "16:30:00"}}
    services.save_agency(finance)  # nothing changed: no event
    assert Event.objects.filter(event_type="agency.changed").count() == 1


def test_service_refuses_bad_input_without_writing(finance):
    with pytest.raises(ValidationError) as caught:
        services.save_agency(Agency(code="000.00.18.G13", name="Cục Thuế", parent=finance))
    assert "must have a code ending in .G12" in str(caught.value.message_dict["code"])
    with pytest.raises(ValidationError) as caught:
        services.save_agency(Agency(code="000.00.18.G12", name="Cục Thuế", parent=finance,
                                    morning_opens="11:30", morning_closes="07:30"))
    assert "morning_closes" in caught.value.message_dict
    assert Agency.objects.count() == 1 and Event.objects.filter(event_type="agency.created").count() == 1


def test_an_agencys_address_and_phone_are_kept_and_a_wrong_phone_is_refused(finance):
    finance.address, finance.phone = "28 Trần Hưng Đạo, phường Cửa Nam, Hà Nội", "024 2220 2828"
    services.save_agency(finance)
    event = Event.objects.get(event_type="agency.changed")
    assert event.payload == {"changed_fields": ["address", "phone"], "values": {}}
    finance.phone = "gọi tổng đài"
    with pytest.raises(ValidationError) as caught:
        services.save_agency(finance)
    assert "Enter a phone number of digits" in str(caught.value.message_dict["phone"])
    assert Agency.objects.get().phone == "024 2220 2828"


def test_code_is_normalised_and_level_known(finance):
    tax = services.save_agency(Agency(code=" 000.00.18.g12", name="Cục Thuế", parent=finance))
    assert tax.code == "000.00.18.G12" and tax.level == 2 and finance.level == 1


def test_a_legacy_unit_cannot_be_served(units, finance):
    legacy = AdministrativeUnit.objects.get(generation=AdministrativeUnit.Generation.LEGACY, code="00001")
    finance.administrative_unit = legacy
    with pytest.raises(ValidationError) as caught:
        services.save_agency(finance)
    assert "administrative_unit" in caught.value.message_dict


def test_admin_shows_a_specific_message_for_an_invalid_code(admin_client_en):
    response = admin_client_en.post(reverse(ADD_URL), agency_form(code="000.00.00.X12"))
    assert response.status_code == 200
    assert "The last part (level 1) must be G or H followed by two digits" in response.text
    assert "got “X12”" in response.text
    assert not Agency.objects.exists()


@pytest.mark.parametrize(("overrides", "message"), [
    ({"code": "000.00.00"}, "has 3"),
    ({"code": "000.00.1.G12"}, "The third part (level 2) must be exactly two digits; got “1”"),
    ({"code": "000.05.00.G12"}, "needs a level-2 unit"),
    ({"morning_opens": "12:00"}, "The morning session must close after it opens."),
    ({"afternoon_opens": "11:00"}, "The afternoon session cannot open before the morning session closes."),
])
def test_admin_messages_for_other_mistakes(admin_client_en, overrides, message):
    response = admin_client_en.post(reverse(ADD_URL), agency_form(**overrides))
    assert response.status_code == 200
    assert message in response.text


def test_admin_child_code_must_extend_parent(admin_client_en, finance):
    response = admin_client_en.post(reverse(ADD_URL), agency_form(code="000.00.18.G13", name="Cục Thuế",
                                                                  parent=finance.pk))
    assert response.status_code == 200
    assert "A unit under 000.00.00.G12 must have a code ending in .G12" in response.text


def test_admin_creates_through_the_service(admin_client_en, superuser, finance):
    response = admin_client_en.post(reverse(ADD_URL), agency_form(code="000.00.18.G12", name="Cục Thuế",
                                                                  parent=finance.pk))
    assert response.status_code == 302
    tax = Agency.objects.get(code="000.00.18.G12")
    event = Event.objects.get(event_type="agency.created", partition="000.00.18.G12")
    assert (event.actor_id, event.subject_id) == (superuser.pk, str(tax.pk))
    # The code is fixed after creation; other fields change through the service too.
    change = admin_client_en.get(reverse("admin:registries_agency_change", args=[tax.pk]))
    assert change.status_code == 200 and 'name="code"' not in change.text
    response = admin_client_en.post(reverse("admin:registries_agency_change", args=[tax.pk]),
                                    agency_form(code="999.99.99.G99", name="Cục Thuế", name_en="Tax Department",
                                                parent=finance.pk))
    assert response.status_code == 302
    tax.refresh_from_db()
    assert (tax.code, tax.name_en) == ("000.00.18.G12", "Tax Department")
    assert Event.objects.filter(event_type="agency.changed", partition="000.00.18.G12").count() == 1


def test_admin_never_deletes_agencies(admin_client_en, finance):
    response = admin_client_en.post(reverse("admin:registries_agency_delete", args=[finance.pk]), {"post": "yes"})
    assert response.status_code == 403
    assert Agency.objects.filter(pk=finance.pk).exists()


def test_admin_units_are_read_only_and_searchable_without_diacritics(admin_client_en, units):
    changelist = reverse("admin:registries_administrativeunit_changelist")
    response = admin_client_en.get(changelist, {"q": "da nang", "generation__exact": "2025",
                                                "level__exact": "province"})
    assert response.status_code == 200
    assert "Thành phố Đà Nẵng" in response.text and "Thành phố Hà Nội" not in response.text
    assert admin_client_en.get(changelist, {"q": "00097"}).text.count("Phường Hồng Hà") >= 1
    assert admin_client_en.get(reverse("admin:registries_administrativeunit_add")).status_code == 403
    unit = AdministrativeUnit.objects.get(generation="2025", code="48")
    response = admin_client_en.post(reverse("admin:registries_administrativeunit_change", args=[unit.pk]),
                                    {"name": "Changed"})
    assert response.status_code == 403
    assert admin_client_en.get(reverse("admin:registries_legacyunitmapping_changelist"),
                               {"q": "phuc xa"}).status_code == 200


def test_admin_unit_list_is_paginated(admin_client_en, units):
    response = admin_client_en.get(reverse("admin:registries_administrativeunit_changelist"))
    assert response.status_code == 200
    assert response.context["cl"].list_per_page == 50 and len(response.context["cl"].result_list) == 50


def test_unit_autocomplete_offers_only_current_units(admin_client_en, units):
    response = admin_client_en.get(reverse("admin:autocomplete"), {
        "term": "da nang", "app_label": "registries", "model_name": "agency", "field_name": "administrative_unit"})
    assert response.status_code == 200
    names = [row["text"] for row in response.json()["results"]]
    assert "Thành phố Đà Nẵng" in names
    legacy_ids = set(AdministrativeUnit.objects.filter(generation="legacy").values_list("pk", flat=True))
    assert not {int(row["id"]) for row in response.json()["results"]} & legacy_ids


def test_admin_is_closed_to_anonymous_and_non_staff(client, django_user_model):
    assert client.get(reverse(ADD_URL)).status_code == 302  # to the login page
    citizen = django_user_model.objects.create_user("citizen", password="correct-horse-battery-9")
    client.force_login(citizen)
    assert client.get(reverse(ADD_URL)).status_code == 302
    assert client.post(reverse(ADD_URL), agency_form()).status_code == 302
    assert not Agency.objects.exists()


def test_demo_agencies(units):
    created = demo.load_demo_agencies()
    assert created == len(demo.DEMO_AGENCIES) == Agency.objects.count()
    assert demo.load_demo_agencies() == 0  # idempotent
    assert Agency.objects.count() == created
    assert Agency.objects.get(code="000.00.00.G22").name == "Văn phòng Chính phủ"
    ministries = Agency.objects.filter(code__startswith="000.00.00.G").exclude(code="000.00.00.G22")
    assert ministries.count() >= 3
    for province_code, unit_code in (("H29", "79"), ("H41", "40")):
        province = Agency.objects.get(code=f"000.00.00.{province_code}")
        assert province.administrative_unit.code == unit_code
        children = province.children.select_related("administrative_unit")
        departments = [a for a in children if a.administrative_unit.level == "province"]
        communes = [a for a in children if a.administrative_unit.level == "commune"]
        assert len(departments) >= 2 and len(communes) >= 2
        assert all(a.administrative_unit.parent_id == province.administrative_unit_id for a in communes)
    assert Agency.objects.get(code="000.00.61.H29").administrative_unit.name == "Phường Sài Gòn"
    assert Event.objects.filter(event_type="agency.created").count() == created


def test_every_demo_agency_gives_the_address_and_phone_of_its_desk_in_the_ward_and_province_it_serves(units):
    demo.load_demo_agencies()
    agencies = list(Agency.objects.select_related("administrative_unit__parent"))
    assert agencies and all(agency.address and agency.phone for agency in agencies)
    assert len({agency.phone for agency in agencies}) == len(agencies)  # each desk answers its own line
    for agency in agencies:
        digits = "".join(c for c in agency.phone if c.isdigit())
        assert digits.startswith("02") and len(digits) == 11, agency.phone  # a landline: 0, area code, subscriber
        unit = agency.administrative_unit
        if unit is None:  # the ministries sit in Hà Nội
            assert agency.address.endswith(", Thành phố Hà Nội") and digits.startswith("024"), agency.address
            continue
        province = unit if unit.level == "province" else unit.parent
        assert agency.address.lower().endswith(", " + province.name.lower()), agency.address
        if unit.level == "commune":
            assert f", {unit.name.lower()}, " in agency.address.lower(), agency.address


def test_a_demo_seeded_before_addresses_gets_them_on_the_next_seed_and_a_typed_value_stays(units):
    demo.load_demo_agencies()
    Agency.objects.update(address="", phone="")
    Agency.objects.filter(code="000.00.61.H29").update(phone="028 3829 1234")  # typed by an administrator
    assert demo.load_demo_agencies() == 0
    ward = Agency.objects.get(code="000.00.61.H29")
    assert ward.address == "Số 45 Lê Duẩn, phường Sài Gòn, Thành phố Hồ Chí Minh" and ward.phone == "028 3829 1234"
    assert not Agency.objects.filter(address="").exists() and not Agency.objects.filter(phone="").exists()
    filled = Event.objects.filter(event_type="agency.changed").count()
    assert filled == len(demo.DEMO_AGENCIES)
    demo.load_demo_agencies()  # nothing left empty: nothing written
    assert Event.objects.filter(event_type="agency.changed").count() == filled


def test_the_demo_procedure_page_tells_where_to_go_and_whom_to_call(client, units):
    from egov.procedures import services as catalogue
    from egov.procedures.demo import DEMO_CATALOGUE

    demo.load_demo_agencies()
    catalogue.import_catalogue(DEMO_CATALOGUE)
    html = client.get("/procedures/1.001193/").content.decode()  # birth registration, at the ward
    assert "Số 45 Lê Duẩn, phường Sài Gòn, Thành phố Hồ Chí Minh" in html
    assert '<a href="tel:02838230204">028 3823 0204</a>' in html
