"""Apply online (``/apply/``), my drafts, the acknowledgement, and my data store (``/my/documents/``). Thin: parse,
call ``apply_services``, render. Every page works without JavaScript.

A step posted after the session ended (expired, revoked, signed out elsewhere) is not written to the draft: the
request is anonymous. What was typed is kept instead, sealed, in the browser's new anonymous session (``_keep_typing``),
which Django carries over when the user signs in again (``login()`` cycles the session key and keeps its data); the
step's next page for the draft's owner shows it again, unsaved (``_take_kept``)."""
import re
import time

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from egov.accounts.services import AssuranceTooLow
from egov.dossiers import services as dossier_services
from egov.dossiers.models import Dossier, ResultDelivery, Status
from egov.kernel import crypto
from egov.kernel.text import vietnamese_key
from egov.portal import apply_services as services
from egov.dossiers.forms import SHOW_COMMUNES, keep_chosen_provinces
from egov.portal.apply_forms import EFormStep, FilesStep, SubjectStep, answer_rows
from egov.portal.apply_models import Draft, StoredDocument


def _denied(request, too_low: AssuranceTooLow):
    return render(request, "accounts/denied.html",
                  {"reason": too_low.reason, "verify_url": reverse("accounts:verify_identity")}, status=403)


# What a step's post without a session keeps: the text fields of the steps (never the CSRF token, the buttons, the
# submission key or a file), bounded, for a few steps at most and a day at most.
KEPT_SESSION_KEY = "portal.apply.kept"
KEPT_PREFIXES = ("form_", "subject_", "on_behalf", "agency", "use_")
KEPT_MAX_FIELDS = 60
KEPT_MAX_NAME = 100
KEPT_MAX_VALUE = 5000       # characters of one value (the catalogue's longest field takes 2,000)
KEPT_MAX_TOTAL = 30000      # characters of one step's values together
KEPT_MAX_STEPS = 3          # steps kept per browser, the newest
KEPT_MAX_AGE = 24 * 3600    # seconds
_STEP_ID = re.compile(r"[a-z0-9-]{1,32}")


def _kept_aad(uid, step) -> bytes:
    return f"portal.apply.kept:{uid}:{step}".encode()


def _keep_typing(request, uid, step) -> None:
    """Keep what an anonymous post to a step typed, sealed (it is personal data), in the anonymous session, keyed
    by the draft and the step; never in the draft (nobody is signed in to own it)."""
    if not _STEP_ID.fullmatch(str(step)) or not Draft.objects.filter(uid=uid, dossier__isnull=True).exists():
        return  # only for a draft still open (whose it is, is checked when it is shown)
    values, room = {}, KEPT_MAX_TOTAL
    for name in request.POST:
        if len(values) >= KEPT_MAX_FIELDS or room <= 0:
            break
        if name.startswith(KEPT_PREFIXES) and len(name) <= KEPT_MAX_NAME:
            values[name] = request.POST.get(name, "")[:min(KEPT_MAX_VALUE, room)]
            room -= len(values[name])
    files = any(upload.name for upload in request.FILES.values())
    if not values and not files:
        return
    kept = dict(request.session.get(KEPT_SESSION_KEY) or {})
    kept.pop(f"{uid}/{step}", None)
    kept[f"{uid}/{step}"] = {"sealed": crypto.seal_json(values, _kept_aad(uid, step)), "files": files,
                             "at": int(time.time())}
    request.session[KEPT_SESSION_KEY] = dict(list(kept.items())[-KEPT_MAX_STEPS:])
    messages.info(request, _("Your session has ended. Sign in again to go on: what you typed on this step is kept "
                             "and will be shown again."))


def _drop_kept(request, uid, step=None) -> None:
    """Forget what was kept for the draft's step (or all its steps)."""
    kept = request.session.get(KEPT_SESSION_KEY)
    if not kept:
        return
    left = {key: entry for key, entry in kept.items()
            if not (key == f"{uid}/{step}" if step else key.startswith(f"{uid}/"))}
    if left != kept:
        if left:
            request.session[KEPT_SESSION_KEY] = left
        else:
            del request.session[KEPT_SESSION_KEY]


