"""Key rotation: re-encrypt and rebuild blind indexes in batches, every record readable and findable throughout."""
import base64
import io
from datetime import date

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from egov.kernel import crypto
from egov.kernel.access import SYSTEM
from egov.registries import services
from egov.registries.models import Person, PersonalData, RecordIndex, RegistryRecord

OLD = "old2026:" + base64.urlsafe_b64encode(b"O" * 32).decode()
NEW = "new2027:" + base64.urlsafe_b64encode(b"N" * 32).decode()


@pytest.fixture
def population(settings, db, justice_department):
    settings.PERSONAL_DATA_KEYS = OLD
    rows = [(PersonalData(personal_id_number=f"001099{n:06d}", full_name=f"Nguyễn Văn {n}", date_of_birth=date(1999, 1, 2),
                          sex="male", phone=f"0912{n:06d}"), {}) for n in range(25)]
    services.import_persons(rows, caller=SYSTEM)
    registry = services.define_registry(
        caller=SYSTEM, agency=justice_department, code="ho-kinh-doanh", version="1.0", name="Hộ kinh doanh",
        schema={"type": "object", "properties": {"owner_id": {"type": "string"}, "trade": {"type": "string"}}},
        searchable_fields=["owner_id", "trade"], person_field="owner_id")
    for n in range(5):
        services.create_record(registry, {"owner_id": f"001099{n:06d}", "trade": f"Tạp hóa {n}"}, caller=SYSTEM)
    return registry


def find(number: str) -> Person:
    return Person.objects.get(pin_index__in=crypto.blind_indexes("pin", number))


def test_rotation_re_encrypts_everything_under_the_new_key_in_batches(settings, population):
    settings.PERSONAL_DATA_KEYS = f"{NEW},{OLD}"
    report = services.rotate_keys(batch_size=10)
    assert (report.persons, report.records, report.batches) == (25, 5, 4)
    assert services.key_usage() == {"new2027": {"persons": 25, "records": 5, "messages": 0, "codes": 0,
                                                "dossiers": 0, "ratings": 0, "feedback": 0,
                                                "drafts": 0, "documents": 0}}
    settings.PERSONAL_DATA_KEYS = NEW  # the old key is gone: everything still opens and is found
    assert find("001099000007").personal().full_name == "Nguyễn Văn 7"
    found = services.read_record(population, {"trade": "Tạp hóa 3"}, caller=SYSTEM, purpose="kiểm tra")
    assert found["owner_id"] == "001099000003"
    assert RegistryRecord.objects.get(uid=found["uuid"]).person_index == find("001099000003").pin_index


def test_half_way_through_a_rotation_every_person_is_still_found_and_read(settings, population):
    settings.PERSONAL_DATA_KEYS = f"{NEW},{OLD}"
    services._rotate_person_batch(["old2026"], crypto.keyring().active, 10)  # an interrupted rotation
    assert services.key_usage()["new2027"]["persons"] == 10
    for n in (0, 9, 10, 24):
        assert find(f"001099{n:06d}").personal().phone == f"0912{n:06d}"
    caller = SYSTEM
    assert services.verify_person(caller=caller, personal_id_number="001099000024", full_name="Nguyễn Văn 24",
                                  date_of_birth=date(1999, 1, 2)).match


def test_a_second_run_has_nothing_left_to_do(settings, population):
    settings.PERSONAL_DATA_KEYS = f"{NEW},{OLD}"
    services.rotate_keys()
    assert services.rotate_keys().batches == 0


def test_record_indexes_are_rebuilt_under_the_new_key(settings, population):
    settings.PERSONAL_DATA_KEYS = f"{NEW},{OLD}"
    before = set(RecordIndex.objects.values_list("value_index", flat=True))
    services.rotate_keys()
    after = set(RecordIndex.objects.values_list("value_index", flat=True))
    assert len(after) == len(before) == 10 and not before & after


def test_the_command_reports_status_and_rotation(settings, population):
    settings.PERSONAL_DATA_KEYS = f"{NEW},{OLD}"
    out = io.StringIO()
    call_command("egov_keys", "status", stdout=out)
    assert "old2026: 25 persons, 5 records (configured)" in out.getvalue()
    call_command("egov_keys", "rotate", "--batch", "7", stdout=out)
    assert "re-encrypted 25 persons and 5 registry records" in out.getvalue()
    settings.PERSONAL_DATA_KEYS = NEW
    out = io.StringIO()
    call_command("egov_keys", "status", stdout=out)
    assert "new2027: 25 persons, 5 records (active)" in out.getvalue()


def test_status_warns_of_records_under_a_key_no_longer_configured(settings, population):
    settings.PERSONAL_DATA_KEYS = NEW
    out = io.StringIO()
    call_command("egov_keys", "status", stdout=out)
    assert "old2026: 25 persons, 5 records (MISSING" in out.getvalue()


def test_a_new_key_is_printed_in_the_settings_notation():
    out = io.StringIO()
    call_command("egov_keys", "new", "2027-01", stdout=out)
    assert crypto.parse_keys(out.getvalue().splitlines()[0])[0][0] == "2027-01"
    with pytest.raises(CommandError):
        call_command("egov_keys", "new", "bad id!")


def test_egov_check_names_a_key_that_sealed_rows_but_is_no_longer_configured(settings, population):
    from egov.kernel.management.commands.egov_check import unreadable_personal_data

    assert unreadable_personal_data() == []
    settings.PERSONAL_DATA_KEYS = NEW
    [problem] = unreadable_personal_data()
    assert "25 persons, 5 registry records are sealed under key 'old2026'" in problem


def test_half_way_through_a_rotation_a_record_still_shows_in_its_persons_access_log(settings, population):
    from egov.kernel.models import Event

    settings.PERSONAL_DATA_KEYS = f"{NEW},{OLD}"
    services._rotate_person_batch(["old2026"], crypto.keyring().active, 25)  # persons rotated, records not yet
    services.read_record(population, {"trade": "Tạp hóa 2"}, caller=SYSTEM, purpose="kiểm tra")
    person = find("001099000002")
    assert Event.objects.filter(event_type="registry.record_read", subject_type="registries.person",
                                subject_id=str(person.pk)).exists()
