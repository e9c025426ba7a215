"""The population registry: life events as ledger events, reads logged with their purpose, privacy by default."""
from datetime import date

import pytest

from egov.accounts.models import Role
from egov.accounts.services import caller_for_user
from egov.kernel.access import SYSTEM, Denied
from egov.kernel.models import Event
from egov.registries import rules, services
from egov.registries.models import Person, PersonDeletionRefused


def events_about(person, event_type=None):
    events = Event.objects.filter(subject_type="registries.person", subject_id=str(person.pk))
    return list(events.filter(event_type=event_type) if event_type else events)


# --- Registration rules ------------------------------------------------------------------------------------------

def test_a_registered_person_reads_back_and_the_registration_is_a_ledger_event(registered):
    person = registered(phone="0912345678", email="ha.do@example.vn")
    data = person.personal()
    assert (data.personal_id_number, data.full_name, data.date_of_birth) == ("079303001234", "Đỗ Thị Hà",
                                                                            date(2003, 5, 17))
    [event] = events_about(person, "person.registered")
    assert "079303001234" not in str(event.payload) and "Đỗ" not in str(event.payload)


@pytest.mark.parametrize(("fields", "field", "rule"), [
    ({"number": "079303001234", "born": date(2004, 5, 17)}, "personal_id_number", "birth_year"),
    ({"number": "079303001234", "sex": "male"}, "personal_id_number", "sex"),
    ({"number": "079203001234"}, "personal_id_number", "sex"),
    ({"number": "003303001234"}, "personal_id_number", "province"),
    ({"name": "  "}, "full_name", "required"),
    ({"sex": "other"}, "sex", "sex"),
    ({"phone": "12ab"}, "phone", "phone"),
    ({"email": "not-an-email"}, "email", "email"),
    ({"current_residence_unit": "99999"}, "current_residence_unit", "unit"),
])
def test_each_invalid_person_is_refused_naming_the_field_and_rule(registered, fields, field, rule):
    with pytest.raises(services.InvalidInput) as refused:
        registered(**fields)
    assert (refused.value.field, refused.value.rule) == (field, rule)


def test_an_identification_number_is_registered_once(registered):
    registered()
    with pytest.raises(services.Conflict) as refused:
        registered(name="Someone Else")
    assert refused.value.rule == "unique"


def test_only_registrars_change_the_registry(make_user, person_data):
    leader = caller_for_user(make_user("lanh-dao", role=Role.AGENCY_LEADER))
    with pytest.raises(Denied):
        services.register_person(person_data(), caller=leader)


def test_a_person_is_never_deleted(registered):
    person = registered()
    with pytest.raises(PersonDeletionRefused):
        person.delete()
    with pytest.raises(PersonDeletionRefused):
        Person.objects.all().delete()


# --- Life events ----------------------------------------------------------------------------------------------------

def test_birth_registration_allocates_a_new_valid_unique_number(registered, desk_officer):
    mother = registered()
    numbers = set()
    for _ in range(30):
        child = services.register_birth(caller=desk_officer, full_name="Nguyễn Minh Khang", date_of_birth=date(2026, 11, 2),
                                        sex="male", birth_province_code="079", mother=mother)
        number = child.personal().personal_id_number
        rules.check_personal_id(number, date_of_birth=date(2026, 11, 2), sex="male")
        assert number.startswith("079226")
        numbers.add(number)
        assert child.mother == mother
    assert len(numbers) == 30
    assert Event.objects.filter(event_type="person.birth_registered", partition="000.00.12.H29").count() == 30


def test_birth_registration_in_an_unknown_province_is_refused(desk_officer):
    with pytest.raises(services.InvalidInput) as refused:
        services.register_birth(caller=desk_officer, full_name="Lê Văn Tí", date_of_birth=date(2026, 1, 2), sex="male",
                                birth_province_code="003")
    assert refused.value.field == "birth_province_code"


def test_death_registration_sets_the_status_and_disables_the_persons_accounts(registered, make_user, desk_officer):
    person = registered()
    account = make_user("do.thi.ha", role=Role.CITIZEN, person=person)
    services.register_death(person.uid, caller=desk_officer, date_of_death=date(2026, 11, 20))
    person.refresh_from_db()
    account.refresh_from_db()
    assert person.status == Person.Status.DECEASED
    assert person.personal().date_of_death == date(2026, 11, 20)
    assert account.is_active is False
    assert Event.objects.filter(event_type="account.disabled", subject_id=str(account.pk)).exists()
    with pytest.raises(services.Conflict):
        services.register_death(person.uid, caller=desk_officer, date_of_death=date(2026, 11, 20))