def _take_kept(request, uid, step, *, keep: bool) -> tuple[dict, bool] | None:
    """What was kept for this draft's step (values, whether a file was sent then); left in the session when ``keep``
    (shown again on every visit until the step is posted), else taken out."""
    entry = (request.session.get(KEPT_SESSION_KEY) or {}).get(f"{uid}/{step}")
    if entry is None:
        return None
    if not keep:
        _drop_kept(request, uid, step)
    if not isinstance(entry, dict) or time.time() - entry.get("at", 0) > KEPT_MAX_AGE:
        _drop_kept(request, uid, step)
        return None
    try:
        values = crypto.open_json(entry["sealed"], _kept_aad(uid, step))
    except Exception:  # noqa: BLE001 -- a key retired since, or a damaged entry: nothing to show
        return None
    return ({str(k): str(v) for k, v in values.items()} if isinstance(values, dict) else {}), bool(entry.get("files"))


def _signed_in(view):
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            if request.method == "POST" and "uid" in kwargs and "step" in kwargs:
                _keep_typing(request, kwargs["uid"], kwargs["step"])
            return redirect_to_login(request.get_full_path())
        try:
            return view(request, *args, **kwargs)
        except AssuranceTooLow as too_low:
            return _denied(request, too_low)

    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return wrapper


def _own_draft(request, uid) -> Draft:
    try:
        return services.draft_of(request.user, uid)
    except (Draft.DoesNotExist, ValidationError, ValueError):
        raise Http404 from None


@never_cache
@_signed_in
@require_http_methods(["GET", "POST"])
def start(request, code):
    """The procedure's start page: the level it needs, my unfinished drafts of it, and "Start"."""
    version = services.current_version(code)
    if version is None:
        raise Http404
    from egov.accounts.services import require_assurance

    require_assurance(request.user, version.min_assurance_level)
    if not services.may_apply_online(version):
        return render(request, "portal/apply/start.html", {"version": version, "offline": True}, status=409)
    if request.method == "POST":
        # A new draft only when asked for by name ("new"), if one of this procedure is already waiting.
        draft, resumed = services.start_or_resume(request.user, version, new=request.POST.get("new") == "1")
        if resumed:
            messages.info(request, _("You had already started this application: you go on with your draft."))
        return redirect("portal:apply:step", uid=draft.uid, step=draft.step)
    drafts = list(services.drafts_of(request.user, procedure_id=version.procedure_id))
    return render(request, "portal/apply/start.html", {
        "version": version, "steps": services.plan(version),
        "newest": services.progress(drafts[0]) if drafts else None, "others": len(drafts) - 1})


@never_cache
@_signed_in
def my_drafts(request):
    """Hồ sơ nháp của tôi: resumable from any device."""
    from django.conf import settings

    return render(request, "portal/apply/drafts.html", {
        "rows": [services.progress(draft) for draft in services.drafts_of(request.user)],
        "retention_days": settings.DRAFT_RETENTION_DAYS})


@never_cache
@_signed_in
@require_http_methods(["GET", "POST"])
def delete_draft(request, uid):
    """Xóa hồ sơ nháp: a confirmation that says what is lost (GET), then the deletion (POST). Only the owner's own
    unsubmitted draft: anyone else's is 404; a submitted one is a dossier now and is not deleted (409)."""
    try:
        draft, files = services.draft_to_delete(request.user, uid)
        if request.method == "POST":
            services.delete_draft(request.user, uid)
            messages.success(request, _("The draft is deleted."))
            return redirect("portal:apply:drafts")
    except Draft.DoesNotExist:
        raise Http404 from None
    except services.DraftSubmitted as submitted:
        return render(request, "portal/apply/delete.html", {"dossier": submitted.dossier}, status=409)
    return render(request, "portal/apply/delete.html", {"draft": draft, "files": files})


@never_cache
@_signed_in
def resume(request, uid):
    draft = _own_draft(request, uid)
    if draft.dossier_id:
        return redirect("portal:apply:done", code=draft.dossier.code)
    return redirect("portal:apply:step", uid=draft.uid, step=draft.step)


def _step_context(draft, steps, current):
    index = [s.id for s in steps].index(current.id)
    return {"draft": draft, "version": draft.procedure_version, "steps": steps, "step": current, "index": index,
            "number": index + 1, "previous": steps[index - 1] if index else None,
            "next": steps[index + 1] if index + 1 < len(steps) else None}


