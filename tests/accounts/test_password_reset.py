"""Password reset by email through a real SMTP server on loopback (aiosmtpd)."""
import email
import re
from email import policy

import pytest
from aiosmtpd.controller import Controller

from egov.accounts.models import LoginFailure
from egov.kernel.ledger_models import Event
from tests.http_client import free_port

NEW_PASSWORD = "a-brand-new-passphrase-77"


class Collector:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, email.message_from_bytes(envelope.content, policy=policy.default)))
        return "250 OK"


@pytest.fixture
def smtp(settings):
    """A real SMTP server on 127.0.0.1, and Django's default mailer pointed at it (Django 6.1 MAILERS)."""
    collector = Collector()
    port = free_port()
    controller = Controller(collector, hostname="127.0.0.1", port=port)
    controller.start()
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                                    "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 10}}}
    yield collector
    controller.stop()


def test_reset_by_email_then_sign_in_with_the_new_password(client, make_user, smtp, settings):
    user = make_user("citizen", email="citizen@example.org")
    LoginFailure.objects.create(kind="username", key="citizen", at=user.date_joined)
    response = client.post("/accounts/password/reset/", {"email": "citizen@example.org"})
    assert response.status_code == 302 and response["Location"] == "/accounts/password/reset/sent/"
    assert client.get(response["Location"]).status_code == 200

    assert len(smtp.messages) == 1
    recipients, message = smtp.messages[0]
    assert recipients == ["citizen@example.org"]
    assert message["Subject"] == "Reset your egov password"
    body = message.get_content()
    assert "Your username: citizen" in body
    link = re.search(r"http://testserver(/accounts/password/reset/[^/\s]+/[^/\s]+/)", body).group(1)

    form_page = client.get(link, follow=True)
    assert form_page.status_code == 200 and form_page.context["validlink"]
    done = client.post(form_page.redirect_chain[-1][0],
                       {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert done.status_code == 302 and done["Location"] == "/accounts/password/reset/done/"
    assert client.get(done["Location"]).status_code == 200

    assert client.post("/accounts/login/", {"username": "citizen", "password": NEW_PASSWORD}).status_code == 302
    assert not LoginFailure.objects.filter(kind="username").exists()
    events = list(Event.objects.filter(event_type__startswith="account.password_reset").order_by("id")
                  .values_list("event_type", "subject_id"))
    assert events == [("account.password_reset_requested", str(user.pk)),
                      ("account.password_reset_completed", str(user.pk))]
    # The link works once.
    assert not client.get(link, follow=True).context["validlink"]


def test_unknown_email_gets_the_same_neutral_answer_and_no_mail(client, make_user, smtp):
    make_user("citizen", email="citizen@example.org")
    response = client.post("/accounts/password/reset/", {"email": "stranger@example.org"})
    assert response.status_code == 302 and response["Location"] == "/accounts/password/reset/sent/"
    assert smtp.messages == []
    event = Event.objects.get(event_type="account.password_reset_requested")
    assert event.subject_id == "" and "stranger" not in str(event.payload)


def test_invalid_email_gets_a_field_error(client, smtp):
    response = client.post("/accounts/password/reset/", {"email": "not an address"})
    assert response.status_code == 200 and "email" in response.context["form"].errors


def test_mismatched_new_passwords_keep_the_form_with_an_error(client, make_user, smtp):
    make_user("citizen", email="citizen@example.org")
    client.post("/accounts/password/reset/", {"email": "citizen@example.org"})
    link = re.search(r"http://testserver(\S+)", smtp.messages[0][1].get_content()).group(1)
    page = client.get(link, follow=True)
    response = client.post(page.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": "other-1234567"})
    assert response.status_code == 200 and "new_password2" in response.context["form"].errors
