"""Accounts fixtures: a small agency tree, users of every role, TOTP codes, and real server processes."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from egov.accounts.models import Role, User
from egov.registries.models import Agency
from tests.http_client import free_port

PASSWORD = "correct-horse-battery-9"


@pytest.fixture(scope="session")
def django_db_modify_db_settings():
    """Server processes started by a test must see the test database: on SQLite it has to be a file, not Django's
    default in-memory test database. (No-op once settings give SQLite a TEST NAME of their own.)"""
    from django.conf import settings

    db = settings.DATABASES["default"]
    if db["ENGINE"] == "django.db.backends.sqlite3" and not (db.get("TEST") or {}).get("NAME"):
        db.setdefault("TEST", {})["NAME"] = str(Path(os.environ["EGOV_DATA_DIR"]) / "test_egov.sqlite3")


@pytest.fixture(autouse=True)
def english(settings):
    """Assertions read the English source messages; Vietnamese (the default) is checked by the i18n tests."""
    settings.LANGUAGE_CODE = "en"
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.fixture
def agencies(db):
    """Province H29 with two departments under it, and province H41 with one."""
    h29 = Agency.objects.create(code="000.00.00.H29", name="UBND TP Hồ Chí Minh")
    justice = Agency.objects.create(code="000.00.12.H29", name="Sở Tư pháp TP HCM", parent=h29)
    building = Agency.objects.create(code="000.00.15.H29", name="Sở Xây dựng TP HCM", parent=h29)
    h41 = Agency.objects.create(code="000.00.00.H41", name="UBND tỉnh Nghệ An")
    h41_justice = Agency.objects.create(code="000.00.12.H41", name="Sở Tư pháp Nghệ An", parent=h41)
    return {"h29": h29, "justice": justice, "building": building, "h41": h41, "h41_justice": h41_justice}


@pytest.fixture
def make_user(db):
    def make(username: str, role: str = Role.CITIZEN, agency=None, password: str | None = PASSWORD, **extra) -> User:
        user = User(username=username, role=role, agency=agency, email=extra.pop("email", f"{username}@example.org"),
                    **extra)
        if password is None:  # Argon2 is slow on purpose: bulk users that never sign in skip it
            user.set_unusable_password()
        else:
            user.set_password(password)
        user.save()
        return user

    return make


def totp_code(device: TOTPDevice, steps_ahead: int = 0) -> str:
    """The code an authenticator app shows now (``steps_ahead`` 1 = the next 30-second step, which the device's
    tolerance accepts and which a just-used code's step does not block)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + steps_ahead * device.step
    return f"{totp.token():0{device.digits}d}"


@pytest.fixture
def enrolled(db):
    def enrol(user: User) -> TOTPDevice:
        return TOTPDevice.objects.create(user=user, name="phone", confirmed=True)

    return enrol


def database_url_for_servers() -> str:
    from django.db import connection

    settings_dict = connection.settings_dict
    if connection.vendor == "sqlite":
        name = settings_dict["NAME"]
        assert "memory" not in str(name), "the test database must be a file for server processes to share it"
        return f"sqlite:///{name}"
    user = settings_dict.get("USER") or ""
    password = f":{settings_dict['PASSWORD']}" if settings_dict.get("PASSWORD") else ""
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{settings_dict['NAME']}"


@pytest.fixture
def server_processes(transactional_db, tmp_path):
    """Start WSGI servers (gunicorn, as in production) on the test database; killed at teardown."""
    started: list[subprocess.Popen] = []
    logs = []

    def start(count: int = 2) -> list[str]:
        urls = []
        for index in range(count):
            port = free_port()
            env = dict(os.environ, EGOV_DATABASE_URL=database_url_for_servers(),
                       DJANGO_SETTINGS_MODULE="egov.settings", EGOV_LOG_LEVEL="WARNING")
            log = open(tmp_path / f"server-{index}.log", "wb")  # noqa: SIM115 (open while the server runs)
            logs.append(log)
            started.append(subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "egov.wsgi:application", "--bind", f"127.0.0.1:{port}",
                 "--workers", "1", "--threads", "2"],
                env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True))
            urls.append(f"http://127.0.0.1:{port}")
        for url, process in zip(urls, started[-count:], strict=True):
            wait_until_serving(url, process, tmp_path)
        return urls

    yield start
    for process in started:
        # The whole process group: gunicorn's master and its worker, which would outlive a killed master.
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    for log in logs:
        log.close()


def wait_until_serving(url: str, process: subprocess.Popen, tmp_path: Path) -> None:
    import urllib.request

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            logs = "\n".join(p.read_text(errors="replace") for p in tmp_path.glob("server-*.log"))
            raise AssertionError(f"server process exited early:\n{logs}")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"{url} did not start serving within 60 s")
