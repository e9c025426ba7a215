# ruff: noqa: F811  (fixtures imported from other test modules are redefined as parameters)
"""My drafts: starting again offers the draft already begun (a new one only when asked for by name), the list says
where each draft has got to, and the owner alone deletes an unsubmitted draft, with its files."""
from django.core.files.storage import default_storage
from django.test import Client

from egov.dossiers.models import Dossier
from egov.kernel.ledger_models import Event
from egov.portal.apply_models import Draft, DraftFile
from tests.dossiers.conftest import (agency, calendar_2026, citizen, english, make_version,  # noqa: F401
                                     other_citizen, pdf_file, signed_in)
from tests.portal.test_apply import (STEP1, _stored_names, birth, fill_all, mother, png, start,  # noqa: F401
                                     step_url)


# --- Starting again ----------------------------------------------------------------------------------------------------

def test_starting_again_goes_on_with_the_draft_already_begun(client, mother, birth, english):
    signed_in(client, mother)
    draft, _ = start(client)
    client.post(step_url(draft, "form-1"), {**STEP1, "continue": "1"})
    response = client.post("/apply/1.001193/")  # a second click, or the start page left open in another tab
    assert response.status_code == 302 and response["Location"] == step_url(draft, "form-2")
    assert Draft.objects.count() == 1
    assert "You had already started this application" in client.get(response["Location"]).content.decode()


def test_the_start_page_offers_the_newest_draft_or_a_new_one_by_name(client, mother, birth, english):
    signed_in(client, mother)
    older, _ = start(client)
    assert client.post("/apply/1.001193/", {"new": "1"}).status_code == 302
    newer = Draft.objects.order_by("-id").first()
    assert newer != older and Draft.objects.count() == 2
    client.post(step_url(older, "form-1"), {**STEP1, "continue": "1"})  # saved last: the one to go on with
    page = client.get("/apply/1.001193/").content.decode()
    assert f'href="/apply/drafts/{older.uid}/"' in page and f"/apply/drafts/{newer.uid}/" not in page
    assert "Your draft has reached step 2 of 6 (Your application (part 2 of 2))" in page
    assert "You have 1 other draft of this procedure." in page
    assert 'name="new" value="1"' in page and "Start a new application" in page
    response = client.post("/apply/1.001193/")
    assert response["Location"] == step_url(older, "form-2") and Draft.objects.count() == 2


def test_drafts_of_another_procedure_or_submitted_ones_are_not_offered(client, mother, birth, agency):
    make_version(agency, code="2.000488")
    signed_in(client, mother)
    other, _ = start(client, "2.000488")
    draft, _ = start(client)
    assert draft != other
    fill_all(client, draft)
    client.post(step_url(draft, "review"), {"idempotency_key": draft.idempotency_key})
    assert Dossier.objects.count() == 1
    page = client.get("/apply/1.001193/").content.decode()
    assert f"/apply/drafts/{other.uid}/" not in page and f"/apply/drafts/{draft.uid}/" not in page
    assert 'name="new"' not in page
    fresh, _ = start(client)
    assert fresh not in (draft, other)  # a new one: the only draft of this procedure was submitted
    assert client.post("/apply/1.001193/")["Location"] == step_url(fresh, "form-1")  # and now it is the one
    assert Draft.objects.filter(dossier__isnull=True).count() == 2


# --- The list --------------------------------------------------------------------------------------------------------

def test_the_list_shows_each_drafts_procedure_step_reached_and_when_it_was_saved(client, mother, birth, english):
    from django.utils import timezone

    signed_in(client, mother)
    draft, _ = start(client)
    fill_all(client, draft)
    draft.refresh_from_db()
    page = client.get("/apply/drafts/").content.decode()
    assert birth.name in page and "1.001193" in page
    assert "Step 5 of 6: Other documents (if you have them)" in page
    assert timezone.localtime(draft.updated_at).strftime("%H:%M %d/%m/%Y") in page
    assert f'href="/apply/drafts/{draft.uid}/"' in page and f'href="/apply/drafts/{draft.uid}/delete/"' in page


# --- Deleting --------------------------------------------------------------------------------------------------------

