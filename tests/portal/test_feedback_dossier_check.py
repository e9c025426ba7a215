# ruff: noqa: F811  (fixtures imported from tests/dossiers/conftest.py are used as test arguments)
"""Feedback about a dossier names it without revealing or borrowing anyone else's: a citizen names their own dossier
by its code alone; anyone else (anonymous, or a citizen about someone else's dossier) also gives the applicant's
personal ID number, checked like the public look-up. An unknown code and a wrong number get one and the same message,
and the checks share the look-up's limit per client address."""
import pytest

from egov.dossiers import services as dossier_services
from egov.dossiers.models import Channel
from egov.kernel.ledger_models import Event
from egov.portal import feedback_services as services
from egov.portal.feedback_models import Feedback, FeedbackTopic
from tests.dossiers.conftest import (  # noqa: F401  (fixtures)
    APPLICANT, agency, calendar_2026, citizen, english, officers, other_citizen, pdf_file, signed_in, version)

NO_MATCH = "No dossier matches this code and personal ID number. Check both against the receipt."
NOT_YOURS = "This is not one of your dossiers. About someone else&#x27;s dossier, also enter its applicant&#x27;s " \
            "personal ID number."
UNKNOWN_CODE = "000.00.12.H29-260302-0999"


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def walk_in(officers, version, media):
    """A dossier filed at the desk for Đỗ Văn Hùng (APPLICANT): no account of his is linked to it."""
    return dossier_services.intake_at_desk(officer=officers["desk"], procedure_version=version,
                                           channel=Channel.IN_PERSON, applicant=dict(APPLICANT), subject=None,
                                           form_data={"purpose": "Xin việc làm"}, files=[("to_khai", pdf_file())])


@pytest.fixture
def online(citizen, version, agency, media):
    """A dossier the citizen filed from their account."""
    return dossier_services.submit_online(applicant_user=citizen, procedure_version=version, agency=agency,
                                          form_data={"purpose": "Du học"}, files=[("to_khai", pdf_file())])


def about(code, id_number="", **more):
    return {"topic": "dossier", "dossier_code": code, "id_number": id_number, "text": "Chưa nhận được kết quả", **more}


ANONYMOUS = {"full_name": "Trần Văn Bình", "email": "binh@example.org"}


def error_summary(response) -> str:
    """The page's error summary, which lists every problem of the form."""
    page = response.content.decode()
    start = page.index('error-summary"')
    return page[start:page.index("</div>", start)]


# --- A citizen and their own dossiers --------------------------------------------------------------------------------

def test_a_citizen_names_their_own_dossier_by_its_code_alone(client, citizen, online, agency, english):
    signed_in(client, citizen)
    sent = client.post("/feedback/", about(online.code.lower()))
    feedback = Feedback.objects.get()
    assert sent.status_code == 302 and sent["Location"] == f"/feedback/mine/{feedback.reference}/"
    assert feedback.dossier == online and feedback.agency == agency and feedback.author == citizen


def test_a_dossier_filed_at_the_desk_for_the_citizen_is_theirs_too(client, citizen, walk_in, agency, english):
    from egov.kernel.access import SYSTEM
    from egov.registries import services as registry_services
    from egov.registries.models import PersonalData

    person = registry_services.register_person(PersonalData(
        personal_id_number=APPLICANT["id_number"], full_name=APPLICANT["full_name"],
        date_of_birth=APPLICANT["date_of_birth"], sex="male"), caller=SYSTEM)
    citizen.person = person
    citizen.save()
    walk_in.applicant_person = person  # as the desk links it when the person is in the registry at intake
    walk_in.save()
    signed_in(client, citizen)
    assert client.post("/feedback/", about(walk_in.code)).status_code == 302
    assert Feedback.objects.get().dossier == walk_in


# --- Someone else's dossier ------------------------------------------------------------------------------------------

def test_a_citizen_cannot_name_another_citizens_dossier_by_its_code(client, other_citizen, online, english):
    signed_in(client, other_citizen)
    theirs = client.post("/feedback/", about(online.code))
    unknown = client.post("/feedback/", about(UNKNOWN_CODE))
    assert theirs.status_code == unknown.status_code == 400
    # Nothing tells an existing dossier from an unknown code: the same words, in the same place.
    assert error_summary(theirs) == error_summary(unknown)
    assert NOT_YOURS in error_summary(theirs)
    assert not Feedback.objects.exists()
    page = client.get("/feedback/mine/").content.decode()
    assert online.code not in page


def test_a_citizen_about_someone_elses_dossier_gives_its_applicants_id_number(client, other_citizen, walk_in, agency,
                                                                              english):
    signed_in(client, other_citizen)
    wrong = client.post("/feedback/", about(walk_in.code, "001099000001"))
    assert wrong.status_code == 400 and NO_MATCH in wrong.content.decode()
    assert client.post("/feedback/", about(walk_in.code, APPLICANT["id_number"])).status_code == 302
    feedback = Feedback.objects.get()
    assert feedback.dossier == walk_in and feedback.agency == agency and feedback.author == other_citizen


