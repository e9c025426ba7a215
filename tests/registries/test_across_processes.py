"""What must hold with several server processes (gunicorn, as in production) sharing only the database: the
verification limit per client system, and key rotation while the servers keep answering."""
import base64
import json
import threading
import time
import urllib.error
import urllib.request
from datetime import date

import pytest

from egov.exchange.services import register_client
from egov.kernel.access import SYSTEM
from egov.registries import services
from egov.registries.models import PersonalData
from tests.accounts.conftest import server_processes  # noqa: F401  (the fixture: gunicorn on the test database)

OLD = "old2026:" + base64.urlsafe_b64encode(b"O" * 32).decode()
NEW = "new2027:" + base64.urlsafe_b64encode(b"N" * 32).decode()
PEOPLE = 60


def verify(base_url: str, key: str, number: str, name: str, born: str) -> tuple[int, dict]:
    body = json.dumps({"personal_id_number": number, "full_name": name, "date_of_birth": born}).encode()
    request = urllib.request.Request(f"{base_url}/api/v1/population/verify", data=body, method="POST",
                                     headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as answer:
        return answer.code, json.loads(answer.read() or b"{}")


@pytest.fixture
def bank(transactional_db, justice_department):
    def make(limit: int) -> str:
        _client, key = register_client(caller=SYSTEM, identifier="VN:GOV:000.00.12.H29:ekyc", name="eKYC",
                                       agency=justice_department, grants={"population.verify": []},
                                       verify_limit_per_minute=limit)
        return key

    return make


def person(n: int) -> PersonalData:
    return PersonalData(personal_id_number=f"001099{n:06d}", full_name=f"Trần Văn {n}", date_of_birth=date(1999, 1, 2),
                        sex="male")


def test_the_verification_limit_holds_across_two_servers(server_processes, bank):  # noqa: F811
    services.import_persons([(person(1), {})], caller=SYSTEM)
    key = bank(limit=4)
    first, second = server_processes(2)
    if time.time() % 60 > 50:  # the six calls must fall into one minute's window
        time.sleep(61 - time.time() % 60)
    answers = [verify((first, second)[i % 2], key, "001099000001", "Trần Văn 1", "1999-01-02") for i in range(6)]
    assert [status for status, _ in answers] == [200, 200, 200, 200, 429, 429]
    assert answers[4][1]["status"] == 429 and answers[4][1]["detail"]


def test_rotation_while_two_servers_verify_loses_no_one(server_processes, bank, settings, monkeypatch):  # noqa: F811
    settings.PERSONAL_DATA_KEYS = OLD
    services.import_persons([(person(n), {}) for n in range(PEOPLE)], caller=SYSTEM)
    key = bank(limit=100_000)
    monkeypatch.setenv("EGOV_DATA_KEYS", f"{NEW},{OLD}")  # the servers start with the new key first
    servers = server_processes(2)
    settings.PERSONAL_DATA_KEYS = f"{NEW},{OLD}"
    results, stop = [], threading.Event()

    def keep_verifying(base_url: str):
        n = 0
        while not stop.is_set() or n < PEOPLE:
            results.append(verify(base_url, key, f"001099{n % PEOPLE:06d}", f"Trần Văn {n % PEOPLE}", "1999-01-02"))
            n += 1

    threads = [threading.Thread(target=keep_verifying, args=(url,)) for url in servers]
    for thread in threads:
        thread.start()
    report = services.rotate_keys(batch_size=7, pause_seconds=0.05)
    stop.set()
    for thread in threads:
        thread.join(timeout=120)
    assert report.persons == PEOPLE
    assert services.key_usage() == {"new2027": {"persons": PEOPLE, "records": 0, "messages": 0, "codes": 0,
                                                "dossiers": 0, "ratings": 0, "feedback": 0,
                                                "drafts": 0, "documents": 0}}
    assert len(results) >= 2 * PEOPLE
    assert all(status == 200 and body == {"match": True, "deceased": False} for status, body in results), \
        [r for r in results if r != (200, {"match": True, "deceased": False})][:3]
