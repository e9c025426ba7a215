"""Applicants hear about their dossiers: each dossier event becomes an in-app notice, an email (through a real SMTP
server) and an SMS (through the provider interface), once, in their language; failed sends are retried with back-off."""
import datetime as dt

import pytest
from django.core.management import call_command
from django.utils import timezone

from egov.dossiers import services as dossiers
from egov.kernel.ledger_models import ConsumerOffset, Event
from egov.notifications import rules, services, texts
from egov.notifications.models import Message, Notification
from tests.dossiers.conftest import APPLICANT, pdf_file
from tests.kernel.conftest import vn


def online(citizen, version, agency):
    return dossiers.submit_online(applicant_user=citizen, procedure_version=version, agency=agency,
                                  form_data={"purpose": "du học"}, files=[("to_khai", pdf_file())],
                                  at=vn("2026-03-02 09:00"))


def received(citizen, version, agency, officers):
    dossier = online(citizen, version, agency)
    return dossiers.receive(dossier.pk, officer=officers["desk"], at=vn("2026-03-02 10:00"))


def test_a_received_dossier_reaches_the_applicant_in_app_by_email_and_by_sms(
        reachable_citizen, version, agency, officers, smtp_server, sms_provider):
    dossier = received(reachable_citizen, version, agency, officers)
    events, report = services.run_once()
    assert events >= 2 and report.sent == 4 and report.failed == 0  # submitted + received, by email and SMS

    notices = list(Notification.objects.filter(user=reachable_citizen).order_by("id"))
    assert [n.event_type for n in notices] == ["dossier.submitted", "dossier.received"]
    notice = notices[-1]
    assert notice.title == f"Hồ sơ {dossier.code} đã được tiếp nhận, hẹn trả kết quả 09/03/2026 10:00"
    assert "Cấp Phiếu lý lịch tư pháp" in notice.body and "Trạng thái: Được tiếp nhận." in notice.body
    assert "Sở Tư pháp Thành phố Hồ Chí Minh" in notice.body and notice.read_at is None

    mails = smtp_server.to("hung.citizen@example.org")
    assert [m["Subject"] for m in mails] == [f"Hồ sơ {dossier.code} đã được nộp trực tuyến", notice.title]
    assert "Ngày hẹn trả kết quả: 09/03/2026 10:00." in mails[-1].get_content()

    sms = sms_provider.to("0912345678")
    assert [s["text"] for s in sms] == [f"Hồ sơ {dossier.code} đã được nộp trực tuyến", notice.title]
    sent = Message.objects.get(source__endswith=":sms", purpose="dossier.received")
    assert sent.status == Message.Status.SENT and sent.provider_reference == "sms-2" and sent.attempts == 1


def test_texts_carry_no_needless_personal_data(reachable_citizen, version, agency, officers, smtp_server,
                                               sms_provider):
    received(reachable_citizen, version, agency, officers)
    services.run_once()
    everything = " ".join([m.get_content() + str(m["Subject"]) for _, m in smtp_server.received]
                          + [s["text"] for s in sms_provider.received])
    for personal in ("Hùng", "Đỗ Văn", "du học", "0912345678", "hung.citizen"):
        assert personal not in everything


def test_an_applicant_who_chose_english_gets_english_notices(reachable_citizen, version, agency, officers,
                                                              smtp_server, sms_provider):
    services.set_language(reachable_citizen, "en")
    dossier = received(reachable_citizen, version, agency, officers)
    services.run_once()
    notice = Notification.objects.get(user=reachable_citizen, event_type="dossier.received")
    assert notice.title == f"Dossier {dossier.code} received, result due 09/03/2026 10:00"
    assert "Status: Received." in notice.body
    assert smtp_server.to("hung.citizen@example.org")[-1]["Subject"] == notice.title
    assert sms_provider.to("0912345678")[-1]["text"] == notice.title


def test_every_applicant_event_has_a_vietnamese_and_an_english_template():
    found = texts.registry()
    for event in rules.APPLICANT_EVENTS:
        for language in ("vi", "en"):
            assert (event, language) in found, f"{event}.{language}.txt is missing"
            text = texts.render(event, language, {"code": "000.00.12.H29-260302-0001", "procedure": "P",
                                                  "agency": "A", "status": "S", "appointment": "09/03/2026 10:00"})
            assert "000.00.12.H29-260302-0001" in text.subject and text.body


def test_running_the_consumer_again_sends_nothing_twice(reachable_citizen, version, agency, officers, smtp_server,
                                                        sms_provider):
    received(reachable_citizen, version, agency, officers)
    services.run_once()
    services.run_once()
    ConsumerOffset.objects.filter(consumer=services.CONSUMER).update(last_seq=0)  # a crash replays every event
    events, report = services.run_once()
    assert events >= 2 and report.sent == 0
    assert Notification.objects.filter(user=reachable_citizen).count() == 2
    assert len(smtp_server.received) == 2 and len(sms_provider.received) == 2
    for event in Event.objects.filter(event_type="dossier.received"):
        services.handle_event(event)  # the handler itself, twice
    assert Message.objects.count() == 4 and Notification.objects.count() == 2


