"""What the backup tests share: rows in several apps with a signed ledger checkpoint and one file, each test's own media
directory, and the rows of an archive table by table."""
import datetime as dt
import json
import tarfile
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from egov.kernel import ledger

MEDIA_NAME = "attachments/hồ-sơ-01.txt"
MEDIA_BYTES = "Giấy đề nghị — bản quét\n".encode() * 100


@pytest.fixture(autouse=True)
def own_media_root(settings, tmp_path):
    """Restore swaps the whole media directory: keep it away from the session's shared one."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def platform_data():
    """Rows in several apps, a timestamp with microseconds, ledger events with a signed checkpoint, one file."""
    from egov.accounts.models import User
    from egov.registries.models import Agency

    office = Agency.objects.create(code="000.00.00.G22", name="Văn phòng Chính phủ")
    ministry = Agency.objects.create(code="000.00.00.G12", name="Bộ Tài chính", parent=office)
    officer = User.objects.create_user(username="officer-backup", password="a long password 123", agency=ministry)
    User.objects.filter(pk=officer.pk).update(last_login=dt.datetime(2026, 2, 13, 10, 30, 5, 123457, tzinfo=dt.UTC))
    ledger.append("test.agency_created", partition=office.code, actor=officer, subject=ministry,
                  payload={"zeta": 1, "alpha": [1, 2, "ba"], "nested": {"b": True, "a": None}})
    ledger.append("test.agency_created", partition=office.code, actor=None, subject=office)
    ledger.append("test.platform", partition="platform", payload={"n": 3})
    ledger.checkpoint()
    default_storage.save(MEDIA_NAME, ContentFile(MEDIA_BYTES))
    return {"office": office, "ministry": ministry, "officer": officer}


def archive_rows(path: Path) -> dict[str, list]:
    rows = {}
    with tarfile.open(path, "r:gz") as tar:
        for member in tar.getmembers():
            if member.name.startswith("db/"):
                rows[member.name] = [json.loads(line) for line in tar.extractfile(member)]
    return rows
