"""Every demo BPMN runs in SpiffWorkflow and shows in a modeler: lanes per role, a shape per node, an edge per flow."""
import pytest
from lxml import etree
from SpiffWorkflow.bpmn.parser import BpmnParser
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from egov.procedures.bpmn import NS, check_bpmn, generate_bpmn
from egov.procedures.catalogue import parse_catalogue
from egov.procedures.demo import DEMO_CATALOGUE

DEMO = parse_catalogue(DEMO_CATALOGUE.read_text(encoding="utf-8"), source="demo.yaml", base_dir=DEMO_CATALOGUE.parent)
VERSIONS = [(procedure.code, version) for procedure in DEMO.procedures for version in procedure.versions]
FLOW_NODES = ("startEvent", "endEvent", "userTask", "exclusiveGateway")

STEPS = [
    {"id": "assign", "name": "Phân công", "role": "head_of_unit", "working_days": 0.5},
    {"id": "process", "name": "Xử lý", "role": "specialist", "working_days": 2},
    {"id": "review", "name": "Xem xét", "role": "head_of_unit", "working_days": 0.5},
    {"id": "approve", "name": "Ký duyệt", "role": "agency_leader", "working_days": 1},
]


def run(xml: str, process_id: str, decisions: dict[str, list[str]]) -> list[str]:
    """Run the process, answering each task with the next decision given for it (approve by default)."""
    parser = BpmnParser()
    parser.add_bpmn_str(xml.encode())
    workflow = BpmnWorkflow(parser.get_spec(process_id))
    workflow.do_engine_steps()
    done = []
    while not workflow.is_completed():
        task = workflow.get_tasks(state=TaskState.READY)[0]
        answers = decisions.get(task.task_spec.name, [])
        task.data["decision"] = answers.pop(0) if answers else "approve"
        done.append(f"{task.task_spec.name}:{task.data['decision']}")
        task.run()
        workflow.do_engine_steps()
    return done


@pytest.mark.parametrize(("code", "version"), VERSIONS, ids=[f"{c}@{v.effective_from}" for c, v in VERSIONS])
def test_demo_bpmn_is_complete_and_displayable(code, version):
    assert check_bpmn(version.bpmn, version.steps) == []
    root = etree.fromstring(version.bpmn.encode())
    process = root.find("bpmn:process", NS)
    assert process.get("id") == "procedure_" + code.replace(".", "_") and process.get("isExecutable") == "true"
    lanes = {lane.get("name"): [ref.text for ref in lane.iterfind("bpmn:flowNodeRef", NS)]
             for lane in process.iterfind("bpmn:laneSet/bpmn:lane", NS)}
    assert set(lanes) == {step["role"] for step in version.steps}
    for step in version.steps:
        assert step["id"] in lanes[step["role"]]
    shapes = {shape.get("bpmnElement") for shape in root.iterfind(".//bpmndi:BPMNShape", NS)}
    edges = {edge.get("bpmnElement"): edge for edge in root.iterfind(".//bpmndi:BPMNEdge", NS)}
    nodes = [element.get("id") for kind in FLOW_NODES for element in process.iterfind(f"bpmn:{kind}", NS)]
    assert set(nodes) | {f"lane_{role}" for role in lanes} | {root.find(".//bpmn:participant", NS).get("id")} <= shapes
    for flow in process.iterfind("bpmn:sequenceFlow", NS):
        assert len(edges[flow.get("id")].findall("di:waypoint", NS)) >= 2
    plane = root.find(".//bpmndi:BPMNPlane", NS)
    assert plane.get("bpmnElement") == root.find("bpmn:collaboration", NS).get("id")
    # And SpiffWorkflow runs it from start to end.
    assert run(version.bpmn, process.get("id"), {}) == [f"{step['id']}:approve" for step in version.steps]


def test_most_demo_procedures_can_send_a_dossier_back_from_review():
    with_return = [code for code, version in VERSIONS if 'decision == "return"' in version.bpmn]
    assert len(with_return) >= 8


def test_a_return_decision_sends_the_dossier_back():
    xml = generate_bpmn("procedure_1_000001", STEPS, returns={"review": "process", "approve": "process"})
    done = run(xml, "procedure_1_000001", {"review": ["return"], "approve": ["return", "approve"]})
    assert done == ["assign:approve", "process:approve", "review:return", "process:approve", "review:approve",
                    "approve:return", "process:approve", "review:approve", "approve:approve"]


def test_check_bpmn_names_each_problem_with_its_line():
    xml = generate_bpmn("procedure_1_000001", STEPS, returns={"review": "process"})
    lines = xml.splitlines()
    approve_line = next(number for number, text in enumerate(lines, 1) if '<bpmn:userTask id="approve"' in text)
    # The approve task taken out of its lane, and a step the document does not have.
    broken = xml.replace("        <bpmn:flowNodeRef>approve</bpmn:flowNodeRef>\n", "")
    steps = [*STEPS, {"id": "archive", "name": "Lưu trữ", "role": "specialist", "working_days": 0}]
    problems = check_bpmn(broken, steps)
    assert (approve_line - 1, "user task “approve” is outside the role lanes: put it in the lane of its role") in problems
    assert any(message == "step “archive” has no user task with that id" for _, message in problems)
    assert len(problems) == 2

    wrong_lane = xml.replace('<bpmn:lane id="lane_agency_leader" name="agency_leader">',
                             '<bpmn:lane id="lane_agency_leader" name="leader">')
    assert [message for _, message in check_bpmn(wrong_lane, STEPS)] == [
        "lane “lane_agency_leader” is named “leader”, which is not a role (desk_officer, specialist, head_of_unit, "
        "agency_leader)",
        "user task “approve” is in the lane “leader” but its step's role is “agency_leader”",
    ]
    assert check_bpmn("<bpmn:definitions", STEPS)[0][1].startswith("not well-formed XML")
    no_diagram = xml.split("  <bpmndi:BPMNDiagram")[0] + "</bpmn:definitions>\n"
    assert [message for _, message in check_bpmn(no_diagram, STEPS)] == [
        "the document has no diagram (bpmndi:BPMNDiagram): modelers cannot show it"]
