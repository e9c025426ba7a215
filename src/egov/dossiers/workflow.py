"""Workflow runtime (quy trình xử lý nội bộ): a dossier's internal processing steps run as its procedure version's BPMN.

The dossier's legal status (the ten codes) stays in our model; this module only knows the BPMN process: which user
tasks (steps such as ``assign``, ``process``, ``review``, ``approve``) are ready, for which role (the lane holding the
task), and what happens when one is completed with a decision (``approve`` goes on, ``return`` may send the dossier
back to an earlier step through an exclusive gateway). The BPMN convention (shared with the procedure catalogue): one
executable process; one lane per role, named by the role code (``specialist``, ``head_of_unit``, ``agency_leader``,
``desk_officer``); one start and one end event; each step a ``userTask`` with a short id; after a step, an exclusive
gateway with a default flow may send the dossier back on a flow whose condition is ``decision == "return"``.

Every function is pure: BPMN XML text and a state dict in, a new state dict out; the caller keeps the state on the
dossier (``Dossier.workflow_state``, a JSONField). No database, no clock beyond SpiffWorkflow's own timestamps.

Usage::

    from egov.dossiers import workflow
    state = workflow.start(version.bpmn)                                   # runs up to the first user task(s)
    [step] = workflow.ready_steps(version.bpmn, state)                     # ReadyStep("assign", "Assign ...", "head_of_unit")
    state = workflow.complete_step(version.bpmn, state, "assign")
    state = workflow.complete_step(version.bpmn, state, "review", decision="return")   # back to "process"
    workflow.is_finished(version.bpmn, state)

Safety: a catalogue's BPMN must not run code. The process may hold only start and end events, user tasks, exclusive
and parallel gateways, sequence flows and lanes (an allow-list: script, service, business-rule and send tasks,
sub-processes, timers, multi-instance loops and data associations are all refused, naming the element), and a
condition may only read the decision (``decision == "return"`` / ``decision != "approve"``). The script engine
given to SpiffWorkflow never calls ``eval``: it understands exactly that form of condition and refuses anything else,
so even a state or BPMN that slipped past the checks cannot execute code.

The state dict::

    {"format": 1, "process": "<process id>", "bpmn_sha256": "<hex>", "ready": ["review"], "finished": false,
     "engine": {...}}

``engine`` is SpiffWorkflow's own serialisation (``BpmnWorkflowSerializer``) of the instance, without the process
spec: the spec always comes from the BPMN text passed in, so the BPMN stays the single source of truth and the state
stays small. ``ready`` and ``finished`` are copies for readers (an inbox can filter on them in SQL); the functions
here never trust them. ``bpmn_sha256`` records which text the state was last written with; a later text of the same
process (a corrected step name, a moved shape) is accepted as long as the state's tasks still exist in it.
"""
from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
from collections import OrderedDict
from contextlib import contextmanager
from dataclasses import dataclass

from django.utils.translation import gettext as _
from lxml import etree
from SpiffWorkflow.bpmn.parser import BpmnParser
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnValidator
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.serializer.config import DEFAULT_CONFIG
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.util.task import TaskState

STATE_FORMAT = 1
DECISIONS = ("approve", "return")
# The lane names a step may be given to (the officer roles of egov.accounts that work inside an agency).
ROLES = ("desk_officer", "specialist", "head_of_unit", "agency_leader")
CACHE_SIZE = 128

# SpiffWorkflow logs every task state change at INFO: a dozen lines per completed step, and a third of the time spent.
# Quiet unless the logging configuration already chose a level for it (egov.config.logging_config is the better home).
_spiff_logger = logging.getLogger("spiff")
if _spiff_logger.level == logging.NOTSET:
    _spiff_logger.setLevel(logging.WARNING)

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
# What a procedure's process may contain. Anything else inside <bpmn:process> is refused by name.
ALLOWED_IN_PROCESS = frozenset({
    "laneSet", "lane", "flowNodeRef",
    "startEvent", "endEvent", "userTask", "exclusiveGateway", "parallelGateway",
    "sequenceFlow", "conditionExpression", "incoming", "outgoing",
    "documentation", "textAnnotation", "text", "association",
})
# Modelers (Camunda, bpmn.io plug-ins) store their own properties here; the plain BpmnParser ignores them all.
IGNORED_SUBTREES = frozenset({"extensionElements"})
CONDITION = re.compile(r"""^\s*decision\s*(==|!=)\s*(?:"([^"\\]*)"|'([^'\\]*)')\s*$""")