def test_the_owner_deletes_a_draft_with_its_files_after_a_confirmation(client, mother, birth, english):
    signed_in(client, mother)
    draft, _ = start(client)
    fill_all(client, draft)
    names = set(DraftFile.objects.filter(draft=draft).values_list("file", flat=True))
    assert len(names) == 2 and _stored_names(f"drafts/{draft.uid}") == names
    confirmation = client.get(f"/apply/drafts/{draft.uid}/delete/")
    assert confirmation.status_code == 200
    page = confirmation.content.decode()
    assert "Delete this draft?" in page and birth.name in page
    assert "Everything you entered in this draft and the 2 files you uploaded to it will be deleted." in page
    assert Draft.objects.filter(pk=draft.pk).exists()  # asking deletes nothing
    response = client.post(f"/apply/drafts/{draft.uid}/delete/")
    assert response.status_code == 302 and response["Location"] == "/apply/drafts/"
    assert not Draft.objects.filter(pk=draft.pk).exists() and not DraftFile.objects.exists()
    assert _stored_names(f"drafts/{draft.uid}") == set() and not default_storage.exists(f"drafts/{draft.uid}")
    event = Event.objects.get(event_type="portal.draft_deleted")
    assert event.payload == {"files": 2}
    page = client.get("/apply/drafts/").content.decode()
    assert "The draft is deleted." in page and "You have no draft." in page


def test_a_draft_without_files_is_deleted_too(client, mother, birth, english):
    signed_in(client, mother)
    draft, _ = start(client)
    assert "the 0 files you uploaded" in client.get(f"/apply/drafts/{draft.uid}/delete/").content.decode()
    assert client.post(f"/apply/drafts/{draft.uid}/delete/").status_code == 302
    assert not Draft.objects.exists()


def test_deleting_needs_a_post_with_the_csrf_token(mother, birth):
    browser = signed_in(Client(enforce_csrf_checks=True), mother)
    draft, _ = start(signed_in(Client(), mother))
    assert browser.post(f"/apply/drafts/{draft.uid}/delete/").status_code == 403
    assert Draft.objects.filter(pk=draft.pk).exists()
    # The confirmation's own form carries the token.
    token = browser.get(f"/apply/drafts/{draft.uid}/delete/").context["csrf_token"]
    assert browser.post(f"/apply/drafts/{draft.uid}/delete/", {"csrfmiddlewaretoken": str(token)}).status_code == 302
    assert not Draft.objects.filter(pk=draft.pk).exists()


def test_an_anonymous_visitor_cannot_delete_a_draft(client, mother, birth):
    draft, _ = start(signed_in(Client(), mother))
    for response in (client.get(f"/apply/drafts/{draft.uid}/delete/"),
                     client.post(f"/apply/drafts/{draft.uid}/delete/")):
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert Draft.objects.filter(pk=draft.pk).exists()
    signed_in(client, mother)
    assert client.get(f"/apply/drafts/{draft.uid}/delete/").status_code == 200  # the owner, signed in, may


def test_another_citizen_cannot_see_or_delete_a_draft(client, mother, other_citizen, birth):
    signed_in(client, mother)
    draft, _ = start(client)
    fill_all(client, draft)
    intruder = signed_in(Client(), other_citizen)
    assert intruder.get(f"/apply/drafts/{draft.uid}/delete/").status_code == 404
    assert intruder.post(f"/apply/drafts/{draft.uid}/delete/").status_code == 404
    assert Draft.objects.filter(pk=draft.pk).exists() and DraftFile.objects.filter(draft=draft).count() == 2
    assert len(_stored_names(f"drafts/{draft.uid}")) == 2
    assert not Event.objects.filter(event_type="portal.draft_deleted").exists()
    assert client.get(f"/apply/drafts/{draft.uid}/delete/").status_code == 200  # the owner may


def test_a_submitted_draft_cannot_be_deleted(client, mother, birth, english):
    signed_in(client, mother)
    draft, _ = start(client)
    fill_all(client, draft)
    client.post(step_url(draft, "review"), {"idempotency_key": draft.idempotency_key})
    dossier = Dossier.objects.get()
    for response in (client.get(f"/apply/drafts/{draft.uid}/delete/"),
                     client.post(f"/apply/drafts/{draft.uid}/delete/")):
        assert response.status_code == 409
        assert "This application cannot be deleted" in response.content.decode()
        assert dossier.code in response.content.decode()
    assert Draft.objects.get(pk=draft.pk).dossier == dossier
    assert Dossier.objects.filter(pk=dossier.pk).exists()
