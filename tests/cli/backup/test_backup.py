"""`egov backup` / `egov restore`: an exact round trip on the running database engine (on a new machine:
test_new_machine.py), and a specific message, exit code 1 and an untouched database for every kind of
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
from tests.cli.backup.conftest import MEDIA_BYTES, MEDIA_NAME

pytestmark = pytest.mark.django_db(transaction=True)

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
