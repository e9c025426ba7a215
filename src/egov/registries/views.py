"""Web pages of the base registries. Views stay thin: parse the form, call the service, render the result or the error.

- ``person_lookup``: an officer finds one person in the population registry for a stated purpose. The read is logged
  by the service and the person sees it (agency, role, purpose) on their "who accessed my data" page.
- ``registry_list``, ``registry_new``, ``registry_detail``: an agency administrator defines the digital registries of
  their agency and says which client systems may read and write their records.
"""
import json
from functools import wraps

from django.contrib import messages
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters

from egov.accounts.models import Role
from egov.accounts.services import caller_for_user
from egov.accounts.views import denied, officer_required
from egov.exchange import queries as exchange_queries
from egov.exchange import services as exchange_services
from egov.kernel.access import Denied
from egov.registries import queries, rules, services
from egov.registries.forms import SCHEMA_EXAMPLE, PersonLookupForm, RegistryForm, RegistryGrantsForm
from egov.registries.models import AdministrativeUnit, Person, PersonalData, Registry

# --- Person look-up -----------------------------------------------------------------------------------------------


def _unit_name(code: str) -> str:
    unit = queries.current_unit(code, level=AdministrativeUnit.Level.COMMUNE) if code else None
    return unit.full_name if unit is not None else code


def _residence(unit_code: str, address: str) -> str:
    return ", ".join(part for part in (address, _unit_name(unit_code)) if part)


def _date(value) -> str:
    return value.strftime("%d/%m/%Y") if value else ""


def _person_rows(person: Person, data: PersonalData) -> list[tuple[str, object]]:
    """(label, value) for each field shown to the officer; an empty value reads "not recorded"."""
    rows = [
        (_("Personal identification number"), data.personal_id_number),
        (_("Full name"), data.full_name),
        (_("Date of birth"), _date(data.date_of_birth)),
        (_("Sex"), rules.Sex(data.sex).label if data.sex in rules.Sex.values else data.sex),
        (_("Status"), person.get_status_display()),
    ]
    if data.date_of_death:
        rows.append((_("Date of death"), _date(data.date_of_death)))
    rows += [
        (_("Nationality"), data.nationality),
        (_("Ethnicity"), data.ethnicity),
        (_("Place of birth registration"), data.birth_registration_place),
        (_("Permanent residence"), _residence(data.permanent_residence_unit, data.permanent_address)),
        (_("Current residence"), _residence(data.current_residence_unit, data.current_address)),
        (_("Phone"), data.phone),
        (_("Email"), data.email),
    ]
    return rows


@never_cache
@sensitive_post_parameters("personal_id_number", "full_name", "date_of_birth")
@officer_required
def person_lookup(request):
    """Tra cứu thông tin công dân: by identification number, or full name and date of birth, always with a purpose.

    A POST, so the number stays out of addresses and server logs; the data is rendered on the response itself and
    kept nowhere else (no redirect that would need it stored)."""
    caller = caller_for_user(request.user)
    if not caller.may("population.lookup"):
        return denied(request, _("Your role does not include looking persons up in the population registry."))
    form = PersonLookupForm(request.POST or None)
    found, status = None, 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                person, data = services.find_person(caller=caller, purpose=form.purpose(), via="web",
                                                    **form.search_terms())
            except services.RegistryError as exc:
                form.show_service_error(exc)
                status = exc.status
            except Denied as exc:
                return denied(request, exc.reason)
            else:
                found = {"person": person, "rows": _person_rows(person, data), "purpose": form.purpose()}
                status = 200
    return render(request, "registries/person_lookup.html", {"form": form, "found": found}, status=status)


# --- Digital registries -------------------------------------------------------------------------------------------


def registry_admin_required(view):
    """Signed in with TOTP (``officer_required``), and an agency administrator or the platform administrator."""

    @wraps(view)
    @officer_required
    def wrapper(request, *args, **kwargs):
        user = request.user
        if not caller_for_user(user).may("registry.define"):
            return denied(request, _("Only agency administrators manage registries."))
        if user.role != Role.PLATFORM_ADMIN and not user.agency_id:
            return denied(request, _("Your account does not belong to any agency."))
        return view(request, *args, **kwargs)

    return wrapper


