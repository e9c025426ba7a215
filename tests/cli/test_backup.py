"""`egov backup` / `egov restore`: an exact round trip on the running database engine, on a new machine (and across
engines when PostgreSQL is available), and a specific message, exit code 1 and an untouched database for every kind of
damaged archive."""
import datetime as dt
import gzip
import io
import json
import tarfile
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection

from egov.cli import main
from egov.kernel import backup, ledger
from tests.cli.conftest import postgres_url

pytestmark = pytest.mark.django_db(transaction=True)

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


def snapshot() -> dict[str, list]:
    """Every row of every backed-up table, as the ORM reads it."""
    return {
        model._meta.label_lower: list(
            model._base_manager.order_by(model._meta.pk.attname).values_list(
                *[f.attname for f in backup.columns(model)]
            )
        )
        for model in backup.backed_up_models()
    }


def archive_rows(path: Path) -> dict[str, list]:
    rows = {}
    with tarfile.open(path, "r:gz") as tar:
        for member in tar.getmembers():
            if member.name.startswith("db/"):
                rows[member.name] = [json.loads(line) for line in tar.extractfile(member)]
    return rows


def run(*argv: str) -> None:
    main(list(argv))


def restore_fails(archive: Path, capsys, *extra: str) -> str:
    """Run `egov restore` as the operator would; return its error message after checking the exit code."""
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        run("restore", str(archive), *extra)
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert err.startswith("egov restore: "), err
    assert "Traceback" not in err
    return err


# ------------------------------------------------------------------------------------------------------ round trip


def test_restore_brings_back_exactly_what_was_backed_up(platform_data, tmp_path, capsys, settings):
    from egov.registries.models import Agency

    before = snapshot()
    assert before["kernel.event"] and before["accounts.user"] and before["registries.agency"]
    archive = tmp_path / "egov.tar.gz"
    run("backup", str(archive))
    assert "Backup written to" in capsys.readouterr().out

    # Change everything after the backup: edit and add rows, tamper with an event, replace the files.
    Agency.objects.filter(pk=platform_data["office"].pk).update(name="renamed")
    Agency.objects.create(code="000.00.00.G01", name="added after the backup")
    with connection.cursor() as cursor:
        cursor.execute("UPDATE kernel_event SET event_type = 'forged' WHERE seq = 1")
    default_storage.delete(MEDIA_NAME)
    default_storage.save("later.txt", ContentFile(b"not in the backup"))
    assert not ledger.verify().ok

    message = restore_fails(archive, capsys)
    assert "already holds data" in message and "--force" in message

    run("restore", str(archive), "--force")
    assert "Restored from" in capsys.readouterr().out
    assert snapshot() == before
    report = ledger.verify()
    assert report.ok, report.lines()
    assert sum(p.events_checked for p in report.partitions) == 3
    assert sum(p.checkpoints_checked for p in report.partitions) >= 2
    media = Path(settings.MEDIA_ROOT)
    assert (media / MEDIA_NAME).read_bytes() == MEDIA_BYTES
    assert not (media / "later.txt").exists()
    # New rows continue after the restored ids (PostgreSQL sequences are reset).
    assert Agency.objects.create(code="000.00.00.G02", name="after restore").pk > max(r[0] for r in before["registries.agency"])


def test_microseconds_survive(platform_data, tmp_path):
    from egov.accounts.models import User

    archive = tmp_path / "egov.tar.gz"
    backup.create_backup(archive)
    backup.restore_backup(archive, force=True)
    assert User.objects.get(username="officer-backup").last_login == dt.datetime(
        2026, 2, 13, 10, 30, 5, 123457, tzinfo=dt.UTC
    )


def _restore_on_new_machine(archive: Path, installation, key_file: str) -> Path:
    """`egov migrate` then `egov restore` in a fresh installation; return a backup made there afterwards."""
    migrated = installation.egov("migrate")
    assert migrated.returncode == 0, migrated.stderr
    restored = installation.egov("restore", str(archive))  # a freshly migrated database counts as empty
    assert restored.returncode == 0, restored.stderr
    verified = installation.egov("audit", "verify", EGOV_LEDGER_KEY_FILE=key_file)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "OK: 2 partition(s) verified" in verified.stdout
    assert (installation.data_dir / "media" / MEDIA_NAME).read_bytes() == MEDIA_BYTES
    again = archive.with_name(f"{archive.stem}-again-{installation.data_dir.name}.tar.gz")
    made = installation.egov("backup", str(again))
    assert made.returncode == 0, made.stderr
    return again


def test_restore_on_a_new_machine(platform_data, tmp_path, new_installation, settings):
    """The backup restores into a fresh installation (another data directory, or another PostgreSQL database) and
    a backup made there holds the same rows, table by table."""
    archive = tmp_path / "egov.tar.gz"
    backup.create_backup(archive)
    key_file = str(settings.LEDGER_CHECKPOINT_KEY_FILE)  # the key travels separately from backups, on purpose
    again = _restore_on_new_machine(archive, new_installation(), key_file)
    assert archive_rows(again) == archive_rows(archive)


