"""Every pair of statuses over HTTP: for each status a dossier can be in and each status it could be asked to move to,
the back office (or the applicant's page) is asked by every actor. The allowed move succeeds for its actor only; anyone
else is refused (403, 404 or 409); a pair the table forbids answers 409 with the reason; a refusal changes nothing."""
import pytest
from django.test import Client

from egov.dossiers import services
from egov.dossiers.models import Dossier
from tests.dossiers.conftest import pdf_file, signed_in, vn

pytestmark = pytest.mark.django_db

ACTORS = ("applicant", "desk", "specialist", "head", "leader")
ROLE_OF = {"applicant": "applicant", "desk": "desk_officer", "specialist": "specialist", "head": "head_of_unit",
           "leader": "agency_leader"}

# The table of DOMAIN.md as the HTTP layer sees it. (4 → 9) is the last BPMN step: the lane of that step (here the
# leader's "approve") decides which processor completes it. (7 → 4) is "7 → previous status" (refuse the withdrawal).
ALLOWED = {
    ("1", 2): {"desk"}, ("1", 3): {"desk"}, ("1", 5): {"desk"}, ("1", 7): {"applicant"},
    ("5pre", 1): {"applicant", "desk"}, ("5pre", 7): {"applicant"}, ("5pre", 8): {"head", "leader"},
    ("2", 4): {"desk"}, ("2", 7): {"applicant"}, ("2", 8): {"head", "leader"},
    ("4", 5): {"specialist", "head"}, ("4", 6): {"specialist", "head"}, ("4", 7): {"applicant"},
    ("4", 8): {"head", "leader"}, ("4", 9): {"leader"},
    ("5", 4): {"applicant", "desk"}, ("5", 7): {"applicant"}, ("5", 8): {"head", "leader"},
    ("6", 4): {"desk"}, ("6", 7): {"applicant"}, ("6", 8): {"head", "leader"},
    ("7", 8): {"desk", "leader"}, ("7", 4): {"desk", "leader"},
    ("9", 10): {"desk"},
}
SOURCES = ("1", "5pre", "2", "3", "4", "5", "6", "7", "8", "9", "10")
# The supplement goes back to where the dossier was: 5 → 1 before reception, 5 → 4 after. "5 → 1" of a received
# dossier and "5 → 4" of one not yet received cannot be asked for (the same button does the legal one).
NOT_ASKABLE = {("5", 1), ("5pre", 4)}
STATUS_OF = {"5pre": 5}  # a supplement asked for before reception


@pytest.fixture
def clients(officers, citizen):
    users = {"applicant": citizen, **officers}
    return {name: signed_in(Client(), user) for name, user in users.items()}


def dossier_in(source: str, *, citizen, officers, version, agency) -> Dossier:
    """A dossier brought to ``source`` by the legal road (the applicant is ``citizen``)."""
    dossier = services.submit_online(applicant_user=citizen, procedure_version=version, agency=agency,
                                     form_data={"purpose": "du học"}, files=[("to_khai", pdf_file())],
                                     at=vn("2026-03-02 08:00"))
    pk = dossier.pk
    if source == "5pre":
        services.request_supplement(pk, officer=officers["desk"], missing=["Tờ khai có chữ ký"])
    elif source == "3":
        services.refuse(pk, officer=officers["desk"], reasons=["Không thuộc thẩm quyền"])
    elif source != "1":
        services.receive(pk, officer=officers["desk"])
        if source not in ("2",):
            services.transfer(pk, officer=officers["desk"])
        if source == "5":
            services.request_supplement(pk, officer=officers["specialist"], missing=["Bản sao hộ khẩu"])
        elif source == "6":
            services.request_fees(pk, officer=officers["specialist"])
        elif source == "7":
            services.request_withdrawal(pk, user=citizen, reason="Không cần nữa")
        elif source == "8":
            services.stop(pk, officer=officers["leader"], reason="Người yêu cầu không đủ điều kiện")
        elif source in ("4last", "9", "10"):
            services.save_draft_result(pk, officer=officers["specialist"], file=None)
            services.complete_step(pk, officer=officers["specialist"], task_id="process")
            services.complete_step(pk, officer=officers["head"], task_id="review")
            if source in ("9", "10"):
                services.approve_and_sign(pk, officer=officers["leader"], task_id="approve")
            if source == "10":
                services.deliver(pk, officer=officers["desk"], method="desk")
    return Dossier.objects.get(pk=pk)


