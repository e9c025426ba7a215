"""Loaded as a pytest plugin (``-p tests.environment``) before Django reads its settings.

Each test session gets its own data directory (SQLite file, media, keys), never the developer's ./var; under
pytest-xdist (``-n``) each worker its own directory inside it, since the workers inherit the controller's
environment and must not share key files or media.
"""
import logging
import os
import tempfile

os.environ.setdefault("EGOV_DATA_DIR", tempfile.mkdtemp(prefix="egov-test-"))
if os.environ.get("PYTEST_XDIST_WORKER"):
    worker_dir = os.path.join(os.environ["EGOV_DATA_DIR"], os.environ["PYTEST_XDIST_WORKER"])
    os.makedirs(worker_dir, exist_ok=True)
    os.environ["EGOV_DATA_DIR"] = worker_dir
os.environ.setdefault("EGOV_TASKS_BACKEND", "django.tasks.backends.immediate.ImmediateBackend")
# aiosmtpd (the tests' SMTP server) logs every connection at INFO from its own thread, sometimes after pytest has
# closed the stream it captured: "--- Logging error ---" tracebacks in the output, nothing wrong.
logging.getLogger("mail.log").setLevel(logging.WARNING)


def pytest_xdist_auto_num_workers(config):
    """``-n auto``: two workers per CPU (at least 4, at most 16; ``EGOV_TEST_WORKERS`` overrides). Half of the suite's
    time is spent waiting, not computing: servers, browsers and CLI processes starting, PostgreSQL committing. On the
    2-core CI machine, 4 workers ran the PostgreSQL suite in 10 min 15 s where 2 took 15 min 15 s."""
    if os.environ.get("EGOV_TEST_WORKERS"):
        return int(os.environ["EGOV_TEST_WORKERS"])
    return max(4, min(16, 2 * (os.cpu_count() or 1)))


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
