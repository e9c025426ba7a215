"""The workflow runtime: a dossier's processing steps run as its procedure version's BPMN; the state is plain JSON."""
import copy
import json
from pathlib import Path

import pytest
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from egov.dossiers import workflow
from egov.dossiers.workflow import ReadyStep, WorkflowError

BPMN = Path(__file__).parent / "bpmn"
LINEAR = (BPMN / "linear.bpmn").read_text()
RETURN = (BPMN / "return.bpmn").read_text()


@pytest.fixture(autouse=True)
def english():
    """Assertions read the English source messages."""
    from django.utils import translation

    with translation.override("en"):
        yield


def stored(state: dict) -> dict:
    """What the dossier's JSONField gives back after a save and a load."""
    return json.loads(json.dumps(state))


def ready_ids(bpmn: str, state: dict) -> list[str]:
    return [step.task_id for step in workflow.ready_steps(bpmn, state)]


# -- running a process --------------------------------------------------------------------------------------------------


def test_start_gives_the_first_step_with_its_role():
    state = workflow.start(LINEAR)
    assert workflow.ready_steps(LINEAR, state) == [ReadyStep("assign", "Assign a specialist", "head_of_unit")]
    assert not workflow.is_finished(LINEAR, state)


def test_completing_the_steps_in_order_finishes_with_each_role_in_turn():
    state = stored(workflow.start(LINEAR))
    for step_id, role in [("assign", "head_of_unit"), ("process", "specialist"), ("review", "head_of_unit"),
                          ("approve", "agency_leader")]:
        [step] = workflow.ready_steps(LINEAR, state)
        assert (step.task_id, step.role) == (step_id, role)
        state = stored(workflow.complete_step(LINEAR, state, step_id))
    assert workflow.is_finished(LINEAR, state)
    assert workflow.ready_steps(LINEAR, state) == []
    assert state["finished"] is True and state["ready"] == []


def test_the_state_says_which_steps_are_ready_for_readers_that_do_not_run_the_engine():
    state = workflow.start(LINEAR)
    assert state["ready"] == ["assign"] and state["finished"] is False
    assert state["process"] == "procedure_linear"
    state = workflow.complete_step(LINEAR, state, "assign")
    assert state["ready"] == ["process"]


def test_completing_a_step_that_is_not_ready_is_refused_and_changes_nothing():
    state = stored(workflow.start(LINEAR))
    before = copy.deepcopy(state)
    with pytest.raises(WorkflowError, match=r"The step review is not ready \(ready now: assign\)"):
        workflow.complete_step(LINEAR, state, "review")
    assert state == before
    assert ready_ids(LINEAR, state) == ["assign"]


def test_a_step_cannot_be_completed_twice():
    state = workflow.complete_step(LINEAR, workflow.start(LINEAR), "assign")
    with pytest.raises(WorkflowError, match="The step assign is not ready"):
        workflow.complete_step(LINEAR, state, "assign")


def test_a_finished_process_has_nothing_left_to_complete():
    state = workflow.start(LINEAR)
    for step_id in ("assign", "process", "review", "approve"):
        state = workflow.complete_step(LINEAR, state, step_id)
    with pytest.raises(WorkflowError, match=r"The step approve is not ready \(ready now: none\)"):
        workflow.complete_step(LINEAR, state, "approve")


@pytest.mark.parametrize("task_id", ["sign", "", "Assign", None, 3, "start", "end"])
def test_an_unknown_step_is_refused(task_id):
    state = workflow.start(LINEAR)
    with pytest.raises(WorkflowError, match="The process has no step"):
        workflow.complete_step(LINEAR, state, task_id)


def test_complete_step_does_not_change_the_state_it_was_given():
    state = workflow.start(LINEAR)
    before = copy.deepcopy(state)
    after = workflow.complete_step(LINEAR, state, "assign")
    assert state == before
    assert ready_ids(LINEAR, state) == ["assign"]          # the old state still reads as it was
    assert ready_ids(LINEAR, after) == ["process"]


# -- sending back -------------------------------------------------------------------------------------------------------


