"""The applicant's side (issue 6, tracking): "my dossiers" newest first by key; the dossier page's timeline in plain
words and its deadline clock with pause reasons; a rating once, only when processing has ended; the public look-up by
code + personal ID number that reveals status only, says "no match" without saying which half was wrong, is limited
per client address and logged."""
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from egov.dossiers import services
from egov.dossiers.models import Attachment, Channel, Dossier, Rating, Status
from egov.kernel.ledger_models import Event
from tests.dossiers.conftest import APPLICANT, PDF, english, pdf_file, signed_in  # noqa: F401
from tests.kernel.conftest import vn


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def online(citizen, version, agency, at=None):
    return services.submit_online(applicant_user=citizen, procedure_version=version, agency=agency,
                                  form_data={"purpose": "Du học"}, files=[("to_khai", pdf_file())], at=at)


def walk_in(officers, version, at=None):
    return services.intake_at_desk(officer=officers["desk"], procedure_version=version, channel=Channel.IN_PERSON,
                                   applicant=dict(APPLICANT), subject=None, form_data={"purpose": "Xin việc làm"},
                                   files=[("to_khai", pdf_file())], at=at)


def processed(dossier, officers, *, deliver=True):
    services.transfer(dossier.pk, officer=officers["desk"])
    services.complete_step(dossier.pk, officer=officers["specialist"], task_id="process")
    services.complete_step(dossier.pk, officer=officers["head"], task_id="review")
    services.complete_step(dossier.pk, officer=officers["leader"], task_id="approve")
    services.attach_result(dossier.pk, officer=officers["leader"], file=None)
    if deliver:
        services.deliver(dossier.pk, officer=officers["desk"], method="online")
    dossier.refresh_from_db()
    return dossier


# --- My dossiers -----------------------------------------------------------------------------------------------------

def test_my_dossiers_lists_mine_newest_first_and_pages_by_key(client, citizen, other_citizen, agency, version, media,
                                                              settings):
    mine = [online(citizen, version, agency) for _ in range(22)]
    theirs = online(other_citizen, version, agency)
    signed_in(client, citizen)
    first = client.get("/dossiers/").content.decode()
    assert mine[-1].code in first and mine[2].code in first and mine[1].code not in first
    assert theirs.code not in first
    assert first.index(mine[-1].code) < first.index(mine[-2].code)   # newest first
    assert f"after={mine[2].pk}" in first
    second = client.get("/dossiers/", {"after": mine[2].pk}).content.decode()
    assert mine[1].code in second and mine[0].code in second and mine[2].code not in second
    assert "Submitted online, not yet received" in second


def test_my_dossiers_needs_sign_in(client, db):
    response = client.get("/dossiers/")
    assert response.status_code == 302 and "/accounts/" in response["Location"]


# --- The dossier page: timeline and clock ----------------------------------------------------------------------------

def test_the_applicant_sees_the_timeline_and_the_clock_with_its_pause_reason(client, citizen, officers, agency,
                                                                            version, media):
    dossier = online(citizen, version, agency, at=vn("2026-03-02 09:00"))
    services.receive(dossier.pk, officer=officers["desk"], at=vn("2026-03-02 09:30"))
    services.transfer(dossier.pk, officer=officers["desk"], at=vn("2026-03-02 10:00"))
    services.request_supplement(dossier.pk, officer=officers["specialist"], missing=["Bản sao giấy khai sinh"],
                                note="Bản chụp bị mờ", at=vn("2026-03-03 08:00"))
    signed_in(client, citizen)
    page = client.get(f"/dossiers/{dossier.code}/").content.decode()
    # The timeline, in plain words, oldest first.
    steps = ["You submitted the dossier online.", "The one-stop desk received your dossier",
             "Your dossier was sent to the competent unit", "The agency asked you to supplement your dossier"]
    positions = [page.index(text) for text in steps]
    assert positions == sorted(positions)
    # The open request says everything that is missing, and the form to answer it is there.
    assert "The agency needs more from you" in page and "Bản sao giấy khai sinh" in page and "Bản chụp bị mờ" in page
    assert 'action="/dossiers/%s/supply/"' % dossier.code in page
    # The clock: receipt, appointment (5 working days), paused and why, each step with its due date.
    assert "02/03/2026 09:30" in page and "09/03/2026 09:30" in page
    assert "The clock is paused" in page and "Waiting for the applicant&#x27;s supplement" in page
    assert "Thẩm định hồ sơ" in page and "05/03/2026 10:00" in page    # step 1: 3 working days from the transfer

    # The supplement answered online: the clock resumes, the timeline says so.
    response = client.post(f"/dossiers/{dossier.code}/supply/",
                           {"supply-files": [SimpleUploadedFile("giay-khai-sinh.pdf", PDF)], "supply-note": "Bản rõ"})
    assert response.status_code == 302
    page = client.get(f"/dossiers/{dossier.code}/").content.decode()
    assert "You sent the supplement. Processing resumed and the clock runs again." in page
    assert "The clock is running" in page and "The agency needs more from you" not in page