def test_a_provider_outage_is_retried_with_back_off_until_the_provider_is_back(
        reachable_citizen, version, agency, officers, smtp_server, sms_provider):
    sms_provider.down = True
    online(reachable_citizen, version, agency)
    services.consume_events()
    start = timezone.now()
    report = services.deliver_due(now=start)
    assert (report.sent, report.failed) == (1, 1)  # the email left; the SMS did not
    sms = Message.objects.get(channel=Message.Channel.SMS)
    assert sms.status == Message.Status.FAILED and sms.attempts == 1 and "503" in sms.error
    assert sms.next_attempt_at == start + dt.timedelta(minutes=1)

    assert services.deliver_due(now=start + dt.timedelta(seconds=30)).failed == 0  # not due yet: not tried
    services.deliver_due(now=start + dt.timedelta(minutes=1))
    sms.refresh_from_db()
    assert sms.attempts == 2 and sms.next_attempt_at == start + dt.timedelta(minutes=1) + dt.timedelta(minutes=2)

    sms_provider.down = False
    report = services.deliver_due(now=start + dt.timedelta(minutes=3))
    sms.refresh_from_db()
    assert report.sent == 1 and sms.status == Message.Status.SENT and sms.next_attempt_at is None and not sms.error
    assert len(sms_provider.to("0912345678")) == 1
    assert Event.objects.filter(event_type="notification.failed").count() == 2
    assert Event.objects.filter(event_type="notification.sent").count() == 2


def test_a_message_that_keeps_failing_is_given_up(reachable_citizen, version, agency, officers, smtp_server,
                                                  sms_provider):
    sms_provider.down = True
    online(reachable_citizen, version, agency)
    services.consume_events()
    moment = timezone.now()
    for _ in range(3):
        services.deliver_due(now=moment, max_attempts=3)
        moment += dt.timedelta(hours=7)
    sms = Message.objects.get(channel=Message.Channel.SMS)
    assert sms.status == Message.Status.GAVE_UP and sms.attempts == 3 and sms.next_attempt_at is None
    assert services.deliver_due(now=moment + dt.timedelta(days=1)).failed == 0
    assert services.retry_now([sms.pk]) == 1
    sms_provider.down = False
    assert services.deliver_due(now=timezone.now() + dt.timedelta(seconds=1)).sent == 1


def test_back_off_doubles_and_is_capped():
    assert [rules.backoff(n) for n in (1, 2, 3, 4)] == [dt.timedelta(minutes=m) for m in (1, 2, 4, 8)]
    assert rules.backoff(30) == rules.MAX_DELAY
    assert not rules.gives_up(rules.MAX_ATTEMPTS - 1) and rules.gives_up(rules.MAX_ATTEMPTS)


def test_a_walk_in_without_an_account_is_told_at_the_dossier_contact(officers, version, smtp_server, sms_provider):
    dossier = dossiers.intake_at_desk(officer=officers["desk"], procedure_version=version, channel=1,
                                      applicant=APPLICANT, subject=None, form_data={"purpose": "xin việc"},
                                      files=[("to_khai", pdf_file())], at=vn("2026-03-02 08:00"))
    services.run_once()
    assert Notification.objects.count() == 0
    assert smtp_server.to("hung@example.org")[0]["Subject"].startswith(f"Hồ sơ {dossier.code} đã được tiếp nhận")
    assert sms_provider.to("0903123456")[0]["text"].startswith(f"Hồ sơ {dossier.code} đã được tiếp nhận")
    read = Event.objects.get(event_type="dossier.read", subject_id=str(dossier.pk))
    assert read.actor_kind == "notifications" and read.payload["purpose"] == "notify the applicant"
    ConsumerOffset.objects.filter(consumer=services.CONSUMER).update(last_seq=0)
    services.run_once()
    assert len(sms_provider.received) == 1
    assert Event.objects.filter(event_type="dossier.read", subject_id=str(dossier.pk)).count() == 1


def test_internal_events_tell_the_applicant_nothing(reachable_citizen, version, agency, officers, smtp_server,
                                                    sms_provider):
    dossier = received(reachable_citizen, version, agency, officers)
    dossiers.transfer(dossier.pk, officer=officers["desk"], at=vn("2026-03-02 11:00"))
    dossiers.complete_step(dossier.pk, officer=officers["specialist"], task_id="process", at=vn("2026-03-03 09:00"))
    services.run_once()
    assert list(Notification.objects.values_list("event_type", flat=True).order_by("id")) == [
        "dossier.submitted", "dossier.received", "dossier.transfer"]


@pytest.mark.django_db
def test_the_notify_command_runs_one_pass(reachable_citizen, version, agency, officers, smtp_server, sms_provider,
                                          capsys):
    received(reachable_citizen, version, agency, officers)
    call_command("egov_notify", once=True)
    assert "4 sent, 0 failed (to retry), 0 given up" in capsys.readouterr().out
    assert len(sms_provider.received) == 2


def test_a_message_taken_by_one_worker_is_not_sent_by_another(reachable_citizen, version, agency, smtp_server,
                                                              sms_provider):
    online(reachable_citizen, version, agency)
    services.consume_events()
    now = timezone.now()
    taken = services._due(now, limit=10)  # a worker claims both messages and is still sending them
    assert len(taken) == 2 and all(m.attempts == 1 for m in taken)
    assert services.deliver_due(now=now).sent == 0  # another worker finds nothing due
    later = services.deliver_due(now=now + rules.LEASE + dt.timedelta(seconds=1))  # the first one died: retried
    assert later.sent == 2


def test_the_notify_task_runs_one_pass(reachable_citizen, version, agency, officers, smtp_server, sms_provider,
                                       settings):
    from egov.notifications.tasks import notify_pass

    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    received(reachable_citizen, version, agency, officers)
    result = notify_pass.enqueue()
    answer = result.return_value
    assert answer["events"] >= 2 and (answer["sent"], answer["failed"], answer["gave_up"]) == (4, 0, 0)
