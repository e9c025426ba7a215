"""BPMN 2.0 documents of a procedure version's processing steps (quy trình nội bộ), after ../shared convention:

one executable process, one lane per role (the lane's ``name`` is the role code), one user task per step (its id is
the step id), an exclusive gateway with a ``decision == "return"`` flow after a task that may send the dossier back,
and BPMNDI shapes and edges so that bpmn.io and Camunda Modeler display the file.

``generate_bpmn`` writes such a document from the steps; ``check_bpmn`` says, line by line, how a document (written
by hand or in a modeler) does not fit the steps. lxml comes with SpiffWorkflow and keeps source line numbers.
"""
from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

from django.utils.translation import gettext as _
from lxml import etree

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"
DC = "http://www.omg.org/spec/DD/20100524/DC"
DI = "http://www.omg.org/spec/DD/20100524/DI"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
NS = {"bpmn": BPMN, "bpmndi": BPMNDI, "dc": DC, "di": DI}

# The roles a lane may stand for, in the order lanes are drawn (top to bottom).
ROLES = ("desk_officer", "specialist", "head_of_unit", "agency_leader")
RETURN_CONDITION = 'decision == "return"'
FLOW_NODES = ("startEvent", "endEvent", "userTask", "task", "exclusiveGateway", "parallelGateway", "inclusiveGateway",
              "serviceTask", "scriptTask", "manualTask", "intermediateThrowEvent", "intermediateCatchEvent")

# Layout (pixels): the pool's label band, lane height, column width, shape sizes.
POOL_X, POOL_Y, LABEL_BAND, LANE_HEIGHT, COLUMN = 160, 80, 30, 140, 150
TASK_W, TASK_H, EVENT, GATEWAY = 100, 80, 36, 50


def process_id_for(code: str) -> str:
    """``1.001193`` → ``procedure_1_001193``."""
    return "procedure_" + code.replace(".", "_")


