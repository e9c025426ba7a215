"""Business actions on feedback and complaints (phản ánh, kiến nghị): the only code that changes them.

Deadlines (DOMAIN.md, Decree 20/2008 as practised by the service index; ``feedback_rules``: the table in force on the
day the item was received governs it to its end), in the concerned agency's working days
(``egov.kernel.calendar``) counted from the receipt instant (``calendar.receipt_instant``: feedback sent outside office
hours counts from the next working morning):
- refuse (or accept) within 2 working days,
- ask the author for more information within 5,
- answer within 15 — counted again from the author's reply when more information was asked (the agency could not
  answer without it),
- publish within 2 working days after answering.
Every change is a ledger event (partition: the agency's code) carrying the reference and the status, never the
author's words or contact, which are sealed on the row.
"""
from __future__ import annotations

import datetime as dt
import re
import secrets

from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from egov.accounts.rules import rights_of
from egov.dossiers.rules import TransitionRefused
from egov.dossiers import services as dossier_services
from egov.dossiers.services import InvalidInput, NotAllowed
from egov.kernel import calendar, ledger
from egov.kernel.text import fold
from egov.portal import feedback_rules
from egov.portal.feedback_models import Feedback, FeedbackStatus, FeedbackTopic

__all__ = ["InvalidInput", "NotAllowed", "TransitionRefused", "accept", "answer", "ask_more", "publish", "refuse",
           "reply", "reply_by_link", "record_reply", "reply_link_token", "submit", "log_read", "HANDLER_RIGHT",
           "REPLY_CHANNELS", "deadline_days"]

HANDLER_RIGHT = "dossiers.backoffice"  # the officers of the one-stop system handle their agency's feedback
TEXT_LIMIT = 5000
# An author without an account answers a question through a link sent to their contact; it stays valid this long.
REPLY_LINK_DAYS = 30
REPLY_LINK_SALT = "egov.portal.feedback.reply"
# How the author's answer reached an officer who records it (the author has no account, or called the agency).
REPLY_CHANNELS = {"phone": gettext_lazy("by phone"), "email": gettext_lazy("by email"),
                  "desk": gettext_lazy("at the reception desk"), "post": gettext_lazy("by post")}


def _now(at) -> dt.datetime:
    at = at or timezone.now()
    if timezone.is_naive(at):
        raise ValueError("instants must be timezone-aware")
    return at


def _event(name: str, feedback: Feedback, actor, payload: dict | None = None) -> None:
    # The answer's due date as it stands at the event (a reply moves it): what a notice sent later must quote.
    ledger.append(f"feedback.{name}", partition=feedback.agency.code, actor=actor, subject=feedback,
                  payload={"reference": feedback.reference, "status": feedback.status,
                           "answer_due": feedback.answer_due.isoformat(), **(payload or {})})


def _text(value: str, field: str, message: str, *, limit: int = TEXT_LIMIT) -> str:
    text = "\n".join(" ".join(line.split()) for line in (value or "").strip().splitlines()).strip()
    if not text:
        raise InvalidInput({field: [message]})
    if len(text) > limit:
        raise InvalidInput({field: [_("Keep it under %(limit)s characters.") % {"limit": f"{limit:,}"}]})
    return text


def _locked(feedback_id) -> Feedback:
    return Feedback.objects.select_for_update().select_related("agency").get(pk=feedback_id)


def _handler(officer, feedback: Feedback) -> None:
    """An officer of the concerned agency with the one-stop right; anyone else is refused (403)."""
    if not getattr(officer, "is_authenticated", False) or not getattr(officer, "is_officer", False) \
            or HANDLER_RIGHT not in rights_of(officer.role) or not officer.agency_id:
        raise NotAllowed(_("Only officers of the concerned agency may handle this feedback."))
    if officer.agency_id != feedback.agency_id:
        raise NotAllowed(_("This feedback concerns another agency."))


def _require_status(feedback: Feedback, allowed: tuple) -> None:
    if feedback.status not in allowed:
        raise TransitionRefused(_("This is not possible while the feedback is “%(status)s”.")
                                % {"status": feedback.get_status_display()})


def deadline_days(feedback: Feedback):
    """The working days allowed for each step of this item: the table in force on the day it was received."""
    return feedback_rules.deadline_days(timezone.localdate(feedback.received_at))


