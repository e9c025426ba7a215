"""Fixtures for the CLI tests: run ``egov`` as an operator would (a separate process with its own environment), and
give such a process a fresh database of its own (a new data directory on SQLite, a new database on PostgreSQL)."""
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def egov(*args: str, env: dict | None = None, settings_module: str | None = None) -> subprocess.CompletedProcess:
    """Run ``egov ARGS…`` in a new process. ``env`` replaces the given variables (None removes one)."""
    environment = dict(os.environ)
    environment.pop("DJANGO_SETTINGS_MODULE", None)
    environment.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set by the browser tests for their own process only
    environment["PYTHONPATH"] = str(ROOT)
    if settings_module:
        environment["DJANGO_SETTINGS_MODULE"] = settings_module
    for name, value in (env or {}).items():
        if value is None:
            environment.pop(name, None)
        else:
            environment[name] = value
    return subprocess.run([sys.executable, "-m", "egov.cli", *args], cwd=ROOT, env=environment, check=False,
                          capture_output=True, text=True, timeout=600)


def postgres_url() -> str | None:
    url = os.environ.get("EGOV_DATABASE_URL", "")
    return url if url.startswith(("postgres://", "postgresql://")) else None


class FreshInstallation:
    """Environment variables for an egov installation on an empty database ("a new machine")."""

    def __init__(self, tmp: Path, engine: str):
        self.data_dir = tmp / f"egov-{uuid.uuid4().hex[:8]}"
        self.env = {"EGOV_DATA_DIR": str(self.data_dir), "EGOV_DATABASE_URL": None, "EGOV_MEDIA_ROOT": None}
        self.database = None
        if engine == "postgresql":
            import dj_database_url
            import psycopg

            url = postgres_url()
            parsed = dj_database_url.parse(url)
            self.database = f"{parsed['NAME']}_cli_{uuid.uuid4().hex[:8]}"
            self._admin = {"host": parsed["HOST"], "port": parsed["PORT"] or 5432, "user": parsed["USER"],
                           "password": parsed["PASSWORD"] or None, "dbname": "postgres", "autocommit": True}
            with psycopg.connect(**self._admin) as admin:
                admin.execute(f'CREATE DATABASE "{self.database}"')
            self.env["EGOV_DATABASE_URL"] = url.rsplit("/", 1)[0] + "/" + self.database

    def egov(self, *args: str, **extra_env) -> subprocess.CompletedProcess:
        return egov(*args, env={**self.env, **extra_env})

    def drop(self) -> None:
        if self.database:
            import psycopg

            with psycopg.connect(**self._admin) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')


@pytest.fixture
def new_installation(tmp_path):
    """A fresh installation on the same database engine as the test run."""
    made = []

    def make(engine: str | None = None) -> FreshInstallation:
        installation = FreshInstallation(tmp_path, engine or ("postgresql" if postgres_url() else "sqlite"))
        made.append(installation)
        return installation

    yield make
    for installation in made:
        installation.drop()


_RSA_PEM: list[str] = []


def rsa_pem() -> str:
    """An RSA key of the production kind (EGOV_OIDC_RSA_KEY), made once per test session."""
    if not _RSA_PEM:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        _RSA_PEM.append(rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode())
    return _RSA_PEM[0]
