"""The catalogue file format ``egov-catalogue/1`` (docs/catalogue-format.md): parse with every problem reported, dump.

Parsing goes through PyYAML's compose API (nodes, not Python values) so that every problem can name its line; all
problems are collected before anything is raised, so an author fixes the file in one pass. Pure: no database. The
existence of agencies and the rule that a version in use never changes are checked at import (``services.py``).
"""
from __future__ import annotations

import datetime as dt
import difflib
import json
import re
import string
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import jsonschema
import yaml
from django.utils.translation import gettext as _

from egov.procedures import bpmn as bpmn_rules
from egov.registries.rules import InvalidCode, parse_code

FORMAT = "egov-catalogue/1"
CODE = re.compile(r"^\d\.\d{6}$")
STEP_ID = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
LEVELS = ("commune", "province", "ministry")
ONLINE_LEVELS = ("full", "partial", "none")
LIFE_EVENTS = ("birth", "marriage", "death", "moving", "business", "building", "work", "travel", "papers")
REGISTRY_EFFECTS = ("", "population.birth", "population.death", "population.residence")
STEP_ROLES = bpmn_rules.ROLES
UI_HINTS = ("label", "widget", "help", "placeholder", "choices", "remember", "sex")
# The keys by which a fee depends on an integer answer of the e-form (docs/catalogue-format.md; computed by
# payments.rules.fee_line, whose QUANTITY_KEYS they are).
FEE_QUANTITY_KEYS = ("per", "unit", "included", "unit_amount", "up_to", "times", "times_unit")
SEXES = ("male", "female")  # the ``sex`` hint of a personal identification field: whose number it must be
WIDGETS = ("text", "textarea", "number", "date", "select", "radio", "checkbox", "email", "tel", "pin", "commune")


@dataclass(frozen=True)
class CatalogueError:
    source: str
    line: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}" if self.line else self.source
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class CatalogueErrors(Exception):
    """Everything wrong with a catalogue file, in file order."""

    def __init__(self, errors: list[CatalogueError]):
        self.errors = errors
        super().__init__("\n".join(str(error) for error in errors))


@dataclass
class VersionSpec:
    """One procedure version as the file states it (shapes of the JSON fields as the model stores them)."""
    effective_from: dt.date
    name: str
    sector: str
    level: str
    agencies: list[str]
    legal_basis: str
    duration_days: Decimal
    same_day: bool
    steps: list[dict]
    fees: list[dict]
    components: list[dict]
    form_schema: dict
    ui_schema: dict
    online_level: str
    min_assurance_level: int
    auto_receive: bool
    result_type: str
    result_template: str
    registry_effect: str
    bpmn: str
    applicants: str = ""  # đối tượng thực hiện: who may file it, in the citizen's words
    bpmn_file: str = field(default="", compare=False)
    lines: dict[str, int] = field(default_factory=dict, compare=False, repr=False)  # path -> line, for import errors
    path: str = field(default="", compare=False, repr=False)


@dataclass
class ProcedureSpec:
    code: str
    name: str
    sector: str
    versions: list[VersionSpec]
    life_events: list[str] = field(default_factory=list)
    line: int | None = field(default=None, compare=False)
    path: str = field(default="", compare=False)


@dataclass
class Catalogue:
    procedures: list[ProcedureSpec]
    source: str = ""


# --------------------------------------------------------------------------------------------------------------
# Parsing

_MISSING = object()
_constructor = yaml.constructor.SafeConstructor()
# Far deeper than any catalogue needs (the deepest e-form schemas are about a dozen levels), and shallow enough that
# composing the file, turning a schema into JSON and checking it stay well inside Python's recursion limit.
MAX_DEPTH = 50
JSON_VALUES_LIMIT = 100_000  # values in one form_schema or ui_schema, aliases expanded (a large e-form has hundreds)
_TIMESTAMP = "tag:yaml.org,2002:timestamp"


class _TooDeep(Exception):
    def __init__(self, line: int | None):
        super().__init__(line)
        self.line = line


class _Loader(yaml.SafeLoader):
    """PyYAML composes nested lists and mappings by recursion: thousands of ``[`` would exhaust Python's stack
    (RecursionError). Count the depth and stop at ``MAX_DEPTH`` with the line where it was passed."""

    def __init__(self, stream):
        super().__init__(stream)
        self.depth = 0

    def compose_node(self, parent, index):
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                raise _TooDeep(self.peek_event().start_mark.line + 1)
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


class _Cycle(Exception):
    """An alias inside its own anchor (``&a [*a]``): PyYAML composes it as a circular node, which has no JSON value."""


class _TooLarge(Exception):
    """Aliases that expand to more values than any e-form has (the "billion laughs": each level repeats the last)."""


class _BadScalar(Exception):
    """A scalar YAML recognises but cannot turn into a value: a date that does not exist (2026-02-30), an integer
    too long to read, an explicit tag that does not fit its text (``!!int abc``)."""

    def __init__(self, node, message: str):
        super().__init__(message)
        self.node = node
        self.message = message


