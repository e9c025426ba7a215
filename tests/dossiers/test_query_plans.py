"""The busiest reads use their indexes (PostgreSQL only): the inbox page and its counts per status, the applicant's
"my dossiers" and the Registration API's application list never read the whole dossier table.

The queries are the ones the code runs (captured while calling it), explained with sequential scans disabled so
that the planner shows the index it would pick on a large table even though the test table is small.
"""
import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from egov.dossiers import applicant_queries, queries
from egov.dossiers.models import Dossier, Status
from egov.govstack import registration_queries
from egov.kernel.access import Caller
from egov.registries.models import Agency

pytestmark = [pytest.mark.skipif(connection.vendor != "postgresql", reason="query plans are checked on PostgreSQL"),
              pytest.mark.django_db(transaction=True)]  # VACUUM runs outside a transaction

STATUSES = [Status.DELIVERED] * 14 + [Status.PROCESSING, Status.RECEIVED, Status.SUPPLEMENT_REQUESTED,
                                      Status.RESULT_READY, Status.REFUSED, Status.SUBMITTED]


@pytest.fixture
def many_dossiers(agency, version, citizen, other_citizen):
    """10,000 dossiers over eleven agencies, most delivered; the officers' agency and the citizen each have one in
    fifty (like most of the 100 agencies of the scale benchmark: walking all dossiers newest first to find theirs
    would read fifty rows for each one shown)."""
    others = [Agency.objects.create(code=f"000.00.{n:02d}.H01", name=f"Sở thử {n}") for n in range(1, 11)]
    at = dt.datetime(2026, 3, 2, 2, 0, tzinfo=dt.UTC)
    Dossier.objects.bulk_create([
        Dossier(code=f"D-{i:05d}", procedure_version=version,
                receiving_agency=agency if i % 50 == 0 else others[i % 10], channel=2,
                status=STATUSES[i % len(STATUSES)],
                applicant=citizen if i % 50 == 1 else other_citizen if i % 7 == 0 else None, sealed="-",
                key_id="-", submitted_at=at + dt.timedelta(minutes=i), received_at=at + dt.timedelta(minutes=i))
        for i in range(10_000)], batch_size=2000)
    with connection.cursor() as cursor:
        # As autovacuum leaves a real table: statistics, and the visibility map that makes index-only scans pay.
        cursor.execute("VACUUM ANALYZE dossiers_dossier")
    return others


def plans(run) -> list[tuple[str, str]]:
    """(SQL, plan) of every query on the dossier table that ``run()`` makes, explained without sequential (or bitmap) scans."""
    with CaptureQueriesContext(connection) as captured:
        run()
    found = []
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        cursor.execute("SET enable_bitmapscan = off")  # a bitmap scan reads table rows the index holds
        # Solid-state storage, as the platform runs on (the default 4 prices a random read for spinning disks, and
        # makes walking the freshly loaded, perfectly ordered test table by id look cheaper than any index).
        cursor.execute("SET random_page_cost = 1.1")
        try:
            for query in captured.captured_queries:
                sql = query["sql"]
                if "dossiers_dossier" not in sql or not sql.lstrip().upper().startswith("SELECT"):
                    continue
                cursor.execute(f"EXPLAIN {sql}")
                found.append((sql, "\n".join(row[0] for row in cursor.fetchall())))
        finally:
            cursor.execute("RESET ALL")
    return found


def assert_uses(found, *indexes):
    assert found, "no query on the dossier table was captured"
    for sql, plan in found:
        assert "Seq Scan on dossiers_dossier" not in plan, f"{sql}\n{plan}"
        assert "dossiers_dossier" not in sql.split("FROM", 1)[-1] or any(name in plan for name in indexes), \
            f"none of {indexes} in the plan of\n{sql}\n{plan}"


def test_the_inbox_page_uses_the_agency_indexes_and_its_counts_read_no_dossier(many_dossiers, officers):
    desk = officers["desk"]
    found = plans(lambda: queries.inbox(desk))
    assert len(found) == 1  # the page; the counts per status come from AgencyStatusCount
    assert_uses(found, "dossiers_inbox", "dossiers_agency_newest")


def test_the_counts_for_one_procedure_read_the_inbox_index_only(many_dossiers, officers, version):
    found = plans(lambda: queries.status_counts(officers["desk"].agency_id, Dossier.objects.filter(
        receiving_agency_id=officers["desk"].agency_id)))
    assert "Index Only Scan using dossiers_inbox" in found[0][1], found[0][1]


def test_a_later_inbox_page_uses_the_agency_indexes(many_dossiers, officers):
    desk = officers["desk"]
    first = queries.inbox(desk, status=Status.DELIVERED, limit=20)
    assert first.next_after_id
    assert_uses(plans(lambda: queries.inbox(desk, after_id=first.next_after_id, status=Status.DELIVERED)),
                "dossiers_inbox", "dossiers_agency_newest")


def test_my_dossiers_uses_the_applicant_index(many_dossiers, citizen):
    found = plans(lambda: applicant_queries.my_dossiers(citizen))
    assert_uses(found, "dossiers_applicant")


def test_the_registration_application_list_uses_the_agency_index(many_dossiers, agency):
    caller = Caller(kind="client", agency_code=agency.code, rights=frozenset({"registration.read"}))
    found = plans(lambda: registration_queries.applications(caller, size=20))
    assert_uses(found, "dossiers_agency_newest", "dossiers_inbox")