def _deadlines_from(start: dt.datetime, agency) -> dict:
    cal = calendar.Calendar()
    receipt = cal.receipt_instant(start, agency)
    days = feedback_rules.deadline_days(timezone.localdate(receipt))
    return {"received_at": receipt,
            "refuse_due": cal.add_working_days(receipt, days["refuse"], agency),
            "more_info_due": cal.add_working_days(receipt, days["more_info"], agency),
            "answer_due": cal.add_working_days(receipt, days["answer"], agency)}


def _new_reference(at: dt.datetime) -> str:
    """PAKN-yyMMdd-XXXXXX: short enough to read over the phone, random so that references do not reveal volumes."""
    day = timezone.localtime(at).strftime("%y%m%d")
    while True:
        reference = f"PAKN-{day}-{secrets.token_hex(3).upper()}"
        if not Feedback.objects.filter(reference=reference).exists():
            return reference


# Separators people type between the digits of a personal ID number ("0360 7200 4321", "036.072.004.321").
ID_NUMBER_SEPARATORS = re.compile(r"[\s.\-]+")


def id_number_digits(raw: str) -> tuple[str, str]:
    """A personal ID number as typed → (its 12 digits, ""), or ("", why it cannot be one). Spaces, dots and dashes
    are separators and dropped first, so that the length is that of the number, not of what was typed."""
    number = ID_NUMBER_SEPARATORS.sub("", raw or "")
    if not number:
        return "", _("Enter the applicant's personal ID number.")
    others = sorted({char for char in number if char not in "0123456789"})
    if others:
        return "", _("A personal ID number has 12 digits. Only spaces, dots or dashes may stand between them, not "
                     "%(characters)s.") % {"characters": ", ".join(f"“{char}”" for char in others[:5])}
    if len(number) != 12:
        return "", _("A personal ID number has 12 digits; this one has %(count)d.") % {"count": len(number)}
    return number, ""


def _own_dossier(user, code: str):
    """The dossier with this code if it is the signed-in citizen's: filed from their account, or filed at the desk or
    by post for them (the applicant, or the person it is about, is their record in the population registry)."""
    from egov.dossiers.models import Dossier

    if not getattr(user, "is_authenticated", False):
        return None
    theirs = Q(applicant=user)
    if user.person_id:
        theirs |= Q(applicant_person_id=user.person_id) | Q(subject_person_id=user.person_id)
    return Dossier.objects.select_related("receiving_agency").filter(theirs, code=code).first()


def _dossier_named(user, dossier_code: str, id_number: str, client: str) -> tuple[object, dict]:
    """The dossier a feedback is about, or the errors saying why not (``TooManyLookups`` past the limit).

    Dossier codes are sequential (agency-date-number): were a bare code enough, anyone could learn which dossiers
    exist and attach their feedback, and their name, to someone else's. So a citizen names their own dossier by its
    code alone; anyone else (signed in or not) also gives its applicant's personal ID number, checked as the public
    look-up checks it: one message whether the code is unknown or the number wrong, and the guesses counted per
    client address in the look-up's own budget (both pages answer the same question: do this code and number go
    together?), so that spreading guesses over the two pages gains nothing."""

    code = " ".join((dossier_code or "").split()).upper()
    if not code:
        return None, {"dossier_code": [_("Enter the code of the dossier, as printed on its receipt "
                                         "(e.g. 000.00.12.H29-260302-0001).")]}
    own = _own_dossier(user, code)
    if own is not None:
        return own, {}
    if not (id_number or "").strip():
        # Said the same way whether the code exists or not: only the missing number is named.
        if getattr(user, "is_authenticated", False):
            message = _("This is not one of your dossiers. About someone else's dossier, also enter its applicant's "
                        "personal ID number.")
        else:
            message = _("Without signing in, also enter the personal ID number of the dossier's applicant.")
        return None, {"id_number": [message]}
    number, problem = id_number_digits(id_number)
    if problem:
        return None, {"id_number": [problem]}
    try:
        dossier = dossier_services.dossier_by_code_and_id(code, number, client=client)
    except dossier_services.TooManyLookups:
        ledger.append("feedback.dossier_check_limited", partition="platform", payload={})
        raise
    if dossier is None:
        ledger.append("feedback.dossier_unmatched", partition="platform", payload={})
        return None, {"dossier_code": [_("No dossier matches this code and personal ID number. Check both against "
                                         "the receipt.")]}
    return dossier, {}


