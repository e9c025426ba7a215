"""`egov backup` restored on a new machine: a fresh installation (another data directory, or another PostgreSQL
database), and across engines when PostgreSQL is available. Kept apart from test_backup.py: each restore migrates a
new database in a new process, the slowest tests of the suite, and a file of their own runs beside the others."""
import json
import tarfile
from pathlib import Path

import pytest

from egov.kernel import backup
from tests.cli.backup.conftest import MEDIA_BYTES, MEDIA_NAME, archive_rows
from tests.cli.conftest import postgres_url

pytestmark = pytest.mark.django_db(transaction=True)


def _manifest(path: Path) -> bytes:
    with tarfile.open(path, "r:gz") as tar:
        return tar.extractfile("manifest.json").read()


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
    assert json.loads(_manifest(from_sqlite))["database_vendor"] == "sqlite"
    back_in_postgresql = _restore_on_new_machine(from_sqlite, new_installation("postgresql"), key_file)
    assert archive_rows(from_sqlite) == archive_rows(archive)
    assert archive_rows(back_in_postgresql) == archive_rows(archive)
