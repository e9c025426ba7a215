"""Payment fixtures: an online dossier waiting for its fees (status 6), signed callbacks, and real processes: the
platform under gunicorn, the payments worker (`egov payments work`), and the sandbox gateway and bank
(`egov sandbox-pay`)."""
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from egov.dossiers import services as dossiers
from egov.payments import rules
from tests.accounts.conftest import database_url_for_servers
from tests.dossiers.conftest import (  # noqa: F401  (fixtures re-exported for the payment tests)
    agency,
    calendar_2026,
    citizen,
    english,
    officers,
    other_citizen,
    pdf_file,
    version,
)
from tests.dossiers.conftest import signed_in as _signed_in
from tests.http_client import free_port


@pytest.fixture(scope="session")
def django_db_modify_db_settings():
    """Server processes started by a test must see the test database (a file, on SQLite)."""
    db = django_settings.DATABASES["default"]
    if db["ENGINE"] == "django.db.backends.sqlite3" and not (db.get("TEST") or {}).get("NAME"):
        db.setdefault("TEST", {})["NAME"] = str(Path(os.environ["EGOV_DATA_DIR"]) / "test_egov.sqlite3")


def dossier_waiting_for_fees(citizen, officers, version, agency):  # noqa: F811
    """An online dossier of ``citizen``, received, transferred, and asked for its fees (4 → 6)."""
    dossier = dossiers.submit_online(applicant_user=citizen, procedure_version=version, agency=agency,
                                     form_data={"purpose": "du học"}, files=[("to_khai", pdf_file())])
    dossiers.receive(dossier.pk, officer=officers["desk"])
    dossiers.transfer(dossier.pk, officer=officers["desk"])
    return dossiers.request_fees(dossier.pk, officer=officers["specialist"])


@pytest.fixture
def signed_in():
    return _signed_in


@pytest.fixture
def fees_due(citizen, officers, version, agency):  # noqa: F811
    return dossier_waiting_for_fees(citizen, officers, version, agency)


@pytest.fixture
def provider(settings, tmp_path):
    """The sandbox gateway and bank (``egov sandbox-pay``'s server, on loopback in this process): refunds and
    reconciliation go to it over HTTP; its callbacks go nowhere (the tests deliver what the platform receives)."""
    from egov.payments import sandbox

    provider, server = sandbox.serve("127.0.0.1", 0, state=str(tmp_path / "sandbox.sqlite3"),
                                     callback_url="http://127.0.0.1:9/nowhere",
                                     secrets_by_provider=django_settings.PAYMENT_SECRETS)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings.PAYMENT_GATEWAY_URL = provider.base_url
    yield provider
    provider.stop()
    server.shutdown()
    server.server_close()


def signed(provider: str, payload: dict, *, secret: str | None = None, timestamp: int | None = None) -> tuple[bytes, dict]:
    body = json.dumps(payload, separators=(",", ":")).encode()
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    key = secret if secret is not None else django_settings.PAYMENT_SECRETS[provider]
    return body, {"Content-Type": "application/json", rules.TIMESTAMP_HEADER: stamp,
                  rules.SIGNATURE_HEADER: rules.sign(key, stamp, body)}


def post(url: str, body: bytes, headers: dict) -> tuple[int, dict]:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as answer:
        return answer.code, json.loads(answer.read() or b"{}")


def wait_for(condition, timeout: float = 30, interval: float = 0.2, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def _wait_serving(url: str, process: subprocess.Popen, log: Path, path: str = "/healthz") -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"process exited early:\n{log.read_text(errors='replace')}")
        try:
            with urllib.request.urlopen(url + path, timeout=2):
                return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"{url} did not start within 60 s:\n{log.read_text(errors='replace')}")


class Processes:
    """Real processes on loopback, each in its own process group, killed at teardown."""

    def __init__(self, tmp_path: Path):
        self.tmp_path = tmp_path
        self.started: list[subprocess.Popen] = []
        self.count = 0

    def env(self, **extra) -> dict:
        return dict(os.environ, EGOV_DATABASE_URL=database_url_for_servers(), DJANGO_SETTINGS_MODULE="egov.settings",
                    EGOV_LOG_LEVEL="WARNING", **extra)

    def _start(self, argv: list[str], env: dict, name: str) -> tuple[subprocess.Popen, Path]:
        self.count += 1
        log_path = self.tmp_path / f"{name}-{self.count}.log"
        log = open(log_path, "wb")  # noqa: SIM115 (kept open while the process runs)
        process = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.started.append(process)
        return process, log_path

    def platform(self, *, port: int | None = None, **env) -> str:
        """The platform under gunicorn (the production server)."""
        port = port or free_port()
        url = f"http://127.0.0.1:{port}"
        process, log = self._start([sys.executable, "-m", "gunicorn", "egov.wsgi:application", "--bind",
                                    f"127.0.0.1:{port}", "--workers", "1", "--threads", "2"], self.env(**env), "web")
        _wait_serving(url, process, log)
        return url

    def worker(self, **env) -> subprocess.Popen:
        """`egov payments work`: the loop that applies notifications and sends refunds."""
        process, log = self._start([sys.executable, "-m", "egov.cli", "payments", "work", "--interval", "0.2"],
                                   self.env(**env), "worker")
        process.log_path = log
        return process

    def sandbox(self, callback: str, *, port: int | None = None, state: Path | None = None,
                max_backoff: float = 1.0) -> str:
        port = port or free_port()
        url = f"http://127.0.0.1:{port}"
        process, log = self._start([sys.executable, "-m", "egov.cli", "sandbox-pay", "--bind", f"127.0.0.1:{port}",
                                    "--callback", callback, "--state", str(state or self.tmp_path / "sandbox.sqlite3"),
                                    "--max-backoff", str(max_backoff)], self.env(), "sandbox")
        _wait_serving(url, process, log, path="/bank")
        return url

    def kill(self, process: subprocess.Popen) -> None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)

    def kill_all(self) -> None:
        for process in self.started:
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                process.wait(timeout=30)


@pytest.fixture
def processes(transactional_db, tmp_path):
    started = Processes(tmp_path)
    yield started
    started.kill_all()