def generate_bpmn(process_id: str, steps: list[dict], *, returns: dict[str, str] | None = None,
                  name: str = "") -> str:
    """A BPMN document for ``steps`` run in order; ``returns`` maps a step id to the earlier step id a "return"
    decision sends the dossier back to (an exclusive gateway follows that step)."""
    returns = returns or {}
    roles = [role for role in ROLES if any(step["role"] == role for step in steps)]
    lane_of = {role: index for index, role in enumerate(roles)}

    # Flow nodes in drawing order: (id, kind, role, label).
    nodes: list[tuple[str, str, str, str]] = [("start", "startEvent", steps[0]["role"], "")]
    for step in steps:
        nodes.append((step["id"], "userTask", step["role"], step["name"]))
        if step["id"] in returns:
            nodes.append((f"gateway_{step['id']}", "exclusiveGateway", step["role"], ""))
    nodes.append(("end", "endEvent", steps[-1]["role"], ""))

    flows: list[tuple[str, str, str, bool]] = []  # (id, source, target, is_return)
    for source, target in zip(nodes, nodes[1:], strict=False):
        flows.append((f"flow_{source[0]}_{target[0]}", source[0], target[0], False))
    for step_id, back_to in returns.items():
        flows.append((f"flow_{step_id}_return_{back_to}", f"gateway_{step_id}", back_to, True))

    # Geometry.
    width = LABEL_BAND + COLUMN * len(nodes) + 40
    bounds: dict[str, tuple[int, int, int, int]] = {}
    for column, (node_id, kind, role, _label) in enumerate(nodes):
        w, h = {"userTask": (TASK_W, TASK_H), "exclusiveGateway": (GATEWAY, GATEWAY)}.get(kind, (EVENT, EVENT))
        centre_x = POOL_X + LABEL_BAND + 40 + COLUMN * column + TASK_W // 2
        centre_y = POOL_Y + LANE_HEIGHT * lane_of[role] + LANE_HEIGHT // 2
        bounds[node_id] = (centre_x - w // 2, centre_y - h // 2, w, h)
    default_flow = {flow[1]: flow[0] for flow in flows if flow[1].startswith("gateway_") and not flow[3]}

    out: list[str] = []
    w = out.append
    w('<?xml version="1.0" encoding="UTF-8"?>')
    w(f'<bpmn:definitions xmlns:bpmn="{BPMN}" xmlns:bpmndi="{BPMNDI}" xmlns:dc="{DC}" xmlns:di="{DI}" '
      f'xmlns:xsi="{XSI}" id="definitions_{process_id}" targetNamespace="http://egov.example/bpmn" '
      'exporter="egov" exporterVersion="1">')
    w(f'  <bpmn:collaboration id="collaboration_{process_id}">')
    w(f'    <bpmn:participant id="participant_{process_id}" name={quoteattr(name or process_id)} '
      f'processRef="{process_id}" />')
    w("  </bpmn:collaboration>")
    w(f'  <bpmn:process id="{process_id}" isExecutable="true">')
    w(f'    <bpmn:laneSet id="laneset_{process_id}">')
    for role in roles:
        w(f'      <bpmn:lane id="lane_{role}" name="{role}">')
        for node_id, _kind, node_role, _label in nodes:
            if node_role == role:
                w(f"        <bpmn:flowNodeRef>{node_id}</bpmn:flowNodeRef>")
        w("      </bpmn:lane>")
    w("    </bpmn:laneSet>")
    for node_id, kind, _role, label in nodes:
        attributes = f'id="{node_id}"' + (f" name={quoteattr(label)}" if label else "")
        if kind == "exclusiveGateway":
            attributes += f' default="{default_flow[node_id]}"'
        w(f"    <bpmn:{kind} {attributes}>")
        for flow_id, _source, target, _is_return in flows:
            if target == node_id:
                w(f"      <bpmn:incoming>{flow_id}</bpmn:incoming>")
        for flow_id, source, _target, _is_return in flows:
            if source == node_id:
                w(f"      <bpmn:outgoing>{flow_id}</bpmn:outgoing>")
        w(f"    </bpmn:{kind}>")
    for flow_id, source, target, is_return in flows:
        if is_return:
            w(f'    <bpmn:sequenceFlow id="{flow_id}" name="Trả lại" sourceRef="{source}" targetRef="{target}">')
            w(f'      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">{escape(RETURN_CONDITION)}'
              "</bpmn:conditionExpression>")
            w("    </bpmn:sequenceFlow>")
        else:
            w(f'    <bpmn:sequenceFlow id="{flow_id}" sourceRef="{source}" targetRef="{target}" />')
    w("  </bpmn:process>")

    w(f'  <bpmndi:BPMNDiagram id="diagram_{process_id}">')
    w(f'    <bpmndi:BPMNPlane id="plane_{process_id}" bpmnElement="collaboration_{process_id}">')
    pool_height = LANE_HEIGHT * len(roles)
    w(_shape(f"participant_{process_id}", (POOL_X, POOL_Y, width, pool_height), horizontal=True))
    for role in roles:
        w(_shape(f"lane_{role}", (POOL_X + LABEL_BAND, POOL_Y + LANE_HEIGHT * lane_of[role], width - LABEL_BAND,
                                   LANE_HEIGHT), horizontal=True))
    for node_id, kind, _role, _label in nodes:
        w(_shape(node_id, bounds[node_id], marker=kind == "exclusiveGateway"))
    lane_bottom = {role: POOL_Y + LANE_HEIGHT * (index + 1) for role, index in lane_of.items()}
    role_of = {node[0]: node[2] for node in nodes}
    for flow_id, source, target, is_return in flows:
        if is_return:
            points = _return_waypoints(bounds[source], bounds[target], lane_bottom[role_of[source]] - 14,
                                       upwards=lane_of[role_of[target]] <= lane_of[role_of[source]])
        else:
            points = _forward_waypoints(bounds[source], bounds[target])
        w(f'      <bpmndi:BPMNEdge id="{flow_id}_di" bpmnElement="{flow_id}">')
        for x, y in points:
            w(f'        <di:waypoint x="{x}" y="{y}" />')
        w("      </bpmndi:BPMNEdge>")
    w("    </bpmndi:BPMNPlane>")
    w("  </bpmndi:BPMNDiagram>")
    w("</bpmn:definitions>")
    return "\n".join(out) + "\n"


def _shape(element: str, box: tuple[int, int, int, int], *, horizontal: bool = False, marker: bool = False) -> str:
    x, y, width, height = box
    extra = ' isHorizontal="true"' if horizontal else ""
    extra += ' isMarkerVisible="true"' if marker else ""
    return (f'      <bpmndi:BPMNShape id="{element}_di" bpmnElement="{element}"{extra}>\n'
            f'        <dc:Bounds x="{x}" y="{y}" width="{width}" height="{height}" />\n'
            "      </bpmndi:BPMNShape>")


def _forward_waypoints(source: tuple, target: tuple) -> list[tuple[int, int]]:
    sx, sy, sw, sh = source
    tx, ty, tw, th = target
    start, end = (sx + sw, sy + sh // 2), (tx, ty + th // 2)
    if start[1] == end[1]:
        return [start, end]
    middle = (start[0] + end[0]) // 2  # an orthogonal elbow between lanes
    return [start, (middle, start[1]), (middle, end[1]), end]


def _return_waypoints(gateway: tuple, target: tuple, below: int, *, upwards: bool) -> list[tuple[int, int]]:
    gx, gy, gw, gh = gateway
    tx, ty, tw, th = target
    target_x = tx + tw // 2
    return [(gx + gw // 2, gy + gh), (gx + gw // 2, below), (target_x, below), (target_x, ty + th if upwards else ty)]


# --------------------------------------------------------------------------------------------------------------
# Checking a document against the steps

def _local(element) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def check_bpmn(xml: str, steps: list[dict]) -> list[tuple[int | None, str]]:
    """Every way ``xml`` does not fit the convention and ``steps``, as (line in the document, message)."""
    try:
        root = etree.fromstring(xml.encode("utf-8"), etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as exc:
        return [(exc.lineno, _("not well-formed XML: %(reason)s") % {"reason": exc.msg})]
    if root.tag != f"{{{BPMN}}}definitions":
        return [(root.sourceline, _("the root element must be bpmn:definitions in the BPMN 2.0 namespace, not %(tag)s")
                 % {"tag": root.tag})]
    problems: list[tuple[int | None, str]] = []
    processes = root.findall("bpmn:process", NS)
    executable = [process for process in processes if process.get("isExecutable") == "true"]
    if len(executable) != 1:
        return [(root.sourceline, _("the document must hold exactly one bpmn:process with isExecutable=\"true\"; it "
                                    "holds %(count)d") % {"count": len(executable)})]
    process = executable[0]
    process_id = process.get("id", "")

    problems.extend(_spiff_problems(root, process_id))

    nodes = {element.get("id"): element for element in process if _local(element) in FLOW_NODES}
    for kind in ("startEvent", "endEvent"):
        count = sum(1 for element in nodes.values() if _local(element) == kind)
        if count != 1:
            problems.append((process.sourceline, _("the process must have exactly one %(kind)s; it has %(count)d")
                             % {"kind": kind, "count": count}))
    tasks = {node_id: element for node_id, element in nodes.items() if _local(element) == "userTask"}
    for node_id, element in nodes.items():
        if _local(element) in ("task", "serviceTask", "scriptTask", "manualTask"):
            problems.append((element.sourceline, _("“%(id)s” is a %(kind)s: every processing step must be a "
                                                   "bpmn:userTask") % {"id": node_id, "kind": _local(element)}))
    step_ids = [step["id"] for step in steps]
    for step in steps:
        if step["id"] not in tasks:
            problems.append((process.sourceline, _("step “%(id)s” has no user task with that id") % {"id": step["id"]}))
    for task_id, element in tasks.items():
        if task_id not in step_ids:
            problems.append((element.sourceline, _("user task “%(id)s” is not one of the steps (%(steps)s)")
                             % {"id": task_id, "steps": ", ".join(step_ids)}))

    # Lanes: one per role, named by the role code; every user task in the lane of its step's role.
    lane_of_node: dict[str, str] = {}
    for lane in process.iterfind("bpmn:laneSet/bpmn:lane", NS):
        role = lane.get("name", "")
        if role not in ROLES:
            problems.append((lane.sourceline, _("lane “%(lane)s” is named “%(role)s”, which is not a role (%(roles)s)")
                             % {"lane": lane.get("id", ""), "role": role, "roles": ", ".join(ROLES)}))
        for ref in lane.iterfind("bpmn:flowNodeRef", NS):
            lane_of_node[(ref.text or "").strip()] = role
    role_of_step = {step["id"]: step["role"] for step in steps}
    for task_id, element in tasks.items():
        lane_role = lane_of_node.get(task_id)
        if lane_role is None:
            problems.append((element.sourceline, _("user task “%(id)s” is outside the role lanes: put it in the lane "
                                                   "of its role") % {"id": task_id}))
        elif task_id in role_of_step and lane_role != role_of_step[task_id]:
            problems.append((element.sourceline, _("user task “%(id)s” is in the lane “%(lane)s” but its step's role "
                                                   "is “%(role)s”") % {"id": task_id, "lane": lane_role,
                                                                        "role": role_of_step[task_id]}))

    # Diagram: modelers show only what has a shape or an edge.
    shapes = {shape.get("bpmnElement") for shape in root.iterfind(".//bpmndi:BPMNShape", NS)}
    edges = {edge.get("bpmnElement") for edge in root.iterfind(".//bpmndi:BPMNEdge", NS)}
    if root.find("bpmndi:BPMNDiagram", NS) is None:
        problems.append((root.sourceline, _("the document has no diagram (bpmndi:BPMNDiagram): modelers cannot show "
                                            "it")))
    else:
        for node_id, element in nodes.items():
            if node_id not in shapes:
                problems.append((element.sourceline, _("“%(id)s” has no diagram shape (bpmndi:BPMNShape)")
                                 % {"id": node_id}))
        for flow in process.iterfind("bpmn:sequenceFlow", NS):
            if flow.get("id") not in edges:
                problems.append((flow.sourceline, _("sequence flow “%(id)s” has no diagram edge (bpmndi:BPMNEdge)")
                                 % {"id": flow.get("id")}))
    return problems


def _spiff_problems(root, process_id: str) -> list[tuple[int | None, str]]:
    """What SpiffWorkflow (the engine that will run the process) says about the document."""
    from SpiffWorkflow.bpmn.parser import BpmnParser
    from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException

    parser = BpmnParser()
    try:
        parser.add_bpmn_xml(root, filename=f"{process_id}.bpmn")
        parser.get_spec(process_id)
    except ValidationException as exc:
        return [(exc.line_number or None, _("SpiffWorkflow cannot use the process: %(reason)s") % {"reason": exc})]
    except Exception as exc:  # noqa: BLE001 - a third-party parser on uploaded input: any failure is the file's
        return [(None, _("SpiffWorkflow cannot use the process: %(reason)s") % {"reason": exc})]
    return []


def user_task_ids(xml: str) -> list[str]:
    root = etree.fromstring(xml.encode("utf-8"))
    return [task.get("id") for task in root.iterfind(".//bpmn:process/bpmn:userTask", NS)]
