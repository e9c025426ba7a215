"""Rows written and read by hand (``egov.kernel.db``) are the rows the ORM would write and read."""
import datetime as dt

import pytest
from django.core.files.base import ContentFile

from egov.dossiers.models import Attachment, Dossier, Transition
from egov.kernel import db
from egov.portal.apply_models import Draft, DraftFile
from tests.dossiers.conftest import agency, calendar_2026, citizen, make_version  # noqa: F401

pytestmark = pytest.mark.django_db

AT = dt.datetime(2026, 3, 2, 2, 0, tzinfo=dt.UTC)


def _row(model, pk):
    return {key: value for key, value in model.objects.filter(pk=pk).values().get().items() if key != "id"}


@pytest.fixture
def dossier(citizen, agency, calendar_2026):  # noqa: F811
    version = make_version(agency)
    made = Dossier(procedure_version=version, receiving_agency=agency, channel=3, status=1, applicant=citizen,
                   submitted_at=AT, code="000.00.12.H29-260302-0001")
    made.seal({"form": {"purpose": "du học"}})
    made.save()
    return made


def test_an_insert_by_hand_writes_the_row_save_writes(dossier, citizen):  # noqa: F811
    by_orm = Transition(dossier=dossier, from_status=None, to_status=1, actor=citizen, at=AT, form="ack",
                        details={"channel": 3, "note": "Hồ sơ trực tuyến"})
    by_orm.save()
    by_hand = Transition(dossier=dossier, from_status=None, to_status=1, actor=citizen, at=AT, form="ack",
                         details={"channel": 3, "note": "Hồ sơ trực tuyến"})
    db.insert(by_hand)
    assert by_hand.pk and by_hand.pk != by_orm.pk and not by_hand._state.adding
    assert _row(Transition, by_hand.pk) == _row(Transition, by_orm.pk)


def test_an_insert_by_hand_sets_auto_now_fields_and_takes_a_parent_saved_after_it_was_assigned(citizen, agency,  # noqa: F811
                                                                                               calendar_2026):  # noqa: F811
    version = make_version(agency)
    draft = Draft(owner=citizen, procedure_version=version, idempotency_key="k-1")
    file = DraftFile(draft=draft, component_code="DON", content_type="application/pdf", size=4, sha256="0" * 64)
    draft.seal({"raw": {}})
    draft.save()  # after the file row was given it
    file.file.save("upload", ContentFile(b"%PDF"), save=False)
    db.insert(file)
    stored = DraftFile.objects.get(pk=file.pk)
    assert stored.draft_id == draft.pk and stored.uploaded_at is not None and stored.file.read() == b"%PDF"


def test_an_update_by_hand_changes_only_the_fields_named_and_their_auto_now(citizen, agency, calendar_2026):  # noqa: F811
    version = make_version(agency)
    draft = Draft(owner=citizen, procedure_version=version, idempotency_key="k-2", step="form-1")
    draft.seal({"raw": {}})
    draft.save()
    before = Draft.objects.get(pk=draft.pk)
    draft.step, draft.idempotency_key = "review", "changed in memory only"
    db.update(draft, ("step", "updated_at"))
    after = Draft.objects.get(pk=draft.pk)
    assert after.step == "review" and after.idempotency_key == "k-2" and after.updated_at > before.updated_at


def test_rows_read_by_hand_are_the_orms_in_the_same_order(dossier, citizen):  # noqa: F811
    for n in range(5):
        Attachment.objects.create(dossier=dossier, kind="component", component_code=f"C{n}", file=f"x/{n}",
                                  name=f"{n}.pdf", content_type="application/pdf", size=n, sha256="0" * 64,
                                  uploaded_by=citizen)
    by_hand = db.read_all(Attachment, "t.dossier_id = %s", [dossier.pk], order_by="t.size DESC", limit=3)
    by_orm = list(Attachment.objects.filter(dossier=dossier).order_by("-size")[:3])
    assert [a.pk for a in by_hand] == [a.pk for a in by_orm]
    assert [(a.uploaded_at, a.file.name, a.dossier_id) for a in by_hand] == [
        (a.uploaded_at, a.file.name, a.dossier_id) for a in by_orm]


def test_a_delete_by_hand_removes_only_the_rows_named(dossier, citizen):  # noqa: F811
    made = [Transition.objects.create(dossier=dossier, to_status=1, at=AT, form="ack") for _ in range(3)]
    db.delete(Transition, [made[0].pk, made[2].pk])
    db.delete(Transition, [])
    assert list(Transition.objects.values_list("pk", flat=True)) == [made[1].pk]
