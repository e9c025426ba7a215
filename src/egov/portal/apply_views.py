"""Apply online (``/apply/``), my drafts, the acknowledgement, and my data store (``/my/documents/``). Thin: parse,
call ``apply_services``, render. Every page works without JavaScript."""
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
from egov.dossiers.models import Dossier, Status
from egov.portal import apply_services as services
from egov.portal.apply_forms import EFormStep, FilesStep, SubjectStep
from egov.portal.apply_models import Draft, StoredDocument


def _denied(request, too_low: AssuranceTooLow):
    return render(request, "accounts/denied.html",
                  {"reason": too_low.reason, "verify_url": reverse("accounts:verify_identity")}, status=403)


def _signed_in(view):
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
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
        draft = services.start_draft(request.user, version)
        return redirect("portal:apply:step", uid=draft.uid, step=draft.step)
    drafts = [d for d in services.drafts_of(request.user) if d.procedure_version.procedure_id == version.procedure_id]
    return render(request, "portal/apply/start.html", {"version": version, "drafts": drafts,
                                                       "steps": services.plan(version)})


@never_cache
@_signed_in
def my_drafts(request):
    """Hồ sơ nháp của tôi: resumable from any device."""
    from django.conf import settings

    return render(request, "portal/apply/drafts.html", {"drafts": services.drafts_of(request.user),
                                                        "retention_days": settings.DRAFT_RETENTION_DAYS})


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


def _form_for(draft, current, data=None, files=None):
    version = draft.procedure_version
    content = draft.content()
    if current.kind == "form":
        agencies = list(version.agencies.order_by("name")) if current.id == "form-1" else []
        agencies = agencies if len(agencies) > 1 else []
        initial = {f"form_{k}": v for k, v in content.get("raw", {}).items()}
        if draft.agency_id:
            initial["agency"] = draft.agency.code
        return EFormStep(data, version=version, names=current.names, agencies=agencies, initial=initial)
    if current.kind == "subject":
        subject = content.get("subject") or {}
        initial = {"on_behalf": "1" if subject.get("on_behalf") else "0",
                   "subject_full_name": subject.get("full_name", ""),
                   "subject_id_number": subject.get("id_number", ""),
                   "subject_date_of_birth": subject.get("date_of_birth_raw", "")}
        return SubjectStep(data, initial=initial)
    if current.kind == "files":
        reuse = content.get("reuse", {})
        return FilesStep(data, files, components=current.components,
                         stored=services.stored_documents_for(draft.owner, version, catch_up=data is None),
                         uploaded=services.uploaded(draft),
                         initial={f"use_{c['code']}": reuse.get(c["code"], "") for c in current.components})
    return None


@never_cache
@_signed_in
@require_http_methods(["GET", "POST"])
def step(request, uid, step):
    """One step of the application. Whatever is posted is kept in the draft; "Continue" checks the step first."""
    draft = _own_draft(request, uid)
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
        context["form"] = _form_for(draft, current)
        return render(request, "portal/apply/step.html", context)

    going_back = "back" in request.POST
    form = _form_for(draft, current, request.POST, request.FILES)
    changes, checked, errors = _posted(draft, current, form, request)
    valid = form.is_valid() and not errors
    if current.kind == "files" and not going_back:
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
    if going_back and context["previous"]:
        target = context["previous"].id
    elif "save" in request.POST:
        target = None
    elif valid:
        target = (context["next"] or current).id
    else:
        target = None
    # Whatever was posted is kept, valid or not, with the step to go on with: one write of the draft.
    kept = services.save_step(draft, **changes, files=checked, step=target)
    if current.kind == "files":
        form.uploaded.update(kept)
    if going_back and context["previous"]:
        return redirect("portal:apply:step", uid=draft.uid, step=target)
    if "save" in request.POST:
        messages.success(request, _("Your draft is saved. You can continue it from “My drafts” on any device."))
        return redirect("portal:apply:drafts")
    if valid:
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
                                      idempotency_key=request.POST.get("idempotency_key", ""))
        except ValidationError as exc:
            problems = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
            errors = [{"message": message, "step": services.step_of_field(version, name)}
                      for name, messages_ in problems.items() for message in messages_]
            return render(request, "portal/apply/review.html", _review_context(request, draft, context, errors),
                          status=400)
        except dossier_services.NotAllowed as exc:
            errors = [{"message": str(exc.args[0] if exc.args else exc), "step": "review"}]
            return render(request, "portal/apply/review.html", _review_context(request, draft, context, errors),
                          status=403)
        return redirect("portal:apply:done", code=dossier.code)
    return render(request, "portal/apply/review.html", _review_context(request, draft, context, []))


def _review_context(request, draft, context, errors):
    version = draft.procedure_version
    content = draft.content()
    raw = content.get("raw", {})
    ui = version.ui_schema or {}
    properties = (version.form_schema or {}).get("properties") or {}
    answers = []
    for name in services.field_order(version):
        value = raw.get(name, "")
        choices = (ui.get(name) or {}).get("choices") or {}
        label = (ui.get(name) or {}).get("label") or (properties.get(name) or {}).get("title") or name
        answers.append({"label": label, "value": choices.get(value, value),
                        "step": services.step_of_field(version, f"form.{name}")})
    stored = {str(d.uid): d for d in StoredDocument.objects.filter(owner=request.user,
                                                                   uid__in=list(content.get("reuse", {}).values()))}
    files = services.uploaded(draft)
    documents = []
    for component in version.components or []:
        code = component["code"]
        reused = stored.get(content.get("reuse", {}).get(code, ""))
        documents.append({"component": component, "file": files.get(code),
                          "reused": services.describe(reused) if reused and code not in files else "",
                          "step": services.step_of_field(version, f"file_{code}")})
    return {**context, "answers": answers, "documents": documents, "subject": content.get("subject") or {},
            "errors": errors}


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


