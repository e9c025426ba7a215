"""Work that must not grow with the size of a batch or a page: one query for many, never one query per row."""
from datetime import date

from egov.kernel.access import SYSTEM
from egov.registries import services
from egov.registries.models import PersonalData

SCHEMA = {"type": "object", "properties": {"owner_id": {"type": "string"}, "trade": {"type": "string"}}}


def people(count: int, start: int = 0) -> list[tuple[PersonalData, dict]]:
    return [(PersonalData(personal_id_number=f"001099{n:06d}", full_name=f"Nguyễn Văn {n}",
                          date_of_birth=date(1999, 1, 2), sex="male", permanent_residence_unit="25750",
                          current_residence_unit="25747"), {}) for n in range(start, start + count)]


def test_importing_persons_looks_residences_up_once_whatever_the_batch_size(units, django_assert_max_num_queries):
    with django_assert_max_num_queries(12) as small:
        services.import_persons(people(3), caller=SYSTEM)
    with django_assert_max_num_queries(len(small.captured_queries) + 4):  # bulk insert batches of 1,000 may add one
        services.import_persons(people(300, start=100), caller=SYSTEM)


def test_a_page_of_person_records_finds_their_persons_in_one_query(units, justice_department,
                                                                   django_assert_max_num_queries):
    registry = services.define_registry(caller=SYSTEM, agency=justice_department, code="ho-kinh-doanh", version="1.0",
                                        name="Hộ kinh doanh", schema=SCHEMA, searchable_fields=["owner_id"],
                                        person_field="owner_id")
    services.import_persons(people(40), caller=SYSTEM)
    for n in range(40):
        services.create_record(registry, {"owner_id": f"001099{n:06d}", "trade": "x"}, caller=SYSTEM)

    def listing(size: int) -> int:
        with django_assert_max_num_queries(1000) as counted:
            count, results = services.list_records(registry, {}, caller=SYSTEM, page_size=size)
        assert len(results) == size
        # Everything but the ledger's own statements (one read event per record is the point of the page).
        return sum(1 for q in counted.captured_queries
                   if "kernel_event" not in q["sql"] and "kernel_chainhead" not in q["sql"])

    assert listing(40) == listing(5)