def submit(*, user, topic: str, text: str, agency=None, dossier_code: str = "", id_number: str = "",
           subject: str = "", full_name: str = "", email: str = "", phone: str = "", client: str = "",
           at=None) -> Feedback:
    """Gửi phản ánh, kiến nghị: about a dossier (by its code: the agency is the one that received it) or about a
    regulation or procedure (the citizen names the agency). Signed in: the account is the contact. Anonymous: a name
    and an email or a phone number are needed, so that the agency can answer.

    A dossier is named by its code alone only by its own citizen; anyone else adds the applicant's personal ID number
    (``_dossier_named``; ``client``: the client address whose guesses are counted). Raises InvalidInput, or
    ``TooManyLookups`` when that address has used its checks for now."""
    at = _now(at)
    if topic not in FeedbackTopic.values:
        raise InvalidInput({"topic": [_("Choose what your feedback is about.")]})
    dossier, errors = None, {}
    if topic == FeedbackTopic.DOSSIER:
        # Outside the transaction below: a refused guess must still count (and be logged) when the submission fails.
        dossier, errors = _dossier_named(user, dossier_code, id_number, client)
        if dossier is not None:
            agency = dossier.receiving_agency
    return _record(user=user, topic=topic, text=text, agency=agency, dossier=dossier, errors=errors, subject=subject,
                   full_name=full_name, email=email, phone=phone, at=at)


@transaction.atomic
def _record(*, user, topic, text, agency, dossier, errors, subject, full_name, email, phone, at) -> Feedback:
    errors = dict(errors)
    try:
        text = _text(text, "text", _("Write your feedback or complaint."))
    except InvalidInput as exc:
        errors.update(exc.message_dict)
    if topic != FeedbackTopic.DOSSIER:
        if agency is None:
            errors["agency"] = [_("Choose the agency your feedback concerns.")]
        subject = " ".join((subject or "").split())
        if not subject:
            errors["subject"] = [_("Name the regulation or procedure your feedback is about.")]
    authenticated = getattr(user, "is_authenticated", False)
    contact = {"full_name": " ".join((full_name or "").split())[:200], "email": (email or "").strip()[:254],
               "phone": "".join((phone or "").split())[:20]}
    if authenticated:
        contact = {"full_name": contact["full_name"] or user.get_full_name() or user.username,
                   "email": contact["email"] or user.email or "", "phone": contact["phone"] or user.phone or ""}
    else:
        if not contact["full_name"]:
            errors["full_name"] = [_("Enter your name, so that the agency can answer you.")]
        if not contact["email"] and not contact["phone"]:
            errors["email"] = [_("Give an email address or a phone number, so that the agency can answer you.")]
    if contact["email"]:
        try:
            validate_email(contact["email"])
        except ValidationError:
            errors["email"] = [_("Enter an email address like name@example.org.")]
    if contact["phone"] and not (contact["phone"].lstrip("+").isdigit() and 9 <= len(contact["phone"]) <= 15):
        errors["phone"] = [_("Enter a phone number of 9 to 15 digits, e.g. 0903123456.")]
    if errors:
        raise InvalidInput(errors)
    feedback = Feedback(reference=_new_reference(at), topic=topic, agency=agency, dossier=dossier,
                        author=user if authenticated else None, submitted_at=at, **_deadlines_from(at, agency))
    feedback.seal({"contact": contact, "subject": subject[:300], "text": text,
                   "thread": [{"at": at.isoformat(), "by": "author", "text": text}]})
    feedback.save()
    _event("submitted", feedback, user if authenticated else None,
           {"topic": topic, "dossier": dossier.code if dossier else ""})
    return feedback


def _add_to_thread(feedback: Feedback, by: str, text: str, at: dt.datetime, **extra) -> None:
    content = feedback.content()
    content.setdefault("thread", []).append({"at": at.isoformat(), "by": by, "text": text, **extra})
    feedback.seal(content)