def test_return_at_review_brings_back_process_and_the_second_review_can_approve():
    state = stored(workflow.start(RETURN))
    state = stored(workflow.complete_step(RETURN, state, "assign"))
    state = stored(workflow.complete_step(RETURN, state, "process"))
    state = stored(workflow.complete_step(RETURN, state, "review", decision="return"))
    assert workflow.ready_steps(RETURN, state) == [ReadyStep("process", "Process the dossier", "specialist")]

    state = stored(workflow.complete_step(RETURN, state, "process"))     # the specialist corrects the draft
    state = stored(workflow.complete_step(RETURN, state, "review"))      # approve is the default decision
    assert workflow.ready_steps(RETURN, state) == [ReadyStep("approve", "Approve and sign", "agency_leader")]
    state = stored(workflow.complete_step(RETURN, state, "approve"))
    assert workflow.is_finished(RETURN, state)


def test_a_dossier_can_be_returned_several_times():
    state = workflow.start(RETURN)
    state = workflow.complete_step(RETURN, state, "assign")
    for _ in range(5):
        state = workflow.complete_step(RETURN, stored(state), "process")
        state = workflow.complete_step(RETURN, stored(state), "review", decision="return")
        assert ready_ids(RETURN, state) == ["process"]
    state = workflow.complete_step(RETURN, state, "process")
    state = workflow.complete_step(RETURN, state, "review", decision="approve")
    assert ready_ids(RETURN, state) == ["approve"]


def test_return_where_no_gateway_follows_simply_goes_on():
    # The decision is recorded; only a gateway's condition can send the dossier back.
    state = workflow.complete_step(LINEAR, workflow.start(LINEAR), "assign", decision="return")
    assert ready_ids(LINEAR, state) == ["process"]


@pytest.mark.parametrize("decision", ["reject", "", "APPROVE", None, 1])
def test_a_decision_other_than_approve_or_return_is_refused(decision):
    state = workflow.start(LINEAR)
    with pytest.raises(WorkflowError, match="The decision must be one of approve, return"):
        workflow.complete_step(LINEAR, state, "assign", decision=decision)


def test_step_data_is_kept_in_the_state():
    state = workflow.complete_step(LINEAR, workflow.start(LINEAR), "assign", data={"specialist": "demo.specialist"})
    assert "demo.specialist" in json.dumps(state)
    assert ready_ids(LINEAR, state) == ["process"]


@pytest.mark.parametrize("data, message", [
    ({"decision": "return"}, 'Step data may not set "decision"'),
    ({"when": {1, 2}}, "Step data must be JSON values"),
    ({"ratio": float("nan")}, "Step data must be JSON values"),
    (["specialist"], "Step data must be a dict"),
])
def test_step_data_that_cannot_be_stored_is_refused(data, message):
    state = workflow.start(LINEAR)
    with pytest.raises(WorkflowError, match=message):
        workflow.complete_step(LINEAR, state, "assign", data=data)


# -- the state as stored ------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_state_survives_the_database_json_type_between_every_step():
    """jsonb on PostgreSQL reorders keys and re-prints numbers; SQLite's json() re-prints the text."""
    sql = "SELECT CAST(%s AS jsonb)::text" if connection.vendor == "postgresql" else "SELECT json(%s)"

    def through_the_database(state):
        with connection.cursor() as cursor:
            cursor.execute(sql, [json.dumps(state)])
            return json.loads(cursor.fetchone()[0])

    state = through_the_database(workflow.start(RETURN))
    for step_id, decision in [("assign", "approve"), ("process", "approve"), ("review", "return"),
                              ("process", "approve"), ("review", "approve"), ("approve", "approve")]:
        state = through_the_database(workflow.complete_step(RETURN, state, step_id, decision=decision))
    assert workflow.is_finished(RETURN, state)


def test_the_state_does_not_carry_the_process_definition():
    # The BPMN text is the definition; the state holds only the instance (and stays small).
    state = workflow.start(RETURN)
    assert "spec" not in state["engine"]
    assert len(json.dumps(state)) < len(RETURN)


def _a_state_in_review():
    state = workflow.start(RETURN)
    for step_id in ("assign", "process"):
        state = workflow.complete_step(RETURN, state, step_id)
    return state


def _damaged(change):
    state = _a_state_in_review()
    change(state)
    return state


