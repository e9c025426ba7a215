"""The documents a dossier was issued, rendered from what was recorded: the facts come from the dossier, its
transitions (form, details) and steps; the layout from ``documents`` (pure PDF rendering)."""
from __future__ import annotations

import datetime as dt
import string

from egov.dossiers import documents, rules
from egov.dossiers.models import Attachment, Channel, Dossier, Status, Transition

CHANNEL_VI = {Channel.IN_PERSON: "Trực tiếp", Channel.ONLINE: "Trực tuyến", Channel.POST: "Qua dịch vụ bưu chính công ích"}
STATUS_VI = {1: "Mới đăng ký", 2: "Được tiếp nhận", 3: "Không được tiếp nhận", 4: "Đang xử lý",
             5: "Yêu cầu bổ sung giấy tờ", 6: "Yêu cầu thực hiện nghĩa vụ tài chính", 7: "Công dân yêu cầu rút hồ sơ",
             8: "Dừng xử lý", 9: "Đã xử lý xong", 10: "Đã trả kết quả"}
DELIVERY_VI = {"desk": "Tại bộ phận một cửa", "online": "Trực tuyến", "post": "Qua dịch vụ bưu chính công ích"}


def issuer(agency) -> documents.Issuer:
    unit = agency.administrative_unit
    return documents.Issuer(name=agency.name, code=agency.code, parent_name=agency.parent.name if agency.parent_id else "",
                            place=unit.name if unit else "")


def facts(dossier: Dossier, content: dict | None = None) -> documents.DossierFacts:
    content = content if content is not None else dossier.content()
    applicant = content.get("applicant") or {}
    subject = content.get("subject") or {}
    version = dossier.procedure_version
    return documents.DossierFacts(
        code=dossier.code, procedure_code=version.procedure.code, procedure_name=version.name,
        channel=CHANNEL_VI.get(dossier.channel, ""), applicant_name=applicant.get("full_name", ""),
        applicant_id_number=applicant.get("id_number", ""), applicant_address=applicant.get("address", ""),
        applicant_phone=applicant.get("phone", ""), applicant_email=applicant.get("email", ""),
        subject_name=subject.get("full_name", "") if subject else "")


def _officer_name(transition: Transition | None) -> str:
    if transition is None or transition.actor is None:
        return ""
    return transition.actor.get_full_name() or transition.actor.username


def _last(dossier: Dossier, form: str) -> Transition | None:
    return dossier.transitions.filter(form=form).select_related("actor").order_by("-at", "-id").first()


def _filed(dossier: Dossier) -> set[str]:
    """The codes of the components filed as files."""
    return set(dossier.attachments.filter(kind=Attachment.Kind.COMPONENT).values_list("component_code", flat=True))