class WorkflowError(Exception):
    """The BPMN, the state or the requested step is not acceptable; the message says which and why."""


@dataclass(frozen=True)
class ReadyStep:
    """A user task (bước xử lý): its BPMN id, its name and the role (lane name) that performs it."""
    task_id: str
    name: str
    role: str


# ---------------------------------------------------------------------------------------------------------------------
# The public API


def start(bpmn_xml: str) -> dict:
    """A new process instance, run up to the first user task(s)."""
    process = _process(bpmn_xml)
    workflow = BpmnWorkflow(process.spec, script_engine=_ENGINE)
    with _state_errors():
        workflow.do_engine_steps()
        return _dump(process, workflow)


def ready_steps(bpmn_xml: str, state: dict) -> list[ReadyStep]:
    """The steps that can be completed now, in document order."""
    process = _process(bpmn_xml)
    workflow = _load(process, state)
    with _state_errors():
        return _ready(process, workflow)


def complete_step(bpmn_xml: str, state: dict, task_id: str, *, decision: str = "approve",
                  data: dict | None = None) -> dict:
    """Complete the ready step ``task_id`` with ``decision`` ("approve" or "return") and optional task ``data``
    (JSON values; the key ``decision`` is reserved), run the engine up to the next user task(s), return the new state.

    The state passed in is not changed."""
    process = _process(bpmn_xml)
    if decision not in DECISIONS:
        raise WorkflowError(_("The decision must be one of %(allowed)s, not %(decision)r.")
                            % {"allowed": ", ".join(DECISIONS), "decision": decision})
    data = _clean_data(data)
    if not isinstance(task_id, str) or task_id not in process.step_ids:
        raise WorkflowError(_("The process has no step %(step)r.") % {"step": task_id})
    workflow = _load(process, state)
    with _state_errors():
        task = next((t for t in _ready_tasks(workflow) if t.task_spec.name == task_id), None)
        if task is None:
            ready = ", ".join(step.task_id for step in _ready(process, workflow)) or _("none")
            raise WorkflowError(_("The step %(step)s is not ready (ready now: %(ready)s).")
                                % {"step": task_id, "ready": ready})
        task.data.update(data)
        task.data["decision"] = decision
        task.run()
        workflow.do_engine_steps()
        return _dump(process, workflow)


def is_finished(bpmn_xml: str, state: dict) -> bool:
    """Whether the process reached its end (processing done)."""
    process = _process(bpmn_xml)
    workflow = _load(process, state)
    with _state_errors():
        return workflow.is_completed()


def steps_of(bpmn_xml: str) -> list[ReadyStep]:
    """Every user task of the process in document order, with its lane's role."""
    return list(_process(bpmn_xml).steps)


# ---------------------------------------------------------------------------------------------------------------------
# The script engine: conditions read the decision, nothing else runs.


def _parse_condition(expression) -> tuple[str, str] | None:
    """(operator, value) of a ``decision == "..."`` / ``decision != "..."`` condition, or None for any other text."""
    match = CONDITION.match(expression or "")
    if match is None:
        return None
    value = match.group(2) if match.group(2) is not None else match.group(3)
    return match.group(1), value


class _DecisionEngine(PythonScriptEngine):
    """Evaluates ``decision == "..."`` conditions by comparison (no eval) and refuses scripts and service calls."""

    def validate(self, expression):
        if _parse_condition(expression) is None:
            raise WorkflowError(_("Unsupported condition %(expression)r.") % {"expression": expression})

    def evaluate(self, task, expression, external_context=None):
        parsed = _parse_condition(expression)
        if parsed is None:
            raise WorkflowError(_("Unsupported condition %(expression)r.") % {"expression": expression})
        operator, value = parsed
        equal = task.data.get("decision") == value
        return equal if operator == "==" else not equal

    def execute(self, task, script, external_context=None):
        raise WorkflowError(_("A procedure's process may not run scripts (%(element)s).")
                            % {"element": task.task_spec.name})

    def call_service(self, task, **kwargs):
        raise WorkflowError(_("A procedure's process may not call services (%(element)s).")
                            % {"element": task.task_spec.name})