@pytest.mark.postgres
@pytest.mark.skipif(not postgres_url(), reason="needs PostgreSQL (EGOV_DATABASE_URL)")
def test_moves_between_postgresql_and_sqlite(platform_data, tmp_path, new_installation, settings):
    """The format is database-neutral: PostgreSQL -> SQLite -> PostgreSQL gives back the same rows."""
    archive = tmp_path / "from-postgresql.tar.gz"
    backup.create_backup(archive)
    key_file = str(settings.LEDGER_CHECKPOINT_KEY_FILE)
    from_sqlite = _restore_on_new_machine(archive, new_installation("sqlite"), key_file)
    assert json.loads(_member(from_sqlite, "manifest.json"))["database_vendor"] == "sqlite"
    back_in_postgresql = _restore_on_new_machine(from_sqlite, new_installation("postgresql"), key_file)
    assert archive_rows(from_sqlite) == archive_rows(archive)
    assert archive_rows(back_in_postgresql) == archive_rows(archive)


# ------------------------------------------------------------------------------------------------- damaged archives


def _member(path: Path, name: str) -> bytes:
    with tarfile.open(path, "r:gz") as tar:
        return tar.extractfile(name).read()


def _rewrite(source: Path, target: Path, change) -> Path:
    """Copy an archive member by member; ``change(name, data)`` returns new bytes, or None to leave the member out."""
    with tarfile.open(source, "r:gz") as old, tarfile.open(target, "w:gz") as new:
        for member in old.getmembers():
            data = change(member.name, old.extractfile(member).read())
            if data is None:
                continue
            member.size = len(data)
            new.addfile(member, io.BytesIO(data))
    return target


def _flip_in_member(name, data):
    if name == "db/registries.agency.jsonl":
        return data.replace("Bộ Tài chính".encode(), "Bộ Tài chinh".encode())
    return data


def _drop(member):
    return lambda name, data: None if name == member else data


def _edit_manifest(edit):
    def change(name, data):
        if name != "manifest.json":
            return data
        manifest = json.loads(data)
        edit(manifest)
        return json.dumps(manifest).encode()

    return change


def _future_migration(manifest):
    manifest["migrations"]["registries"].append("0099_from_the_future")


def _future_format(manifest):
    manifest["format_version"] = 99


def _damage(kind: str, good: Path, tmp_path: Path) -> Path:
    bad = tmp_path / f"{kind}.tar.gz"
    raw = good.read_bytes()
    if kind == "truncated":
        bad.write_bytes(raw[: len(raw) // 2])
    elif kind == "flipped-compressed-byte":
        data = bytearray(raw)
        data[len(data) // 2] ^= 0xFF
        bad.write_bytes(bytes(data))
    elif kind == "not-a-tar":
        bad.write_text("this is a shopping list, not a backup\n")
    elif kind == "plain-gzip":
        bad.write_bytes(gzip.compress(b"not a tar inside"))
    elif kind == "missing":
        pass
    elif kind == "flipped-byte-in-member":
        _rewrite(good, bad, _flip_in_member)
    elif kind == "missing-manifest":
        _rewrite(good, bad, _drop("manifest.json"))
    elif kind == "missing-member":
        _rewrite(good, bad, _drop("db/registries.agency.jsonl"))
    elif kind == "missing-media-file":
        _rewrite(good, bad, _drop(f"media/{MEDIA_NAME}"))
    elif kind == "future-migration":
        _rewrite(good, bad, _edit_manifest(_future_migration))
    elif kind == "future-format":
        _rewrite(good, bad, _edit_manifest(_future_format))
    return bad


DAMAGES = {
    "truncated": "is damaged: the archive is truncated",
    "flipped-compressed-byte": "is damaged",
    "not-a-tar": "is damaged: it is not a readable .tar.gz archive",
    "plain-gzip": "is damaged: it is not a readable .tar.gz archive",
    "missing": "does not exist",
    "flipped-byte-in-member": "is damaged: the checksum of db/registries.agency.jsonl does not match the manifest",
    "missing-manifest": "has no manifest.json",
    "missing-member": "is damaged: the member db/registries.agency.jsonl listed in the manifest is missing",
    "missing-media-file": f"is damaged: the member media/{MEDIA_NAME} listed in the manifest is missing",
    "future-migration": "the backup was made at migration 0099_from_the_future of app registries; this installation "
                        "is at 0",
    "future-format": "has backup format version 99",
}


@pytest.mark.parametrize("kind", sorted(DAMAGES))
def test_a_damaged_archive_is_refused_and_nothing_changes(kind, platform_data, tmp_path, capsys):
    good = tmp_path / "good.tar.gz"
    backup.create_backup(good)
    from egov.registries.models import Agency

    Agency.objects.create(code="000.00.00.G03", name="made after the backup")
    before = snapshot()
    media_before = sorted(p.name for p in Path(default_storage.location).rglob("*"))
    bad = _damage(kind, good, tmp_path)
    message = restore_fails(bad, capsys, "--force")
    assert DAMAGES[kind] in message
    assert snapshot() == before
    assert sorted(p.name for p in Path(default_storage.location).rglob("*")) == media_before


def test_backup_into_a_missing_directory_names_it(tmp_path, capsys):
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        run("backup", str(tmp_path / "no" / "such" / "dir" / "x.tar.gz"))
    assert exit_info.value.code == 1
    assert "egov backup: the directory" in capsys.readouterr().err


def test_restore_into_an_unmigrated_database_says_migrate_first(platform_data, tmp_path, new_installation):
    archive = tmp_path / "egov.tar.gz"
    backup.create_backup(archive)
    result = new_installation().egov("restore", str(archive))
    assert result.returncode == 1
    assert "run `egov migrate` first" in result.stderr
    assert "Traceback" not in result.stderr