def _value(node):
    """The Python value of a scalar node, or _BadScalar saying why there is none."""
    try:
        return _constructor.construct_object(node)
    except (ValueError, TypeError, KeyError, AttributeError, yaml.YAMLError) as exc:
        # PyYAML checks a timestamp's shape (YYYY-MM-DD) but leaves the calendar to ``datetime``, which raises
        # ValueError for 2026-02-30; other tags fail in their own ways. None of them has a line: the node has.
        text = str(getattr(node, "value", ""))
        shown = text if len(text) <= 40 else text[:40] + "…"
        if node.tag == _TIMESTAMP and len(text.strip()) <= 10:
            message = _("“%(value)s” is not a date that exists: check the month and the day (YYYY-MM-DD)") % {
                "value": shown}
        elif node.tag == _TIMESTAMP:
            message = _("“%(value)s” is not a date and time that exists: check the month, the day and the time") % {
                "value": shown}
        else:
            message = _("the value “%(value)s” cannot be read: %(reason)s") % {
                "value": shown, "reason": getattr(exc, "problem", None) or exc}
        raise _BadScalar(node, message) from None


def _line(node) -> int:
    return node.start_mark.line + 1


def _is_integer(schema) -> bool:
    """Whether a form_schema property holds whole numbers (type integer, alone or with null)."""
    kind = schema.get("type") if isinstance(schema, dict) else None
    return kind == "integer" or (isinstance(kind, list) and "integer" in kind and
                                 set(kind) <= {"integer", "null"})


def _kind(node) -> str:
    if isinstance(node, yaml.MappingNode):
        return _("a mapping")
    if isinstance(node, yaml.SequenceNode):
        return _("a list")
    try:
        value = _value(node)
    except _BadScalar:
        return _("a value that cannot be read")
    if value is None:
        return _("nothing (null)")
    return {bool: _("true/false"), int: _("an integer"), float: _("a number"), str: _("text"),
            dt.date: _("a date"), dt.datetime: _("a date and time")}.get(type(value), type(value).__name__)


