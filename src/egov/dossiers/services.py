"""Business actions on dossiers (hồ sơ): the only code that changes them.

Every legal transition goes through ``_move``: it checks the status table (``rules.require_transition``), records
the transition with the document it issues, and writes the ledger event in the same transaction. Authorisation is
always server-side: an officer acts only on their agency's dossiers and only in their role; an applicant only on
their own dossier.

The clock: the receipt instant (``calendar.receipt_instant``) starts it; the appointment date is always recomputed
from the receipt instant, the allowed working time and the closed pauses (a supplement or fees wait), never shifted
by hand, so a pause, a resumption or an apology can never leave it stale.
"""
from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import functools
import hashlib
import json
import logging
import re
from dataclasses import dataclass
from decimal import Decimal

import filetype
import jsonschema
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import connections, router, transaction
from django.db.models import Count
from django.db.models.functions import Mod
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from egov.accounts.rules import role_label
from egov.dossiers import rules, workflow
from egov.dossiers.models import (AgencyStatusCount, Attachment, Channel, Dossier, DossierCodeSequence, Pause, Status,
                                  ResultDelivery, Step, Transition)
from egov.dossiers.rules import TransitionRefused  # noqa: F401  (re-exported: views catch it from here)
from egov.kernel import calendar, crypto, ledger
from egov.kernel.calendar_rules import HOURS_PER_WORKING_DAY, to_vn
from egov.kernel.db import insert
from egov.kernel.text import has_control_characters, megabytes

logger = logging.getLogger("egov.dossiers")

REGISTRY_RIGHT = "population.register"
ALLOWED_TYPES = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}


class NotAllowed(PermissionDenied):
    """Not this person's to do (wrong role, another agency's dossier, not the applicant): HTTP 403."""


class InvalidInput(ValidationError):
    """Bad form data or file; ``message_dict`` maps each field to its messages (the form is shown again)."""


# --- Who acts --------------------------------------------------------------------------------------------------------

def _officer_role(officer) -> str:
    if not getattr(officer, "is_authenticated", False) or officer.role not in rules.OFFICER_ROLES or not officer.agency_id:
        raise NotAllowed(_("Only officers of an agency may do this."))
    return officer.role


def _require_agency(officer, dossier: Dossier) -> None:
    if officer.agency_id != dossier.receiving_agency_id:
        raise NotAllowed(_("This dossier belongs to another agency."))


def _require_applicant(user, dossier: Dossier) -> None:
    if not getattr(user, "is_authenticated", False) or dossier.applicant_id != user.pk:
        raise NotAllowed(_("Only the applicant may do this."))


def _acting_role(user, dossier: Dossier) -> str:
    """The applicant acts as ``applicant``; an officer of the receiving agency in their role (on the applicant's
    behalf where the table allows the desk to)."""
    if getattr(user, "is_authenticated", False) and dossier.applicant_id == user.pk:
        return rules.APPLICANT
    role = _officer_role(user)
    _require_agency(user, dossier)
    return role


def _locked(dossier_id) -> Dossier:
    dossier = (Dossier.objects.select_for_update().select_related("procedure_version", "receiving_agency")
               .filter(pk=dossier_id).first())
    if dossier is None:
        raise Dossier.DoesNotExist(f"no dossier {dossier_id}")
    return dossier


def _officer_on(dossier_id, officer, at) -> tuple[Dossier, str, dt.datetime]:
    """The dossier locked for an officer of its receiving agency, the officer's role and the instant of the act."""
    at = _now(at)
    dossier = _locked(dossier_id)
    role = _officer_role(officer)
    _require_agency(officer, dossier)
    return dossier, role, at


def _now(at) -> dt.datetime:
    at = at or timezone.now()
    if timezone.is_naive(at):
        raise ValueError("instants must be timezone-aware")
    return at


# --- Transitions, events, documents ----------------------------------------------------------------------------------

# Events whose notice quotes the document issued with them (form 02's missing items, form 03's reasons, the fee lines,
# form 04's and form 05's reason, the refused withdrawal's reason, how the result was delivered): their payload names
# the transition that holds it: a reference, never the officer's words in the ledger (words may name people, and the
# ledger is append-only).
_QUOTING_EVENTS = frozenset({"refuse", "request_supplement", "request_fees", "rescheduled", "stopped",
                             "withdrawal_refused", "delivered"})


def _event(name: str, dossier: Dossier, actor, payload: dict | None = None, *, transition=None) -> None:
    """A dossier's ledger event: its code, its status and its appointment date as they stand at the event (a notice
    sent later, after a backlog or a replay, quotes the date of the event, not one set since), then ``payload``;
    ``transition``: the row just written, which a quoting event names."""
    facts = {"code": dossier.code, "status": dossier.status,
             "appointment": dossier.appointment_at.isoformat() if dossier.appointment_at else None}
    if name in _QUOTING_EVENTS and transition is not None:
        facts["transition"] = transition.pk
    ledger.append(f"dossier.{name}", partition=dossier.receiving_agency.code, actor=actor, subject=dossier,
                  payload={**facts, **(payload or {})})


def _check_move(dossier: Dossier, target: int, *, action: str, role: str, at: dt.datetime) -> rules.Transition:
    rule = rules.require_transition(dossier.status, target, actor_role=role, on=to_vn(at).date())
    if rule.action != action:
        # Each move has its own action: recording a payment must not transfer a received dossier, though both lead
        # to "being processed".
        raise TransitionRefused(_("“%(action)s” is not possible while the dossier is “%(status)s”.")
                                % {"action": rules.action_label(action), "status": rules.label(dossier.status)})
    return rule


def _move(dossier: Dossier, target: int, *, action: str, actor, role: str, at: dt.datetime, note: str = "",
          details: dict | None = None, event: str | None = None) -> rules.Transition:
    rule = _check_move(dossier, target, action=action, role=role, at=at)
    source = dossier.status
    dossier.status = target
    count_move(dossier, source, target)
    transition = Transition.objects.create(dossier=dossier, from_status=source, to_status=target,
                                           actor=_user_or_none(actor), at=at, form=rule.form, note=note,
                                           details=details or {})
    _event(event or rule.action.replace("-", "_"), dossier, actor,
           {"from": source, "to": target, "form": rule.form}, transition=transition)
    return rule


def _record(dossier: Dossier, *, actor, at: dt.datetime, form: str, note: str = "", details: dict | None = None,
            event: str) -> None:
    """An event that issues a document without changing the status (form 04, a supplement answer, a result)."""
    transition = Transition.objects.create(dossier=dossier, from_status=dossier.status, to_status=dossier.status,
                                           actor=_user_or_none(actor), at=at, form=form, note=note,
                                           details=details or {})
    _event(event, dossier, actor, {"form": form}, transition=transition)


def count_move(dossier: Dossier, source: int | None, target: int | None) -> None:
    """Keep the agency's counts per status (``AgencyStatusCount``) in step with a move, in the caller's transaction.

    The rows are changed in status order whatever the direction of the move, so two transactions never hold one
    row each while waiting for the other's (no deadlock between, say, 4 → 7 and 7 → 4). One upsert statement per
    row (created at ``delta`` when missing): it runs in every submission and every move, and the ORM's
    update-then-create took one to three compiled statements."""
    if source == target:
        return
    agency_id, slot = dossier.receiving_agency_id, dossier.pk % AgencyStatusCount.SLOTS
    changes = sorted((status, delta) for status, delta in ((source, -1), (target, 1)) if status is not None)
    connection = connections[router.db_for_write(AgencyStatusCount)]
    with connection.cursor() as cursor:
        for status, delta in changes:
            cursor.execute(_count_sql(connection), [agency_id, status, slot, delta, delta])


_COUNT_SQL: dict[str, str] = {}


def _count_sql(connection) -> str:
    if connection.vendor not in _COUNT_SQL:
        q = connection.ops.quote_name
        table = q(AgencyStatusCount._meta.db_table)
        _COUNT_SQL[connection.vendor] = (
            f"INSERT INTO {table} ({q('agency_id')}, {q('status')}, {q('slot')}, {q('n')}) VALUES (%s, %s, %s, %s) "
            f"ON CONFLICT ({q('agency_id')}, {q('status')}, {q('slot')}) DO UPDATE SET {q('n')} = {table}.{q('n')} + %s")
    return _COUNT_SQL[connection.vendor]


def rebuild_status_counts() -> int:
    """Recount every agency's dossiers per status from the dossiers themselves (after a bulk load, or to check the
    running counts); returns how many rows were written."""
    with transaction.atomic():
        AgencyStatusCount.objects.all().delete()
        rows = (Dossier.objects.order_by().annotate(slot=Mod("id", AgencyStatusCount.SLOTS))
                .values_list("receiving_agency_id", "status", "slot").annotate(n=Count("id")))
        created = AgencyStatusCount.objects.bulk_create(
            [AgencyStatusCount(agency_id=agency_id, status=status, slot=slot, n=n)
             for agency_id, status, slot, n in rows], batch_size=2000)
    return len(created)


def _user_or_none(actor):
    return actor if getattr(actor, "is_authenticated", False) else None


# --- Codes -----------------------------------------------------------------------------------------------------------

def _allocate_code(agency_code: str, at: dt.datetime) -> str:
    """Next code of the receiving unit for the day, inside the caller's transaction: the sequence row stays locked
    until the dossier is committed, so a rolled-back submission gives its number back (no gaps) and two submissions
    never get the same number.

    One statement (an upsert that returns the new number; the first dossier of the day creates the row at 1): the
    update locks the row exactly as SELECT … FOR UPDATE did, in a third of the round trips and with no ORM
    compilation, on every submission."""
    day = to_vn(at).date()
    connection = connections[router.db_for_write(DossierCodeSequence)]
    if connection.vendor not in _SEQUENCE_SQL:
        q = connection.ops.quote_name
        table = q(DossierCodeSequence._meta.db_table)
        _SEQUENCE_SQL[connection.vendor] = (
            f"INSERT INTO {table} ({q('agency_code')}, {q('day')}, {q('last')}) VALUES (%s, %s, 1) "
            f"ON CONFLICT ({q('agency_code')}, {q('day')}) DO UPDATE SET {q('last')} = {table}.{q('last')} + 1 "
            f"RETURNING {q('last')}")
    with connection.cursor() as cursor:
        cursor.execute(_SEQUENCE_SQL[connection.vendor],
                       [agency_code, DossierCodeSequence._meta.get_field("day").get_db_prep_value(day, connection)])
        (number,) = cursor.fetchone()
    return rules.dossier_code(agency_code, day, number)