@transaction.atomic
def accept(feedback_id, *, officer, at=None) -> Feedback:
    """Tiếp nhận xử lý: the agency takes the feedback up (within 2 working days)."""
    at = _now(at)
    feedback = _locked(feedback_id)
    _handler(officer, feedback)
    _require_status(feedback, (FeedbackStatus.SUBMITTED,))
    feedback.status, feedback.decided_at, feedback.handled_by = FeedbackStatus.ACCEPTED, at, officer
    feedback.save()
    _event("accepted", feedback, officer, {"late": at > feedback.refuse_due})
    return feedback


@transaction.atomic
def refuse(feedback_id, *, officer, reason: str, at=None) -> Feedback:
    """Từ chối tiếp nhận: not for this agency, or not feedback under the law; the reason goes to the author
    (within 2 working days)."""
    at = _now(at)
    feedback = _locked(feedback_id)
    _handler(officer, feedback)
    _require_status(feedback, (FeedbackStatus.SUBMITTED,))
    reason = _text(reason, "reason", _("Give the reason for refusing."), limit=2000)
    _add_to_thread(feedback, "agency", reason, at, kind="refusal")
    feedback.status, feedback.decided_at, feedback.handled_by = FeedbackStatus.REFUSED, at, officer
    feedback.save()
    _event("refused", feedback, officer, {"late": at > feedback.refuse_due})
    return feedback


@transaction.atomic
def ask_more(feedback_id, *, officer, question: str, at=None) -> Feedback:
    """Đề nghị bổ sung thông tin: the agency asks the author for more (within 5 working days)."""
    at = _now(at)
    feedback = _locked(feedback_id)
    _handler(officer, feedback)
    _require_status(feedback, (FeedbackStatus.SUBMITTED, FeedbackStatus.ACCEPTED))
    question = _text(question, "question", _("Say what information you need."), limit=2000)
    _add_to_thread(feedback, "agency", question, at, kind="question")
    late = at > feedback.more_info_due
    feedback.status, feedback.handled_by = FeedbackStatus.MORE_INFO, officer
    feedback.decided_at = feedback.decided_at or at
    feedback.save()
    _event("more_info_requested", feedback, officer, {"late": late})
    return feedback


def _take_reply(feedback: Feedback, text: str, at: dt.datetime, actor, **extra) -> Feedback:
    """The information asked for has arrived: back to "being handled", and the 15 working days to answer count again
    from it (the agency could not answer without it)."""
    _require_status(feedback, (FeedbackStatus.MORE_INFO,))
    text = _text(text, "text", _("Write the information the agency asked for."))
    _add_to_thread(feedback, "author", text, at, kind="reply", **extra)
    feedback.status = FeedbackStatus.ACCEPTED
    cal = calendar.Calendar()
    feedback.answer_due = cal.add_working_days(cal.receipt_instant(at, feedback.agency),
                                               deadline_days(feedback)["answer"], feedback.agency)
    feedback.save()
    _event("more_info_supplied", feedback, actor, {key: value for key, value in extra.items() if key == "channel"})
    return feedback


@transaction.atomic
def reply(feedback_id, *, user, text: str, at=None) -> Feedback:
    """The author, signed in, sends the information asked for."""
    at = _now(at)
    feedback = _locked(feedback_id)
    if not getattr(user, "is_authenticated", False) or feedback.author_id != user.pk:
        raise NotAllowed(_("Only the author may reply."))
    return _take_reply(feedback, text, at, user)


def _questions(feedback: Feedback) -> int:
    return sum(1 for entry in feedback.content().get("thread", []) if entry.get("kind") == "question")


def reply_link_token(feedback: Feedback) -> str:
    """The token of the link that lets the author answer the agency's latest question without an account (sent to the
    contact they gave, never shown elsewhere). Signed with the secret key, valid ``REPLY_LINK_DAYS`` days, and only for
    that question: once answered, or after a newer question, it no longer works."""
    return signing.dumps({"r": feedback.reference, "q": _questions(feedback)}, salt=REPLY_LINK_SALT)