def request_for(source: str, target: int, actor: str, dossier: Dossier) -> tuple[str, dict]:
    """The URL and form that ask for ``target`` from ``source`` as ``actor`` would ask for it."""
    code = dossier.code
    back = f"/backoffice/dossiers/{code}/"
    mine = f"/dossiers/{code}/"
    if target == 1 or (target == 4 and source == "5"):
        return (mine + "supply/", {"supply-note": "Bổ sung bản có chữ ký"}) if actor == "applicant" else \
            (back + "supply/", {"supply-note": "Công dân nộp bổ sung tại quầy"})
    if target == 7:
        return mine + "withdraw/", {"withdraw-reason": "Không cần nữa"}
    if target == 4:
        if source == "6":
            return back + "record-payment/", {}
        if source == "7":
            return back + "refuse-withdrawal/", {"refuse-withdrawal-reason": "Đã gần xong"}
        return back + "transfer/", {}
    if target == 9:
        if source == "4":  # the last step approved and the result signed at once, by the approver
            return back + "complete-step/", {"complete-step-task_id": "approve",
                                             "complete-step-decision": "approve-sign"}
        return back + "sign-result/", {}
    if target == 8:
        if source == "7":
            return back + "confirm-withdrawal/", {}
        return back + "stop/", {"stop-reason": "Hết thẩm quyền giải quyết"}
    return {
        2: (back + "receive/", {}),
        3: (back + "refuse/", {"refuse-reasons": "Không thuộc thẩm quyền"}),
        5: (back + "request-supplement/", {"request-supplement-missing": "Bản sao giấy khai sinh"}),
        6: (back + "request-fees/", {}),
        10: (back + "deliver/", {"deliver-method": "desk"}),
    }[target]


def snapshot(dossier: Dossier) -> tuple:
    dossier.refresh_from_db()
    return dossier.status, dossier.transitions.count(), dossier.steps.count(), dossier.pauses.count()


@pytest.mark.parametrize("source", SOURCES)
def test_every_move_from_this_status(source, clients, citizen, officers, version, agency):
    status = STATUS_OF[source] if source in STATUS_OF else int(source)
    for target in range(1, 11):
        if target == status or (source, target) in NOT_ASKABLE:
            continue
        allowed = ALLOWED.get((source, target), set())
        road = "4last" if (source, target) == ("4", 9) else source
        dossier = dossier_in(road, citizen=citizen, officers=officers, version=version, agency=agency)
        before = snapshot(dossier)
        for actor in ACTORS:
            if actor in allowed:
                continue
            url, data = request_for(source, target, actor, dossier)
            response = clients[actor].post(url, data)
            assert response.status_code in (403, 404, 409), (source, target, actor, response.status_code)
            if not allowed and url.startswith("/backoffice/") and actor != "applicant" \
                    and response.status_code == 409:
                assert b"cannot move" in response.content or b"closed" in response.content \
                    or b"only while" in response.content or b"is attached while" in response.content \
                    or b"no withdrawal request" in response.content or b"not for your role" in response.content \
                    or b"is not possible while" in response.content
            assert snapshot(dossier) == before, (source, target, actor)
        if not allowed:
            # The actor the move would belong to gets a 409 with the reason, never a silent no-op.
            kind = "applicant" if target in (1, 7) else "desk"
            url, data = request_for(source, target, kind, dossier)
            assert clients[kind].post(url, data).status_code == 409, (source, target)
            continue
        actor = sorted(allowed)[0]
        url, data = request_for(source, target, actor, dossier)
        response = clients[actor].post(url, data)
        assert response.status_code == 302, (source, target, actor, response.status_code,
                                             response.content[:3000])
        dossier.refresh_from_db()
        assert dossier.status == target, (source, target, actor)
