"""The inbox's counts per status come from running counts kept by the services in each move's transaction: they
always equal a count of the dossiers themselves."""
import pytest

from egov.dossiers import queries, services
from egov.dossiers.models import AgencyStatusCount, Dossier, Status
from tests.dossiers.test_services import online, walk_in
from tests.kernel.conftest import vn

pytestmark = pytest.mark.django_db


def counted(agency) -> dict[int, int]:
    """The truth: the agency's dossiers counted one by one."""
    counts = {}
    for status in Dossier.objects.filter(receiving_agency=agency).values_list("status", flat=True):
        counts[status] = counts.get(status, 0) + 1
    return counts


def test_every_move_keeps_the_counts_per_status(citizen, officers, version, agency):
    desk = officers["desk"]
    first = walk_in(officers, version)
    second = online(citizen, version, agency, at=vn("2026-03-02 09:00"))
    third = online(citizen, version, agency, at=vn("2026-03-02 10:00"))
    assert queries.inbox(desk).counts == {Status.RECEIVED: 1, Status.SUBMITTED: 2} == counted(agency)

    services.receive(second.pk, officer=desk)
    services.refuse(third.pk, officer=desk, reasons=["Thiếu tờ khai"])
    services.transfer(first.pk, officer=desk)
    assert queries.inbox(desk).counts == {Status.RECEIVED: 1, Status.REFUSED: 1, Status.PROCESSING: 1} \
        == counted(agency)

    services.request_withdrawal(second.pk, user=citizen, reason="Không cần nữa")
    services.refuse_withdrawal(second.pk, officer=officers["leader"], reason="Đã xử lý gần xong")
    assert queries.inbox(desk).counts == counted(agency)
    services.request_withdrawal(second.pk, user=citizen, reason="Vẫn muốn rút")
    services.confirm_withdrawal(second.pk, officer=desk)
    assert queries.inbox(desk).counts == {Status.STOPPED: 1, Status.REFUSED: 1, Status.PROCESSING: 1} \
        == counted(agency)


def test_the_counts_can_be_rebuilt_from_the_dossiers(citizen, officers, version, agency):
    walk_in(officers, version)
    online(citizen, version, agency)
    AgencyStatusCount.objects.update(n=0)
    assert queries.inbox(officers["desk"]).counts == {}
    services.rebuild_status_counts()
    assert queries.inbox(officers["desk"]).counts == counted(agency) == {Status.RECEIVED: 1, Status.SUBMITTED: 1}


def test_counts_for_one_procedure_are_counted_over_its_dossiers(officers, version):
    walk_in(officers, version)
    page = queries.inbox(officers["desk"], procedure_id=version.procedure_id)
    assert page.counts == {Status.RECEIVED: 1}
