"""The texts of notices (mẫu thông báo): one template per event and language, a file
``templates/notifications/<event>.<lang>.txt`` whose first line is the subject (also the SMS text) and whose rest,
after a blank line, is the body (email and in-app). A line ``[SMS]`` may end the body: what follows it is the SMS text
instead of the subject (a question to answer, an answer to read, where the sender has no page to link to). Plain text:
rendered without HTML escaping.

Context of a dossier notice: ``code`` (dossier code), ``procedure`` (procedure name), ``agency`` (receiving agency, in
the recipient's language where it has a name in it), ``status`` (status label in the recipient's language),
``appointment`` (the appointment date as it stood at the event, Vietnam time, or empty), ``link`` (the dossier's page,
absolute; empty for an applicant without an account), and what the applicant must act on: ``missing`` and ``note``
(form 02), ``reasons`` (form 03), ``reason`` (stop, refused withdrawal), ``amount`` and ``pay_link`` or the bank
transfer's ``bank_account``, ``bank_account_name``, ``transfer_content`` (fees), ``method`` (delivery), ``hours`` (the
unit's office hours). A feedback notice: ``reference``, ``agency``, the due dates, the agency's ``reason``,
``question`` or ``answer`` (email and SMS only: they stay sealed, so the in-app notice links to them), ``link`` or
``reply_link``. A refund notice: ``code``, ``refund`` (its reference), ``amount``, ``cause``, ``due_amount``.
Nothing else: a notice must not carry personal data it does not need (an SMS is read on a lock screen)."""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

from django.template import Context, Engine

from egov.notifications import rules

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates" / "notifications"
LANGUAGES = ("vi", "en")
DEFAULT_LANGUAGE = "vi"


# Status names as notices write them: Vietnamese as the national portal names the ten statuses (DOMAIN.md), English
# as the platform does. Kept here rather than taken from gettext: a notice's language is the recipient's, not the
# request's, and these are the legal names.
STATUS_NAMES = {
    "vi": {1: "Mới đăng ký", 2: "Được tiếp nhận", 3: "Không được tiếp nhận", 4: "Đang xử lý",
           5: "Yêu cầu bổ sung giấy tờ", 6: "Yêu cầu thực hiện nghĩa vụ tài chính", 7: "Công dân yêu cầu rút hồ sơ",
           8: "Dừng xử lý", 9: "Đã xử lý xong", 10: "Đã trả kết quả"},
    "en": {1: "Submitted online, not yet received", 2: "Received", 3: "Not received", 4: "Being processed",
           5: "Supplement requested", 6: "Fees or taxes due", 7: "Applicant asked to withdraw",
           8: "Processing stopped", 9: "Result ready", 10: "Result delivered"},
}


def status_name(status: int, language: str) -> str:
    return STATUS_NAMES.get(language, STATUS_NAMES[DEFAULT_LANGUAGE]).get(status, "")


def money(amount: int, language: str) -> str:
    """A sum in VND as the recipient reads it: ``200.000 đồng``, ``200,000 VND``."""
    grouped = f"{int(amount):,}"
    return f"{grouped.replace(',', '.')} đồng" if language == "vi" else f"{grouped} VND"


@dataclass(frozen=True)
class Text:
    subject: str
    body: str
    sms_text: str = ""

    @property
    def sms(self) -> str:
        return self.sms_text or self.subject


@functools.cache
def _engine() -> Engine:
    return Engine(dirs=[str(TEMPLATE_DIR)], autoescape=False)


def template_name(event_type: str, language: str) -> str:
    return f"{event_type}.{language}.txt"


def registry() -> dict[tuple[str, str], Path]:
    """Every (event, language) template there is: the tests check that each notice event has both languages."""
    return {(event, lang): TEMPLATE_DIR / template_name(event, lang)
            for event in rules.NOTICE_EVENTS for lang in LANGUAGES
            if (TEMPLATE_DIR / template_name(event, lang)).is_file()}


def render(event_type: str, language: str, context: dict) -> Text:
    """The subject and body of ``event_type`` in ``language`` (Vietnamese when the language is not one we write)."""
    if language not in LANGUAGES:
        language = DEFAULT_LANGUAGE
    template = _engine().get_template(template_name(event_type, language))
    text = template.render(Context(context, autoescape=False)).strip()
    subject, _, body = text.partition("\n")
    body, sms = _split_sms(body)
    return Text(subject=" ".join(subject.split()), body=_tidy(body), sms_text=" ".join(sms.split()))


SMS_MARK = re.compile(r"^\s*\[SMS\]\s*$", re.MULTILINE)


def _split_sms(body: str) -> tuple[str, str]:
    """(the body, the SMS text after its ``[SMS]`` line, or "" when it has none)."""
    parts = SMS_MARK.split(body, maxsplit=1)
    return (parts[0], parts[1]) if len(parts) == 2 else (body, "")


def _tidy(body: str) -> str:
    """The body without the blank lines that optional parts leave behind (more than one in a row)."""
    lines = [line.rstrip() for line in body.strip().splitlines()]
    return "\n".join(line for index, line in enumerate(lines) if line or (index and lines[index - 1]))
