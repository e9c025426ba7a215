"""Loaded as a pytest plugin (``-p tests.environment``) before Django reads its settings.

Each test session gets its own data directory (SQLite file, media, keys), never the developer's ./var.
"""
import os
import tempfile

os.environ.setdefault("EGOV_DATA_DIR", tempfile.mkdtemp(prefix="egov-test-"))
os.environ.setdefault("EGOV_TASKS_BACKEND", "django.tasks.backends.immediate.ImmediateBackend")