def test_a_dossier_received_at_lunch_shows_when_it_arrived_beside_the_receipt_instant(client, citizen, officers,
                                                                                      agency, version, media):
    dossier = online(citizen, version, agency, at=vn("2026-03-02 11:50"))
    services.receive(dossier.pk, officer=officers["desk"], at=vn("2026-03-02 12:10"))
    signed_in(client, citizen)
    page = client.get(f"/dossiers/{dossier.code}/").content.decode()
    assert "02/03/2026 13:00" in page
    assert "Received at 02/03/2026 12:10, outside office hours: the clock counts from the next working time." in page


def test_another_citizen_gets_404_on_every_page_of_my_dossier(client, citizen, other_citizen, officers, agency,
                                                              version, media):
    dossier = processed(walk_in(officers, version), officers)
    Dossier.objects.filter(pk=dossier.pk).update(applicant=citizen)
    other = signed_in(client, other_citizen)
    assert other.get(f"/dossiers/{dossier.code}/").status_code == 404
    assert other.post(f"/dossiers/{dossier.code}/rate/", {"rate-score": "5"}).status_code == 404
    assert not Rating.objects.exists()


# --- Results and rating ----------------------------------------------------------------------------------------------

def test_a_result_the_applicant_chose_to_receive_online_is_theirs_as_soon_as_it_is_ready(client, citizen, officers,
                                                                                          agency, version, media):
    dossier = services.submit_online(applicant_user=citizen, procedure_version=version, agency=agency,
                                     form_data={"purpose": "Du học"}, files=[("to_khai", pdf_file())],
                                     result_delivery="online")
    services.receive(dossier.pk, officer=officers["desk"])
    dossier = processed(dossier, officers, deliver=False)
    assert dossier.status == Status.DELIVERED and dossier.delivered_at is not None   # no officer delivered it
    delivery = dossier.transitions.get(to_status=Status.DELIVERED)
    assert delivery.actor is None and delivery.details == {"method": "online", "chosen_by_applicant": True}
    event = Event.objects.get(event_type="dossier.delivered")
    assert event.actor_kind == "platform"
    result = dossier.attachments.get(kind="result")
    signed_in(client, citizen)
    assert client.get(f"/dossiers/{dossier.code}/files/{result.pk}/").status_code == 200


def test_a_result_to_collect_at_the_desk_waits_there(officers, citizen, agency, version, media):
    dossier = services.submit_online(applicant_user=citizen, procedure_version=version, agency=agency,
                                     form_data={"purpose": "Du học"}, files=[("to_khai", pdf_file())],
                                     result_delivery="desk")
    services.receive(dossier.pk, officer=officers["desk"])
    assert processed(dossier, officers, deliver=False).status == Status.RESULT_READY


def test_online_delivery_is_offered_only_where_the_procedure_is_full_process_online(citizen, agency, version, media):
    from egov.procedures.models import OnlineLevel

    version.online_level = OnlineLevel.PARTIAL
    version.save()
    with pytest.raises(services.InvalidInput) as caught:
        services.submit_online(applicant_user=citizen, procedure_version=version, agency=agency,
                               form_data={"purpose": "Du học"}, files=[("to_khai", pdf_file())],
                               result_delivery="online")
    assert caught.value.message_dict == {"result_delivery": [
        "The result of this procedure is collected at the reception and result desk."]}
    with pytest.raises(services.InvalidInput, match="Choose how you want to receive the result"):
        services.submit_online(applicant_user=citizen, procedure_version=version, agency=agency,
                               form_data={"purpose": "Du học"}, files=[("to_khai", pdf_file())],
                               result_delivery="by pigeon")
    assert not Dossier.objects.exists()