# --- Without signing in ----------------------------------------------------------------------------------------------

def test_without_signing_in_the_applicants_id_number_is_needed(client, walk_in, english):
    response = client.post("/feedback/", about(walk_in.code, **ANONYMOUS))
    page = response.content.decode()
    assert response.status_code == 400
    assert "Without signing in, also enter the personal ID number of the dossier&#x27;s applicant." in page
    assert walk_in.code in page and "Chưa nhận được kết quả" in page and "binh@example.org" in page  # kept
    assert not Feedback.objects.exists()


def test_an_unknown_code_and_a_wrong_id_number_get_the_same_message(client, walk_in, english):
    wrong_id = client.post("/feedback/", about(walk_in.code, "001099000001", **ANONYMOUS))
    unknown = client.post("/feedback/", about(UNKNOWN_CODE, APPLICANT["id_number"], **ANONYMOUS))
    assert wrong_id.status_code == unknown.status_code == 400
    assert error_summary(wrong_id) == error_summary(unknown)
    assert NO_MATCH in error_summary(wrong_id)
    page = wrong_id.content.decode()
    assert walk_in.code in page and "001099000001" in page and "Chưa nhận được kết quả" in page  # what was typed
    assert not Feedback.objects.exists()
    events = Event.objects.filter(event_type="feedback.dossier_unmatched")
    assert events.count() == 2 and all(APPLICANT["id_number"] not in str(e.payload) for e in events)


def test_the_right_id_number_typed_with_spaces_links_the_feedback_to_the_dossier(client, walk_in, agency, english):
    sent = client.post("/feedback/", about(walk_in.code, "0360 7200 4321", **ANONYMOUS))
    assert sent.status_code == 302 and "/feedback/sent/PAKN-" in sent["Location"]
    feedback = Feedback.objects.get()
    assert feedback.dossier == walk_in and feedback.agency == agency and feedback.author is None


def test_an_id_number_that_cannot_be_one_is_named_without_checking_the_code(client, walk_in, english):
    response = client.post("/feedback/", about(walk_in.code, "0360 7200 43", **ANONYMOUS))
    assert response.status_code == 400
    assert "A personal ID number has 12 digits; this one has 10." in response.content.decode()
    assert not Event.objects.filter(event_type="feedback.dossier_unmatched").exists()


def test_the_service_refuses_the_same_way(walk_in, other_citizen, english):
    for user, id_number in [(None, "001099000001"), (other_citizen, "001099000001")]:
        with pytest.raises(services.InvalidInput) as caught:
            services.submit(user=user, topic=FeedbackTopic.DOSSIER, dossier_code=walk_in.code, id_number=id_number,
                            text="Chậm", client="203.0.113.9", **(ANONYMOUS if user is None else {}))
        assert caught.value.message_dict["dossier_code"] == [NO_MATCH]
    with pytest.raises(services.InvalidInput) as caught:
        services.submit(user=other_citizen, topic=FeedbackTopic.DOSSIER, dossier_code=walk_in.code, text="Chậm")
    assert list(caught.value.message_dict) == ["id_number"]


# --- Guesses are limited per client address, together with the look-up ----------------------------------------------

def test_dossier_checks_are_limited_per_client_address_together_with_the_lookup(client, walk_in, english):
    address = {"REMOTE_ADDR": "203.0.113.7"}
    for _ in range(dossier_services.LOOKUPS_PER_WINDOW):
        assert client.post("/feedback/", about(walk_in.code, "001099000001", **ANONYMOUS), **address
                           ).status_code == 400
    limited = client.post("/feedback/", about(walk_in.code, APPLICANT["id_number"], **ANONYMOUS), **address)
    page = limited.content.decode()
    assert limited.status_code == 429 and int(limited["Retry-After"]) > 0
    assert "Too many dossier codes have been checked from your connection. Try again after" in page
    assert "Chưa nhận được kết quả" in page and walk_in.code in page   # what was typed is kept
    assert not Feedback.objects.exists()
    # One budget for both pages: the look-up from the same address is limited as well.
    assert client.post("/lookup/", {"code": walk_in.code, "id_number": APPLICANT["id_number"]},
                       **address).status_code == 429
    assert client.post("/feedback/", about(walk_in.code, APPLICANT["id_number"], **ANONYMOUS),
                       REMOTE_ADDR="203.0.113.8").status_code == 302
    assert Event.objects.filter(event_type="feedback.dossier_check_limited").count() == 1


def test_the_citizens_own_dossier_is_not_counted_against_the_limit(client, citizen, online, english):
    signed_in(client, citizen)
    for _ in range(dossier_services.LOOKUPS_PER_WINDOW + 1):
        assert client.post("/feedback/", about(online.code), REMOTE_ADDR="203.0.113.7").status_code == 302
    assert Feedback.objects.count() == dossier_services.LOOKUPS_PER_WINDOW + 1