def feedback_for_reply_link(token: str) -> Feedback:
    """The feedback whose latest question the link answers, or NotAllowed saying why the link does not work."""
    try:
        data = signing.loads(token, salt=REPLY_LINK_SALT, max_age=dt.timedelta(days=REPLY_LINK_DAYS))
    except signing.SignatureExpired:
        raise NotAllowed(_("This link has expired. Contact the agency and quote your feedback's reference.")) from None
    except signing.BadSignature:
        raise NotAllowed(_("This link is not valid. Use the link exactly as it was sent to you.")) from None
    feedback = Feedback.objects.select_related("agency").filter(reference=str(data.get("r", ""))).first()
    if feedback is None:
        raise NotAllowed(_("This link is not valid. Use the link exactly as it was sent to you."))
    if feedback.status != FeedbackStatus.MORE_INFO or data.get("q") != _questions(feedback):
        raise NotAllowed(_("This question has already been answered, or the agency has asked a newer one: use the "
                           "link of its latest message."))
    return feedback


@transaction.atomic
def reply_by_link(token: str, *, text: str, at=None) -> Feedback:
    """An author without an account answers through the link sent to their contact."""
    at = _now(at)
    feedback = _locked(feedback_for_reply_link(token).pk)
    if feedback.status != FeedbackStatus.MORE_INFO:  # answered meanwhile, by another tab or an officer
        raise NotAllowed(_("This question has already been answered, or the agency has asked a newer one: use the "
                           "link of its latest message."))
    return _take_reply(feedback, text, at, None, channel="link")


@transaction.atomic
def record_reply(feedback_id, *, officer, text: str, channel: str, at=None) -> Feedback:
    """The author answered the question another way (a call, an email, at the desk, a letter): an officer of the
    agency records it, with how it came, and handling goes on as after a reply online."""
    at = _now(at)
    feedback = _locked(feedback_id)
    _handler(officer, feedback)
    if channel not in REPLY_CHANNELS:
        raise InvalidInput({"channel": [_("Say how the author's answer reached you.")]})
    return _take_reply(feedback, text, at, officer, channel=channel, recorded_by=officer.pk)


@transaction.atomic
def answer(feedback_id, *, officer, text: str, at=None) -> Feedback:
    """Trả lời: the agency's answer to the author (within 15 working days); it must be published within 2 more. It
    may also answer while waiting for more information (the author never replied, or the agency found it meanwhile):
    otherwise an item whose author does not reply could never be closed."""
    at = _now(at)
    feedback = _locked(feedback_id)
    _handler(officer, feedback)
    _require_status(feedback, (FeedbackStatus.SUBMITTED, FeedbackStatus.ACCEPTED, FeedbackStatus.MORE_INFO))
    text = _text(text, "text", _("Write the answer."))
    _add_to_thread(feedback, "agency", text, at, kind="answer")
    feedback.status, feedback.answered_at, feedback.handled_by = FeedbackStatus.ANSWERED, at, officer
    feedback.decided_at = feedback.decided_at or at
    feedback.publish_due = calendar.Calendar().add_working_days(at, deadline_days(feedback)["publish"],
                                                                feedback.agency)
    feedback.save()
    _event("answered", feedback, officer, {"late": at > feedback.answer_due})
    return feedback


@transaction.atomic
def publish(feedback_id, *, officer, question: str, answer: str, at=None) -> Feedback:
    """Công khai: the question and the answer, rewritten without personal data, become public and searchable
    (within 2 working days of answering)."""
    at = _now(at)
    feedback = _locked(feedback_id)
    _handler(officer, feedback)
    _require_status(feedback, (FeedbackStatus.ANSWERED,))
    errors = {}
    try:
        question = _text(question, "question", _("Write the question as the public will read it, without names "
                                                 "or personal details."))
    except InvalidInput as exc:
        errors.update(exc.message_dict)
    try:
        answer = _text(answer, "answer", _("Write the answer as the public will read it."))
    except InvalidInput as exc:
        errors.update(exc.message_dict)
    if errors:
        raise InvalidInput(errors)
    feedback.public_question, feedback.public_answer = question, answer
    feedback.search_key = fold(f"{question} {answer} {feedback.agency.name}")
    feedback.status, feedback.published_at = FeedbackStatus.PUBLISHED, at
    feedback.save()
    _event("published", feedback, officer, {"late": at > feedback.publish_due})
    return feedback


def log_read(feedback: Feedback, *, reader, purpose: str) -> None:
    """A read of the author's sealed words and contact by an officer."""
    ledger.append("feedback.read", partition=feedback.agency.code, actor=reader, subject=feedback,
                  payload={"reference": feedback.reference, "purpose": purpose[:100]})