def test_a_change_of_residence_keeps_the_permanent_one_unless_told(registered, desk_officer, units):
    person = registered(permanent_residence_unit="25750", permanent_address="12 Lê Lợi")
    services.change_residence(person.uid, caller=desk_officer, residence_unit="25747", address="5 Pasteur")
    data = Person.objects.get(pk=person.pk).personal()
    assert (data.current_residence_unit, data.current_address) == ("25747", "5 Pasteur")
    assert (data.permanent_residence_unit, data.permanent_address) == ("25750", "12 Lê Lợi")
    assert events_about(person, "person.residence_changed")


def test_a_correction_names_the_fields_and_reason_but_not_the_values(registered, desk_officer):
    person = registered()
    services.correct(person.uid, caller=desk_officer, changes={"full_name": "Đỗ Thị Thu Hà"}, reason_code="QĐ 12/2026")
    data = Person.objects.get(pk=person.pk).personal()
    assert data.full_name == "Đỗ Thị Thu Hà"
    [event] = events_about(person, "person.corrected")
    assert event.payload["fields"] == ["full_name"] and "Thu Hà" not in str(event.payload)
    with pytest.raises(services.InvalidInput):
        services.correct(person.uid, caller=desk_officer, changes={"personal_id_number": "079303009999"},
                         reason_code="x")


# --- Reads -------------------------------------------------------------------------------------------------------

def test_an_officer_look_up_is_logged_with_its_purpose_and_shown_to_the_person(registered, desk_officer):
    from egov.registries import queries

    person = registered()
    found, data = services.find_person(caller=desk_officer, purpose="Hồ sơ 000.00.12.H29-261129-0001",
                                       personal_id_number="079303001234")
    assert found == person and data.full_name == "Đỗ Thị Hà"
    [entry] = [e for e in queries.access_log(person) if e.event_type != "person.registered"]
    assert entry.event_type == "person.read" and entry.purpose == "Hồ sơ 000.00.12.H29-261129-0001"
    assert (entry.reader_agency_code, entry.reader_agency_name) == ("000.00.12.H29", "Sở Tư pháp Thành phố Hồ Chí Minh")
    assert entry.reader_role == Role.DESK_OFFICER


def test_a_look_up_without_a_purpose_is_refused_and_nothing_is_read(registered, desk_officer):
    person = registered()
    with pytest.raises(services.InvalidInput) as refused:
        services.find_person(caller=desk_officer, purpose=" ", personal_id_number="079303001234")
    assert refused.value.field == "purpose"
    assert not events_about(person, "person.read")


def test_a_purpose_carrying_an_email_address_is_refused(registered, desk_officer):
    registered()
    with pytest.raises(services.InvalidInput) as refused:
        services.find_person(caller=desk_officer, purpose="ha.do@example.vn", personal_id_number="079303001234")
    assert refused.value.rule == "personal"


def test_look_ups_by_name_and_birth_date_phone_or_email_are_exact(registered, desk_officer):
    person = registered(phone="0912345678", email="ha.do@example.vn")
    purpose = "Kiểm tra hồ sơ"
    assert services.find_person(caller=desk_officer, purpose=purpose, full_name="đỗ thị  hà",
                                date_of_birth=date(2003, 5, 17))[0] == person
    assert services.find_person(caller=desk_officer, purpose=purpose, phone="0912345678")[0] == person
    assert services.find_person(caller=desk_officer, purpose=purpose, email="HA.DO@example.vn")[0] == person
    with pytest.raises(services.NotFound):
        services.find_person(caller=desk_officer, purpose=purpose, full_name="Do Thi Ha", date_of_birth=date(2003, 5, 17))


def test_an_officer_without_the_look_up_right_cannot_read(registered, make_user):
    registered()
    admin = caller_for_user(make_user("quan-tri", role=Role.AGENCY_ADMIN))
    with pytest.raises(Denied):
        services.find_person(caller=admin, purpose="x", personal_id_number="079303001234")