_SEQUENCE_SQL: dict[str, str] = {}


# --- Input checks ----------------------------------------------------------------------------------------------------

_SCHEMA_MESSAGES = {
    "required": lambda e: _("This field is required."),
    "type": lambda e: _("Enter a value of the right kind (%(kind)s).") % {"kind": e.validator_value},
    "enum": lambda e: _("Choose one of the options offered."),
    "minLength": lambda e: _("Enter at least %(n)s characters.") % {"n": e.validator_value},
    "maxLength": lambda e: _("Enter at most %(n)s characters.") % {"n": e.validator_value},
    "pattern": lambda e: _("This value does not have the expected format."),
    "format": lambda e: _("This value does not have the expected format (%(format)s).") % {"format": e.validator_value},
    "minimum": lambda e: _("Enter a value of at least %(n)s.") % {"n": e.validator_value},
    "maximum": lambda e: _("Enter a value of at most %(n)s.") % {"n": e.validator_value},
}


@functools.lru_cache(maxsize=512)
def _validator(schema_text: str) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(json.loads(schema_text),
                                           format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


FORM_TEXT_MAX_CHARS = 10_000  # an answer longer than this is no answer to an e-form, whatever its schema allows


def check_form_data(schema: dict, data: dict, ui_schema: dict | None = None) -> None:
    """Validate the e-form's answers against the procedure version's JSON Schema, and what every e-form refuses
    whatever its schema (NUL and control characters, a text over ``FORM_TEXT_MAX_CHARS``, a personal ID number that
    breaks the registry's rules or the field's ``sex`` hint); errors per field. The web form checks the same; this
    is what an API client or a stale draft meets.

    The validator is built once per schema text and kept (a few hundred versions at most): keyed by the schema's
    own canonical text, so an edited schema gets a new validator and a stale one is never used."""
    validator = _validator(json.dumps(schema, sort_keys=True, separators=(",", ":")))
    errors: dict[str, list[str]] = {}
    if isinstance(data, dict):
        for name, value in data.items():
            problem = _answer_problem(value, (schema.get("properties") or {}).get(name),
                                      (ui_schema or {}).get(name))
            if problem:
                errors.setdefault(f"form.{name}", []).append(problem)
    for error in validator.iter_errors(data):
        if error.validator == "required":
            missing = error.message.split("'")[1] if "'" in error.message else ""
            field = ".".join(str(p) for p in [*error.absolute_path, missing] if p != "")
        else:
            field = ".".join(str(p) for p in error.absolute_path) or "__all__"
        message = _SCHEMA_MESSAGES.get(error.validator, lambda e: _("This value is not accepted."))(error)
        errors.setdefault(f"form.{field}" if field != "__all__" else field, []).append(message)
    if errors:
        raise InvalidInput(errors)


def _answer_problem(value, spec, hints) -> str:
    """What no e-form accepts in an answer (see ``check_form_data``); "" for none."""
    texts = [value] if isinstance(value, str) else [v for v in value if isinstance(v, str)] \
        if isinstance(value, list) else []
    for text in texts:
        if has_control_characters(text):
            return _("Remove the control characters from this answer.")
        if len(text) > FORM_TEXT_MAX_CHARS:
            return _("Write at most %(limit)s characters here (this answer has %(count)s).") % {
                "limit": number_format(FORM_TEXT_MAX_CHARS, force_grouping=True),
                "count": number_format(len(text), force_grouping=True)}
    hints = hints if isinstance(hints, dict) else {}
    if isinstance(value, str) and re.fullmatch(r"\d{12}", value) and (
            hints.get("widget") == "pin" or (spec or {}).get("pattern") in (r"^\d{12}$", "^[0-9]{12}$")):
        from egov.registries.rules import personal_id_field_problem

        return personal_id_field_problem(value, sex=hints.get("sex"))
    return ""


def _read_upload(field: str, upload) -> tuple[bytes, str]:
    # Each message names the file: several are posted at once (a supplement), and the user must know which to fix.
    limit = settings.EGOV_ATTACHMENT_MAX_BYTES
    name = getattr(upload, "name", "") or ""
    if upload.size is not None and upload.size > limit:
        raise InvalidInput({field: [_("“%(name)s” is %(size)s MB; files may be at most %(limit)s MB.")
                                    % {"name": name, "size": megabytes(upload.size), "limit": megabytes(limit)}]})
    content = upload.read(limit + 1)
    if len(content) > limit:
        raise InvalidInput({field: [_("“%(name)s” is larger than %(limit)s MB.")
                                    % {"name": name, "limit": megabytes(limit)}]})
    if not content:
        raise InvalidInput({field: [_("“%(name)s” is empty.") % {"name": name}]})
    kind = filetype.guess(content[:8192])
    mime = kind.mime if kind else ""
    if mime not in ALLOWED_TYPES:
        raise InvalidInput({field: [_("Only PDF, JPEG and PNG files are accepted; “%(name)s” is not one of them, "
                                      "whatever its name says.") % {"name": name}]})
    return content, mime


def check_files(files: list[tuple[str, object]], components: list[dict], *, require_all: bool) -> list[tuple]:
    """Read and check every file first (all errors at once), before anything is stored."""
    known = {c["code"]: c for c in components}
    errors: dict[str, list[str]] = {}
    checked = []
    for code, upload in files:
        field = f"file_{code}"
        if code not in known and code != "supplement":
            errors.setdefault(field, []).append(_("This dossier has no component %(code)s.") % {"code": code})
            continue
        try:
            content, mime = _read_upload(field, upload)
        except InvalidInput as exc:
            for key, messages in exc.message_dict.items():
                errors.setdefault(key, []).extend(messages)
            continue
        checked.append((code, content, mime))
    if require_all:
        given = {code for code, _content, _mime in checked} | {code for code, _u in files}
        for component in components:
            if component.get("required") and component["code"] not in given:
                errors.setdefault(f"file_{component['code']}", []).append(_("Attach this document."))
    if errors:
        raise InvalidInput(errors)
    return checked


def _store(dossier: Dossier, checked: list[tuple], *, kind: str, user, components: list[dict],
           uploaded_names: list[str] | None = None) -> list[Attachment]:
    stored = _written(dossier, checked, kind=kind, user=user, components=components, uploaded_names=uploaded_names)
    for attachment in stored:
        attachment.save()
    return stored


def _uploaded_stem(name: str) -> str:
    """An uploaded file's own name without its folder and extension, printable, for a document no component names."""
    stem = name.replace("\\", "/").rsplit("/", 1)[-1].rsplit(".", 1)[0]
    return " ".join("".join(ch for ch in stem if ch.isprintable()).split())[:180]


def _written(dossier: Dossier, checked: list[tuple], *, kind: str, user, components: list[dict],
             uploaded_names: list[str] | None = None) -> list[Attachment]:
    """The checked files written to the dossier's storage, as attachments not saved yet (the dossier may not be
    either): writing 200 KB needs no transaction, and a transaction that waits for it holds its locks longer.

    A file is named after its component; one that answers no component (a free-form supplement) keeps the name the
    applicant gave it (``uploaded_names``, in the order of ``checked``), so that the officer tells two apart."""
    names = {c["code"]: c.get("name", c["code"]) for c in components}
    written = []
    try:
        for index, (code, content, mime) in enumerate(checked):
            name = names.get(code)
            if name is None:
                name = (_uploaded_stem(uploaded_names[index]) if uploaded_names else "") or _("Supplementary document")
            attachment = Attachment(dossier=dossier, kind=kind, component_code=code, content_type=mime,
                                    size=len(content), sha256=hashlib.sha256(content).hexdigest(),
                                    uploaded_by=_user_or_none(user), name=f"{name[:180]}.{ALLOWED_TYPES[mime]}")
            attachment.file.save(ALLOWED_TYPES[mime], ContentFile(content), save=False)
            written.append(attachment)
    except BaseException:
        _delete_written(written)
        raise
    return written


def _delete_written(attachments: list[Attachment]) -> None:
    """Remove the files of attachments that were never saved (their transaction failed): nothing else points at them."""
    delete_files([attachment.file.name for attachment in attachments])


def delete_files(names: list[str]) -> None:
    """Delete stored files nothing points at any more. A file that cannot be deleted is logged and left: this runs
    after the change that orphaned them has committed (or failed), which a storage error must not undo or hide."""
    from django.core.files.storage import default_storage

    for name in names:
        if not name:
            continue
        try:
            default_storage.delete(name)
        except OSError:
            logger.warning("could not delete the stored file %s", name, exc_info=True)


def _person_details(details: dict | None, field: str) -> dict | None:
    if details is None:
        return None
    errors = {}
    clean = {key: " ".join(str(details.get(key) or "").split()) for key in ("full_name", "id_number", "phone", "email",
                                                                           "address")}
    clean["date_of_birth"] = details.get("date_of_birth").isoformat() if details.get("date_of_birth") else ""
    if not clean["full_name"]:
        errors[f"{field}.full_name"] = [_("Enter the full name.")]
    if clean["id_number"]:
        from egov.registries.rules import InvalidPersonalId, check_personal_id

        try:  # the number's century and year digits must fit the date of birth when it is given
            check_personal_id(clean["id_number"], date_of_birth=details.get("date_of_birth") or None)
        except InvalidPersonalId as exc:
            errors[f"{field}.id_number"] = [exc.message]
    if errors:
        raise InvalidInput(errors)
    return clean


def _person_by_id_number(id_number: str):
    from egov.registries.models import PIN_FIELD, Person

    if not id_number:
        return None
    return Person.objects.filter(pin_index__in=crypto.blind_indexes(PIN_FIELD, id_number)).first()


# --- The clock -------------------------------------------------------------------------------------------------------

def _closed_pauses(dossier: Dossier) -> list[tuple[dt.datetime, dt.datetime]]:
    return [(p.started_at, p.ended_at) for p in dossier.pauses.all() if p.ended_at is not None]


def _start_clock(dossier: Dossier, at: dt.datetime, cal: calendar.Calendar) -> None:
    version = dossier.procedure_version
    dossier.received_at = cal.receipt_instant(at, dossier.receiving_agency, same_day=version.same_day)
    dossier.allowed_hours = Decimal(version.duration_days) * HOURS_PER_WORKING_DAY
    dossier.appointment_at = cal.add_working_hours(dossier.received_at, dossier.allowed_hours, dossier.receiving_agency)
    dossier.original_appointment_at = dossier.appointment_at


def _recompute_appointment(dossier: Dossier, cal: calendar.Calendar) -> None:
    if dossier.received_at is None:
        return
    dossier.appointment_at = cal.add_working_hours(dossier.received_at, dossier.allowed_hours,
                                                   dossier.receiving_agency, pauses=_closed_pauses(dossier))
    pauses = _closed_pauses(dossier)
    for step in dossier.steps.filter(completed_at__isnull=True):
        step.due_at = cal.add_working_hours(step.started_at, _step_hours(dossier, step.task_id),
                                            dossier.receiving_agency, pauses=pauses)
        step.save(update_fields=["due_at"])


def _pause(dossier: Dossier, reason: str, at: dt.datetime) -> None:
    Pause.objects.create(dossier=dossier, reason=reason, started_at=at)


def _resume(dossier: Dossier, at: dt.datetime, *, since: dt.datetime | None = None) -> None:
    """The clock runs again from ``at``, or from ``since`` when what ended the pause happened earlier (fees paid
    while a withdrawal request held the dossier), though never before the pause began."""
    if since is None or since >= at:
        dossier.pauses.filter(ended_at__isnull=True).update(ended_at=at)
    else:
        for pause in dossier.pauses.filter(ended_at__isnull=True):
            pause.ended_at = max(pause.started_at, since)
            pause.save(update_fields=["ended_at"])
    _recompute_appointment(dossier, calendar.Calendar())


# --- Workflow steps --------------------------------------------------------------------------------------------------

def _step_hours(dossier: Dossier, task_id: str) -> Decimal:
    for step in dossier.procedure_version.steps:
        if step.get("id") == task_id:
            return Decimal(str(step.get("working_days", 0))) * HOURS_PER_WORKING_DAY
    return Decimal(0)


def _open_ready_steps(dossier: Dossier, at: dt.datetime, cal: calendar.Calendar, next_assignee=None) -> None:
    bpmn = dossier.procedure_version.bpmn
    running = set(dossier.steps.filter(completed_at__isnull=True).values_list("task_id", flat=True))
    pauses = _closed_pauses(dossier)
    current = []
    for ready in workflow.ready_steps(bpmn, dossier.workflow_state):
        current.append(ready.task_id)
        if ready.task_id in running:
            continue
        assignee = next_assignee if next_assignee is not None and next_assignee.role == ready.role else None
        Step.objects.create(dossier=dossier, task_id=ready.task_id, name=ready.name, role=ready.role,
                            assignee=assignee, started_at=at,
                            due_at=cal.add_working_hours(at, _step_hours(dossier, ready.task_id),
                                                         dossier.receiving_agency, pauses=pauses))
    dossier.current_step = ",".join(current)[:64]
    first_open = dossier.steps.filter(completed_at__isnull=True).order_by("started_at", "id").first()
    dossier.assignee = first_open.assignee if first_open else None


# --- Submission and intake -------------------------------------------------------------------------------------------

def _errors_of(*checks) -> dict[str, list[str]]:
    """Run every check and gather all their field errors (one submission reports every problem at once)."""
    errors: dict[str, list[str]] = {}
    for check in checks:
        try:
            check()
        except InvalidInput as exc:
            errors.update(exc.message_dict)
    return errors


def _one_row(model, sql_of, params):
    """One row of a small statement on ``model``'s table, its SQL text built once per database vendor by
    ``sql_of(quote_name, table)``: for the look-ups every submission makes, where the ORM's compilation cost more
    than the database's work (measured with bench/bench_submission.py)."""
    connection = connections[router.db_for_read(model)]
    key = (sql_of, connection.vendor)
    if key not in _ONE_ROW_SQL:
        _ONE_ROW_SQL[key] = sql_of(connection.ops.quote_name, connection.ops.quote_name(model._meta.db_table))
    with connection.cursor() as cursor:
        cursor.execute(_ONE_ROW_SQL[key], params)
        return cursor.fetchone()


_ONE_ROW_SQL: dict = {}


def _made_under_sql(q, table):
    return f"SELECT {q('id')}, {q('applicant_id')} FROM {table} WHERE {q('idempotency_key')} = %s"


def _made_under(idempotency_key: str) -> tuple[int, int | None] | None:
    """(id, applicant id) of the dossier already made under ``idempotency_key``, if any."""
    return _one_row(Dossier, _made_under_sql, [idempotency_key])


def _newer_in_force_sql(q, table):
    """A newer version of a procedure (id, this version's effective_from) in force on a day: the unique (procedure,
    effective_from) index."""
    return (f"SELECT 1 FROM {table} WHERE {q('procedure_id')} = %s AND {q('effective_from')} > %s "
            f"AND {q('effective_from')} <= %s LIMIT 1")


def _version_check_sql(q, table):
    """Whether the agency implements the version, and whether a newer version of its procedure is in force on a day:
    one round trip, each an indexed look-up (the through table's unique pair; ``_newer_in_force_sql``)."""
    from egov.procedures.models import ProcedureVersion

    return (f"SELECT (SELECT 1 FROM {table} WHERE {q('procedureversion_id')} = %s AND {q('agency_id')} = %s LIMIT 1), "
            f"({_newer_in_force_sql(q, q(ProcedureVersion._meta.db_table))})")


def superseded(version, *, on: dt.date) -> bool:
    """Whether a newer version of ``version``'s procedure is in force on the day ``on`` (one indexed look-up)."""
    return _one_row(type(version), _newer_in_force_sql, [version.procedure_id, version.effective_from, on]) is not None


def _check_version_at(version, agency, at: dt.datetime) -> None:
    """A dossier is filed under the version of the procedure in force on the day (Vietnam time): not one whose day has
    not come, nor one a newer version has replaced (an online draft started before the change, a desk form left
    open), and at an agency that implements it."""
    day = to_vn(at).date()
    implements, newer = _one_row(version.agencies.through, _version_check_sql,
                                 [version.pk, agency.pk, version.procedure_id, version.effective_from, day])
    if implements is None:
        raise InvalidInput({"procedure": [_("This agency does not implement this procedure.")]})
    if version.effective_from > day:
        raise InvalidInput({"procedure": [_("This version of the procedure is not in force yet.")]})
    if newer is not None:
        raise InvalidInput({"procedure": [_("A newer version of this procedure is in force: the dossier must be filed "
                                            "under it.")]})


def _new_dossier(*, version, agency, channel: int, status: int, at: dt.datetime, applicant_user, applicant: dict,
                 subject: dict | None, form_data: dict, filed_by=None, idempotency_key=None) -> Dossier:
    dossier = _prepared_dossier(version=version, agency=agency, channel=channel, status=status, at=at,
                                applicant_user=applicant_user, applicant=applicant, subject=subject, form_data=form_data,
                                filed_by=filed_by, idempotency_key=idempotency_key)
    _save_new(dossier, at)
    return dossier


def _prepared_dossier(*, version, agency, channel: int, status: int, at: dt.datetime, applicant_user, applicant: dict,
                      subject: dict | None, form_data: dict, filed_by=None, idempotency_key=None) -> Dossier:
    """A new dossier with its people found and its content sealed, neither saved nor numbered: all that needs no
    transaction (``_save_new`` does the rest inside one)."""
    dossier = Dossier(procedure_version=version, receiving_agency=agency, channel=channel, status=status,
                      applicant=applicant_user, filed_by=filed_by, submitted_at=at, idempotency_key=idempotency_key)
    dossier.applicant_person = _person_by_id_number(applicant.get("id_number", ""))
    if subject:
        dossier.subject_person = _person_by_id_number(subject.get("id_number", ""))
    dossier.seal({"applicant": applicant, "subject": subject, "form": form_data})
    return dossier


def _save_new(dossier: Dossier, at: dt.datetime) -> None:
    """In the caller's transaction: the code of the day, the row, and the agency's count of its status."""
    dossier.code = _allocate_code(dossier.receiving_agency.code, at)
    insert(dossier)
    count_move(dossier, None, dossier.status)


@transaction.atomic
def intake_at_desk(*, officer, procedure_version, channel: int, applicant: dict, subject: dict | None,
                   form_data: dict, files: list[tuple[str, object]], at=None) -> Dossier:
    """Tiếp nhận trực tiếp / qua bưu chính: the desk files a walk-in or postal dossier and receives it at once
    (none → 2, form 01); the clock starts at the receipt instant."""
    at = _now(at)
    role = _officer_role(officer)
    if channel not in (Channel.IN_PERSON, Channel.POST):
        raise InvalidInput({"channel": [_("At the desk a dossier comes in person or by post.")]})
    version = procedure_version
    agency = officer.agency
    rules.require_transition(rules.NEW, Status.RECEIVED, actor_role=role, on=to_vn(at).date())
    errors = _errors_of(lambda: _check_version_at(version, agency, at),
                        lambda: _person_details(applicant, "applicant"),
                        lambda: _person_details(subject, "subject"),
                        lambda: check_form_data(version.form_schema, form_data, version.ui_schema))
    try:
        checked = check_files(files, version.components, require_all=False)
    except InvalidInput as exc:
        errors.update(exc.message_dict)
        checked = []
    if errors:
        raise InvalidInput(errors)
    dossier = _new_dossier(version=version, agency=agency, channel=channel, status=Status.RECEIVED, at=at,
                           applicant_user=None, applicant=_person_details(applicant, "applicant"),
                           subject=_person_details(subject, "subject"), form_data=form_data, filed_by=officer)
    filed = _store(dossier, checked, kind=Attachment.Kind.COMPONENT, user=officer, components=version.components)
    # The applicant's citizen account, when they have one (matched by their personal ID number), keeps what was
    # filed at the desk or by post in its data store, as it would an online submission's files.
    keep_in_data_store(_data_store_owner(dossier), filed, at=at, new=True)
    _start_clock(dossier, at, calendar.Calendar())
    dossier.save()
    Transition.objects.create(dossier=dossier, from_status=None, to_status=Status.RECEIVED, actor=officer, at=at,
                              form="01")
    _event("received", dossier, officer, {"from": None, "to": Status.RECEIVED, "form": "01", "channel": channel})
    return dossier


def declaration_to_sign(*, officer, procedure_version, channel: int, applicant: dict, subject: dict | None,
                        form_data: dict, at=None) -> Download:
    """Tờ khai in sẵn: an applicant who came to the desk without their declaration gives its answers by word; the
    officer types them in the intake form and prints this, the applicant reads and signs it, and the officer scans
    the signed paper with the other components before receiving the dossier (``intake_at_desk``). Checked as the
    intake checks the same fields, by an officer who may receive; nothing is stored (the form keeps what was typed)."""
    at = _now(at)
    role = _officer_role(officer)
    version = procedure_version
    rules.require_transition(rules.NEW, Status.RECEIVED, actor_role=role, on=to_vn(at).date())
    errors = _errors_of(lambda: _check_version_at(version, officer.agency, at),
                        lambda: _person_details(applicant, "applicant"),
                        lambda: _person_details(subject, "subject"),
                        lambda: check_form_data(version.form_schema, form_data, version.ui_schema))
    if version.eform_component is None:
        errors.setdefault("procedure", []).append(_(
            "This procedure has no declaration made from its form to print: the applicant fills in and signs the "
            "procedure's own form."))
    if errors:
        raise InvalidInput(errors)
    from egov.dossiers import paperwork

    content = paperwork.declaration_to_sign(officer.agency, version, channel=channel,
                                            applicant=_person_details(applicant, "applicant"),
                                            subject=_person_details(subject, "subject"), form_data=form_data, at=at)
    if content is None:
        raise InvalidInput({"form": [_("Type the applicant's answers in the declaration form first: there is "
                                            "nothing to print yet.")]})
    return Download(content=content, filename=f"to-khai-{version.procedure.code}.pdf")


def _check_online(version) -> None:
    if not version.offered_online:
        raise InvalidInput({"procedure": [_("This procedure cannot be applied for online; go to the agency's desk.")]})


def submit_online(*, applicant_user, procedure_version, agency, form_data: dict, files: list[tuple[str, object]],
                  subject: dict | None = None, idempotency_key: str | None = None, at=None,
                  reused: dict | None = None, also=None, result_delivery: str | None = None,
                  declared: bool = False) -> Dossier:
    """Nộp trực tuyến: (none) → 1 with the dossier code; auto-receive procedures are received at once (→ 2).

    The e-form's answers stand for the declaration component the catalogue marks ``eform`` (tờ khai điện tử): it is
    not uploaded, and the dossier's declaration is rendered from the answers (``paperwork``); ``declared``: the
    applicant affirmed them as true (recorded with the acknowledgement, and printed on the declaration).

    ``reused`` maps a component code to one of the applicant's stored documents (kho dữ liệu điện tử) that stands in
    for an upload ("once only"): the dossier gets an attachment of the same stored file, and the reuse is recorded
    (a ``DocumentReuse`` row and a ``dossier.document_reused`` event). Every newly uploaded component is kept in the
    applicant's data store.

    ``result_delivery``: how the applicant chose to receive the result (``ResultDelivery``; ``None``: not asked, the
    desk delivers it as for a dossier filed there); online, the platform delivers the signed result as soon as it is
    ready.

    ``also(dossier)``, when given, runs last in the same transaction (the apply flow links its draft there, rather
    than wrapping this in a transaction of its own, whose savepoint cost two statements per submission).

    Everything that only reads or checks, the sealing and the writing of the files come before the transaction,
    which holds just the writes: it keeps the unit's code of the day and its ledger chain head locked (and, on
    SQLite, the one writer) for as short a time as possible, which is what limits submissions per second."""
    from egov.accounts.services import require_assurance

    at = _now(at)
    if idempotency_key:
        earlier = _made_under(idempotency_key)
        if earlier is not None:
            if earlier[1] != applicant_user.pk:
                raise NotAllowed(_("This submission key belongs to someone else."))
            return Dossier.objects.get(pk=earlier[0])  # a double click or a retry makes one dossier
    if not getattr(applicant_user, "is_authenticated", False):
        raise NotAllowed(_("Sign in to apply online."))
    version = procedure_version
    require_assurance(applicant_user, version.min_assurance_level)
    rules.require_transition(rules.NEW, Status.SUBMITTED, actor_role=rules.APPLICANT, on=to_vn(at).date())
    errors = _errors_of(lambda: _check_version_at(version, agency, at),
                        lambda: _check_online(version),
                        lambda: _person_details(subject, "subject"),
                        lambda: check_form_data(version.form_schema, form_data, version.ui_schema),
                        lambda: _result_delivery(version, result_delivery))
    reused = reused or {}
    try:
        reused_errors = _check_reused(applicant_user, version, reused)
        checked = check_files(files, version.components, require_all=False)
    except InvalidInput as exc:
        errors.update(exc.message_dict)
        checked = []
    else:
        errors.update(reused_errors)
    given = {code for code, _upload in files} | set(reused)
    for component in version.components:
        if component.get("required", True) and component["code"] not in given and not component.get("eform"):
            errors.setdefault(f"file_{component['code']}", []).append(_("Attach this document."))
    if errors:
        raise InvalidInput(errors)
    dossier = _prepared_dossier(version=version, agency=agency, channel=Channel.ONLINE, status=Status.SUBMITTED,
                                at=at, applicant_user=applicant_user, applicant=_applicant_details_of(applicant_user),
                                subject=_person_details(subject, "subject"), form_data=form_data,
                                idempotency_key=idempotency_key)
    dossier.result_delivery = _result_delivery(version, result_delivery)
    stored = _written(dossier, checked, kind=Attachment.Kind.COMPONENT, user=applicant_user,
                      components=version.components)
    try:
        with transaction.atomic():
            _save_new(dossier, at)
            for attachment in stored:
                insert(attachment)
            keep_in_data_store(applicant_user, stored, at=at, new=True)
            _reuse_stored(dossier, reused, user=applicant_user, at=at)
            insert(Transition(dossier=dossier, from_status=None, to_status=Status.SUBMITTED, actor=applicant_user,
                              at=at, form="ack", details={"declared": True} if declared else {}))
            _event("submitted", dossier, applicant_user,
                   {"from": None, "to": Status.SUBMITTED, "channel": Channel.ONLINE})
            if version.auto_receive:
                _start_clock(dossier, at, calendar.Calendar())
                dossier.status = Status.RECEIVED
                count_move(dossier, Status.SUBMITTED, Status.RECEIVED)
                dossier.save()
                Transition.objects.create(dossier=dossier, from_status=Status.SUBMITTED, to_status=Status.RECEIVED,
                                          at=at, form="01", note="auto-receive")
                _event("received", dossier, "auto-receive",
                       {"from": Status.SUBMITTED, "to": Status.RECEIVED, "form": "01"})
            if also is not None:
                also(dossier)
    except BaseException:
        _delete_written(stored)
        raise
    return dossier


def result_deliveries(version) -> list[str]:
    """How an online applicant may receive the result: online too where the procedure is full-process online (its
    result is issued signed, electronically), else at the desk only."""
    from egov.procedures.models import OnlineLevel

    if version.online_level == OnlineLevel.FULL:
        return [ResultDelivery.ONLINE, ResultDelivery.DESK]
    return [ResultDelivery.DESK]


def _result_delivery(version, chosen: str | None) -> str:
    allowed = result_deliveries(version)
    if chosen in (None, ""):
        return ""
    if chosen not in allowed:
        raise InvalidInput({"result_delivery": [
            _("The result of this procedure is collected at the reception and result desk.")
            if chosen == ResultDelivery.ONLINE else _("Choose how you want to receive the result.")]})
    return chosen


def _applicant_details_of(user) -> dict:
    details = {"full_name": user.get_full_name() or user.username, "id_number": "", "date_of_birth": "",
               "phone": user.phone or "", "email": user.email or "", "address": ""}
    if user.person_id:
        data = user.person.personal()  # the applicant's own record, copied into their sealed dossier
        details.update(full_name=data.full_name, id_number=data.personal_id_number,
                       date_of_birth=data.date_of_birth.isoformat() if data.date_of_birth else "",
                       address=data.current_address or data.permanent_address or "")
    return details


# --- The desk --------------------------------------------------------------------------------------------------------

@transaction.atomic
def receive(dossier_id, *, officer, at=None) -> Dossier:
    """Tiếp nhận: 1 → 2, form 01; the clock starts at the receipt instant."""
    dossier, role, at = _officer_on(dossier_id, officer, at)
    # The clock first (on the instance only): the event then carries the appointment date it sets.
    _start_clock(dossier, at, calendar.Calendar())
    _move(dossier, Status.RECEIVED, action="receive", actor=officer, role=role, at=at, event="received")
    dossier.save()
    return dossier


# What an officer or an applicant writes is printed on the forms (02, 03, 05) and kept in the history: never cut
# without telling, so a text over its limit (rules.TEXT_MAX_CHARS, LINE_MAX_CHARS) is refused with the limit and its
# length, and the form keeps it.


def _too_long(field: str, limit: int, count: int, line: int | None = None) -> InvalidInput:
    numbers = {"limit": number_format(limit, force_grouping=True), "count": number_format(count, force_grouping=True)}
    if line is None:
        return InvalidInput({field: [_("Write at most %(limit)s characters (this text has %(count)s).") % numbers]})
    return InvalidInput({field: [_("Each line may have at most %(limit)s characters; line %(line)d has %(count)s.")
                                 % {**numbers, "line": line}]})


def _clean_lines(lines, field: str, message: str) -> list[str]:
    clean = [" ".join(str(line).split()) for line in (lines or [])]
    clean = [line for line in clean if line]
    if not clean:
        raise InvalidInput({field: [message]})
    for number, line in enumerate(clean, start=1):
        if len(line) > rules.LINE_MAX_CHARS:
            raise _too_long(field, rules.LINE_MAX_CHARS, len(line), line=number)
    return clean


def _tidy_text(text) -> str:
    """Spaces collapsed within each line; the line breaks the writer made kept (at most one blank line in a row)."""
    lines = [" ".join(line.split()) for line in str(text or "").splitlines()]
    tidy = "\n".join(lines).strip("\n")
    while "\n\n\n" in tidy:
        tidy = tidy.replace("\n\n\n", "\n\n")
    return tidy


def _optional_text(text, field: str) -> str:
    text = _tidy_text(text)
    if len(text) > rules.TEXT_MAX_CHARS:
        raise _too_long(field, rules.TEXT_MAX_CHARS, len(text))
    return text


def _clean_text(text: str, field: str, message: str) -> str:
    text = _optional_text(text, field)
    if not text:
        raise InvalidInput({field: [message]})
    return text


@transaction.atomic
def refuse(dossier_id, *, officer, reasons: list[str], at=None) -> Dossier:
    """Từ chối tiếp nhận: 1 → 3, form 03 with the reasons; final."""
    dossier, role, at = _officer_on(dossier_id, officer, at)
    reasons = _clean_lines(reasons, "reasons", _("Give at least one reason for refusing the dossier."))
    _move(dossier, Status.REFUSED, action="refuse", actor=officer, role=role, at=at, details={"reasons": reasons})
    dossier.finished_at = at
    dossier.save()
    return dossier


@transaction.atomic
def request_supplement(dossier_id, *, officer, missing: list[str], note: str = "", at=None) -> Dossier:
    """Yêu cầu bổ sung: 1 → 5 before reception, or 4 → 5 during processing (the clock pauses); form 02 lists every
    missing item in one notice."""
    dossier, role, at = _officer_on(dossier_id, officer, at)
    missing = _clean_lines(missing, "missing", _("List every missing or incomplete item, one per line."))
    note = _optional_text(note, "note")
    was_processing = dossier.status == Status.PROCESSING
    _move(dossier, Status.SUPPLEMENT_REQUESTED, action="request-supplement", actor=officer, role=role, at=at,
          note=note, details={"missing": missing})
    if was_processing:
        _pause(dossier, Pause.Reason.SUPPLEMENT, at)
    dossier.supplement_count += 1
    dossier.save()
    return dossier


@transaction.atomic
def supply(dossier_id, *, user, files: list[tuple[str, object]], note: str = "", at=None) -> Dossier:
    """Bổ sung hồ sơ: 5 → 1 (before reception) or 5 → 4 (after: the clock resumes)."""
    at = _now(at)
    dossier = _locked(dossier_id)
    role = _acting_role(user, dossier)
    note = _optional_text(note, "note")
    if not files and not note:
        raise InvalidInput({"files": [_("Attach the missing documents or say what you are supplying.")]})
    target = Status.PROCESSING if dossier.received_at else Status.SUBMITTED
    _check_move(dossier, target, action="supply", role=role, at=at)
    components = dossier.procedure_version.components
    checked = check_files([(code if code else "supplement", f) for code, f in files], components, require_all=False)
    supplied = _store(dossier, checked, kind=Attachment.Kind.SUPPLEMENT, user=user, components=components,
                      uploaded_names=[getattr(upload, "name", "") or "" for _code, upload in files])
    # A document that answers one of the procedure's components goes into the applicant's data store, like one
    # filed with the dossier (a free-form "supplement" stands in for nothing, so it is not kept for reuse).
    codes = {c["code"] for c in components}
    keep_in_data_store(_data_store_owner(dossier), [a for a in supplied if a.component_code in codes], at=at,
                       new=True)
    if target == Status.PROCESSING:
        _resume(dossier, at)  # before the move (checked above): its event carries the date the pause moved
    _move(dossier, target, action="supply", actor=user, role=role, at=at, note=note, details={"files": len(checked)},
          event="supplied")
    dossier.save()
    return dossier


@transaction.atomic
def transfer(dossier_id, *, officer, at=None) -> Dossier:
    """Chuyển xử lý: 2 → 4; the procedure's BPMN process starts and its first step opens with its deadline."""
    dossier, role, at = _officer_on(dossier_id, officer, at)
    _move(dossier, Status.PROCESSING, action="transfer", actor=officer, role=role, at=at)
    dossier.workflow_state = workflow.start(dossier.procedure_version.bpmn)
    _open_ready_steps(dossier, at, calendar.Calendar())
    dossier.save()
    return dossier


@transaction.atomic
def complete_step(dossier_id, *, officer, task_id: str, decision: str = "approve", note: str = "",
                  next_assignee=None, at=None) -> Dossier:
    """Hoàn thành một bước xử lý: the step's role completes it (approve, or return to an earlier step); its verdict
    is recorded (form 06). A return keeps the draft result, which the officer revises. When the last step is
    approved the result waits to be signed by that step's role (``sign_result``; ``approve_and_sign`` does both)."""
    dossier, role, at = _officer_on(dossier_id, officer, at)
    if dossier.status != Status.PROCESSING:
        raise TransitionRefused(_("Processing steps are completed only while the dossier is being processed (now: "
                                  "“%(status)s”).") % {"status": rules.label(dossier.status)})
    if decision not in ("approve", "return"):
        raise InvalidInput({"decision": [_("Choose approve or return.")]})
    note = _optional_text(note, "note")
    step = dossier.steps.filter(task_id=task_id, completed_at__isnull=True).first()
    if step is None:
        raise TransitionRefused(_("The step “%(step)s” is not open on this dossier.") % {"step": task_id})
    if step.role != role:
        raise NotAllowed(_("This step is for the role “%(role)s”.") % {"role": step.role})
    if step.assignee_id and step.assignee_id != officer.pk:
        raise NotAllowed(_("This step is assigned to another officer."))
    if next_assignee is not None and next_assignee.agency_id != dossier.receiving_agency_id:
        raise InvalidInput({"next_assignee": [_("Choose an officer of this agency.")]})
    try:
        dossier.workflow_state = workflow.complete_step(dossier.procedure_version.bpmn, dossier.workflow_state,
                                                        task_id, decision=decision)
    except workflow.WorkflowError as exc:
        raise TransitionRefused(str(exc)) from None
    step.completed_at, step.completed_by = at, officer
    step.verdict = rules.verdict(at, step.due_at)
    step.outcome, step.note = decision, note
    step.save()
    _event("step_completed", dossier, officer, {"task": task_id, "decision": decision, "verdict": step.verdict})
    cal = calendar.Calendar()
    _open_ready_steps(dossier, at, cal, next_assignee=next_assignee)
    if workflow.is_finished(dossier.procedure_version.bpmn, dossier.workflow_state):
        _apply_registry_effect(dossier, officer)
        if _has_result(dossier):  # signed before its approval (the rule before drafts): ready at once
            _finish(dossier, officer=officer, role=role, at=at)
        else:
            # Waiting for its signature: the approver's ("Only mine" lists it) until the result is signed.
            dossier.assignee = officer
    dossier.save()
    return dossier


def _has_result(dossier: Dossier) -> bool:
    return dossier.attachments.filter(kind=Attachment.Kind.RESULT).exists()


def _finish(dossier: Dossier, *, officer, role: str, at: dt.datetime) -> None:
    """4 → 9: processing done; the verdict of the whole dossier is fixed; a registry effect (e.g. a birth
    registration) is applied in the same transaction."""
    _move(dossier, Status.RESULT_READY, action="complete-step", actor=officer, role=role, at=at, event="result_ready")
    dossier.finished_at = at
    dossier.current_step = ""
    dossier.assignee = None
    if dossier.result_delivery == ResultDelivery.ONLINE:
        # The applicant chose to receive it online: the signed result is theirs at once, no desk in between.
        _move(dossier, Status.DELIVERED, action="deliver", actor="platform", role=rules.PLATFORM, at=at,
              details={"method": "online", "chosen_by_applicant": True}, event="delivered")
        dossier.delivered_at = at


def _apply_registry_effect(dossier: Dossier, officer) -> None:
    """The procedure's effect on a registry, once, when processing ends (approval): a birth registration registers
    the child in the population registry through its life-event service; the new number is kept (sealed) for the
    result."""
    effect = dossier.procedure_version.registry_effect
    if not effect or dossier.transitions.filter(form="registry").exists():
        return
    from egov.accounts.services import caller_for_user
    from egov.registries import services as registries

    content = dossier.content()
    form = content.get("form", {})
    # The approved dossier is the legal basis of the registry change: the approving officer acts with the right to
    # register for this one change, whatever their role's everyday rights.
    caller = caller_for_user(officer)
    caller = dataclasses.replace(caller, rights=caller.rights | {REGISTRY_RIGHT})
    if effect == "population.birth":
        unit = dossier.receiving_agency.administrative_unit
        while unit is not None and unit.parent_id is not None:
            unit = unit.parent
        try:
            person = registries.register_birth(
                caller=caller, full_name=form.get("child_full_name", ""),
                date_of_birth=dt.date.fromisoformat(form["child_birth_date"]),
                sex={"nam": "male", "nu": "female"}.get(form.get("child_sex"), form.get("child_sex", "")),
                birth_province_code=f"0{unit.code}" if unit is not None and len(unit.code) == 2 else "",
                birth_registration_place=dossier.receiving_agency.name, ethnicity=form.get("child_ethnicity", ""),
                mother=_person_by_id_number(form.get("mother_pin", "")),
                father=_person_by_id_number(form.get("father_pin", "")))
        except (KeyError, ValueError, registries.InvalidInput) as exc:
            raise TransitionRefused(_("The birth cannot be registered from this dossier: %(reason)s")
                                    % {"reason": getattr(exc, "message", None) or str(exc)}) from None
        if dossier.subject_person_id is None:
            dossier.subject_person = person
        content["registry"] = {"child_pin": person.personal().personal_id_number}
        dossier.seal(content)
    else:
        return  # death and residence effects are applied by the civil-status officer in the registry for now
    Transition.objects.create(dossier=dossier, from_status=dossier.status, to_status=dossier.status,
                              actor=_user_or_none(officer), at=timezone.now(), form="registry",
                              details={"effect": effect})
    _event("registry_effect", dossier, officer, {"effect": effect})


# --- The result: a draft while steps remain open, signed once the last step is approved --------------------------------
# Dự thảo kết quả → phê duyệt → ký số: a processing officer prepares the result as a draft (unsigned, without a result
# code, for the agency only); the last step's approval is the decision; only then is the result signed with the
# agency's certificate and its result code issued, by an officer of the approving step's role (4 → 9).


class SigningFailed(Exception):
    """The last step was approved but the result could not be signed (the signing token, an unreadable draft):
    ``reason`` says why. The approval stands; the approver signs again (``sign_result``)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def _unlocked(dossier_id) -> Dossier:
    dossier = (Dossier.objects.select_related("procedure_version__procedure", "receiving_agency")
               .filter(pk=dossier_id).first())
    if dossier is None:
        raise Dossier.DoesNotExist(f"no dossier {dossier_id}")
    return dossier


def processing_finished(dossier: Dossier) -> bool:
    """Whether every processing step is done (the last one approved) while the dossier is still being processed:
    its result waits to be signed."""
    if dossier.status != Status.PROCESSING or not dossier.workflow_state:
        return False
    try:
        return workflow.is_finished(dossier.procedure_version.bpmn, dossier.workflow_state)
    except workflow.WorkflowError:
        return False


def approval_ends_processing(dossier: Dossier, task_id: str) -> bool:
    """Whether approving the open step ``task_id`` would end the dossier's processing (it is the last step)."""
    if dossier.status != Status.PROCESSING or not dossier.workflow_state:
        return False
    bpmn = dossier.procedure_version.bpmn
    try:
        state = workflow.complete_step(bpmn, copy.deepcopy(dossier.workflow_state), task_id, decision="approve")
        return workflow.is_finished(bpmn, state)
    except workflow.WorkflowError:
        return False


def approver_role(dossier: Dossier) -> str | None:
    """The role of the step whose approval ended the processing (the last step completed with "approve"): its
    officers sign the result."""
    step = (dossier.steps.filter(completed_at__isnull=False, outcome="approve").order_by("-completed_at", "-id")
            .first())
    return step.role if step else None


def current_draft(dossier: Dossier) -> Attachment | None:
    """The dossier's latest draft result (none replaced it), if any."""
    return (dossier.attachments.filter(kind=Attachment.Kind.DRAFT).exclude(component_code=Attachment.REPLACED_DRAFT)
            .order_by("-id").first())


def can_sign_without_upload(dossier: Dossier) -> bool:
    """Whether the result can be signed from what the dossier has: a draft, or the procedure's result template."""
    return current_draft(dossier) is not None or bool(dossier.procedure_version.result_template.strip())


def attach_result(dossier_id, *, officer, file=None, at=None) -> Attachment:
    """Kết quả: what attaching the result means now. While processing steps remain open, a draft
    (``save_draft_result``: no result code, no signature); once the last step is approved, the signed result
    (``sign_result``), and the dossier is ready (4 → 9)."""
    if processing_finished(_unlocked(dossier_id)):
        return sign_result(dossier_id, officer=officer, file=file, at=at)
    return save_draft_result(dossier_id, officer=officer, file=file, at=at)


def _require_processing(dossier: Dossier) -> None:
    if dossier.status != Status.PROCESSING:
        raise TransitionRefused(_("A result is attached while the dossier is being processed (now: “%(status)s”).")
                                % {"status": rules.label(dossier.status)})


def _require_draft_allowed(dossier: Dossier, role: str, officer) -> None:
    _require_agency(officer, dossier)
    _require_processing(dossier)
    if role not in rules.PROCESSORS:
        raise NotAllowed(_("Only the processing unit attaches the result."))
    if processing_finished(dossier):
        raise TransitionRefused(_("The last processing step is approved: the result is now signed and issued, not "
                                  "drafted again."))


def _require_signer(dossier: Dossier, role: str, officer) -> None:
    """Who signs the result, and when: once the last processing step is approved, an officer of the dossier's agency
    in the role of the step that approved it."""
    _require_agency(officer, dossier)
    _require_processing(dossier)
    if not processing_finished(dossier):
        still_open = ", ".join(f"“{step.name}”" for step in dossier.steps.filter(completed_at__isnull=True)
                               .order_by("started_at", "id"))
        raise TransitionRefused(_("The result is signed and issued only once the last processing step is approved "
                                  "(still open: %(steps)s). Until then, save a draft result.")
                                % {"steps": still_open or "—"})
    signer = approver_role(dossier)
    if (signer is None and role not in rules.PROCESSORS) or (signer is not None and role != signer):
        raise NotAllowed(_("The result is signed by an officer of the role that approved the last step "
                           "(%(role)s).") % {"role": role_label(signer)})


def save_draft_result(dossier_id, *, officer, file=None, at=None) -> Attachment:
    """Dự thảo kết quả: while processing steps remain open, a processing officer (specialist, head of unit, leader)
    prepares the result: the uploaded PDF or image, checked as a result to sign is, or a preview rendered from the
    procedure's template. Unsigned and without a result code; the applicant never sees it. A new draft replaces the
    previous one, which stays on the agency's record (``Attachment.REPLACED_DRAFT``), as a replaced result does.

    The file is checked, rendered and written before the dossier is locked; the checks run again under the lock,
    and a file whose storing is refused is deleted."""
    from egov.dossiers import result_services

    at = _now(at)
    dossier = _unlocked(dossier_id)
    _require_draft_allowed(dossier, _officer_role(officer), officer)
    if file is not None:
        content, mime = _read_upload("file", file)
        result_services.check_draft(content, mime)
        code = Attachment.DRAFT_UPLOADED
    else:
        content, mime = result_services.draft_preview(dossier, officer=officer, at=at), "application/pdf"
        code = Attachment.DRAFT_GENERATED
    name = f"Dự thảo - {dossier.procedure_version.result_type}"
    written = _written(dossier, [(code, content, mime)], kind=Attachment.Kind.DRAFT, user=officer,
                       components=[{"code": code, "name": name}])
    try:
        with transaction.atomic():
            dossier, role, at = _officer_on(dossier_id, officer, at)
            _require_draft_allowed(dossier, role, officer)
            drafts = dossier.attachments.filter(kind=Attachment.Kind.DRAFT).exclude(
                component_code=Attachment.REPLACED_DRAFT)
            replaced = list(drafts.values_list("pk", flat=True))
            drafts.update(component_code=Attachment.REPLACED_DRAFT)
            (attachment,) = written
            attachment.dossier = dossier
            attachment.save()
            _record(dossier, actor=officer, at=at, form="draft", event="result_drafted",
                    details={"generated": file is None, "attachment": attachment.pk, "replaced": replaced})
            dossier.save(update_fields=["updated_at"])
    except BaseException:
        _delete_written(written)
        raise
    return attachment


def sign_result(dossier_id, *, officer, file=None, at=None) -> Attachment:
    """Ký số và ban hành kết quả: once the last processing step is approved, an officer of the approving step's role
    signs the result: ``file`` when given, else the latest uploaded draft as it is, else (the draft was generated,
    or there is none) the procedure's template rendered now, after the approval's effect on a registry (a birth
    registration's certificate carries the child's new personal ID number). It is stamped with its new result code
    and signed with the agency's certificate; the dossier becomes ready (4 → 9, and → 10 when the applicant chose to
    receive it online).

    Rendering and signing happen before the dossier is locked (a PKCS#11 token may take its time); the checks run
    again under the lock, and a signed file whose storing is refused is simply dropped (its code was never issued)."""
    from egov.dossiers import result_services

    at = _now(at)
    dossier = _unlocked(dossier_id)
    _require_signer(dossier, _officer_role(officer), officer)
    draft = current_draft(dossier)
    content, mime, source = _signing_source(dossier, draft, file)
    signed = result_services.sign_result(dossier, content=content, mime=mime, officer=officer, at=at)
    return _attach_signed_result(dossier_id, officer=officer, signed=signed, source=source,
                                 draft_id=draft.pk if draft is not None else None, at=at)


def _signing_source(dossier: Dossier, draft: Attachment | None, file) -> tuple[bytes | None, str, str]:
    """What is signed: (content, type, source); content None means the template rendered now."""
    if file is not None:
        content, mime = _read_upload("file", file)
        return content, mime, "upload"
    if draft is not None and draft.component_code != Attachment.DRAFT_GENERATED:
        with draft.file.open("rb") as handle:
            return handle.read(), draft.content_type, "draft"
    if draft is not None or dossier.procedure_version.result_template.strip():
        return None, "application/pdf", "template"
    raise InvalidInput({"file": [_("There is no draft result and the procedure has no result template: upload the "
                                   "result to sign it.")]})


@transaction.atomic
def _attach_signed_result(dossier_id, *, officer, signed, source: str, draft_id: int | None, at) -> Attachment:
    from egov.dossiers import result_services

    dossier, role, at = _officer_on(dossier_id, officer, at)
    _require_signer(dossier, role, officer)
    draft = current_draft(dossier)
    if (draft.pk if draft is not None else None) != draft_id:
        raise TransitionRefused(_("The draft result changed while the result was being signed: sign it again."))
    # A result signed before its dossier's approval (the rule before drafts) is kept as a replaced one.
    dossier.attachments.filter(kind=Attachment.Kind.RESULT).update(kind=Attachment.Kind.SUPPLEMENT,
                                                                   component_code=Attachment.REPLACED_RESULT)
    (attachment,) = _store(dossier, [("result", signed.content, "application/pdf")], kind=Attachment.Kind.RESULT,
                           user=officer, components=[{"code": "result", "name": dossier.procedure_version.result_type}])
    result_services.record(dossier, attachment, signed, at=at)
    _record(dossier, actor=officer, at=at, form="result", event="result_attached",
            details={"generated": source == "template", "source": source, "draft": draft_id,
                     "result_code": signed.code})
    _finish(dossier, officer=officer, role=role, at=at)
    dossier.save()
    return attachment


def approve_and_sign(dossier_id, *, officer, task_id: str, note: str = "", at=None) -> Dossier:
    """Phê duyệt và ký số: the approver completes the last processing step and signs the result at once, in two
    transactions (``complete_step``, then ``sign_result`` with its signing outside the lock). When signing fails,
    the approval stands and ``SigningFailed`` says why: the approver signs again with ``sign_result``."""
    dossier = _unlocked(dossier_id)
    if not approval_ends_processing(dossier, task_id):
        raise TransitionRefused(_("“Approve and sign the result” is for the last processing step; approve this step, "
                                  "the result is signed after the last one."))
    if not can_sign_without_upload(dossier):
        raise InvalidInput({"decision": [_("There is no draft result and the procedure has no result template: "
                                           "approve the step, then upload the result to sign it.")]})
    dossier = complete_step(dossier_id, officer=officer, task_id=task_id, decision="approve", note=note, at=at)
    if dossier.status != Status.PROCESSING:
        return dossier  # a result signed before its approval (the rule before drafts): the dossier is ready already
    try:
        sign_result(dossier_id, officer=officer, at=at)
    except TransitionRefused as exc:
        raise SigningFailed(exc.reason) from exc
    except (InvalidInput, NotAllowed) as exc:
        raise SigningFailed(" ".join(getattr(exc, "messages", None) or [str(exc)])) from exc
    return _unlocked(dossier_id)


@transaction.atomic
def request_fees(dossier_id, *, officer, at=None) -> Dossier:
    """Yêu cầu thực hiện nghĩa vụ tài chính: 4 → 6; the clock pauses until payment."""
    dossier, role, at = _officer_on(dossier_id, officer, at)
    _move(dossier, Status.FEES_DUE, action="request-fees", actor=officer, role=role, at=at,
          details={"fees": dossier.procedure_version.fees})
    _pause(dossier, Pause.Reason.FEES, at)
    dossier.save()
    from egov.payments import services as payments  # late: payments builds on dossiers

    payments.open_request(dossier, at=at)
    return dossier


@transaction.atomic
def record_payment(dossier_id, *, officer, at=None) -> Dossier:
    """Đã nộp phí: 6 → 4; the clock resumes."""
    dossier, role, at = _officer_on(dossier_id, officer, at)
    _check_move(dossier, Status.PROCESSING, action="record-payment", role=role, at=at)
    _resume(dossier, at)  # before the move: its event carries the date the pause moved
    _move(dossier, Status.PROCESSING, action="record-payment", actor=officer, role=role, at=at, event="fees_paid")
    dossier.save()
    from egov.payments import services as payments  # late: payments builds on dossiers

    payments.close_requests(dossier, at=at, reason="paid at the desk")
    return dossier


@transaction.atomic
def credit_payment(dossier_id, *, reference: str, at=None, paid_at=None) -> Dossier:
    """Đã nộp phí trực tuyến: the payment system credits a verified payment, 6 → 4; the clock resumes. Called by
    ``egov.payments.services`` inside its own transaction, once per payment request. ``paid_at``: when the fees were
    paid, if earlier than the credit (they arrived while a withdrawal request held the dossier at 7): the wait for
    fees ended then, and the time since counts as the agency's, not as the applicant's."""
    at = _now(at)
    dossier = _locked(dossier_id)
    _check_move(dossier, Status.PROCESSING, action="record-payment", role=rules.PAYMENT_SYSTEM, at=at)
    _resume(dossier, at, since=paid_at)  # before the move: its event carries the date the pause moved
    _move(dossier, Status.PROCESSING, action="record-payment", actor="payments", role=rules.PAYMENT_SYSTEM, at=at,
          details={"payment": reference}, event="fees_paid")
    dossier.save()
    return dossier


@transaction.atomic
def apologise(dossier_id, *, officer, new_appointment_at: dt.datetime, reason: str, at=None) -> Dossier:
    """Form 04, xin lỗi và hẹn lại: once, before the appointment date; the new date becomes the appointment (and
    later pauses still extend it)."""
    dossier, role, at = _officer_on(dossier_id, officer, at)
    reason = _clean_text(reason, "reason", _("Say why the dossier will be late."))
    if new_appointment_at is None or timezone.is_naive(new_appointment_at):
        raise InvalidInput({"new_appointment_at": [_("Enter the new appointment date.")]})
    rules.require_apology_allowed(dossier.status, actor_role=role, already_rescheduled=dossier.rescheduled_at is not None,
                                  appointment_at=dossier.appointment_at, new_appointment_at=new_appointment_at, at=at)
    cal = calendar.Calendar()
    old = dossier.appointment_at
    elapsed = cal.working_hours_between(dossier.received_at, new_appointment_at, dossier.receiving_agency,
                                        pauses=_closed_pauses(dossier))
    dossier.allowed_hours = Decimal(elapsed.total_seconds()) / 3600
    dossier.rescheduled_at = at
    _recompute_appointment(dossier, cal)
    _record(dossier, actor=officer, at=at, form="04", note=reason,
            details={"old": old.isoformat(), "new": dossier.appointment_at.isoformat()}, event="rescheduled")
    dossier.save()
    return dossier


# --- Withdrawal, stop, delivery --------------------------------------------------------------------------------------

@transaction.atomic
def request_withdrawal(dossier_id, *, user, reason: str, at=None) -> Dossier:
    """Rút hồ sơ: the applicant asks (1, 2, 4, 5, 6 → 7); the agency confirms or refuses."""
    at = _now(at)
    dossier = _locked(dossier_id)
    _require_applicant(user, dossier)
    reason = _clean_text(reason, "reason", _("Say why you withdraw the dossier."))
    before = dossier.status
    _move(dossier, Status.WITHDRAWAL_REQUESTED, action="request-withdrawal", actor=user, role=rules.APPLICANT, at=at, note=reason)
    dossier.status_before_withdrawal = before
    dossier.save()
    return dossier


@transaction.atomic
def confirm_withdrawal(dossier_id, *, officer, at=None) -> Dossier:
    """7 → 8, form 05: the withdrawal is accepted; processing stops."""
    dossier, role, at = _officer_on(dossier_id, officer, at)
    _move(dossier, Status.STOPPED, action="confirm-withdrawal", actor=officer, role=role, at=at, details={"reason": "withdrawn"},
          event="withdrawn")
    _close_open_pauses_and_steps(dossier, at)
    dossier.finished_at = at
    dossier.save()
    _payments_on_stop(dossier, at)
    return dossier


@transaction.atomic
def refuse_withdrawal(dossier_id, *, officer, reason: str, at=None) -> Dossier:
    """7 → the status before the request, with the reason."""
    dossier, role, at = _officer_on(dossier_id, officer, at)
    if dossier.status != Status.WITHDRAWAL_REQUESTED:
        raise TransitionRefused(_("There is no withdrawal request to refuse (now: “%(status)s”).")
                                % {"status": rules.label(dossier.status)})
    if role not in rules.REFUSE_WITHDRAWAL_ACTORS:
        raise TransitionRefused(_("Refusing a withdrawal is not for your role."))
    reason = _clean_text(reason, "reason", _("Say why the withdrawal is refused."))
    back = dossier.status_before_withdrawal
    transition = Transition.objects.create(dossier=dossier, from_status=dossier.status, to_status=back,
                                           actor=officer, at=at, form="notice", note=reason)
    dossier.status, dossier.status_before_withdrawal = back, None
    count_move(dossier, Status.WITHDRAWAL_REQUESTED, back)
    _event("withdrawal_refused", dossier, officer, {"from": Status.WITHDRAWAL_REQUESTED, "to": back},
           transition=transition)
    dossier.save()
    if back == Status.FEES_DUE:
        # Fees paid while the withdrawal was pending could not move the dossier (it was at 7): back at 6, the payment
        # system credits them now (6 → 4), or the dossier would wait for fees already paid. Through payments'
        # service, as stopping does (a late import: payments builds on dossiers).
        from egov.payments import services as payments

        payments.on_withdrawal_refused(dossier, at=at)
        dossier.refresh_from_db()
    return dossier


@transaction.atomic
def stop(dossier_id, *, officer, reason: str, at=None) -> Dossier:
    """Dừng xử lý: 2, 4, 5, 6 → 8 for a legal reason, form 05; final."""
    dossier, role, at = _officer_on(dossier_id, officer, at)
    reason = _clean_text(reason, "reason", _("Give the legal reason for stopping."))
    _move(dossier, Status.STOPPED, action="stop", actor=officer, role=role, at=at, note=reason, details={"reason": reason},
          event="stopped")
    _close_open_pauses_and_steps(dossier, at)
    dossier.finished_at = at
    dossier.save()
    _payments_on_stop(dossier, at)
    return dossier


def _payments_on_stop(dossier: Dossier, at: dt.datetime) -> None:
    """Processing stopped (8): fees still asked are cancelled, fees already paid are refunded (egov.payments)."""
    from egov.payments import services as payments  # late: payments builds on dossiers

    payments.on_dossier_stopped(dossier, at=at)


def _close_open_pauses_and_steps(dossier: Dossier, at: dt.datetime) -> None:
    dossier.pauses.filter(ended_at__isnull=True).update(ended_at=at)
    dossier.steps.filter(completed_at__isnull=True).update(completed_at=at, outcome="stopped")
    dossier.current_step = ""
    dossier.assignee = None


@transaction.atomic
def deliver(dossier_id, *, officer, method: str, at=None) -> Dossier:
    """Trả kết quả: 9 → 10 (online, at the desk, by post); final."""
    dossier, role, at = _officer_on(dossier_id, officer, at)
    if method not in DELIVERY_METHODS:
        raise InvalidInput({"method": [_("Choose how the result is delivered.")]})
    _move(dossier, Status.DELIVERED, action="deliver", actor=officer, role=role, at=at, details={"method": method},
          event="delivered")
    dossier.delivered_at = at
    dossier.save()
    return dossier


DELIVERY_METHODS = ("desk", "online", "post")


# --- Documents -------------------------------------------------------------------------------------------------------

FORMS = ("01", "02", "03", "04", "05", "06", rules.EFORM_DECLARATION)


@dataclass(frozen=True)
class Download:
    content: bytes
    filename: str


def form_pdf(dossier: Dossier, form: str, *, reader) -> Download:
    """The PDF of a document the dossier was issued (form 06 at any time after transfer); the read is logged, since
    the forms carry the applicant's details."""
    from egov.dossiers import paperwork

    if form not in FORMS:
        raise InvalidInput({"form": [_("No such form.")]})
    content = paperwork.render(dossier, form)
    if content is None:
        raise TransitionRefused(_("This dossier has no declaration made from its e-form.")
                                if form == rules.EFORM_DECLARATION else
                                _("This dossier has not been issued form %(form)s.") % {"form": form})
    log_read(dossier, reader=reader, purpose=f"form {form}")
    name = "to-khai" if form == rules.EFORM_DECLARATION else f"mau-{form}"
    return Download(content=content, filename=f"{dossier.code}-{name}.pdf")


def log_read(dossier: Dossier, *, reader, purpose: str) -> None:
    """A read of the dossier's personal content (the applicant sees who read it, when and why)."""
    ledger.append("dossier.read", partition=dossier.receiving_agency.code, actor=reader, subject=dossier,
                  payload={"code": dossier.code, "purpose": purpose[:100]})


@transaction.atomic
def log_reads(dossiers, *, reader, purpose: str) -> None:
    """A list that shows several dossiers' personal content (the tracking book): one read event per dossier, so
    that each applicant's access log names it."""
    for dossier in dossiers:
        log_read(dossier, reader=reader, purpose=purpose)


# --- The applicant's rating and the public look-up (issue 6) -----------------------------------------------------------

# Processing has ended for the applicant: a rating is allowed (refused at reception, stopped, result ready, delivered).
RATABLE_STATUSES = (Status.REFUSED, Status.STOPPED, Status.RESULT_READY, Status.DELIVERED)


def may_rate(dossier: Dossier) -> bool:
    from egov.dossiers.models import Rating

    return dossier.status in RATABLE_STATUSES and not Rating.objects.filter(dossier_id=dossier.pk).exists()


@transaction.atomic
def rate(dossier_id, *, user, score: int, comment: str = "", at=None):
    """Đánh giá mức độ hài lòng: the applicant rates the service once (1–5, a comment) after the result is delivered
    or processing ended. A second rating is refused (409); the ledger event carries the score (satisfaction is
    counted per agency and procedure from it), never the comment."""
    from egov.dossiers.models import Rating

    at = _now(at)
    dossier = _locked(dossier_id)
    _require_applicant(user, dossier)
    if dossier.status not in RATABLE_STATUSES:
        raise TransitionRefused(_("You can rate the service once the result is delivered or processing has ended "
                                  "(now: “%(status)s”).") % {"status": rules.label(dossier.status)})
    if Rating.objects.filter(dossier=dossier).exists():
        raise TransitionRefused(_("You have already rated this dossier: a dossier is rated once."))
    if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 5:
        raise InvalidInput({"score": [_("Choose a satisfaction score from 1 to 5.")]})
    comment = " ".join((comment or "").split())
    if len(comment) > 2000:
        raise InvalidInput({"comment": [_("Keep the comment under 2,000 characters.")]})
    rating = Rating(dossier=dossier, agency_id=dossier.receiving_agency_id,
                    procedure_id=dossier.procedure_version.procedure_id, score=score, rated_by=user, rated_at=at)
    rating.seal({"comment": comment})
    rating.save()
    _event("rated", dossier, user, {"score": score, "procedure": dossier.procedure_version.procedure.code,
                                    "commented": bool(comment)})
    return rating


LOOKUPS_PER_WINDOW = 10
LOOKUP_WINDOW_SECONDS = 600


class TooManyLookups(Exception):
    """The client address used its look-ups for now (HTTP 429); ``retry_after`` in seconds."""

    def __init__(self, retry_after: int):
        super().__init__(retry_after)
        self.retry_after = retry_after


@dataclass(frozen=True)
class LookupResult:
    """What the public look-up reveals: the status and the appointment date, nothing else."""
    code: str
    status: int
    status_label: str
    appointment_at: dt.datetime | None


def dossier_by_code_and_id(code: str, id_number: str, *, client: str, now: float | None = None) -> Dossier | None:
    """The dossier with this code whose applicant has this personal ID number, or None, without telling which half
    was wrong. Every check counts against the client address's budget in the shared store (``LOOKUPS_PER_WINDOW`` per
    ``LOOKUP_WINDOW_SECONDS``), whichever page asks (the look-up, feedback about someone else's dossier): past it,
    ``TooManyLookups``. The callers log the outcome."""
    import hmac

    from egov.kernel import ratelimit

    decision = ratelimit.hit(f"dossier-lookup:{client or '-'}"[:100], limit=LOOKUPS_PER_WINDOW,
                             window_seconds=LOOKUP_WINDOW_SECONDS, now=now)
    if not decision.allowed:
        raise TooManyLookups(decision.retry_after)
    code = " ".join((code or "").split()).upper()[:40]
    id_number = "".join((id_number or "").split())[:20]
    dossier = (Dossier.objects.select_related("receiving_agency").filter(code=code).first()
               if code and id_number else None)
    if dossier is None:
        return None
    stored = str((dossier.content().get("applicant") or {}).get("id_number") or "")
    return dossier if stored and hmac.compare_digest(stored.encode(), id_number.encode()) else None


def lookup_status(code: str, id_number: str, *, client: str, now: float | None = None) -> LookupResult | None:
    """Tra cứu hồ sơ: anyone who knows a dossier's code and its applicant's personal ID number sees its status and
    appointment date. Counted per client address in the shared store (``LOOKUPS_PER_WINDOW`` per
    ``LOOKUP_WINDOW_SECONDS``); a wrong pair returns None without telling which half was wrong; every look-up,
    matched or not, is a ledger event (the code only when it matched, never the ID number)."""
    try:
        dossier = dossier_by_code_and_id(code, id_number, client=client, now=now)
    except TooManyLookups:
        ledger.append("dossier.lookup_limited", partition="platform", payload={})
        raise
    if dossier is None:
        ledger.append("dossier.looked_up", partition="platform", payload={"matched": False})
        return None
    _event("looked_up", dossier, None, {"matched": True})
    return LookupResult(code=dossier.code, status=dossier.status, status_label=str(rules.label(dossier.status)),
                        appointment_at=dossier.appointment_at)


# --- The citizen's electronic data store (kho dữ liệu điện tử) ---------------------------------------------------------
# The rows live in ``egov.portal`` (``StoredDocument``, ``DocumentReuse``); only these functions write them.

def _stored_document_model():
    from egov.portal.apply_models import StoredDocument

    return StoredDocument


def stored_document_fits(document, component: dict, *, procedure_code: str) -> bool:
    """A stored result stands in for a component whose ``result_of`` names the procedure whose result it is; a stored
    component only for the component with the same code of the same procedure (``procedure_code``: the national code
    of the procedure being applied for). Component codes are the procedure's own: ``DON`` is a building-permit
    application in 1.009994 and a practising-licence application in 1.012267. The catalogue has no key saying that
    two procedures' components are the same kind of paper, so none is reused across procedures."""
    if document.kind == "result":
        return bool(component.get("result_of")) and component["result_of"] == document.result_of
    return (bool(document.component_code) and document.component_code == component["code"]
            and bool(procedure_code) and document.procedure_code == procedure_code)


def _check_reused(user, version, reused: dict) -> dict:
    components = {c["code"]: c for c in version.components}
    errors: dict[str, list[str]] = {}
    for code, document in reused.items():
        component = components.get(code)
        if component is None:
            errors.setdefault(f"file_{code}", []).append(_("This dossier has no component %(code)s.") % {"code": code})
        elif document.owner_id != user.pk or not stored_document_fits(document, component,
                                                                      procedure_code=version.procedure.code):
            errors.setdefault(f"file_{code}", []).append(_("This stored document cannot be used for this component."))
    return errors


def _data_store_owner(dossier: Dossier):
    """Whose data store keeps the dossier's documents: the account that filed it online, else the citizen account
    linked to the applicant's record in the population registry (found by the personal ID number the desk entered,
    as ``_person_by_id_number`` links it), if there is one. None when the applicant has no account."""
    if dossier.applicant_id:
        return dossier.applicant
    if not dossier.applicant_person_id:
        return None
    from django.contrib.auth import get_user_model

    from egov.accounts.rules import is_officer_role

    account = get_user_model().objects.filter(person_id=dossier.applicant_person_id, is_active=True).first()
    return account if account is not None and not is_officer_role(account.role) else None


def keep_in_data_store(owner, attachments, *, at=None, new: bool = False) -> list:
    """Keep ``attachments`` (a dossier's components or its result) in ``owner``'s data store, once each. ``new``:
    the attachments were made in this transaction, so none can be in the store yet (no look-up needed). A result is
    kept since its delivery (``delivered_at``), whenever it is caught up with."""
    StoredDocument = _stored_document_model()
    at = _now(at)
    kept = []
    for attachment in attachments:
        if owner is None or (not new and StoredDocument.objects.filter(owner=owner, attachment=attachment).exists()):
            continue
        dossier = attachment.dossier
        version = dossier.procedure_version
        is_result = attachment.kind == Attachment.Kind.RESULT
        stored_at = (dossier.delivered_at or at) if is_result else at
        document = StoredDocument(owner=owner, attachment=attachment, source_dossier=dossier, stored_at=stored_at,
                                  kind="result" if is_result else "component",
                                  component_code="" if is_result else attachment.component_code,
                                  procedure_code=version.procedure.code,
                                  result_of=version.procedure.code if is_result else "")
        names = {c["code"]: c.get("name", c["code"]) for c in version.components}
        document.seal({"name": version.result_type if is_result else names.get(attachment.component_code,
                                                                                 attachment.component_code),
                       "procedure": version.name, "procedure_code": version.procedure.code,
                       "dossier_code": dossier.code})
        if new:
            insert(document)
        else:
            # A page's catch-up and the ledger consumer may keep the same result at the same moment: the second
            # insert is skipped (unique owner and attachment), not an error.
            StoredDocument.objects.bulk_create([document], ignore_conflicts=True)
        kept.append(document)
    return kept


def _reuse_stored(dossier: Dossier, reused: dict, *, user, at: dt.datetime) -> None:
    from egov.portal.apply_models import DocumentReuse

    names = {c["code"]: c.get("name", c["code"]) for c in dossier.procedure_version.components}
    for code, document in reused.items():
        source = document.attachment
        Attachment.objects.create(dossier=dossier, kind=Attachment.Kind.COMPONENT, component_code=code,
                                  file=source.file.name, name=f"{names.get(code, code)[:180]}."
                                  f"{ALLOWED_TYPES.get(source.content_type, 'pdf')}",
                                  content_type=source.content_type, size=source.size, sha256=source.sha256,
                                  uploaded_by=user)
        DocumentReuse.objects.create(dossier=dossier, component_code=code, document=document, at=at)
        _event("document_reused", dossier, user, {"component": code, "kind": document.kind})


def keep_delivered_results(owner) -> list:
    """Catch up ``owner``'s data store with the results of their delivered dossiers (idempotent: each result is kept
    once): those they filed online and those filed at the desk or by post for them (their linked person record).
    The ledger consumer (``data_store_consumer``) keeps each result when it is delivered; this is the safety net
    where the store is shown or offered (a consumer that has not run yet)."""
    delivered = Dossier.objects.filter(status=Status.DELIVERED)
    dossier_ids = list(delivered.filter(applicant=owner).values_list("id", flat=True))
    if owner.person_id:
        dossier_ids += delivered.filter(applicant__isnull=True, applicant_person_id=owner.person_id).values_list(
            "id", flat=True)
    if not dossier_ids:
        return []
    results = (Attachment.objects.filter(dossier_id__in=dossier_ids, kind=Attachment.Kind.RESULT)
               .exclude(pk__in=_stored_document_model().objects.filter(owner=owner).values("attachment_id"))
               .select_related("dossier__procedure_version__procedure"))
    results = list(results)
    if not results:
        return []
    with transaction.atomic():
        return keep_in_data_store(owner, results)


def data_store_consumer(event) -> None:
    """Ledger consumer ``portal.data_store`` (run by ``egov notify`` through ``portal.apply_services.keep_delivered``):
    a delivered result goes into the applicant's data store when it is delivered, kept since the delivery. Idempotent
    (a replayed event finds the result kept and keeps nothing more)."""
    if event.event_type != "dossier.delivered" or event.subject_type != "dossiers.dossier":
        return
    try:
        dossier_id = int(event.subject_id)
    except (TypeError, ValueError):
        return
    dossier = (Dossier.objects.select_related("applicant", "procedure_version__procedure")
               .filter(pk=dossier_id).first())
    if dossier is None:
        return
    owner = _data_store_owner(dossier)
    if owner is None:
        return
    results = list(Attachment.objects.filter(dossier=dossier, kind=Attachment.Kind.RESULT))
    for result in results:
        result.dossier = dossier
    keep_in_data_store(owner, results, at=dossier.delivered_at or event.occurred_at)