class _Parser:
    def __init__(self, source: str, base_dir: Path | None):
        self.source = source
        self.base_dir = base_dir
        self.errors: list[CatalogueError] = []
        self.key_lines: dict[int, int] = {}  # id(block value node) -> line of its key

    def error(self, node_or_line, path: str, message: str) -> None:
        """Record a problem at a node (a list or mapping written as a block is located at its key) or a line."""
        if isinstance(node_or_line, int) or node_or_line is None:
            line = node_or_line
        else:
            line = self.key_lines.get(id(node_or_line)) or _line(node_or_line)
        self.errors.append(CatalogueError(self.source, line, path, message))

    # -- mappings -------------------------------------------------------------------------------------------
    def mapping(self, node, path: str, required: tuple[str, ...], optional: tuple[str, ...]) -> dict | None:
        """The mapping's value nodes by key; unknown, duplicate and missing keys reported."""
        if not isinstance(node, yaml.MappingNode):
            self.error(node, path, _("must be a mapping of keys to values, not %(kind)s") % {"kind": _kind(node)})
            return None
        known = required + optional
        values: dict = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            key_path = f"{path}.{key}" if path else str(key)
            if key not in known:
                close = difflib.get_close_matches(str(key), known, n=1)
                hint = (_(" (did you mean “%(key)s”?)") % {"key": close[0]}) if close else ""
                self.error(key_node, key_path, _("unknown key “%(key)s”%(hint)s") % {"key": key, "hint": hint})
            elif key in values:
                self.error(key_node, key_path, _("the key “%(key)s” appears twice") % {"key": key})
            else:
                values[key] = value_node
                if isinstance(value_node, (yaml.MappingNode, yaml.SequenceNode)):
                    self.key_lines[id(value_node)] = _line(key_node)
        for key in required:
            if key not in values:
                self.error(node, f"{path}.{key}" if path else key, _("missing key “%(key)s”") % {"key": key})
        return values

    # -- scalars --------------------------------------------------------------------------------------------
    def scalar(self, node, path: str, types: tuple, what: str, default=_MISSING):
        if node is None:
            return default
        if isinstance(node, yaml.ScalarNode):
            try:
                value = _value(node)
            except _BadScalar as exc:
                self.error(node, path, exc.message)
                return _MISSING
            if isinstance(value, types) and not (isinstance(value, bool) and bool not in types):
                return value
        self.error(node, path, _("must be %(what)s, not %(kind)s") % {"what": what, "kind": _kind(node)})
        return _MISSING

    def text(self, node, path: str, *, default=_MISSING, allow_empty: bool = False):
        value = self.scalar(node, path, (str,), _("text"), default)
        if isinstance(value, str):
            value = value.strip() if "\n" not in value else value
            if not value and not allow_empty:
                self.error(node, path, _("must not be empty"))
                return _MISSING
        return value

    def code_text(self, node, path: str):
        """Codes are read as written (``1.000100`` would otherwise be the number 1.0001)."""
        if node is None:
            return _MISSING
        if not isinstance(node, yaml.ScalarNode) or not node.value.strip():
            self.error(node, path, _("must be a code written as text, not %(kind)s") % {"kind": _kind(node)})
            return _MISSING
        return node.value.strip()

    def boolean(self, node, path: str, default: bool):
        return self.scalar(node, path, (bool,), _("true or false"), default)

    def choice(self, node, path: str, choices: tuple[str, ...], what: str, default=_MISSING):
        value = self.scalar(node, path, (str,), _("text"), default) if node is not None else default
        if value is _MISSING or value in choices:
            return value
        self.error(node, path, _("unknown %(what)s “%(value)s”: use one of %(choices)s")
                   % {"what": what, "value": value, "choices": ", ".join(f"“{c}”" for c in choices if c)})
        return _MISSING

    def days(self, node, path: str):
        value = self.scalar(node, path, (int, float), _("a number of working days"))
        if value is _MISSING:
            return value
        amount = Decimal(str(value))
        if amount < 0 or amount != amount.quantize(Decimal("0.01")) or amount >= 10000:
            self.error(node, path, _("must be a number of working days from 0 to 9999.99 with at most two decimals, "
                                     "not %(value)s") % {"value": value})
            return _MISSING
        return amount

    def sequence(self, node, path: str, *, default=_MISSING) -> list:
        if node is None:
            return [] if default is _MISSING else default
        if not isinstance(node, yaml.SequenceNode):
            self.error(node, path, _("must be a list, not %(kind)s") % {"kind": _kind(node)})
            return []
        return node.value

    def json_value(self, node, path: str):
        """A subtree as JSON (the e-form): YAML dates and the like are not JSON."""
        try:
            value = self._construct_deep(node, path, set(), [JSON_VALUES_LIMIT])
        except _BadScalar as exc:
            self.error(exc.node, exc.path, exc.message)
            return _MISSING
        except _Cycle:
            self.error(node, path, _("an alias refers to the list or mapping that contains it (*name inside &name): "
                                     "the e-form cannot be circular"))
            return _MISSING
        except _TooLarge:
            self.error(node, path, _("too large: with its aliases expanded it has more than %(limit)s values")
                       % {"limit": f"{JSON_VALUES_LIMIT:,}"})
            return _MISSING
        try:
            json.dumps(value, allow_nan=False)
        except (TypeError, ValueError) as exc:
            self.error(node, path, _("must be plain JSON data (text, numbers, true/false, lists, mappings): "
                                     "%(reason)s; quote dates") % {"reason": exc})
            return _MISSING
        return value

    def _construct_deep(self, node, path: str, open_nodes: set[int], budget: list[int]):
        """The subtree's value; ``path`` names the node in errors, ``open_nodes`` are the lists and mappings being
        built around it (meeting one again is an alias cycle), ``budget`` the values still allowed (an alias is
        expanded at every use, so a small file can stand for an enormous value)."""
        budget[0] -= 1
        if budget[0] < 0:
            raise _TooLarge
        if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)):
            if id(node) in open_nodes:
                raise _Cycle
            open_nodes = open_nodes | {id(node)}
        try:
            if isinstance(node, yaml.MappingNode):
                result = {}
                for key_node, value_node in node.value:
                    key = str(_value(key_node)) if isinstance(key_node, yaml.ScalarNode) else str(key_node.value)
                    result[key] = self._construct_deep(value_node, f"{path}.{key}", open_nodes, budget)
                return result
            if isinstance(node, yaml.SequenceNode):
                return [self._construct_deep(item, f"{path}[{index}]", open_nodes, budget)
                        for index, item in enumerate(node.value)]
            return _value(node)
        except _BadScalar as exc:
            if not hasattr(exc, "path"):
                exc.path = path  # the innermost path: the one the author must fix
            raise

    # -- the document ---------------------------------------------------------------------------------------
    def document(self, root) -> list[ProcedureSpec]:
        if root is None:
            self.error(1, "", _("the file is empty"))
            return []
        top = self.mapping(root, "", ("format", "procedures"), ())
        if top is None:
            return []
        if "format" in top:
            fmt = self.text(top["format"], "format")
            if fmt is not _MISSING and fmt != FORMAT:
                self.error(top["format"], "format", _("unknown format “%(format)s”: this reader knows “%(known)s”")
                           % {"format": fmt, "known": FORMAT})
        procedures = []
        seen: dict[str, int] = {}
        for index, node in enumerate(self.sequence(top.get("procedures"), "procedures")):
            spec = self.procedure(node, f"procedures[{index}]", seen)
            if spec is not None:
                procedures.append(spec)
        known = {spec.code for spec in procedures} | set(seen)
        for spec in procedures:
            for version in spec.versions:
                for index, component in enumerate(version.components):
                    if component["result_of"] and component["result_of"] not in known:
                        key = f"{version.path}.components[{index}].result_of"
                        self.error(version.lines.get(key), key,
                                   _("result_of names “%(code)s”, which is not a procedure of this catalogue")
                                   % {"code": component["result_of"]})
        return procedures

    def procedure(self, node, path: str, seen: dict[str, int]) -> ProcedureSpec | None:
        keys = self.mapping(node, path, ("code", "name", "sector", "versions"), ("life_events",))
        if keys is None:
            return None
        code = self.code_text(keys.get("code"), f"{path}.code")
        if code is not _MISSING:
            if not CODE.match(code):
                self.error(keys["code"], f"{path}.code", _("bad procedure code “%(code)s”: a national code is a digit, "
                                                           "a dot and six digits, e.g. 1.001193") % {"code": code})
                code = _MISSING
            elif code in seen:
                self.error(keys["code"], f"{path}.code", _("duplicate procedure code “%(code)s” (first on line "
                                                           "%(line)d)") % {"code": code, "line": seen[code]})
                code = _MISSING
            else:
                seen[code] = _line(keys["code"])
        name = self.text(keys.get("name"), f"{path}.name")
        sector = self.text(keys.get("sector"), f"{path}.sector")
        life_events = self.life_events(keys.get("life_events"), f"{path}.life_events")
        versions = []
        dates: dict[dt.date, int] = {}
        version_nodes = self.sequence(keys.get("versions"), f"{path}.versions")
        if "versions" in keys and not version_nodes and isinstance(keys["versions"], yaml.SequenceNode):
            self.error(keys["versions"], f"{path}.versions", _("a procedure needs at least one version"))
        for index, version_node in enumerate(version_nodes):
            version = self.version(version_node, f"{path}.versions[{index}]", code, name, sector, dates)
            if version is not None:
                versions.append(version)
        if _MISSING in (code, name, sector, life_events):
            return None
        return ProcedureSpec(code=code, name=name, sector=sector, versions=versions, life_events=life_events,
                             line=_line(node), path=path)

    def life_events(self, node, path):
        """Sự kiện: the life events a procedure serves, each once, kept in the order of LIFE_EVENTS."""
        events, ok = set(), True
        for index, event_node in enumerate(self.sequence(node, path)):
            event = self.choice(event_node, f"{path}[{index}]", LIFE_EVENTS, _("life event"))
            if event is _MISSING:
                ok = False
            elif event in events:
                self.error(event_node, f"{path}[{index}]", _("the life event “%(event)s” appears twice")
                           % {"event": event})
                ok = False
            else:
                events.add(event)
        return [event for event in LIFE_EVENTS if event in events] if ok else _MISSING

    def version(self, node, path, code, procedure_name, procedure_sector, dates) -> VersionSpec | None:
        keys = self.mapping(node, path, (
            "effective_from", "level", "agencies", "duration_days", "steps", "online_level", "result_type",
        ), (
            "name", "sector", "legal_basis", "same_day", "fees", "components", "form_schema", "ui_schema",
            "min_assurance_level", "auto_receive", "result_template", "registry_effect", "bpmn", "returns",
            "applicants",
        ))
        if keys is None:
            return None
        ok = True
        lines: dict[str, int] = {}

        def get(key, value):
            nonlocal ok
            if value is _MISSING:
                ok = False
            return value

        effective = get("effective_from", self.scalar(keys.get("effective_from"), f"{path}.effective_from", (dt.date,),
                                                      _("a date written YYYY-MM-DD")))
        if isinstance(effective, dt.datetime):
            self.error(keys["effective_from"], f"{path}.effective_from", _("must be a date without a time"))
            ok = False
        elif effective is not _MISSING:
            if effective in dates:
                self.error(keys["effective_from"], f"{path}.effective_from",
                           _("duplicate effective date %(date)s: another version of this procedure (line %(line)d) "
                             "starts the same day") % {"date": effective.isoformat(), "line": dates[effective]})
                ok = False
            else:
                dates[effective] = _line(keys["effective_from"])
        name = get("name", self.text(keys.get("name"), f"{path}.name", default=procedure_name))
        sector = get("sector", self.text(keys.get("sector"), f"{path}.sector", default=procedure_sector))
        level = get("level", self.choice(keys.get("level"), f"{path}.level", LEVELS, _("level")))
        agencies = []
        agency_nodes = self.sequence(keys.get("agencies"), f"{path}.agencies")
        if "agencies" in keys and isinstance(keys["agencies"], yaml.SequenceNode) and not agency_nodes:
            self.error(keys["agencies"], f"{path}.agencies", _("name at least one implementing agency"))
            ok = False
        for index, agency_node in enumerate(agency_nodes):
            agency_path = f"{path}.agencies[{index}]"
            agency = self.code_text(agency_node, agency_path)
            if agency is _MISSING:
                ok = False
                continue
            try:
                parse_code(agency)
            except InvalidCode as exc:
                self.error(agency_node, agency_path, _("bad agency code “%(code)s”: %(reason)s")
                           % {"code": agency, "reason": exc})
                ok = False
                continue
            if agency in agencies:
                self.error(agency_node, agency_path, _("agency “%(code)s” is listed twice") % {"code": agency})
                ok = False
                continue
            agencies.append(agency)
            lines[agency_path] = _line(agency_node)
        legal_basis = get("legal_basis", self.text(keys.get("legal_basis"), f"{path}.legal_basis", default="",
                                                   allow_empty=True))
        applicants = get("applicants", self.text(keys.get("applicants"), f"{path}.applicants", default="",
                                                 allow_empty=True))
        duration = get("duration_days", self.days(keys.get("duration_days"), f"{path}.duration_days"))
        same_day = get("same_day", self.boolean(keys.get("same_day"), f"{path}.same_day", False))
        steps = self.steps(keys.get("steps"), f"{path}.steps")
        if steps is _MISSING:
            ok = False
        elif duration is not _MISSING and steps:
            total = sum((Decimal(str(step["working_days"])) for step in steps), Decimal(0))
            if total != duration:
                self.error(keys["steps"], f"{path}.steps",
                           _("the steps add up to %(total)s working days but duration_days is %(duration)s")
                           % {"total": _days_text(total), "duration": _days_text(duration)})
                ok = False
        components = self.components(keys.get("components"), f"{path}.components", lines)
        if components is _MISSING:
            ok = False
        form_schema = get("form_schema", self.form_schema(keys.get("form_schema"), f"{path}.form_schema"))
        fees = get("fees", self.fees(keys.get("fees"), f"{path}.fees", form_schema))
        if (components not in (_MISSING, None) and any(c.get("eform") for c in components)
                and form_schema is not _MISSING and not (form_schema or {}).get("properties")):
            self.error(lines.get(f"{path}.components.eform"), f"{path}.components", _(
                "a component is marked eform (the online answers stand for it) but the version has no e-form "
                "fields: give it a form_schema with properties, or remove eform"))
            ok = False
        ui_schema = get("ui_schema", self.ui_schema(keys.get("ui_schema"), f"{path}.ui_schema", form_schema))
        online_level = get("online_level", self.choice(keys.get("online_level"), f"{path}.online_level",
                                                       ONLINE_LEVELS, _("online level")))
        assurance = get("min_assurance_level", self.scalar(keys.get("min_assurance_level"),
                                                           f"{path}.min_assurance_level", (int,), _("1 or 2"), 1))
        if assurance not in (_MISSING, 1, 2):
            self.error(keys["min_assurance_level"], f"{path}.min_assurance_level",
                       _("must be 1 (a registered account) or 2 (an identity verified against the population "
                         "registry), not %(value)s") % {"value": assurance})
            ok = False
        auto_receive = get("auto_receive", self.boolean(keys.get("auto_receive"), f"{path}.auto_receive", False))
        result_type = get("result_type", self.text(keys.get("result_type"), f"{path}.result_type"))
        result_template = get("result_template", self.template(keys.get("result_template"),
                                                               f"{path}.result_template"))
        effect = get("registry_effect", self.choice(keys.get("registry_effect"), f"{path}.registry_effect",
                                                    REGISTRY_EFFECTS, _("registry effect"), ""))
        returns = self.returns(keys.get("returns"), f"{path}.returns", steps if steps is not _MISSING else [])
        bpmn_file = ""
        xml = ""
        if returns is _MISSING:
            ok = False
        elif "bpmn" in keys:
            bpmn_file = get("bpmn", self.text(keys["bpmn"], f"{path}.bpmn"))
            if bpmn_file is not _MISSING:
                if "returns" in keys:
                    self.error(keys["returns"], f"{path}.returns", _("returns only applies when the BPMN is generated "
                                                                     "from the steps: draw the return flows in the "
                                                                     "BPMN file instead"))
                    ok = False
                xml = self.bpmn_file(keys["bpmn"], f"{path}.bpmn", bpmn_file, steps if steps is not _MISSING else None)
                if xml is _MISSING:
                    ok = False
        elif ok and steps and code is not _MISSING:
            xml = bpmn_rules.generate_bpmn(bpmn_rules.process_id_for(code), steps, returns=returns,
                                           name=procedure_name if procedure_name is not _MISSING else code)
        if not ok or _MISSING in (code, procedure_name, procedure_sector) or steps is _MISSING or not steps:
            return None
        return VersionSpec(
            effective_from=effective, name=name, sector=sector, level=level, agencies=agencies,
            legal_basis=legal_basis, duration_days=duration, same_day=same_day, steps=steps, fees=fees,
            components=components, form_schema=form_schema, ui_schema=ui_schema, online_level=online_level,
            min_assurance_level=assurance, auto_receive=auto_receive, result_type=result_type,
            result_template=result_template, registry_effect=effect, bpmn=xml, applicants=applicants,
            bpmn_file=bpmn_file or "", lines=lines, path=path)

    def steps(self, node, path):
        nodes = self.sequence(node, path)
        if node is not None and isinstance(node, yaml.SequenceNode) and not nodes:
            self.error(node, path, _("a version needs at least one processing step"))
            return _MISSING
        steps, ok, seen = [], True, set()
        for index, step_node in enumerate(nodes):
            step_path = f"{path}[{index}]"
            keys = self.mapping(step_node, step_path, ("id", "name", "role", "working_days"), ())
            if keys is None:
                ok = False
                continue
            step_id = self.text(keys.get("id"), f"{step_path}.id")
            if step_id is not _MISSING and not STEP_ID.match(step_id):
                self.error(keys["id"], f"{step_path}.id", _("a step id is a short identifier in lower case (letters, "
                                                             "digits, _), e.g. review; not “%(id)s”") % {"id": step_id})
                step_id = _MISSING
            elif step_id is not _MISSING and step_id in seen:
                self.error(keys["id"], f"{step_path}.id", _("duplicate step id “%(id)s”") % {"id": step_id})
                step_id = _MISSING
            elif step_id is not _MISSING and (step_id in ("start", "end") or step_id.startswith("gateway_")):
                self.error(keys["id"], f"{step_path}.id", _("“%(id)s” is reserved for the BPMN events and gateways")
                           % {"id": step_id})
                step_id = _MISSING
            name = self.text(keys.get("name"), f"{step_path}.name")
            role = self.choice(keys.get("role"), f"{step_path}.role", STEP_ROLES, _("role"))
            days = self.days(keys.get("working_days"), f"{step_path}.working_days")
            if _MISSING in (step_id, name, role, days):
                ok = False
                continue
            seen.add(step_id)
            steps.append({"id": step_id, "name": name, "role": role, "working_days": json_number(days)})
        return steps if ok else _MISSING

    def fees(self, node, path, form_schema):
        """The version's fees: code, name and a fixed amount, and the keys by which a fee depends on an integer
        answer of the e-form (``FEE_QUANTITY_KEYS``), written only where given."""
        fees, ok, seen = [], True, set()
        for index, fee_node in enumerate(self.sequence(node, path)):
            fee_path = f"{path}[{index}]"
            keys = self.mapping(fee_node, fee_path, ("code", "name", "amount"), FEE_QUANTITY_KEYS)
            if keys is None:
                ok = False
                continue
            code = self.code_text(keys.get("code"), f"{fee_path}.code")
            if code is not _MISSING and code in seen:
                self.error(keys["code"], f"{fee_path}.code", _("duplicate fee code “%(code)s”") % {"code": code})
                code = _MISSING
            name = self.text(keys.get("name"), f"{fee_path}.name")
            amount = self.vnd(keys.get("amount"), f"{fee_path}.amount")
            quantity = self.fee_quantity(keys, fee_path, form_schema)
            if _MISSING in (code, name, amount, quantity):
                ok = False
                continue
            seen.add(code)
            fees.append({"code": code, "name": name, "amount": amount, **quantity})
        return fees if ok else _MISSING

    def vnd(self, node, path, *, default=_MISSING):
        """A sum of money: a whole number of đồng, not negative."""
        if node is None:
            return default
        try:
            value = _value(node) if isinstance(node, yaml.ScalarNode) else None
        except _BadScalar:
            value = None  # reported below as not a whole number of đồng
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return value
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value < 0:
            self.error(node, path, _("a fee cannot be negative: %(value)s") % {"value": node.value})
        else:
            self.error(node, path, _("a fee is a whole number of đồng (VND, no decimals, no separators), not "
                                     "“%(value)s”") % {"value": getattr(node, "value", "")})
        return _MISSING

    def fee_quantity(self, keys: dict, path: str, form_schema):
        """The keys by which a fee depends on answers (``per``, ``times`` and what goes with them), checked against
        the e-form: a counted field must be an integer field of the form_schema."""
        quantity, ok = {}, True
        for field_key, unit_key in (("per", "unit"), ("times", "times_unit")):
            if field_key not in keys:
                continue
            field = self.integer_field(keys[field_key], f"{path}.{field_key}", form_schema)
            unit = self.text(keys.get(unit_key), f"{path}.{unit_key}")
            if unit_key not in keys:
                self.error(keys[field_key], f"{path}.{unit_key}", _(
                    "missing key “%(key)s”: say what %(field)s counts, as the fee line shows it (for example bản, "
                    "trang)") % {"key": unit_key, "field": field_key})
            if _MISSING in (field, unit):
                ok = False
            else:
                quantity.update({field_key: field, unit_key: unit})
        if "per" in keys:
            if "unit_amount" not in keys:
                self.error(keys["per"], f"{path}.unit_amount", _(
                    "missing key “unit_amount”: what each unit after the included ones costs (VND)"))
            unit_amount = self.vnd(keys.get("unit_amount"), f"{path}.unit_amount")
            included = self.count(keys.get("included"), f"{path}.included", default=0)
            up_to = self.count(keys.get("up_to"), f"{path}.up_to", default=None)
            if _MISSING in (unit_amount, included, up_to):
                ok = False
            else:
                quantity.update({"included": included} if "included" in keys else {})
                quantity.update({"unit_amount": unit_amount}, **({"up_to": up_to} if up_to is not None else {}))
            up_to, included = quantity.get("up_to"), quantity.get("included", 0)
            if up_to is not None and up_to <= included:
                self.error(keys["up_to"], f"{path}.up_to", _(
                    "up_to (%(up_to)s) must be more than included (%(included)s), or the line never counts a unit")
                           % {"up_to": up_to, "included": included})
                ok = False
            if quantity.get("per") is not None and quantity.get("per") == quantity.get("times"):
                self.error(keys["times"], f"{path}.times", _("per and times cannot name the same field"))
                ok = False
        else:
            for key in ("unit", "included", "unit_amount", "up_to"):
                if key in keys:
                    self.error(keys[key], f"{path}.{key}", _(
                        "%(key)s only applies to a fee with per (the integer e-form field it counts)") % {"key": key})
                    ok = False
        if "times_unit" in keys and "times" not in keys:
            self.error(keys["times_unit"], f"{path}.times_unit", _(
                "times_unit only applies to a fee with times (the integer e-form field that multiplies it)"))
            ok = False
        return quantity if ok else _MISSING

    def count(self, node, path, *, default=_MISSING):
        """A number of units: a whole number, not negative."""
        value = self.scalar(node, path, (int,), _("a whole number of units"), default)
        if isinstance(value, int) and value < 0:
            self.error(node, path, _("must not be negative: %(value)s") % {"value": value})
            return _MISSING
        return value

    def integer_field(self, node, path: str, form_schema):
        """The name of an integer field of the version's form_schema."""
        name = self.text(node, path)
        if name is _MISSING or form_schema is _MISSING:
            return _MISSING
        properties = (form_schema or {}).get("properties") or {}
        if name not in properties:
            fields = ", ".join(f"“{field}”" for field, schema in properties.items() if _is_integer(schema))
            self.error(node, path, _("“%(field)s” is not a field of the form_schema: name an integer field "
                                     "(%(fields)s)") % {"field": name, "fields": fields or _("there is none")})
            return _MISSING
        if not _is_integer(properties[name]):
            self.error(node, path, _("“%(field)s” is not an integer field of the form_schema (give it type: "
                                     "integer): a fee counts whole units") % {"field": name})
            return _MISSING
        return name

    def components(self, node, path, lines):
        components, ok, seen, eform_path = [], True, set(), ""
        for index, component_node in enumerate(self.sequence(node, path)):
            component_path = f"{path}[{index}]"
            keys = self.mapping(component_node, component_path, ("code", "name"),
                                ("required", "template", "result_of", "eform"))
            if keys is None:
                ok = False
                continue
            code = self.code_text(keys.get("code"), f"{component_path}.code")
            if code is not _MISSING and code in seen:
                self.error(keys["code"], f"{component_path}.code", _("duplicate component code “%(code)s”")
                           % {"code": code})
                code = _MISSING
            name = self.text(keys.get("name"), f"{component_path}.name")
            required = self.boolean(keys.get("required"), f"{component_path}.required", True)
            template = self.text(keys.get("template"), f"{component_path}.template", default="", allow_empty=True)
            result_of = ""
            if "result_of" in keys:
                result_of = self.code_text(keys["result_of"], f"{component_path}.result_of")
                if result_of is not _MISSING and not CODE.match(result_of):
                    self.error(keys["result_of"], f"{component_path}.result_of",
                               _("bad procedure code “%(code)s”: a national code is a digit, a dot and six digits")
                               % {"code": result_of})
                    result_of = _MISSING
                elif result_of is not _MISSING:
                    lines[f"{component_path}.result_of"] = _line(keys["result_of"])
            eform = self.boolean(keys.get("eform"), f"{component_path}.eform", False)
            if eform is True:
                if eform_path:
                    self.error(keys["eform"], f"{component_path}.eform", _(
                        "only one component can be the e-form's declaration (%(other)s is already)")
                               % {"other": eform_path})
                    eform = _MISSING
                else:
                    eform_path = component_path
                    lines[f"{path}.eform"] = _line(keys["eform"])
            if _MISSING in (code, name, required, template, result_of, eform):
                ok = False
                continue
            seen.add(code)
            component = {"code": code, "name": name, "required": required, "template": template,
                         "result_of": result_of}
            if eform:
                # Written only when set: components stored before the key existed compare equal to the file's.
                component["eform"] = True
            components.append(component)
        return components if ok else _MISSING

    def form_schema(self, node, path):
        if node is None:
            return {"type": "object", "properties": {}}
        if not isinstance(node, yaml.MappingNode):
            self.error(node, path, _("must be a JSON Schema (a mapping), not %(kind)s") % {"kind": _kind(node)})
            return _MISSING
        value = self.json_value(node, path)
        if value is _MISSING:
            return value
        try:
            jsonschema.Draft202012Validator.check_schema(value)
        except jsonschema.SchemaError as exc:
            where = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in exc.path)
            bad = _node_at(node, list(exc.path)) or node
            self.error(bad, path + where, _("not a valid JSON Schema: %(reason)s") % {"reason": exc.message})
            return _MISSING
        if value.get("type") != "object":
            self.error(node, path, _("an e-form schema must have type: object"))
            return _MISSING
        return value

    def ui_schema(self, node, path, form_schema):
        if node is None:
            return {}
        if not isinstance(node, yaml.MappingNode):
            self.error(node, path, _("must be a mapping of field names to hints, not %(kind)s") % {"kind": _kind(node)})
            return _MISSING
        value = self.json_value(node, path)
        if value is _MISSING:
            return value
        properties = form_schema.get("properties", {}) if isinstance(form_schema, dict) else None
        ok = True
        for key_node, hint_node in node.value:
            key = key_node.value
            if key == "ui:order":
                continue
            if properties is not None and key not in properties:
                self.error(key_node, f"{path}.{key}", _("hints for “%(field)s”, which is not a field of the "
                                                        "form_schema") % {"field": key})
                ok = False
            elif not isinstance(hint_node, yaml.MappingNode):
                self.error(hint_node, f"{path}.{key}", _("must be a mapping of hints (label, widget, help, "
                                                          "placeholder, choices, remember, sex)"))
                ok = False
            else:
                hints = self.mapping(hint_node, f"{path}.{key}", ("label",), UI_HINTS[1:])
                widget = hints.get("widget") if hints is not None else None
                if hints is None or len(hints) != len(hint_node.value):
                    ok = False
                elif widget is not None and self.choice(widget, f"{path}.{key}.widget", WIDGETS,
                                                        _("widget")) is _MISSING:
                    ok = False
                elif "remember" in hints and self.boolean(hints["remember"], f"{path}.{key}.remember",
                                                          False) is _MISSING:
                    ok = False
                elif "sex" in hints and self.choice(hints["sex"], f"{path}.{key}.sex", SEXES, _("sex")) is _MISSING:
                    ok = False
        return value if ok else _MISSING

    def template(self, node, path):
        text = self.text(node, path, default="", allow_empty=True)
        if text is _MISSING or not text:
            return text
        try:
            list(string.Formatter().parse(text))
        except ValueError as exc:
            self.error(node, path, _("bad placeholder in the template: %(reason)s (write {name}, and {{ for a "
                                     "literal brace)") % {"reason": exc})
            return _MISSING
        return text

    def returns(self, node, path, steps):
        if node is None:
            return {}
        if not isinstance(node, yaml.MappingNode):
            self.error(node, path, _("must map a step id to the earlier step id it sends the dossier back to"))
            return _MISSING
        order = {step["id"]: index for index, step in enumerate(steps)}
        result, ok = {}, True
        for key_node, value_node in node.value:
            source, target = key_node.value, getattr(value_node, "value", None)
            if steps and (source not in order or target not in order or order[target] >= order[source]):
                self.error(key_node, f"{path}.{source}", _("“%(source)s” can only return to an earlier step, and both "
                                                           "must be steps of this version")
                           % {"source": source})
                ok = False
            result[source] = target
        return result if ok else _MISSING

    def bpmn_file(self, node, path, name, steps):
        if self.base_dir is None:
            self.error(node, path, _("a BPMN file can only be named in a catalogue read from a file"))
            return _MISSING
        file = (self.base_dir / name).resolve()
        if not file.is_relative_to(self.base_dir.resolve()):
            self.error(node, path, _("the BPMN file must be inside the catalogue's directory: %(name)s")
                       % {"name": name})
            return _MISSING
        if not file.is_file():
            self.error(node, path, _("BPMN file not found: %(name)s") % {"name": name})
            return _MISSING
        xml = file.read_text(encoding="utf-8")
        if steps is None:
            return xml
        problems = bpmn_rules.check_bpmn(xml, steps)
        for line, message in problems:
            self.errors.append(CatalogueError(str(file), line, path, message))
        return _MISSING if problems else xml