DAMAGED_STATES = {
    "nothing": None,
    "empty": {},
    "text": "review",
    "a list": [1, 2],
    "no engine": _damaged(lambda s: s.pop("engine")),
    "another format": _damaged(lambda s: s.update(format=2)),
    "engine is text": _damaged(lambda s: s.update(engine="{}")),
    "no tasks": _damaged(lambda s: s["engine"].pop("tasks")),
    "tasks is a list": _damaged(lambda s: s["engine"].update(tasks=[])),
    "no root": _damaged(lambda s: s["engine"].pop("root")),
    "root unknown": _damaged(lambda s: s["engine"].update(root="00000000-0000-0000-0000-000000000000")),
    "root not a uuid": _damaged(lambda s: s["engine"].update(root="review")),
    "no serializer version": _damaged(lambda s: s["engine"].pop("serializer_version")),
    "a task without a spec": _damaged(lambda s: next(iter(s["engine"]["tasks"].values())).pop("task_spec")),
    "a task of an unknown spec": _damaged(
        lambda s: next(iter(s["engine"]["tasks"].values())).update(task_spec="sign")),
    "a task's data is a list": _damaged(lambda s: [t.update(data=[]) for t in s["engine"]["tasks"].values()]),
    "a task's state is text": _damaged(lambda s: [t.update(state="READY") for t in s["engine"]["tasks"].values()]),
    "a child that does not exist": _damaged(lambda s: [t["children"].append("00000000-0000-0000-0000-000000000001")
                                                       for t in s["engine"]["tasks"].values()]),
    "another process": _damaged(lambda s: s.update(process="procedure_linear")),
}


@pytest.mark.parametrize("name", DAMAGED_STATES)
def test_a_damaged_state_is_a_workflow_error(name):
    state = DAMAGED_STATES[name]
    for call in (lambda: workflow.ready_steps(RETURN, state), lambda: workflow.is_finished(RETURN, state),
                 lambda: workflow.complete_step(RETURN, state, "review")):
        with pytest.raises(WorkflowError):
            call()


def test_a_state_of_another_process_says_so():
    with pytest.raises(WorkflowError, match="belongs to the process 'procedure_linear', not 'procedure_return'"):
        workflow.ready_steps(RETURN, workflow.start(LINEAR))


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=6,
)


def _paths(value, path=()):
    yield path
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _paths(child, path + (key,))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _paths(child, path + (index,))


REVIEW_STATE = _a_state_in_review()
REVIEW_PATHS = [path for path in _paths(REVIEW_STATE) if path]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=st.sampled_from(REVIEW_PATHS), replacement=JSON_VALUES, delete=st.booleans())
def test_any_damage_to_a_stored_state_is_a_workflow_error_or_harmless(path, replacement, delete):
    """Replace or delete any one value anywhere in a stored state: the runtime either still works or raises
    WorkflowError, never another exception."""
    state = copy.deepcopy(REVIEW_STATE)
    parent = state
    for key in path[:-1]:
        parent = parent[key]
    if delete:
        del parent[path[-1]]
    else:
        parent[path[-1]] = replacement
    for call in (lambda: workflow.ready_steps(RETURN, state), lambda: workflow.is_finished(RETURN, state),
                 lambda: workflow.complete_step(RETURN, state, "review", decision="return"),
                 lambda: workflow.complete_step(RETURN, state, "approve")):
        try:
            call()
        except WorkflowError:
            pass


# -- the steps of a process ---------------------------------------------------------------------------------------------


def test_steps_of_lists_every_user_task_in_document_order_with_its_role():
    expected = [
        ReadyStep("assign", "Assign a specialist", "head_of_unit"),
        ReadyStep("process", "Process the dossier", "specialist"),
        ReadyStep("review", "Review", "head_of_unit"),
        ReadyStep("approve", "Approve and sign", "agency_leader"),
    ]
    assert workflow.steps_of(LINEAR) == expected
    assert workflow.steps_of(RETURN) == expected


def test_a_parsed_process_is_reused_for_the_same_text():
    assert workflow._process(LINEAR) is workflow._process(LINEAR)
    assert workflow._process(LINEAR) is not workflow._process(LINEAR + "\n")