_ENGINE = _DecisionEngine()


class _InstanceConverter(BpmnWorkflowConverter):
    """SpiffWorkflow's converter of a workflow, less the process spec: the state keeps the instance only, and the
    spec (the parsed BPMN, shared) is put back into the dict as an object before restoring, which the registry passes
    through as it is. Converting the spec to and from a dict at every step was a third of a step's time."""

    def to_dict(self, workflow):
        dct = WorkflowConverter.to_dict(self, workflow)   # what BpmnWorkflowConverter.to_dict adds, minus the spec
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct


_SERIALIZER = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure({**DEFAULT_CONFIG,
                                                                       BpmnWorkflow: _InstanceConverter}))


# ---------------------------------------------------------------------------------------------------------------------
# Parsing and checking the BPMN (cached per text)


@dataclass(frozen=True)
class _Process:
    sha256: str
    process_id: str
    spec: object                 # SpiffWorkflow's BpmnProcessSpec; shared by every instance, never changed by running
    steps: tuple[ReadyStep, ...]
    step_ids: frozenset[str]
    order: dict                  # step id -> position in the document


_cache: OrderedDict[str, _Process] = OrderedDict()
_cache_lock = threading.Lock()
_parse_lock = threading.Lock()
_validator: BpmnValidator | None = None


def _process(bpmn_xml: str) -> _Process:
    """The parsed and checked process of this BPMN text; parsing takes milliseconds, so it is kept per text digest
    (a bounded LRU: the versions in force are few)."""
    if not isinstance(bpmn_xml, str):
        raise WorkflowError(_("The BPMN must be XML text, not %(type)s.") % {"type": type(bpmn_xml).__name__})
    digest = hashlib.sha256(bpmn_xml.encode("utf-8")).hexdigest()
    with _cache_lock:
        process = _cache.get(digest)
        if process is not None:
            _cache.move_to_end(digest)
            return process
    with _parse_lock:   # the schema validator is shared and keeps its error log: one parse at a time
        process = _parse(bpmn_xml, digest)
    with _cache_lock:
        _cache[digest] = process
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return process


def _xml_parser() -> etree.XMLParser:
    # No DTDs, no entities, no network: a catalogue file cannot make the server read its own files.
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                           remove_comments=True, remove_pis=True)


def _parse(bpmn_xml: str, digest: str) -> _Process:
    global _validator
    try:
        root = etree.fromstring(bpmn_xml.encode("utf-8"), _xml_parser())
    except etree.XMLSyntaxError as exc:
        raise WorkflowError(_("The BPMN is not well-formed XML: %(reason)s") % {"reason": exc}) from exc
    if root.getroottree().docinfo.doctype:
        raise WorkflowError(_("The BPMN may not declare a DOCTYPE."))
    if root.tag != f"{{{BPMN_NS}}}definitions":
        raise WorkflowError(_("The BPMN's root element must be bpmn:definitions, not %(tag)s.")
                            % {"tag": _local(root.tag)})
    processes = root.findall(f"{{{BPMN_NS}}}process")
    if len(processes) != 1:
        raise WorkflowError(_("The BPMN must hold exactly one process, not %(count)d.") % {"count": len(processes)})
    process_node = processes[0]
    process_id = process_node.get("id") or ""
    steps = _check_process(process_node)

    if _validator is None:
        _validator = BpmnValidator()   # loading the BPMN 2.0 XML schema takes a moment: once per process
    parser = BpmnParser(validator=_validator)
    try:
        parser.add_bpmn_xml(root)
        spec = parser.get_spec(process_id)
    except SpiffWorkflowException as exc:
        raise WorkflowError(_("The BPMN is not valid: %(reason)s") % {"reason": exc}) from exc
    except etree.LxmlError as exc:
        raise WorkflowError(_("The BPMN is not valid: %(reason)s") % {"reason": exc}) from exc
    return _Process(
        sha256=digest, process_id=process_id, spec=spec,
        steps=steps, step_ids=frozenset(step.task_id for step in steps),
        order={step.task_id: i for i, step in enumerate(steps)},
    )


