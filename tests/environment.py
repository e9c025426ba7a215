"""Loaded as a pytest plugin (``-p tests.environment``) before Django reads its settings.

Each test session gets its own data directory (SQLite file, media, keys), never the developer's ./var; under
pytest-xdist (``-n``) each worker its own directory inside it, since the workers inherit the controller's
environment and must not share key files or media.
"""
import os
import tempfile

os.environ.setdefault("EGOV_DATA_DIR", tempfile.mkdtemp(prefix="egov-test-"))
if os.environ.get("PYTEST_XDIST_WORKER"):
    worker_dir = os.path.join(os.environ["EGOV_DATA_DIR"], os.environ["PYTEST_XDIST_WORKER"])
    os.makedirs(worker_dir, exist_ok=True)
    os.environ["EGOV_DATA_DIR"] = worker_dir
os.environ.setdefault("EGOV_TASKS_BACKEND", "django.tasks.backends.immediate.ImmediateBackend")


def pytest_sessionfinish(session, exitstatus):
    """The pytest-xdist controller: the browser journeys ran in several workers, each wrote the routes it visited
    (tests/e2e/conftest.py); every routed page must have been visited by one of them (tests/e2e/
    test_zz_route_coverage.py says why and lists the exceptions)."""
    from pathlib import Path

    if os.environ.get("PYTEST_XDIST_WORKER") or not getattr(session.config.option, "numprocesses", None):
        return
    files = sorted(Path(os.environ["EGOV_DATA_DIR"]).glob("visited-routes-gw*.txt"))
    if not files:
        return  # the journeys did not all run (a part of the suite, or no Chromium)
    visited = set()
    for file in files:
        visited.update(line for line in file.read_text().splitlines() if line)
        file.unlink()
    from tests.e2e.test_zz_route_coverage import UNVISITED_MESSAGE, unvisited

    missing = unvisited(visited)
    if missing:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line("\nroute coverage: " + UNVISITED_MESSAGE + "\n  ".join(missing), red=True)
        session.exitstatus = 1
