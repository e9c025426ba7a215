"""Business actions on the procedure catalogue: import a catalogue file (one transaction), export the catalogue.

A version is identified by its procedure and its effective date. Importing a file creates the versions that are
new, leaves identical ones alone, and updates a changed one only while no dossier uses it: a dossier keeps the
version it was submitted under, so a change to a version in use must be a new version with a later date.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction
from django.utils.translation import gettext as _

from egov.kernel import ledger
from egov.procedures import queries
from egov.procedures.catalogue import (
    FEE_QUANTITY_KEYS, Catalogue, CatalogueError, CatalogueErrors, ProcedureSpec, VersionSpec, dump_catalogue,
    parse_catalogue,
)
from egov.procedures.models import Procedure, ProcedureLifeEvent, ProcedureVersion
from egov.registries.models import Agency

LEDGER_PARTITION = "catalogue"
EXPORT_FILE = "catalogue.yaml"
# The model fields a file sets, compared to tell an unchanged version from a changed one.
VERSION_FIELDS = ("name", "sector", "level", "legal_basis", "duration_days", "same_day", "steps", "fees",
                  "components", "form_schema", "ui_schema", "online_level", "min_assurance_level", "auto_receive",
                  "result_type", "result_template", "registry_effect", "bpmn", "applicants")
# Fields that only describe the procedure to citizens: a version already used by dossiers may still change them.
DESCRIPTIVE_FIELDS = ("applicants",)
# Marks that only change what a future online application asks for or fills in, so a version already used by dossiers
# may still change them: which component the e-form stands for (``eform``: the dossiers filed keep their files) and
# which answers an earlier dossier prefills (``remember`` in the hints of ``ui_schema``), and whose number a personal
# identification field must be (``sex``: checked when an application is made, not on dossiers already filed).
FUTURE_ONLY_MARKS = {"components": {"eform"}, "ui_schema": {"remember", "sex"}}


@dataclass
class ImportReport:
    source: str
    procedures_created: list[str] = field(default_factory=list)
    created: list[str] = field(default_factory=list)     # "1.001193 2025-07-01 (v1)"
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (_("%(source)s: %(procedures)d procedures created; versions: %(created)d created, %(updated)d updated, "
                  "%(unchanged)d unchanged") % {"source": self.source, "procedures": len(self.procedures_created),
                                                "created": len(self.created), "updated": len(self.updated),
                                                "unchanged": len(self.unchanged)})


def read_catalogue(path_or_text: str | Path) -> Catalogue:
    """Parse a catalogue given as a path (a Path, or a one-line str naming a file or ending in .yaml/.yml) or as
    its text."""
    looks_like_path = "\n" not in path_or_text and (path_or_text.endswith((".yaml", ".yml"))
                                                    or Path(path_or_text).is_file()) if isinstance(path_or_text, str) else True
    if looks_like_path:
        path = Path(path_or_text)
        if not path.is_file():
            raise CatalogueErrors([CatalogueError(str(path), None, "", _("file not found"))])
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise CatalogueErrors([CatalogueError(str(path), None, "", _("not UTF-8 text: %(reason)s")
                                                  % {"reason": exc})]) from None
        return parse_catalogue(text, source=str(path), base_dir=path.parent)
    return parse_catalogue(path_or_text, source="<text>", base_dir=None)


def _fields(spec: VersionSpec) -> dict:
    return {name: getattr(spec, name) for name in VERSION_FIELDS}


@transaction.atomic
def import_catalogue(path_or_text: str | Path, *, actor=None) -> ImportReport:
    """Load a catalogue file: all of it or, on any error, nothing (raises CatalogueErrors listing every problem)."""
    catalogue = read_catalogue(path_or_text)
    report = ImportReport(source=catalogue.source)
    errors: list[CatalogueError] = []
    codes = {code for spec in catalogue.procedures for version in spec.versions for code in version.agencies}
    agencies = {agency.code: agency for agency in Agency.objects.filter(code__in=codes)}
    for spec in catalogue.procedures:
        for version in spec.versions:
            for index, code in enumerate(version.agencies):
                if code not in agencies:
                    path = f"{version.path}.agencies[{index}]"
                    errors.append(CatalogueError(catalogue.source, version.lines.get(path), path,
                                                 _("no agency with the code “%(code)s” in the registry")
                                                 % {"code": code}))
    if errors:
        raise CatalogueErrors(errors)
    for spec in catalogue.procedures:
        errors.extend(_import_procedure(spec, agencies, report, actor, catalogue.source))
    if errors:
        transaction.set_rollback(True)
        raise CatalogueErrors(errors)
    queries.forget_search_choices()
    return report


def _import_procedure(spec: ProcedureSpec, agencies: dict, report: ImportReport, actor, source: str
                      ) -> list[CatalogueError]:
    errors = []
    procedure = Procedure.objects.select_for_update().filter(code=spec.code).first()
    if procedure is None:
        procedure = Procedure.objects.create(code=spec.code, name=spec.name, sector=spec.sector)
        report.procedures_created.append(spec.code)
    elif (procedure.name, procedure.sector) != (spec.name, spec.sector):
        procedure.name, procedure.sector = spec.name, spec.sector
        procedure.save(update_fields=["name", "sector"])  # save() refreshes the folded search text too
    _set_life_events(procedure, spec.life_events)
    for version_spec in spec.versions:
        label = f"{spec.code} {version_spec.effective_from.isoformat()}"
        fields = _fields(version_spec)
        wanted_agencies = [agencies[code] for code in version_spec.agencies]
        version = ProcedureVersion.objects.filter(procedure=procedure,
                                                  effective_from=version_spec.effective_from).first()
        if version is None:
            version = ProcedureVersion.objects.create(procedure=procedure, effective_from=version_spec.effective_from,
                                                      version=queries.latest_version_number(procedure) + 1, **fields)
            version.agencies.set(wanted_agencies)
            report.created.append(f"{label} (v{version.version})")
            _published(version, actor, change="created")
            continue
        differing = {name for name, value in fields.items() if getattr(version, name) != value}
        # Marks that only change what a future online application asks for or fills in (FUTURE_ONLY_MARKS).
        future_only = {name for name in differing & set(FUTURE_ONLY_MARKS)
                       if _without_future_marks(name, getattr(version, name)) == _without_future_marks(name, fields[name])}
        if "fees" in differing and _fees_gain_counts_only(version.fees, fields["fees"]):
            future_only.add("fees")
        same_agencies = sorted(version.agencies.values_list("code", flat=True)) == sorted(version_spec.agencies)
        if not differing and same_agencies:
            report.unchanged.append(f"{label} (v{version.version})")
            continue
        if same_agencies and differing <= {*DESCRIPTIVE_FIELDS, *future_only}:
            # Only what the procedure's page says, or what a future online application asks for, changed: dossiers
            # filed under the version were not processed by it.
            changed = sorted(differing)
            for name in changed:
                setattr(version, name, fields[name])
            version.save(update_fields=changed)
            report.updated.append(f"{label} (v{version.version})")
            _published(version, actor, change="described")
            continue
        if version.dossiers.exists():
            errors.append(CatalogueError(source, None, version_spec.path, _(
                "version %(version)d of %(code)s (effective %(date)s) is used by dossiers and cannot change: give "
                "the change a new version with a later effective_from") % {
                "version": version.version, "code": spec.code, "date": version_spec.effective_from.isoformat()}))
            continue
        for name, value in fields.items():
            setattr(version, name, value)
        version.save()
        version.agencies.set(wanted_agencies)
        report.updated.append(f"{label} (v{version.version})")
        _published(version, actor, change="updated")
    procedure.save(update_fields=["words"])  # the names of its results are search words: re-read them
    return errors


def _fees_gain_counts_only(old: list, new: list) -> bool:
    """Fixed fees that gain the counting of copies or pages their legal basis already set (``FEE_QUANTITY_KEYS``),
    every fixed amount as it was: requests already opened keep their lines, and a request opened afterwards counts
    the dossier's answers, as the regulation always asked. Any other change of a used version's fees is refused."""
    if any(key in fee for fee in old or [] for key in FEE_QUANTITY_KEYS):
        return False

    def fixed(fees):
        return sorted((fee.get("code"), fee.get("amount")) for fee in fees or [] if fee.get("amount"))

    return fixed(old) == fixed(new)


def _without_future_marks(name: str, value):
    """A version field without the marks that only concern future online applications."""
    marks = FUTURE_ONLY_MARKS[name]
    if name == "components":
        return [{key: v for key, v in component.items() if key not in marks} for component in value or []]
    return {field: ({key: v for key, v in hints.items() if key not in marks} if isinstance(hints, dict) else hints)
            for field, hints in (value or {}).items()}


def _set_life_events(procedure: Procedure, events: list[str]) -> None:
    """The procedure's life events become exactly those of the file (a file without the key clears them)."""
    current = set(procedure.life_event_tags.values_list("event", flat=True))
    wanted = set(events)
    if current == wanted:
        return
    procedure.life_event_tags.exclude(event__in=wanted).delete()
    ProcedureLifeEvent.objects.bulk_create([ProcedureLifeEvent(procedure=procedure, event=event)
                                            for event in sorted(wanted - current)])