def _local(tag) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else str(tag)


def _describe(node) -> str:
    name = _local(node.tag)
    return f"{name} “{node.get('id')}”" if node.get("id") else name


def _check_process(process_node) -> tuple[ReadyStep, ...]:
    """Refuse whatever could run code or that the convention does not know; return the user tasks with their roles."""
    if process_node.get("isExecutable") != "true":
        raise WorkflowError(_("The process must be marked isExecutable=\"true\"."))
    counts = {"startEvent": 0, "endEvent": 0}
    for node in process_node.iterdescendants():
        if not isinstance(node.tag, str):
            continue
        ancestors = {_local(a.tag) for a in node.iterancestors() if isinstance(a.tag, str)}
        if ancestors & IGNORED_SUBTREES:
            continue
        name = _local(node.tag)
        if etree.QName(node).namespace != BPMN_NS or (name not in ALLOWED_IN_PROCESS and name not in IGNORED_SUBTREES):
            raise WorkflowError(_("The BPMN element %(element)s is not allowed: a procedure's process holds only "
                                  "user tasks, gateways, one start and one end event, and the flows between them "
                                  "(nothing that runs code).") % {"element": _describe(node)})
        if name in counts:
            counts[name] += 1
        if name == "conditionExpression":
            flow = node.getparent()
            parsed = _parse_condition(node.text)
            if parsed is None:
                raise WorkflowError(_("The condition %(expression)r of %(flow)s is not allowed: a condition may only "
                                      "read the decision, as in decision == \"return\".")
                                    % {"expression": (node.text or "").strip(), "flow": _describe(flow)})
            if parsed[1] not in DECISIONS:
                raise WorkflowError(_("The condition of %(flow)s compares the decision with %(value)r; a decision is "
                                      "one of %(allowed)s.")
                                    % {"flow": _describe(flow), "value": parsed[1], "allowed": ", ".join(DECISIONS)})
    for name, count in counts.items():
        if count != 1:
            raise WorkflowError(_("The process must have exactly one %(element)s, not %(count)d.")
                                % {"element": name, "count": count})
    for gateway in process_node.iter(f"{{{BPMN_NS}}}exclusiveGateway"):
        outgoing = [flow for flow in process_node.iter(f"{{{BPMN_NS}}}sequenceFlow")
                    if flow.get("sourceRef") == gateway.get("id")]
        # Without a default flow, a decision that matches no condition would stop the process half-way.
        if len(outgoing) > 1 and not gateway.get("default"):
            raise WorkflowError(_("The gateway %(element)s needs a default flow.") % {"element": _describe(gateway)})

    lane_of = {}
    for lane in process_node.iter(f"{{{BPMN_NS}}}lane"):
        for ref in lane.findall(f"{{{BPMN_NS}}}flowNodeRef"):
            lane_of[(ref.text or "").strip()] = lane.get("name") or ""
    steps = []
    for task in process_node.iter(f"{{{BPMN_NS}}}userTask"):
        task_id = task.get("id") or ""
        role = lane_of.get(task_id)
        if role is None:
            raise WorkflowError(_("The user task %(element)s is in no lane: its lane says which role performs it.")
                                % {"element": _describe(task)})
        if role not in ROLES:
            raise WorkflowError(_("The user task %(element)s is in the lane %(role)r, which is not a role (%(roles)s).")
                                % {"element": _describe(task), "role": role, "roles": ", ".join(ROLES)})
        steps.append(ReadyStep(task_id=task_id, name=task.get("name") or task_id, role=role))
    if not steps:
        raise WorkflowError(_("The process has no user task."))
    return tuple(steps)


# ---------------------------------------------------------------------------------------------------------------------
# Running, saving and loading an instance


def _ready_tasks(workflow) -> list:
    return workflow.get_tasks(state=TaskState.READY, manual=True)


def _ready(process: _Process, workflow) -> list[ReadyStep]:
    by_id = {step.task_id: step for step in process.steps}
    names = {task.task_spec.name for task in _ready_tasks(workflow)}
    return sorted((by_id[name] for name in names if name in by_id), key=lambda step: process.order[step.task_id])