def render(dossier: Dossier, form: str) -> bytes | None:
    """The PDF of ``form`` as issued to ``dossier``, or None when it was not issued."""
    who = issuer(dossier.receiving_agency)
    if form == rules.EFORM_DECLARATION:
        return _declaration(dossier, who)
    content = dossier.content()
    about = facts(dossier, content)
    if form == "01":
        issued = _last(dossier, "01")
        if issued is None or dossier.received_at is None:
            return None
        present = _filed(dossier)
        eform = dossier.declaration_from_answers(present)
        components = [documents.Item(c.get("name", c["code"]), "Đã nộp" if c["code"] in present else
                                     "Đã nộp, tờ khai điện tử" if eform and eform["code"] == c["code"] else
                                     ("Bắt buộc" if c.get("required") else ""))
                      for c in dossier.procedure_version.components]
        fees = [(line["name"], line["amount"]) for line in _fee_lines(dossier, content)]
        return documents.form_01_receipt(who, about, received_at=dossier.received_at,
                                         appointment_at=dossier.original_appointment_at or dossier.appointment_at,
                                         components=components, fees=fees, officer_name=_officer_name(issued))
    if form == "02":
        issued = _last(dossier, "02")
        if issued is None:
            return None
        return documents.form_02_supplement_request(
            who, about, issued_at=issued.at, missing=[documents.Item(m) for m in issued.details.get("missing", [])],
            note=issued.note, officer_name=_officer_name(issued))
    if form == "03":
        issued = _last(dossier, "03")
        if issued is None:
            return None
        return documents.form_03_refusal(who, about, issued_at=issued.at, reasons=issued.details.get("reasons", []),
                                         officer_name=_officer_name(issued))
    if form == "04":
        issued = _last(dossier, "04")
        if issued is None:
            return None
        return documents.form_04_apology(who, about, issued_at=issued.at,
                                         appointment_at=dt.datetime.fromisoformat(issued.details["old"]),
                                         new_appointment_at=dt.datetime.fromisoformat(issued.details["new"]),
                                         reason=issued.note, officer_name=_officer_name(issued))
    if form == "05":
        issued = _last(dossier, "05")
        if issued is None:
            return None
        reason = issued.note or ("Công dân rút hồ sơ" if issued.details.get("reason") == "withdrawn" else "")
        return documents.form_05_stop_notice(who, about, issued_at=issued.at, reason=reason,
                                             officer_name=_officer_name(issued))
    if form == "06":
        if dossier.received_at is None:
            return None
        return documents.form_06_process_control(who, about, received_at=dossier.received_at,
                                                 appointment_at=dossier.appointment_at, steps=step_rows(dossier))
    return None


def _fee_lines(dossier: Dossier, content: dict) -> list[dict]:
    """Form 01's fees: the lines the payment request will ask for, from the version's fees and the dossier's e-form
    answers (a fee may count copies or pages), by the same rule (``payments.rules.fee_lines``)."""
    from egov.payments import rules as payment_rules  # a pure rule; late, as payments builds on dossiers

    return payment_rules.fee_lines(dossier.procedure_version.fees, content.get("form") or {})


def _declaration(dossier: Dossier, who: documents.Issuer) -> bytes | None:
    from egov.dossiers.forms import answer_rows

    component = dossier.declaration_from_answers(_filed(dossier))
    if component is None:
        return None
    content = dossier.content()
    answers = [(label, text) for _name, label, text in answer_rows(dossier.procedure_version,
                                                                   content.get("form") or {})]
    if not answers:
        return None
    acknowledged = _last(dossier, "ack")
    return documents.eform_declaration(who, facts(dossier, content), title=component.get("name") or component["code"],
                                       answers=answers, submitted_at=dossier.submitted_at,
                                       declared=bool(acknowledged and acknowledged.details.get("declared")))


def declaration_to_sign(agency, version, *, channel: int, applicant: dict, subject: dict | None, form_data: dict,
                        at: dt.datetime) -> bytes | None:
    """The declaration of an applicant at the desk, printed from the answers typed for them, before the dossier is
    received (it has no code yet); None when the procedure has no declaration its e-form stands for, or nothing was
    answered."""
    from egov.dossiers.forms import answer_rows

    component = version.eform_component
    answers = [(label, text) for _name, label, text in answer_rows(version, form_data)]
    if component is None or not answers:
        return None
    about = documents.DossierFacts(
        code="", procedure_code=version.procedure.code, procedure_name=version.name,
        channel=CHANNEL_VI.get(channel, ""), applicant_name=applicant.get("full_name", ""),
        applicant_id_number=applicant.get("id_number", ""), applicant_address=applicant.get("address", ""),
        applicant_phone=applicant.get("phone", ""), applicant_email=applicant.get("email", ""),
        subject_name=(subject or {}).get("full_name", ""))
    return documents.declaration_to_sign(issuer(agency), about, title=component.get("name") or component["code"],
                                         answers=answers, printed_at=at)