def test_parallel_steps_are_ready_together():
    bpmn = (LINEAR
            .replace('<bpmn:sequenceFlow id="flow_assign" sourceRef="assign" targetRef="process" />',
                     '<bpmn:sequenceFlow id="flow_assign" sourceRef="assign" targetRef="split" />'
                     '<bpmn:parallelGateway id="split" /><bpmn:parallelGateway id="join" />'
                     '<bpmn:userTask id="check" name="Check the site" />'
                     '<bpmn:sequenceFlow id="flow_split_process" sourceRef="split" targetRef="process" />'
                     '<bpmn:sequenceFlow id="flow_split_check" sourceRef="split" targetRef="check" />'
                     '<bpmn:sequenceFlow id="flow_process_join" sourceRef="process" targetRef="join" />'
                     '<bpmn:sequenceFlow id="flow_check_join" sourceRef="check" targetRef="join" />'
                     '<bpmn:sequenceFlow id="flow_join" sourceRef="join" targetRef="review" />')
            .replace('<bpmn:sequenceFlow id="flow_process" sourceRef="process" targetRef="review" />', "")
            .replace("<bpmn:flowNodeRef>process</bpmn:flowNodeRef>",
                     "<bpmn:flowNodeRef>process</bpmn:flowNodeRef><bpmn:flowNodeRef>check</bpmn:flowNodeRef>"))
    state = workflow.complete_step(bpmn, workflow.start(bpmn), "assign")
    assert workflow.ready_steps(bpmn, state) == [ReadyStep("process", "Process the dossier", "specialist"),
                                                 ReadyStep("check", "Check the site", "specialist")]
    state = workflow.complete_step(bpmn, state, "check")
    assert ready_ids(bpmn, state) == ["process"]
    state = workflow.complete_step(bpmn, state, "process")
    assert ready_ids(bpmn, state) == ["review"]


# -- BPMN that is refused -----------------------------------------------------------------------------------------------


def test_a_script_task_is_refused_naming_the_element():
    with pytest.raises(WorkflowError, match="The BPMN element scriptTask “compute_fee” is not allowed"):
        workflow.start((BPMN / "script_task.bpmn").read_text())


def test_malformed_xml_is_refused():
    with pytest.raises(WorkflowError, match="The BPMN is not well-formed XML"):
        workflow.start((BPMN / "malformed.bpmn").read_text())


@pytest.mark.parametrize("call", [workflow.steps_of, lambda bpmn: workflow.ready_steps(bpmn, {}),
                                  lambda bpmn: workflow.complete_step(bpmn, {}, "assign"),
                                  lambda bpmn: workflow.is_finished(bpmn, {})])
def test_every_function_refuses_a_bad_bpmn(call):
    with pytest.raises(WorkflowError, match="The BPMN element scriptTask"):
        call((BPMN / "script_task.bpmn").read_text())


def _with_process_task_as(element: str, inner: str = "") -> str:
    return LINEAR.replace('<bpmn:userTask id="process" name="Process the dossier">',
                          f'<bpmn:{element} id="process" name="Process the dossier">{inner}').replace(
        "</bpmn:userTask>\n    <bpmn:userTask id=\"review\"", f"</bpmn:{element}>\n    <bpmn:userTask id=\"review\"")


@pytest.mark.parametrize("element", ["serviceTask", "businessRuleTask", "sendTask", "receiveTask", "task",
                                     "manualTask", "subProcess", "callActivity"])
def test_other_kinds_of_tasks_are_refused_naming_the_element(element):
    with pytest.raises(WorkflowError, match=f"The BPMN element {element} “process” is not allowed"):
        workflow.start(_with_process_task_as(element))


@pytest.mark.parametrize("inner, element", [
    ("<bpmn:multiInstanceLoopCharacteristics><bpmn:loopCardinality>__import__('os').getpid()"
     "</bpmn:loopCardinality></bpmn:multiInstanceLoopCharacteristics>", "multiInstanceLoopCharacteristics"),
    ("<bpmn:standardLoopCharacteristics />", "standardLoopCharacteristics"),
    ("<bpmn:ioSpecification />", "ioSpecification"),
])
def test_loops_and_data_inside_a_user_task_are_refused(inner, element):
    with pytest.raises(WorkflowError, match=f"The BPMN element {element} is not allowed"):
        workflow.start(_with_process_task_as("userTask", inner))


def test_a_timer_is_refused():
    bpmn = LINEAR.replace('<bpmn:startEvent id="start" name="Dossier transferred">',
                          '<bpmn:startEvent id="start" name="Dossier transferred"><bpmn:timerEventDefinition>'
                          '<bpmn:timeDuration>"PT1H"</bpmn:timeDuration></bpmn:timerEventDefinition>')
    with pytest.raises(WorkflowError, match="The BPMN element timerEventDefinition is not allowed"):
        workflow.start(bpmn)


def test_modeler_extension_properties_are_ignored():
    bpmn = LINEAR.replace('<bpmn:userTask id="process" name="Process the dossier">',
                          '<bpmn:userTask id="process" name="Process the dossier"><bpmn:extensionElements>'
                          '<camunda:properties xmlns:camunda="http://camunda.org/schema/1.0/bpmn">'
                          '<camunda:property name="form" value="x" /></camunda:properties></bpmn:extensionElements>')
    assert [s.task_id for s in workflow.steps_of(bpmn)] == ["assign", "process", "review", "approve"]


