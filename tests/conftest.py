"""Shared test set-up. Component fixtures live in tests/<component>/conftest.py."""
import os
import tempfile

# Each test session gets its own data directory (SQLite file, media, keys), never the developer's ./var.
os.environ.setdefault("EGOV_DATA_DIR", tempfile.mkdtemp(prefix="egov-test-"))
os.environ.setdefault("EGOV_TASKS_BACKEND", "django.tasks.backends.immediate.ImmediateBackend")
