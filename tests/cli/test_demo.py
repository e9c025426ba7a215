"""`egov demo` as a new user meets it: one command sets up an empty installation, prints the demo accounts and serves
the Vietnamese home page; the printed officer signs in with password and TOTP over real HTTP."""
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from tests.cli.conftest import ROOT, egov
from tests.http_client import Browser, free_port


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """One `egov demo` for the module: its first run (migrate, seed, start five processes) is the slow part, and the
    tests only read from it."""
    tmp_path = tmp_path_factory.mktemp("demo")
    port = free_port()
    environment = {k: v for k, v in os.environ.items()
                   if k not in {"DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE", "EGOV_DATABASE_URL",
                                "EGOV_TASKS_BACKEND"}}
    environment.update(EGOV_DATA_DIR=str(tmp_path / "var"), PYTHONPATH=str(ROOT),
                       EGOV_PAYMENT_GATEWAY_URL=f"http://127.0.0.1:{free_port()}",
                       EGOV_EID_ISSUER=f"http://127.0.0.1:{free_port()}")
    log = (tmp_path / "demo.log").open("w+")
    process = subprocess.Popen([sys.executable, "-m", "egov.cli", "demo", "--bind", f"127.0.0.1:{port}"],
                               cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT,
                               start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(base + "/healthz", timeout=2)
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    pytest.fail("egov demo did not start:\n" + log.read()[-3000:])
                time.sleep(0.5)
        log.seek(0)
        yield base, log.read(), environment
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
        log.close()


def test_demo_serves_the_vietnamese_home_page_and_the_printed_officer_signs_in_with_totp(demo):
    base, printed, environment = demo
    home = Browser(base).get("/")
    assert '<html lang="vi"' in home

    officer = re.search(r"^(demo\.desk)\s+password (\S+)", printed, re.MULTILINE)
    assert officer, "egov demo printed no desk officer:\n" + printed
    username, password = officer.groups()
    assert re.search(r"TOTP secret [A-Z2-7]{32}", printed)
    assert "Demo single sign-on client VN:GOV:000.00.12.H29:sso-demo: client id egov-demo-agency-portal" in printed

    browser = Browser(base)
    status, location = browser.post_form("/accounts/login/", {"username": username, "password": password})
    assert status == 302 and "/accounts/login/totp/" in location

    code = egov("demo-totp", username, env={"EGOV_DATA_DIR": environment["EGOV_DATA_DIR"], "EGOV_DATABASE_URL": None})
    assert code.returncode == 0, code.stderr
    status, location = browser.post_form("/accounts/login/totp/", {"code": code.stdout.strip().splitlines()[-1]})
    assert status == 302, location

    signed_in_home = browser.get("/")
    assert "Đăng xuất" in signed_in_home  # "Sign out": the officer is signed in, second factor passed


def test_a_mistyped_address_in_the_demo_gets_the_platforms_own_page_not_the_debug_page(demo):
    base, _printed, _environment = demo
    with pytest.raises(urllib.error.HTTPError) as answer:
        urllib.request.urlopen(base + "/thu-tuc-khong-co/", timeout=10)
    assert answer.value.code == 404
    page = answer.value.read().decode()
    assert "Không tìm thấy trang" in page and '<html lang="vi"' in page
    assert "Traceback" not in page and "DEBUG = True" not in page and "URLconf" not in page


def test_demo_starts_the_processes_that_run_next_to_the_web_servers(demo):
    """One command, every journey: applicants are notified, payments are applied, the sandbox gateway and the fake
    eID answer on their loopback ports."""
    base, printed, environment = demo
    for label in ("egov notify", "egov payments work", "egov sandbox-pay", "egov fake-eid"):
        assert f"({label})" in printed, printed
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(environment["EGOV_PAYMENT_GATEWAY_URL"] + "/bank", timeout=2) as answer:
                assert answer.status == 200
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