RETURN_CONDITION = 'decision == "return"'


@pytest.mark.parametrize("condition", ['__import__("os").system("true")', "amount > 5", 'decision == "return" or 1',
                                       "decision", 'len(decision) == 6', 'decision == "return" and open("/etc")'])
def test_a_condition_may_only_read_the_decision(condition):
    bpmn = RETURN.replace(RETURN_CONDITION, condition.replace("&", "&amp;").replace("<", "&lt;"))
    with pytest.raises(WorkflowError, match="a condition may only read the decision"):
        workflow.start(bpmn)


@pytest.mark.parametrize("condition", ["decision != 'approve'", ' decision=="return" ', "decision == 'return'"])
def test_both_forms_of_a_decision_condition_are_accepted(condition):
    bpmn = RETURN.replace(RETURN_CONDITION, condition)
    state = workflow.start(bpmn)
    for step_id in ("assign", "process"):
        state = workflow.complete_step(bpmn, state, step_id)
    state = workflow.complete_step(bpmn, state, "review", decision="return")
    assert ready_ids(bpmn, state) == ["process"]


def test_a_condition_on_a_decision_that_does_not_exist_is_refused():
    with pytest.raises(WorkflowError, match="compares the decision with 'reject'"):
        workflow.start(RETURN.replace(RETURN_CONDITION, 'decision == "reject"'))


def test_a_gateway_without_a_default_flow_is_refused():
    with pytest.raises(WorkflowError, match="The gateway exclusiveGateway “review_outcome” needs a default flow"):
        workflow.start(RETURN.replace(' default="flow_review_ok"', ""))


def test_a_user_task_outside_every_lane_is_refused():
    bpmn = LINEAR.replace("<bpmn:flowNodeRef>review</bpmn:flowNodeRef>", "")
    with pytest.raises(WorkflowError, match="The user task userTask “review” is in no lane"):
        workflow.steps_of(bpmn)


def test_a_lane_that_is_not_a_role_is_refused():
    bpmn = LINEAR.replace('name="agency_leader"', 'name="Leader"')
    with pytest.raises(WorkflowError, match="is in the lane 'Leader', which is not a role"):
        workflow.steps_of(bpmn)


def test_two_processes_are_refused():
    bpmn = LINEAR.replace("</bpmn:definitions>",
                          '<bpmn:process id="second" isExecutable="true" /></bpmn:definitions>')
    with pytest.raises(WorkflowError, match="exactly one process, not 2"):
        workflow.start(bpmn)


def test_an_entity_cannot_read_the_servers_files():
    bpmn = LINEAR.replace('<?xml version="1.0" encoding="UTF-8"?>',
                          '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY secret SYSTEM "file:///etc/passwd">]>').replace(
        'name="Review"', 'name="&secret;"')
    with pytest.raises(WorkflowError) as raised:
        workflow.steps_of(bpmn)
    assert "root:" not in str(raised.value)


def test_a_process_that_breaks_the_bpmn_schema_is_refused():
    bpmn = LINEAR.replace('<bpmn:sequenceFlow id="flow_review" sourceRef="review" targetRef="approve" />',
                          '<bpmn:sequenceFlow id="flow_review" sourceRef="review" targetRef="approve" weight="3" />')
    with pytest.raises(WorkflowError, match="The BPMN is not valid"):
        workflow.start(bpmn)


@pytest.mark.parametrize("bpmn", [None, b"<bpmn:definitions />", 42])
def test_the_bpmn_must_be_text(bpmn):
    with pytest.raises(WorkflowError, match="The BPMN must be XML text"):
        workflow.start(bpmn)


def test_processes_run_side_by_side_in_threads():
    # Web servers run several threads; the parsed specs and the schema validator are shared between them.
    from concurrent.futures import ThreadPoolExecutor

    def one_process(i: int) -> bool:
        bpmn = (RETURN if i % 2 else LINEAR) + f"<!-- {i} -->"   # a text not seen before: parsed in the thread
        state = workflow.start(bpmn)
        for step_id in ("assign", "process", "review", "approve"):
            state = workflow.complete_step(bpmn, stored(state), step_id)
        return workflow.is_finished(bpmn, state)

    with ThreadPoolExecutor(max_workers=4) as pool:
        assert all(pool.map(one_process, range(16)))