def _remembered_here(draft, current, form) -> dict | None:
    """The notice of a form step whose answers were filled in from an earlier dossier: which one, and which fields
    (labelled as on the form), so the applicant checks they are still true."""
    source = draft.content().get("remembered") or {} if current.kind == "form" else {}
    labels = [str(form[f"form_{name}"].label) for name in current.names
              if name in source.get("fields", ()) and f"form_{name}" in form.fields]
    return {"code": source["code"], "date": source["date"], "labels": labels} if labels else None


def _form_for(draft, current, data=None, files=None, restored=None):
    """The step's form: bound to what was posted, else showing the draft; ``restored`` (what was typed on the step
    when the session had ended) is shown over the draft, unsaved, the way the post would have been read."""
    version = draft.procedure_version
    content = draft.content()
    if current.kind == "form":
        agencies = (sorted(version.agencies.all(), key=lambda agency: (vietnamese_key(agency.name), agency.code))
                    if current.id == "form-1" else [])
        agencies = agencies if len(agencies) > 1 else []
        initial = {f"form_{k}": v for k, v in content.get("raw", {}).items()}
        if draft.agency_id:
            initial["agency"] = draft.agency.code
        if restored:
            initial.update({f"form_{name}": restored.get(f"form_{name}", "") for name in current.names})
            if restored.get("agency"):
                initial["agency"] = restored["agency"]
        return EFormStep(data, version=version, names=current.names, agencies=agencies, initial=initial)
    if current.kind == "subject":
        subject = content.get("subject") or {}
        initial = {"on_behalf": "1" if subject.get("on_behalf") else "0",
                   "subject_full_name": subject.get("full_name", ""),
                   "subject_id_number": subject.get("id_number", ""),
                   "subject_date_of_birth": subject.get("date_of_birth_raw", "")}
        if restored:
            initial.update({name: restored.get(name, "") for name in initial} | {
                "on_behalf": "1" if restored.get("on_behalf") == "1" else "0"})
        return SubjectStep(data, initial=initial)
    if current.kind == "files":
        reuse = content.get("reuse", {})
        initial = {f"use_{c['code']}": reuse.get(c["code"], "") for c in current.components}
        if restored:
            initial.update({name: restored[name] for name in initial if name in restored})
        return FilesStep(data, files, components=current.components,
                         stored=services.stored_documents_for(draft.owner, version, catch_up=data is None),
                         uploaded=services.uploaded(draft), initial=initial)
    return None


@never_cache
@_signed_in
@require_http_methods(["GET", "POST"])
def step(request, uid, step):
    """One step of the application. Whatever is posted is kept in the draft; "Continue" checks the step first. A
    file refused (wrong type, too large) keeps the user on the step with its reason, whatever the button."""
    try:
        draft = _own_draft(request, uid)
    except Http404:
        _drop_kept(request, uid)  # what was typed for someone else's draft is never shown, and not kept either
        raise
    # Shown to the owner until the step is posted (the post itself is what is kept from then on).
    restored = _take_kept(request, uid, step, keep=request.method == "GET")
    if draft.dossier_id:
        return redirect("portal:apply:done", code=draft.dossier.code)
    from egov.accounts.services import require_assurance

    require_assurance(request.user, draft.procedure_version.min_assurance_level)
    steps = services.plan(draft.procedure_version)
    current = next((s for s in steps if s.id == step), None)
    if current is None:
        raise Http404
    context = _step_context(draft, steps, current)
    if current.kind == "review":
        return _review(request, draft, context)
    if request.method == "GET":
        context["form"] = _form_for(draft, current, restored=restored[0] if restored else None)
        context["remembered"] = _remembered_here(draft, current, context["form"])
        if restored:
            messages.info(request, _("What you typed on this step before your session ended is shown again. It is "
                                     "not saved yet: press “Save and continue” or “Save and finish later” to keep it."))
            if restored[1]:
                messages.warning(request, _("A file you chose then could not be kept: choose it again."))
        return render(request, "portal/apply/step.html", context)

    going_back = "back" in request.POST
    saving = "save" in request.POST
    form = _form_for(draft, current, request.POST, request.FILES)
    changes, checked, errors = _posted(draft, current, form, request)
    if current.kind == "form" and SHOW_COMMUNES in request.POST:
        # The commune picker without JavaScript: keep what was typed, show the chosen province's communes, and check
        # nothing yet (the applicant has not finished the step).
        services.save_step(draft, **changes)
        context["form"] = _form_for(draft, current)
        keep_chosen_provinces(context["form"], request.POST)
        return render(request, "portal/apply/step.html", context)
    refused = bool(errors)  # a file refused: its reason is shown on the step, whichever button was pressed
    valid = form.is_valid() and not errors
    if current.kind == "files" and not going_back and not saving:
        have = (set(form.uploaded) | {code for code, _content, _mime in checked}
                | set(services.merged(draft, **changes).get("reuse", {})))
        for name, messages_ in services.missing_documents(current.components, have).items():
            if not form.has_error(name) and name in form.fields:
                for message in messages_:
                    form.add_error(name, message)
                valid = False
    for name, messages_ in errors.items():
        for message in messages_:
            form.add_error(name if name in form.fields else None, message)
    if refused:
        target = None
    elif going_back and context["previous"]:
        target = context["previous"].id
    elif saving:
        target = None
    elif valid:
        target = (context["next"] or current).id
    else:
        target = None
    # Whatever was posted is kept, valid or not, with the step to go on with: one write of the draft.
    kept = services.save_step(draft, **changes, files=checked, step=target)
    if current.kind == "files":
        form.uploaded.update(kept)
    if refused:
        if going_back or saving:
            messages.warning(request, _("Everything else you entered is saved, but the file marked below was not "
                                        "kept: choose another one, or leave it empty."))
    elif going_back and context["previous"]:
        return redirect("portal:apply:step", uid=draft.uid, step=target)
    elif saving:
        messages.success(request, _("Your draft is saved. You can continue it from “My drafts” on any device."))
        return redirect("portal:apply:drafts")
    elif valid:
        return redirect("portal:apply:step", uid=draft.uid, step=target)
    context["form"] = form
    return render(request, "portal/apply/step.html", context, status=400)