def step_rows(dossier: Dossier) -> list[documents.StepRow]:
    """Form 06: the desk's reception and hand-over, then every processing step as it ran."""
    rows = []
    received = dossier.transitions.filter(to_status=Status.RECEIVED).select_related("actor").order_by("at").first()
    handed_over = dossier.transitions.filter(to_status=Status.PROCESSING, from_status=Status.RECEIVED) \
        .select_related("actor").order_by("at").first()
    previous_actor = _officer_name(received)
    steps = list(dossier.steps.select_related("assignee", "completed_by").order_by("started_at", "id"))
    if handed_over is not None:
        previous_actor = _officer_name(handed_over)
    for step in steps:
        done_by = step.completed_by or step.assignee
        rows.append(documents.StepRow(
            name=step.name, handed_by=previous_actor,
            received_by=(done_by.get_full_name() or done_by.username) if done_by else step.role,
            started_at=step.started_at, due_at=step.due_at, completed_at=step.completed_at,
            verdict=step.verdict if step.completed_at and step.outcome != "stopped" else "",
            note="Trả lại" if step.outcome == "return" else ""))
        if done_by is not None:
            previous_actor = done_by.get_full_name() or done_by.username
    return rows


def book_rows(dossiers: list[Dossier]) -> list[documents.BookRow]:
    rows = []
    for dossier in dossiers:
        applicant = (dossier.content().get("applicant") or {}).get("full_name", "")
        verdict = ""
        if dossier.finished_at and dossier.appointment_at and dossier.status in (Status.RESULT_READY, Status.DELIVERED):
            verdict = rules.verdict(dossier.finished_at, dossier.appointment_at)
        rows.append(documents.BookRow(
            code=dossier.code, procedure_name=dossier.procedure_version.name, applicant_name=applicant,
            channel=CHANNEL_VI.get(dossier.channel, ""), received_at=dossier.received_at,
            appointment_at=dossier.appointment_at, finished_at=dossier.finished_at, delivered_at=dossier.delivered_at,
            status=STATUS_VI.get(dossier.status, ""), verdict=verdict))
    return rows


class _Blank(dict):
    def __missing__(self, key):
        return "…"


def generated_result(dossier: Dossier, *, officer, at: dt.datetime, verification: str = "",
                     draft: bool = False) -> bytes:
    """A result generated from the procedure version's template: ``{placeholders}`` take the e-form's answers, the
    dossier code and the applicant's and subject's names; unknown ones print as an ellipsis. ``draft``: the preview
    an officer saves while steps remain open (dự thảo), marked as such, with the role of the procedure's last step
    (who will sign it) and no name under it; the signed result is rendered again at signing, with the signer."""
    content = dossier.content()
    values = _Blank({k: v for k, v in (content.get("form") or {}).items() if isinstance(v, (str, int, float))})
    values.update(content.get("registry") or {})
    values.update(code=dossier.code, applicant_name=(content.get("applicant") or {}).get("full_name", ""),
                  subject_name=((content.get("subject") or {}) or {}).get("full_name", ""),
                  agency_name=dossier.receiving_agency.name, issued_on=documents.vn_date(at))
    template = dossier.procedure_version.result_template or dossier.procedure_version.result_type
    try:
        body = string.Formatter().vformat(template, (), values)
    except (ValueError, IndexError, AttributeError):  # a template with a stray brace prints as written
        body = template
    if draft:
        signer_name, signer_title = "", _last_step_role_label(dossier) or officer.get_role_display()
    else:
        signer_name, signer_title = officer.get_full_name() or officer.username, officer.get_role_display()
    return documents.result_document(issuer(dossier.receiving_agency), facts(dossier, content),
                                     title=dossier.procedure_version.result_type.upper(), body=body, issued_at=at,
                                     signer_name=signer_name, signer_title=signer_title, verification=verification,
                                     draft=draft)


def _last_step_role_label(dossier: Dossier) -> str:
    from egov.accounts.models import Role
    from egov.accounts.rules import role_label

    steps = dossier.procedure_version.steps or []
    role = steps[-1].get("role", "") if steps and isinstance(steps[-1], dict) else ""
    return role_label(role) if role in Role.values else ""