def _node_at(node, parts):
    for part in parts:
        if isinstance(node, yaml.MappingNode):
            node = next((v for k, v in node.value if k.value == part), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
        else:
            return None
        if node is None:
            return None
    return node


def json_number(value: Decimal) -> int | float:
    """Working days as JSON stores them: 3 rather than 3.0, 0.5 as 0.5."""
    return int(value) if value == value.to_integral_value() else float(value)


def _days_text(value: Decimal) -> str:
    return format(value.normalize(), "f")


def parse_catalogue(text: str, *, source: str, base_dir: Path | None = None) -> Catalogue:
    """Read a catalogue file's text; raise CatalogueErrors listing every problem (file, line, path, what)."""
    parser = _Parser(source, base_dir)
    too_deep = _("the file is nested too deeply: more than %(depth)d levels of lists and mappings inside each other")
    try:
        root = yaml.compose(text, Loader=_Loader)
    except _TooDeep as exc:
        raise CatalogueErrors([CatalogueError(source, exc.line, "", too_deep % {"depth": MAX_DEPTH})]) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise CatalogueErrors([CatalogueError(source, mark.line + 1 if mark else None, "",
                                              _("not valid YAML: %(reason)s") % {"reason": exc.problem or exc})]
                              ) from None
    except yaml.YAMLError as exc:
        raise CatalogueErrors([CatalogueError(source, None, "", _("not valid YAML: %(reason)s") % {"reason": exc})]
                              ) from None
    try:
        procedures = parser.document(root)
    except RecursionError:
        # A safety net: the depth limit above keeps every recursion of the checks shallow, so this is not expected.
        raise CatalogueErrors([CatalogueError(source, None, "", too_deep % {"depth": MAX_DEPTH})]) from None
    if parser.errors:
        parser.errors.sort(key=lambda error: (error.source != source, error.line or 0))
        raise CatalogueErrors(parser.errors)
    return Catalogue(procedures=procedures, source=source)


# --------------------------------------------------------------------------------------------------------------
# Dumping

class _Dumper(yaml.SafeDumper):
    pass


def _represent_text(dumper, value: str):
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


def _represent_decimal(dumper, value: Decimal):
    number = value.normalize()
    if number == number.to_integral_value():
        return dumper.represent_int(int(number))
    return dumper.represent_float(float(number))


_Dumper.add_representer(str, _represent_text)
_Dumper.add_representer(Decimal, _represent_decimal)


def bpmn_file_name(code: str, effective_from: dt.date) -> str:
    return f"bpmn/{code}_{effective_from.isoformat()}.bpmn"


def dump_catalogue(catalogue: Catalogue) -> tuple[str, dict[str, str]]:
    """The catalogue as ``egov-catalogue/1`` text and its BPMN files ({path relative to the YAML file: XML})."""
    files: dict[str, str] = {}
    procedures = []
    for spec in catalogue.procedures:
        versions = []
        for version in spec.versions:
            name = bpmn_file_name(spec.code, version.effective_from)
            files[name] = version.bpmn
            entry = {"effective_from": version.effective_from}
            if version.name != spec.name:
                entry["name"] = version.name
            if version.sector != spec.sector:
                entry["sector"] = version.sector
            if version.applicants:
                entry["applicants"] = version.applicants
            entry.update({
                "level": version.level, "agencies": list(version.agencies), "legal_basis": version.legal_basis,
                "duration_days": version.duration_days, "same_day": version.same_day,
                "steps": [dict(step) for step in version.steps], "fees": version.fees,
                "components": [{key: value for key, value in component.items() if value not in ("", None)}
                               for component in version.components],
                "form_schema": version.form_schema, "ui_schema": version.ui_schema,
                "online_level": version.online_level, "min_assurance_level": version.min_assurance_level,
                "auto_receive": version.auto_receive, "result_type": version.result_type,
                "result_template": version.result_template, "registry_effect": version.registry_effect,
                "bpmn": name,
            })
            versions.append(entry)
        entry = {"code": spec.code, "name": spec.name, "sector": spec.sector}
        if spec.life_events:
            entry["life_events"] = list(spec.life_events)
        entry["versions"] = versions
        procedures.append(entry)
    text = yaml.dump({"format": FORMAT, "procedures": procedures}, Dumper=_Dumper, allow_unicode=True,
                     sort_keys=False, width=120)
    return text, files