def _posted(draft, current, form, request) -> tuple[dict, list, dict]:
    """What the step posted, to be kept valid or not: the draft's changes (``save_step`` arguments), the uploaded
    files that passed their checks (each file on its own: a bad one costs the others nothing), and the errors."""
    posted = request.POST
    if current.kind == "form":
        raw = {name: posted.get(f"form_{name}", "") for name in current.names}
        agency = None
        if "agency" in form.fields and posted.get("agency"):
            agency = draft.procedure_version.agencies.filter(code=posted["agency"]).first()
        return {"raw": raw, "agency": agency}, [], {}
    if current.kind == "subject":
        on_behalf = posted.get("on_behalf") == "1"
        subject = {"on_behalf": on_behalf, "full_name": posted.get("subject_full_name", "").strip(),
                   "id_number": posted.get("subject_id_number", "").strip(),
                   "date_of_birth_raw": posted.get("subject_date_of_birth", "").strip()}
        if form.is_valid() and on_behalf and form.cleaned_data.get("subject_date_of_birth"):
            subject["date_of_birth"] = form.cleaned_data["subject_date_of_birth"].isoformat()
        return {"subject": subject}, [], {}
    # Files: a stored document chosen, or files uploaded.
    reuse = {}
    for component in current.components:
        code = component["code"]
        if f"use_{code}" in form.fields:
            reuse[code] = posted.get(f"use_{code}", "")
    uploads = [(c["code"], request.FILES[f"file_{c['code']}"]) for c in current.components
               if request.FILES.get(f"file_{c['code']}")]
    checked, errors = services.check_uploads(draft, uploads)
    # Uploading a file for a component means not using a stored document for it.
    reuse.update({code: "" for code, _content, _mime in checked})
    return {"reuse": reuse}, checked, errors


def _review(request, draft, context):
    version = draft.procedure_version
    if request.method == "POST":
        if "back" in request.POST and context["previous"]:
            return redirect("portal:apply:step", uid=draft.uid, step=context["previous"].id)
        try:
            dossier = services.submit(draft, user=request.user,
                                      idempotency_key=request.POST.get("idempotency_key", ""),
                                      result_delivery=request.POST.get("result_delivery") or None,
                                      declared=request.POST.get("declared") == "on")
        except services.DraftMoved as moved:
            # A newer version of the procedure is in force: the draft follows it now; on to what needs doing.
            messages.warning(request, moved.messages[0])
            return redirect("portal:apply:step", uid=draft.uid, step=moved.step)
        except ValidationError as exc:
            problems = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
            errors = [{"message": _named(version, name, message), "step": services.step_of_field(version, name),
                       "name": name} for name, messages_ in problems.items() for message in messages_]
            return render(request, "portal/apply/review.html", _review_context(request, draft, context, errors),
                          status=400)
        except dossier_services.NotAllowed as exc:
            errors = [{"message": str(exc.args[0] if exc.args else exc), "step": "review"}]
            return render(request, "portal/apply/review.html", _review_context(request, draft, context, errors),
                          status=403)
        return redirect("portal:apply:done", code=dossier.code)
    return render(request, "portal/apply/review.html", _review_context(request, draft, context, []))


