"""A database dump, and an egov backup, contain no personal field in clear: everything personal is sealed."""
import json
import subprocess
import tarfile
from datetime import date

import pytest
from django.db import connection

from egov.accounts.services import caller_for_user
from egov.kernel.access import SYSTEM
from egov.kernel.backup import create_backup
from egov.registries import services
from egov.registries.models import PersonalData

# Values that occur nowhere else: any of them in a dump is a leak.
SECRETS = {
    "personal_id_number": "079303071829",
    "full_name": "Quách Thị Diễm Kiều",
    "date_of_birth": "2003-07-29",
    "phone": "0987651234",
    "email": "diemkieu.quach@example.vn",
    "permanent_address": "Hẻm 417 Nguyễn Thượng Hiền",
    "current_address": "Chung cư Sương Nguyệt Ánh 1805",
    "ethnicity": "Chăm",
    "birth_registration_place": "UBND phường Bến Thành ngày 30/7/2003",
}
RECORD_SECRETS = {"owner_name": "Tôn Nữ Thụy Khuê", "licence": "41Q8-070995"}


def spellings(value: str) -> list[bytes]:
    """Every way a value could be written in a dump: UTF-8, JSON escapes, UTF-16 (PostgreSQL never, SQLite maybe)."""
    return sorted({value.encode(), json.dumps(value).strip('"').encode(), value.encode("utf-16-le")}, key=len)


def assert_no_personal_data(blob: bytes, where: str):
    for name, value in [*SECRETS.items(), *RECORD_SECRETS.items()]:
        for spelled in spellings(value):
            assert spelled not in blob, f"{name} in clear in {where}"


@pytest.fixture
def stored(transactional_db, justice_department, make_user):
    person = services.register_person(PersonalData(date_of_birth=date(2003, 7, 29), sex="female", **{
        k: v for k, v in SECRETS.items() if k != "date_of_birth"}), caller=SYSTEM)
    officer = caller_for_user(make_user("can-bo"))
    services.find_person(caller=officer, purpose="Hồ sơ 000.00.12.H29-261129-0007",
                         personal_id_number=SECRETS["personal_id_number"])
    services.verify_person(caller=SYSTEM, personal_id_number=SECRETS["personal_id_number"],
                           full_name=SECRETS["full_name"], date_of_birth=date(2003, 7, 29))
    registry = services.define_registry(
        caller=SYSTEM, agency=justice_department, code="ho-kinh-doanh", version="1.0", name="Hộ kinh doanh",
        schema={"type": "object", "properties": {"owner_id": {"type": "string"}, "owner_name": {"type": "string"},
                                                 "licence": {"type": "string"}}},
        searchable_fields=["owner_id", "licence"], person_field="owner_id")
    services.create_record(registry, {"owner_id": SECRETS["personal_id_number"], **RECORD_SECRETS}, caller=SYSTEM)
    services.read_record(registry, {"licence": RECORD_SECRETS["licence"]}, caller=SYSTEM, purpose="kiểm tra")
    return person


def database_dump() -> bytes:
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        connection.close()  # checkpoint nothing by hand: read the dump through a fresh connection like an attacker
        import sqlite3

        with sqlite3.connect(settings["NAME"]) as raw:
            return "\n".join(raw.iterdump()).encode()
    env = {"PGPASSWORD": settings.get("PASSWORD") or ""}
    command = ["pg_dump", "--no-owner", "-h", settings.get("HOST") or "127.0.0.1", "-p", str(settings.get("PORT") or 5432),
               "-U", settings.get("USER") or "postgres", settings["NAME"]]
    return subprocess.run(command, capture_output=True, check=True, env=env, timeout=120).stdout


def test_the_dump_holds_the_data_only_sealed(stored):
    dump = database_dump()
    assert b"e1.demo2026." in dump  # the sealed form is there (the dump is not empty)
    assert_no_personal_data(dump, "the database dump")


def test_the_backup_archive_holds_the_data_only_sealed(stored, tmp_path):
    archive = tmp_path / "backup.tar.gz"
    create_backup(archive)
    with tarfile.open(archive) as tar:
        for member in tar.getmembers():
            if member.isfile():
                assert_no_personal_data(tar.extractfile(member).read(), f"backup member {member.name}")
