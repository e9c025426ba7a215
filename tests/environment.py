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