def test_a_draft_result_current_or_replaced_is_never_shown_to_the_applicant(client, citizen, officers, agency,
                                                                           version, media):
    dossier = online(citizen, version, agency)
    services.receive(dossier.pk, officer=officers["desk"])
    services.transfer(dossier.pk, officer=officers["desk"])
    services.attach_result(dossier.pk, officer=officers["specialist"])
    services.attach_result(dossier.pk, officer=officers["specialist"])     # a corrected draft, the process goes on
    replaced = dossier.attachments.get(component_code=Attachment.REPLACED_DRAFT)
    draft = services.current_draft(dossier)
    signed_in(client, citizen)
    page = client.get(f"/dossiers/{dossier.code}/").content.decode()
    for hidden in (replaced, draft):
        assert f"/files/{hidden.pk}/" not in page
        assert client.get(f"/dossiers/{dossier.code}/files/{hidden.pk}/").status_code == 404
    assert "Draft result" not in page and "result_drafted" not in page
    # The agency keeps both on its record.
    desk = signed_in(type(client)(), officers["desk"])
    for kept in (replaced, draft):
        assert desk.get(f"/backoffice/dossiers/{dossier.code}/files/{kept.pk}/").status_code == 200


def test_the_result_is_downloadable_once_delivered_and_the_service_is_rated_once(client, citizen, officers, agency,
                                                                                 version, media):
    dossier = online(citizen, version, agency)
    services.receive(dossier.pk, officer=officers["desk"])
    signed_in(client, citizen)
    # Too early to rate: processing has not ended.
    early = client.post(f"/dossiers/{dossier.code}/rate/", {"rate-score": "5"})
    assert early.status_code == 409 and "once the result is delivered or processing has ended" in early.content.decode()
    assert "Rate the service" not in client.get(f"/dossiers/{dossier.code}/").content.decode()

    processed(dossier, officers, deliver=False)
    page = client.get(f"/dossiers/{dossier.code}/").content.decode()
    assert "Your result is ready" in page and "Result:" not in page
    result = dossier.attachments.get(kind="result")
    assert client.get(f"/dossiers/{dossier.code}/files/{result.pk}/").status_code == 404   # not delivered yet
    services.deliver(dossier.pk, officer=officers["desk"], method="online")
    assert client.get(f"/dossiers/{dossier.code}/files/{result.pk}/").status_code == 200

    page = client.get(f"/dossiers/{dossier.code}/").content.decode()
    assert "Rate the service" in page and "The result was delivered to you." in page
    missing = client.post(f"/dossiers/{dossier.code}/rate/", {"rate-score": ""})
    assert missing.status_code == 400 and "Choose a satisfaction score from 1 to 5." in missing.content.decode()
    assert client.post(f"/dossiers/{dossier.code}/rate/", {"rate-score": "9"}).status_code == 400
    done = client.post(f"/dossiers/{dossier.code}/rate/", {"rate-score": "4", "rate-comment": "Nhanh, chu đáo"})
    assert done.status_code == 302
    rating = Rating.objects.get(dossier=dossier)
    assert rating.score == 4 and rating.comment() == "Nhanh, chu đáo" and "Nhanh" not in rating.sealed
    assert (rating.agency_id, rating.procedure_id) == (agency.pk, version.procedure_id)
    event = Event.objects.get(event_type="dossier.rated")
    assert event.payload["score"] == 4 and "Nhanh" not in str(event.payload)
    page = client.get(f"/dossiers/{dossier.code}/").content.decode()
    assert "You rated the service 4 out of 5" in page and "Send my rating" not in page
    again = client.post(f"/dossiers/{dossier.code}/rate/", {"rate-score": "1"})
    assert again.status_code == 409 and "already rated" in again.content.decode()
    assert Rating.objects.get(dossier=dossier).score == 4


def test_a_refused_dossier_may_be_rated_and_only_by_its_applicant(citizen, other_citizen, officers, agency, version,
                                                                  media):
    dossier = online(citizen, version, agency)
    services.refuse(dossier.pk, officer=officers["desk"], reasons=["Không thuộc thẩm quyền"])
    with pytest.raises(services.NotAllowed):
        services.rate(dossier.pk, user=other_citizen, score=5)
    with pytest.raises(services.NotAllowed):
        services.rate(dossier.pk, user=officers["desk"], score=5)
    assert services.rate(dossier.pk, user=citizen, score=2).score == 2


# --- Public look-up --------------------------------------------------------------------------------------------------