def _named(version, name: str, message: str) -> str:
    """A submission error with the name of the field it is about (``form.x``, ``subject.x``), unless it says it."""
    label = ""
    if name.startswith("form."):
        field = name.removeprefix("form.").split(".")[0]
        label = (((version.ui_schema or {}).get(field) or {}).get("label")
                 or (((version.form_schema or {}).get("properties") or {}).get(field) or {}).get("title") or field)
    elif name.startswith("subject."):
        field = SubjectStep.base_fields.get("subject_" + name.removeprefix("subject."))
        label = str(field.label) if field else ""
    if not label or str(message).startswith(str(label)):
        return message
    return _("%(field)s: %(message)s") % {"field": label, "message": message}


def _review_context(request, draft, context, errors):
    version = draft.procedure_version
    content = draft.content()
    answers = [{"label": label, "value": text, "step": services.step_of_field(version, f"form.{name}")}
               for name, label, text in answer_rows(version, content.get("raw", {}), all_fields=True)]
    stored = {str(d.uid): d for d in StoredDocument.objects.filter(owner=request.user,
                                                                   uid__in=list(content.get("reuse", {}).values()))}
    files = services.uploaded(draft)
    declaration = version.declaration_from_answers(set(files))  # to affirm, where the answers stand for it
    documents = []
    for component in version.components or []:
        code = component["code"]
        reused = stored.get(content.get("reuse", {}).get(code, ""))
        documents.append({"component": component, "file": files.get(code),
                          "reused": services.describe(reused) if reused and code not in files else "",
                          "eform": declaration is not None and code == declaration["code"],
                          "step": services.step_of_field(version, f"file_{code}")})
    deliveries = dossier_services.result_deliveries(version)
    chosen = request.POST.get("result_delivery") if request.method == "POST" else None
    fee_lines, fee_total = services.fees_to_pay(version, content.get("raw", {}))
    return {**context, "answers": answers, "documents": documents, "subject": content.get("subject") or {},
            "fee_lines": fee_lines, "fee_total": fee_total,
            "errors": errors, "declaration": declaration,
            "declared": request.method == "POST" and request.POST.get("declared") == "on",
            "declaration_error": next((e["message"] for e in errors if e.get("name") == "declared"), ""),
            # Asked only where there is a choice (full-process online: the result is issued signed, electronically).
            "deliveries": [(value, ResultDelivery(value).label) for value in deliveries] if len(deliveries) > 1 else [],
            "delivery_chosen": chosen if chosen in deliveries else deliveries[0]}


@never_cache
@_signed_in
def done(request, code):
    """Giấy tiếp nhận trực tuyến: the acknowledgement with the dossier code at once; form 01 and the appointment date
    once the desk has received it (auto-receive procedures: at once)."""
    dossier = (Dossier.objects.select_related("procedure_version__procedure", "receiving_agency")
               .filter(code=code, applicant=request.user).first())
    if dossier is None:
        raise Http404
    received = dossier.received_at is not None and dossier.status != Status.REFUSED
    return render(request, "portal/apply/done.html", {"dossier": dossier, "received": received})


@never_cache
@_signed_in
def my_documents(request):
    """Kho dữ liệu điện tử của tôi: every document filed or received, kept for reuse."""
    dossier_services.keep_delivered_results(request.user)
    documents = (StoredDocument.objects.filter(owner=request.user)
                 .select_related("attachment", "source_dossier").order_by("-stored_at", "-id"))
    rows = []
    for document in documents[:200]:
        meta = document.content()
        rows.append({"document": document, "name": meta.get("name", ""), "procedure": meta.get("procedure", ""),
                     "dossier_code": meta.get("dossier_code", ""), "reuses": document.reuses.count()})
    return render(request, "portal/apply/documents.html", {"rows": rows})


