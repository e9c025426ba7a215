"""The applicant's notices page (/my/notifications/): their own notices only, the unread count, mark read, the
language of notices; and the administrators' view of failed messages."""
import pytest
from django.conf import settings

from egov.notifications import services
from egov.notifications.models import Message, Notification
from tests.dossiers.conftest import signed_in
from tests.notifications.test_dossier_notices import online, received

URL = "/my/notifications/"


@pytest.fixture
def notified(reachable_citizen, version, agency, officers, smtp_server, sms_provider):
    received(reachable_citizen, version, agency, officers)
    services.run_once()
    return reachable_citizen


def test_the_applicant_sees_their_notices_with_the_unread_count(client, notified):
    page = signed_in(client, notified).get(URL)
    text = page.content.decode()
    assert page.status_code == 200
    assert "You have 2 unread notifications." in text and "Notifications (2 unread)" in text
    assert "đã được tiếp nhận" in text


def test_marking_a_notice_read_lowers_the_count(client, notified):
    notice = Notification.objects.filter(user=notified).first()
    signed_in(client, notified)
    answer = client.post(f"{URL}{notice.pk}/read/")
    assert answer.status_code == 302
    notice.refresh_from_db()
    assert notice.read_at is not None
    assert "You have 1 unread notification." in client.get(URL).content.decode()
    client.post(f"{URL}read-all/")
    assert "You have 0 unread notifications." in client.get(URL).content.decode()


def test_another_user_cannot_read_or_mark_someone_elses_notices(client, notified, other_citizen):
    notice = Notification.objects.filter(user=notified).first()
    signed_in(client, other_citizen)
    page = client.get(URL).content.decode()
    assert notice.title not in page and "You have no notifications yet." in page
    assert client.post(f"{URL}{notice.pk}/read/").status_code == 404
    notice.refresh_from_db()
    assert notice.read_at is None


def test_anonymous_visitors_are_sent_to_sign_in(client):
    answer = client.get(URL)
    assert answer.status_code == 302 and answer["Location"].startswith("/accounts/login/")
    assert client.post(f"{URL}1/read/").status_code == 302


def test_mark_read_is_post_only(client, notified):
    notice = Notification.objects.filter(user=notified).first()
    assert signed_in(client, notified).get(f"{URL}{notice.pk}/read/").status_code == 405


def test_the_applicant_chooses_the_language_of_notices(client, reachable_citizen):
    signed_in(client, reachable_citizen)
    assert services.language_of(reachable_citizen) == "vi"
    answer = client.post(f"{URL}language/", {"language": "en"})
    assert answer.status_code == 302 and services.language_of(reachable_citizen) == "en"
    assert client.post(f"{URL}language/", {"language": "fr"}).status_code == 400
    assert services.language_of(reachable_citizen) == "en"


def test_a_bad_page_link_is_told_not_a_500(client, notified):
    assert signed_in(client, notified).get(f"{URL}?before=abc").status_code == 400


@pytest.fixture
def admin_client_en(client, django_user_model):
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    superuser = django_user_model.objects.create_superuser("root", "root@example.org", "correct-horse-battery-9")
    client.force_login(superuser)
    device = TOTPDevice.objects.create(user=superuser, name="test", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def test_administrators_see_failed_messages(reachable_citizen, version, agency, smtp_server, sms_provider,
                                            admin_client_en):
    sms_provider.down = True
    online(reachable_citizen, version, agency)
    services.run_once()
    failed = Message.objects.get(status=Message.Status.FAILED)
    changelist = admin_client_en.get("/admin/notifications/message/").content.decode()
    assert "1 queued message failed or was given up" in changelist
    filtered = admin_client_en.get("/admin/notifications/message/?delivery=failing").content.decode()
    assert failed.recipient_hint in filtered and "503" in filtered and "0912345678" not in filtered
    answer = admin_client_en.post("/admin/notifications/message/",
                                  {"action": "retry_now", "_selected_action": [failed.pk]})
    assert answer.status_code == 302
    sms_provider.down = False
    services.run_once()
    failed.refresh_from_db()
    assert failed.status == Message.Status.SENT