def _clean_data(data) -> dict:
    """Task data as it will be stored: a dict of JSON values, without the reserved key ``decision``."""
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise WorkflowError(_("Step data must be a dict, not %(type)s.") % {"type": type(data).__name__})
    if "decision" in data:
        raise WorkflowError(_("Step data may not set \"decision\": pass it as the decision."))
    try:
        return json.loads(json.dumps(data, allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise WorkflowError(_("Step data must be JSON values (%(reason)s).") % {"reason": exc}) from exc


@contextmanager
def _state_errors():
    """Running a checked process over a loaded state: the engine's own errors (a gateway no flow of which matches)
    and anything else a damaged state makes it raise become a WorkflowError."""
    try:
        yield
    except WorkflowError:
        raise
    except SpiffWorkflowException as exc:
        raise WorkflowError(_("The process stopped with an error: %(reason)s") % {"reason": exc}) from exc
    except Exception as exc:   # noqa: BLE001 - a checked process over a sound state raises nothing else
        raise WorkflowError(_("The workflow state is damaged (%(reason)s).") % {"reason": repr(exc)}) from exc


def _dump(process: _Process, workflow) -> dict:
    engine = _SERIALIZER.to_dict(workflow)   # without the spec: the BPMN text is the spec (see the module docstring)
    engine[_SERIALIZER.VERSION_KEY] = _SERIALIZER.VERSION
    state = {
        "format": STATE_FORMAT,
        "process": process.process_id,
        "bpmn_sha256": process.sha256,
        "ready": [step.task_id for step in _ready(process, workflow)],
        "finished": workflow.is_completed(),
        "engine": engine,
    }
    # The same round trip a JSONField makes: what we return is exactly what will be read back.
    return json.loads(json.dumps(state))


def _check_tasks(engine: dict) -> None:
    """The task tree's shape, so that damage shows when the state is read rather than half-way through a step."""
    tasks = engine["tasks"]
    if not isinstance(tasks, dict) or engine["root"] not in tasks:
        raise ValueError("no task tree")
    for key, task in tasks.items():
        if not (isinstance(task, dict) and task["id"] == key and isinstance(task["task_spec"], str)
                and type(task["state"]) is int and isinstance(task["data"], dict)
                and isinstance(task["internal_data"], dict) and isinstance(task["children"], list)
                and all(child in tasks for child in task["children"])
                and (task["parent"] is None or task["parent"] in tasks)):
            raise ValueError(f"task {key!r}")


def _load(process: _Process, state: dict):
    """The workflow instance of ``state`` under this BPMN; any damage is a WorkflowError, never another exception."""
    if not isinstance(state, dict) or state.get("format") != STATE_FORMAT or not isinstance(state.get("engine"), dict):
        raise WorkflowError(_("The workflow state is damaged or not a workflow state."))
    if state.get("process") != process.process_id:
        raise WorkflowError(_("The workflow state belongs to the process %(state)r, not %(process)r.")
                            % {"state": state.get("process"), "process": process.process_id})
    try:
        engine = json.loads(json.dumps(state["engine"]))   # a private copy: restoring consumes parts of the dict
        _check_tasks(engine)
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        raise WorkflowError(_("The workflow state is damaged (%(reason)s).") % {"reason": repr(exc)}) from exc
    unknown = sorted({task["task_spec"] for task in engine["tasks"].values()} - set(process.spec.task_specs))
    if unknown:
        raise WorkflowError(_("The workflow state refers to elements the BPMN does not have: %(elements)s.")
                            % {"elements": ", ".join(map(str, unknown))})
    try:
        _SERIALIZER.migrate(engine)
        engine["spec"] = process.spec
        engine["subprocess_specs"] = {}
        workflow = _SERIALIZER.from_dict(engine)
        if workflow.task_tree is None:
            raise ValueError("no root task")
        workflow.script_engine = _ENGINE
    except Exception as exc:   # noqa: BLE001 - whatever a damaged dict makes the deserialiser raise, it is damage
        raise WorkflowError(_("The workflow state is damaged (%(reason)s).") % {"reason": repr(exc)}) from exc
    return workflow