def test_the_lookup_shows_status_and_appointment_only_for_the_right_pair(client, officers, version, media):
    dossier = walk_in(officers, version, at=vn("2026-03-02 09:00"))
    right = client.post("/lookup/", {"code": dossier.code, "id_number": APPLICANT["id_number"]})
    page = right.content.decode()
    assert right.status_code == 200
    assert "Received" in page and "09/03/2026 09:00" in page
    assert APPLICANT["full_name"] not in page and "Cấp Phiếu lý lịch tư pháp" not in page   # status only

    wrong_id = client.post("/lookup/", {"code": dossier.code, "id_number": "001099000001"})
    wrong_code = client.post("/lookup/", {"code": "000.00.12.H29-260302-9999", "id_number": APPLICANT["id_number"]})
    assert wrong_id.status_code == wrong_code.status_code == 404
    for response in (wrong_id, wrong_code):
        assert "No dossier matches this code and personal ID number." in response.content.decode()
    assert "Received" not in wrong_id.content.decode() and "09/03/2026" not in wrong_id.content.decode()
    bad = client.post("/lookup/", {"code": dossier.code, "id_number": "12ab"})
    assert bad.status_code == 400 and "A personal ID number has 12 digits." in bad.content.decode()

    events = list(Event.objects.filter(event_type="dossier.looked_up").order_by("id"))
    assert [e.payload["matched"] for e in events] == [True, False, False]
    assert all(APPLICANT["id_number"] not in str(e.payload) for e in events)


def test_the_lookup_is_limited_per_client_address(client, officers, version, media):
    dossier = walk_in(officers, version)
    for _ in range(services.LOOKUPS_PER_WINDOW):
        assert client.post("/lookup/", {"code": dossier.code, "id_number": "001099000001"},
                           REMOTE_ADDR="203.0.113.7").status_code == 404
    limited = client.post("/lookup/", {"code": dossier.code, "id_number": APPLICANT["id_number"]},
                          REMOTE_ADDR="203.0.113.7")
    assert limited.status_code == 429 and int(limited["Retry-After"]) > 0
    assert "Too many look-ups" in limited.content.decode() and "Received" not in limited.content.decode()
    other_address = client.post("/lookup/", {"code": dossier.code, "id_number": APPLICANT["id_number"]},
                                REMOTE_ADDR="203.0.113.8")
    assert other_address.status_code == 200
    assert Event.objects.filter(event_type="dossier.lookup_limited").count() == 1


def test_behind_the_platforms_proxy_the_lookup_limit_counts_each_citizen_not_the_proxy(client, officers, version,
                                                                                       media, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.5"]
    dossier = walk_in(officers, version)
    through_proxy = {"REMOTE_ADDR": "10.0.0.5"}
    for _ in range(services.LOOKUPS_PER_WINDOW):
        assert client.post("/lookup/", {"code": dossier.code, "id_number": "001099000001"}, **through_proxy,
                           HTTP_X_FORWARDED_FOR="203.0.113.7").status_code == 404
    assert client.post("/lookup/", {"code": dossier.code, "id_number": APPLICANT["id_number"]}, **through_proxy,
                       HTTP_X_FORWARDED_FOR="203.0.113.7").status_code == 429
    # Another citizen behind the same proxy is not limited by the first one's attempts.
    assert client.post("/lookup/", {"code": dossier.code, "id_number": APPLICANT["id_number"]}, **through_proxy,
                       HTTP_X_FORWARDED_FOR="203.0.113.8").status_code == 200
    # A client cannot step out of its limit by writing the header itself: its proxy appends the address it saw.
    assert client.post("/lookup/", {"code": dossier.code, "id_number": APPLICANT["id_number"]}, **through_proxy,
                       HTTP_X_FORWARDED_FOR="198.51.100.1, 203.0.113.7").status_code == 429


@pytest.mark.parametrize("hours, days, said", [
    (83.5, (10, 3.5), "The clock is running: 10 working days and 3.5 hours left before the appointment date."),
    (80.0, (10, 0.0), "The clock is running: 10 working days left before the appointment date."),
    (8.04, (1, 0.0), "The clock is running: 1 working day left before the appointment date."),
    (2.5, (0, 2.5), "The clock is running: 0 working days and 2.5 hours left before the appointment date.")])
def test_the_applicant_reads_the_time_left_in_working_days(english, hours, days, said):  # noqa: F811
    from django.template.loader import render_to_string

    from egov.dossiers.queries import DossierClock

    clock = DossierClock(received_at=None, appointment_at=None, original_appointment_at=None, rescheduled=False,
                         paused=False, remaining_hours=hours)
    assert clock.remaining_days == days
    assert said in " ".join(render_to_string("dossiers/my_clock.html", {"clock": clock}).split())
