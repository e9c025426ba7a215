"""Workflow runtime: whole processes per second (start + four step completions), in one process, no database.

What is measured: ``egov.dossiers.workflow.start`` then ``complete_step`` for assign, process, review and approve on
the linear four-step fixture (tests/dossiers/bpmn/linear.bpmn), with a JSON round trip of the state after every call
(what the dossier's JSONField does): everything a dossier's processing costs in the runtime, the BPMN already parsed
and cached. Reference: the same process run by SpiffWorkflow directly on the same parsed spec, kept in memory (no
state saved or loaded, no checks). ratio = runtime / reference: the price of keeping the state as JSON between steps.

A second row: parsing and checking a BPMN text not seen before (the cache miss a new procedure version costs once
per process), against parsing the same text with lxml alone.

Target: ≥ 100 processes/s (our own: a step is an officer's action, so this leaves the runtime far below a request's
cost). Run alone with ``uv run python bench/bench_workflow.py [--quick]``, or through bench/run.py.
"""
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINEAR = ROOT / "tests" / "dossiers" / "bpmn" / "linear.bpmn"
STEPS = ("assign", "process", "review", "approve")
TARGET = 100


def _rate(body, seconds: float) -> float:
    """Calls of ``body`` per second over about ``seconds``."""
    done, started = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds:
        body()
        done += 1
    return done / elapsed


def run(quick: bool) -> list[dict]:
    from lxml import etree
    from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
    from SpiffWorkflow.util.task import TaskState

    from egov.dossiers import workflow

    bpmn = LINEAR.read_text()
    seconds = 2.0 if quick else 8.0
    process = workflow._process(bpmn)

    def runtime():
        state = json.loads(json.dumps(workflow.start(bpmn)))
        for step in STEPS:
            state = json.loads(json.dumps(workflow.complete_step(bpmn, state, step)))
        assert workflow.is_finished(bpmn, state)

    def reference():
        instance = BpmnWorkflow(process.spec)
        instance.do_engine_steps()
        for step in STEPS:
            [task] = instance.get_tasks(state=TaskState.READY, manual=True)
            assert task.task_spec.name == step
            task.data["decision"] = "approve"
            task.run()
            instance.do_engine_steps()
        assert instance.is_completed()

    counter = iter(range(10**9))

    def parse_new_text():
        workflow._process(bpmn + f"<!-- {next(counter)} -->")   # a text not seen before: a cache miss

    def parse_reference():
        etree.fromstring(bpmn.encode())

    runtime(), reference(), parse_new_text()   # warm: imports, the schema validator
    rows = []
    value, ref = _rate(runtime, seconds), _rate(reference, seconds)
    rows.append({"name": "workflow: start + 4 steps, state as JSON", "value": round(value, 1), "unit": "processes/s",
                 "reference_name": "SpiffWorkflow in memory", "reference_value": round(ref, 1),
                 "ratio": round(value / ref, 3), "target": f"≥ {TARGET} processes/s", "ok": value >= TARGET})
    value, ref = _rate(parse_new_text, seconds / 2), _rate(parse_reference, seconds / 2)
    rows.append({"name": "workflow: parse and check a new BPMN text", "value": round(value, 1), "unit": "texts/s",
                 "reference_name": "lxml parse only", "reference_value": round(ref, 1),
                 "ratio": round(value / ref, 4), "target": "(none: once per procedure version and process)",
                 "ok": True})
    return rows


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "egov.settings")
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()
    for row in run(quick="--quick" in sys.argv):
        print(f"{row['name']}: {row['value']} {row['unit']} (reference {row['reference_name']}: "
              f"{row['reference_value']}; ratio {row['ratio']}; target {row['target']}: "
              f"{'ok' if row['ok'] else 'MISSED'})")