def test_a_citizen_reads_only_their_own_record(registered, make_user):
    own = registered()
    other = registered(number="001099012345", name="Nguyễn Văn An", born=date(1999, 3, 4), sex="male")
    citizen = caller_for_user(make_user("do.thi.ha", role=Role.CITIZEN, person=own))
    assert services.read_person(own, caller=citizen, purpose="").full_name == "Đỗ Thị Hà"
    with pytest.raises(Denied):
        services.read_person(other, caller=citizen, purpose="curious")


# --- Verification and release -----------------------------------------------------------------------------------

@pytest.fixture
def client_system(justice_department):
    from egov.exchange import services as exchange

    def make(grants, **options):
        client, _key = exchange.register_client(caller=SYSTEM, identifier="VN:GOV:000.00.12.H29:ekyc",
                                                name="Bank eKYC", agency=justice_department, grants=grants, **options)
        return exchange.caller_for_client(client)

    return make


def test_verification_says_yes_only_when_number_name_and_birth_date_match(registered, client_system):
    registered()
    bank = client_system({"population.verify": []})
    check = services.verify_person
    assert check(caller=bank, personal_id_number="079303001234", full_name="Đỗ Thị Hà",
                 date_of_birth=date(2003, 5, 17)) == services.Verification(match=True, deceased=False)
    assert not check(caller=bank, personal_id_number="079303001234", full_name="Đỗ Thị Hà",
                     date_of_birth=date(2003, 5, 18)).match
    assert not check(caller=bank, personal_id_number="079303009999", full_name="Đỗ Thị Hà",
                     date_of_birth=date(2003, 5, 17)).match
    assert Event.objects.filter(event_type="person.verified").count() == 3


def test_that_a_person_is_deceased_is_said_only_when_all_three_match(registered, client_system, desk_officer):
    person = registered()
    services.register_death(person.uid, caller=desk_officer, date_of_death=date(2026, 1, 5))
    bank = client_system({"population.verify": []})
    full = services.verify_person(caller=bank, personal_id_number="079303001234", full_name="Đỗ Thị Hà",
                                  date_of_birth=date(2003, 5, 17))
    partial = services.verify_person(caller=bank, personal_id_number="079303001234", full_name="Đỗ Thị Hoa",
                                     date_of_birth=date(2003, 5, 17))
    assert full == services.Verification(match=True, deceased=True)
    assert partial == services.Verification(match=False, deceased=None)


def test_verification_is_rate_limited_per_client_in_the_shared_store(registered, client_system):
    from egov.kernel.models import RateCounter

    registered()
    bank = client_system({"population.verify": []}, verify_limit_per_minute=2)
    for _ in range(2):
        services.verify_person(caller=bank, personal_id_number="079303001234", full_name="x", date_of_birth=date(2003, 1, 1))
    with pytest.raises(services.RateLimited) as limited:
        services.verify_person(caller=bank, personal_id_number="079303001234", full_name="x", date_of_birth=date(2003, 1, 1))
    assert 1 <= limited.value.retry_after <= 60
    assert RateCounter.objects.get(key__startswith="verify:client:").hits == 3  # the refused call is counted too
    assert Event.objects.filter(event_type="person.verified").count() == 2  # but not logged: it answered nothing


def test_a_client_without_the_verification_right_is_refused(registered, client_system):
    registered()
    with pytest.raises(Denied):
        services.verify_person(caller=client_system({"population.release": ["KYC"]}), personal_id_number="079303001234",
                               full_name="Đỗ Thị Hà", date_of_birth=date(2003, 5, 17))


def test_data_is_released_only_for_a_declared_purpose_the_grant_allows(registered, client_system):
    from egov.registries import queries

    person = registered()
    bank = client_system({"population.release": ["Mở tài khoản ngân hàng"]})
    data = services.release_person(caller=bank, personal_id_number="079303001234", purpose="Mở tài khoản ngân hàng",
                                   fields_wanted=["full_name", "date_of_birth"])
    assert data == {"full_name": "Đỗ Thị Hà", "date_of_birth": "2003-05-17"}
    with pytest.raises(Denied):
        services.release_person(caller=bank, personal_id_number="079303001234", purpose="Marketing")
    [entry] = [e for e in queries.access_log(person) if e.event_type != "person.registered"]
    assert (entry.event_type, entry.purpose, entry.reader_system) == ("person.released", "Mở tài khoản ngân hàng",
                                                                      "VN:GOV:000.00.12.H29:ekyc")