def _manages_all(user) -> bool:
    return user.role == Role.PLATFORM_ADMIN


@registry_admin_required
def registry_list(request):
    """Cơ sở dữ liệu của cơ quan: the admin's agency's registries (all of them for the platform admin), and the
    national population registry, which is shown but never changed here."""
    user = request.user
    registries = queries.registries_visible_to(user.agency_id, every_agency=_manages_all(user))
    context = {
        "own": [r for r in registries if r.kind != Registry.Kind.POPULATION],
        "national": [r for r in registries if r.kind == Registry.Kind.POPULATION],
        "agency": None if _manages_all(user) else user.agency,
    }
    return render(request, "registries/registry_list.html", context)


@registry_admin_required
def registry_new(request):
    """Định nghĩa cơ sở dữ liệu: ``services.define_registry``, then who may read and write it."""
    user = request.user
    caller = caller_for_user(user)
    form = RegistryForm(request.POST or None, choose_agency=_manages_all(user))
    if request.method == "POST" and form.is_valid():
        agency = form.cleaned_data["agency_code"] if _manages_all(user) else user.agency
        try:
            # One change: a registry nobody was meant to reach is not left behind when the grants are refused.
            with transaction.atomic():
                registry = services.define_registry(caller=caller, agency=agency, **form.definition())
                exchange_services.set_registry_grants(registry, caller=caller,
                                                      readers=list(form.cleaned_data["readers"]),
                                                      writers=list(form.cleaned_data["writers"]))
        except services.RegistryError as exc:
            form.show_service_error(exc)
        except Denied as exc:
            return denied(request, exc.reason)
        else:
            messages.success(request, _("Registry %(code)s version %(version)s is defined.")
                             % {"code": registry.code, "version": registry.version})
            return redirect("registries:detail", code=registry.code, version=registry.version)
    context = {"form": form, "schema_example": SCHEMA_EXAMPLE, "agency": None if _manages_all(user) else user.agency}
    return render(request, "registries/registry_new.html", context, status=400 if form.errors else 200)


@registry_admin_required
def registry_detail(request, code: str, version: str):
    """One registry: its definition, how many records it holds, who may read and write it (changeable by its
    agency's admin; the population registry is read-only here)."""
    user = request.user
    try:
        registry = services.get_registry(code, version)
    except services.NotFound as exc:
        raise Http404(exc.message) from None
    population = registry.kind == Registry.Kind.POPULATION
    # Rights are per code: the agency owning the code (its first version's) manages every version of it.
    owner = queries.registry_code_owner(registry.code) or registry.agency
    if not (population or _manages_all(user) or owner.pk == user.agency_id):
        return denied(request, _("This registry belongs to another agency: only its administrators manage it."))
    editable = not population
    readers = exchange_queries.clients_granted(rules.registry_right(registry.code, "read"))
    writers = exchange_queries.clients_granted(rules.registry_right(registry.code, "write"))
    form = RegistryGrantsForm(request.POST or None, initial={"readers": readers, "writers": writers})
    if request.method == "POST":
        if not editable:
            return denied(request, _("The population registry's rights are granted by the platform administrator "
                                     "to each client system."))
        if form.is_valid():
            try:
                exchange_services.set_registry_grants(registry, caller=caller_for_user(user),
                                                      readers=list(form.cleaned_data["readers"]),
                                                      writers=list(form.cleaned_data["writers"]))
            except Denied as exc:
                return denied(request, exc.reason)
            messages.success(request, _("Who may read and write this registry is saved."))
            return redirect("registries:detail", code=registry.code, version=registry.version)
    context = {
        "registry": registry, "form": form if editable else None, "readers": readers, "writers": writers,
        "record_count": None if population else registry.records.count(),
        "verifiers": exchange_queries.clients_granted("population.verify") if population else [],
        "releases": exchange_queries.clients_granted("population.release") if population else [],
        "schema_text": _pretty(registry.schema),
    }
    return render(request, "registries/registry_detail.html", context, status=400 if form.errors else 200)


def _pretty(schema) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False)