def _published(version: ProcedureVersion, actor, *, change: str) -> None:
    ledger.append("procedure.version_published", partition=LEDGER_PARTITION, actor=actor, subject=version,
                  payload={"procedure": version.procedure.code, "version": version.version,
                           "effective_from": version.effective_from.isoformat(), "change": change})


def spec_of(version: ProcedureVersion) -> VersionSpec:
    return VersionSpec(effective_from=version.effective_from,
                       agencies=sorted(agency.code for agency in version.agencies.all()),
                       **{name: getattr(version, name) for name in VERSION_FIELDS})


def current_catalogue() -> Catalogue:
    procedures = []
    for procedure in Procedure.objects.prefetch_related("versions__agencies", "life_event_tags").order_by("code"):
        versions = sorted(procedure.versions.all(), key=lambda version: version.effective_from)
        procedures.append(ProcedureSpec(code=procedure.code, name=procedure.name, sector=procedure.sector,
                                        versions=[spec_of(version) for version in versions],
                                        life_events=procedure.life_event_keys()))
    return Catalogue(procedures=procedures, source="database")


def export_catalogue(directory: str | Path) -> Path:
    """Write the whole catalogue to ``directory``/catalogue.yaml and its BPMN files under ``directory``/bpmn/;
    returns the YAML file's path. Importing it back changes nothing."""
    directory = Path(directory)
    text, files = dump_catalogue(current_catalogue())
    for name, xml in files.items():
        target = directory / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(xml, encoding="utf-8")
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / EXPORT_FILE
    path.write_text(text, encoding="utf-8")
    return path
