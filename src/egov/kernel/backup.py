"""Backup and restore (sao lưu, khôi phục): a consistent, database-neutral copy of the database and the files.

The archive is a gzip-compressed tar (see docs/adr/0001-backup-format.md)::

    db/<app_label>.<model_name>.jsonl    one JSON array per row, columns in the order the manifest lists
    media/<path>                         every file under MEDIA_ROOT
    manifest.json                        format, egov version, migration state, tables, row counts, SHA-256 of members

Tables are written in foreign-key dependency order from ONE read transaction (a snapshot), so the copy is consistent
even while the platform keeps running. Values are encoded exactly (datetimes keep their microseconds: the event
ledger hashes them), and the format does not depend on the database engine, so a backup made on SQLite restores into
PostgreSQL and the other way round.

Restore verifies the whole archive before it touches anything, then replaces every table in one transaction: either
all of the backup is in the database afterwards, or none of it.
"""
from __future__ import annotations

import base64
import datetime as dt
import decimal
import gzip
import hashlib
import io
import json
import os
import shutil
import tarfile
import tempfile
import uuid
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.core.management.color import no_style
from django.db import DEFAULT_DB_ALIAS, connections, models, router, transaction
from django.db.migrations.recorder import MigrationRecorder
from django.utils.duration import duration_iso_string

FORMAT = "egov-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
BATCH = 500

# Rows that `egov migrate` itself creates: a freshly migrated database holding only these counts as empty.
CREATED_BY_MIGRATE = {"contenttypes.contenttype", "auth.permission"}


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says what is wrong and what to do."""


# ----------------------------------------------------------------------------------------------------------- tables


def backed_up_models() -> list[type[models.Model]]:
    """Every concrete, managed model stored in the default database, parents before the models that refer to them."""
    candidates = [
        model
        for model in apps.get_models(include_auto_created=True)
        if model._meta.managed
        and not model._meta.proxy
        and router.allow_migrate_model(DEFAULT_DB_ALIAS, model)
    ]
    return dependency_order(candidates)


def dependency_order(candidates: list[type[models.Model]]) -> list[type[models.Model]]:
    """Topological order over foreign keys (a model's targets first); ties and cycles broken by label, so the order
    is stable. Foreign keys are deferred during restore anyway: the order only makes loading cheaper to check."""
    by_label = {model._meta.label_lower: model for model in candidates}
    needs: dict[str, set[str]] = {}
    for label, model in by_label.items():
        targets = set()
        for f in model._meta.concrete_fields:
            if f.remote_field is not None and f.related_model is not None:
                target = f.related_model._meta.concrete_model._meta.label_lower
                if target != label and target in by_label:
                    targets.add(target)
        needs[label] = targets
    ordered: list[str] = []
    done: set[str] = set()
    while len(ordered) < len(by_label):
        ready = sorted(label for label in by_label if label not in done and needs[label] <= done)
        if not ready:  # a cycle: take the first remaining model, its constraints are deferred
            ready = [min(label for label in by_label if label not in done)]
        for label in ready:
            ordered.append(label)
            done.add(label)
    return [by_label[label] for label in ordered]


def columns(model: type[models.Model]) -> list[models.Field]:
    return list(model._meta.concrete_fields)


def member_name(model: type[models.Model]) -> str:
    return f"db/{model._meta.label_lower}.jsonl"


# ----------------------------------------------------------------------------------------------------------- values


def encode(value):
    """A Python value as read by the ORM -> a JSON value that loses nothing (``field.to_python`` reads it back)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()  # keeps microseconds and the UTC offset
    if isinstance(value, dt.timedelta):
        return duration_iso_string(value)
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, list | tuple):
        return [encode(item) for item in value]
    if isinstance(value, dict):
        return {key: encode(item) for key, item in value.items()}
    raise BackupError(f"cannot encode a value of type {type(value).__name__}")


def decode(f: models.Field, value):
    if value is None or isinstance(f, models.JSONField):
        return value  # JSON values were written as themselves
    return f.to_python(value)


def migration_state(connection) -> dict[str, list[str]]:
    """Applied migrations per app, from the database's own record (``django_migrations``)."""
    recorder = MigrationRecorder(connection)
    if not recorder.has_table():
        return {}
    state: dict[str, list[str]] = {}
    for app_label, name in recorder.applied_migrations():
        state.setdefault(app_label, []).append(name)
    return {app_label: sorted(names) for app_label, names in sorted(state.items())}


def egov_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("egov")
    except PackageNotFoundError:
        return "unknown"


# ----------------------------------------------------------------------------------------------------------- backup


class _HashingReader(io.RawIOBase):
    """Reads a file while computing its SHA-256, so that a file is read once and its checksum matches the bytes
    actually stored in the archive."""

    def __init__(self, raw):
        self.raw = raw
        self.sha256 = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        self.sha256.update(data)
        return data


@dataclass
class BackupResult:
    path: Path
    tables: int
    rows: int
    files: int
    warnings: list[str] = field(default_factory=list)


def create_backup(archive: Path, *, using: str = DEFAULT_DB_ALIAS) -> BackupResult:
    """Write the archive. It appears under its name only when complete (written beside it, then renamed)."""
    archive = Path(archive).resolve()
    if not archive.parent.is_dir():
        raise BackupError(f"the directory {archive.parent} does not exist")
    connection = connections[using]
    if connection.in_atomic_block:
        raise BackupError("a backup reads from a snapshot of its own: do not call it inside a transaction")
    checksums: dict[str, str] = {}
    tables = []
    warnings: list[str] = []
    staging = Path(tempfile.mkdtemp(prefix=".egov-backup-", dir=archive.parent))
    partial = staging / "archive.tar.gz"
    try:
        with tarfile.open(partial, "w:gz", format=tarfile.PAX_FORMAT) as tar:
            with _snapshot(connection):
                migrations = migration_state(connection)
                if not migrations:
                    raise BackupError("the database has no migrations applied: there is nothing to back up")
                existing = set(connection.introspection.table_names())
                for model in backed_up_models():
                    if model._meta.db_table not in existing:
                        raise BackupError(
                            f"the table {model._meta.db_table} of {model._meta.label} does not exist: run `egov "
                            "migrate` first (`egov check` lists what is missing)"
                        )
                for model in backed_up_models():
                    tables.append(_dump_table(tar, staging, model, using, checksums))
            files = _add_media(tar, checksums, warnings)
            manifest = {
                "format": FORMAT,
                "format_version": FORMAT_VERSION,
                "egov_version": egov_version(),
                "created_at": dt.datetime.now(dt.UTC).isoformat(),
                "database_vendor": connection.vendor,
                "migrations": migrations,
                "tables": tables,
                "media_files": files,
                "checksums": checksums,
            }
            data = json.dumps(manifest, indent=1, ensure_ascii=False).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size = len(data)
            info.mtime = int(dt.datetime.now().timestamp())
            tar.addfile(info, io.BytesIO(data))
        os.replace(partial, archive)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return BackupResult(archive, len(tables), sum(t["rows"] for t in tables), files, warnings)


class _snapshot:
    """One read transaction for the whole dump, so every table is read at the same instant.

    PostgreSQL: REPEATABLE READ, READ ONLY (a snapshot; writers go on). SQLite in WAL mode: a plain (deferred)
    BEGIN holds a read snapshot from the first SELECT and, unlike the IMMEDIATE mode egov uses for writes, takes no
    write lock, so the platform keeps accepting writes during the backup.
    """

    def __init__(self, connection):
        self.connection = connection

    def __enter__(self):
        if self.connection.vendor == "sqlite":
            self.connection.ensure_connection()
            self.connection.cursor().execute("BEGIN DEFERRED")
        else:
            self.atomic = transaction.atomic(using=self.connection.alias)
            self.atomic.__enter__()
            with self.connection.cursor() as cursor:
                if self.connection.vendor == "postgresql":
                    cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        return self

    def __exit__(self, exc_type, exc, tb):
        if self.connection.vendor == "sqlite":
            self.connection.cursor().execute("ROLLBACK")  # nothing was written
        else:
            self.atomic.__exit__(exc_type, exc, tb)
        return False


def _dump_table(tar, staging: Path, model, using: str, checksums: dict) -> dict:
    fields = columns(model)
    name = member_name(model)
    path = staging / "table.jsonl"
    digest = hashlib.sha256()
    rows = 0
    queryset = model._base_manager.using(using).order_by(model._meta.pk.attname)
    with open(path, "wb") as out:
        for row in queryset.values_list(*[f.attname for f in fields]).iterator(chunk_size=2000):
            line = json.dumps([encode(value) for value in row], ensure_ascii=False, separators=(",", ":")) + "\n"
            data = line.encode()
            digest.update(data)
            out.write(data)
            rows += 1
    tar.add(path, arcname=name)
    checksums[name] = digest.hexdigest()
    return {
        "model": model._meta.label_lower,
        "table": model._meta.db_table,
        "member": name,
        "columns": [f.column for f in fields],
        "rows": rows,
    }


def media_root() -> Path | None:
    root = getattr(settings, "MEDIA_ROOT", "")
    return Path(root) if root else None


def _add_media(tar, checksums: dict, warnings: list[str]) -> int:
    from django.core.files.storage import FileSystemStorage, default_storage

    if not isinstance(default_storage, FileSystemStorage):
        warnings.append("files are in object storage, not on local disk: back them up with the storage's own tools")
        return 0
    root = media_root()
    if root is None or not root.is_dir():
        return 0
    count = 0
    for path in sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink()):
        name = "media/" + path.relative_to(root).as_posix()
        try:
            with open(path, "rb") as handle:
                info = tar.gettarinfo(fileobj=handle, arcname=name)
                reader = _HashingReader(handle)
                tar.addfile(info, reader)
        except FileNotFoundError:  # deleted while we were copying: it is no longer part of the platform's state
            continue
        checksums[name] = reader.sha256.hexdigest()
        count += 1
    return count


# ----------------------------------------------------------------------------------------------------------- verify


class _open:
    """Stream the archive's members in order. gzip (rather than tarfile's own decompressor) checks the CRC-32 and
    length recorded at the end of the file, once the whole stream has been read: see ``drain``."""

    def __init__(self, archive: Path):
        self.gz = gzip.open(archive, "rb")  # noqa: SIM115  (closed by __exit__)
        self.tar = tarfile.open(fileobj=self.gz, mode="r|")  # noqa: SIM115

    def __enter__(self) -> tarfile.TarFile:
        return self.tar

    def __exit__(self, *exc_info):
        self.tar.close()
        self.gz.close()
        return False


def _drain(tar: tarfile.TarFile) -> None:
    """Read to the very end of the gzip stream, so that a corrupt byte anywhere fails its CRC check."""
    fileobj = tar.fileobj
    while fileobj.read(1 << 20):
        pass


def _damaged(archive: Path, exc: Exception) -> BackupError:
    text = str(exc)
    if isinstance(exc, EOFError) or "unexpected end" in text.lower():
        return BackupError(f"{archive} is damaged: the archive is truncated ({text})")
    if isinstance(exc, gzip.BadGzipFile) and "not a gzipped file" in text.lower():
        return BackupError(f"{archive} is damaged: it is not a readable .tar.gz archive ({text})")
    if isinstance(exc, (zlib.error, gzip.BadGzipFile)):
        return BackupError(f"{archive} is damaged: its compressed data is corrupt ({text})")
    return BackupError(f"{archive} is damaged: it is not a readable .tar.gz archive ({text})")


def read_manifest(archive: Path) -> dict:
    """Read the whole archive once: check that it is a complete tar.gz, that it holds a manifest this version
    understands, and that every member's SHA-256 matches the manifest. Nothing is written anywhere."""
    archive = Path(archive)
    if not archive.exists():
        raise BackupError(f"{archive} does not exist")
    if not archive.is_file():
        raise BackupError(f"{archive} is not a file")
    actual: dict[str, str] = {}
    manifest_bytes = None
    try:
        with _open(archive) as tar:
            for member in tar:
                if not member.isfile():
                    continue
                handle = tar.extractfile(member)
                if member.name == MANIFEST:
                    manifest_bytes = handle.read()
                    continue
                digest = hashlib.sha256()
                while chunk := handle.read(1 << 20):
                    digest.update(chunk)
                actual[member.name] = digest.hexdigest()
            _drain(tar)
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        raise _damaged(archive, exc) from None
    if manifest_bytes is None:
        raise BackupError(f"{archive} has no {MANIFEST}: it was not made by `egov backup` or it is incomplete")
    try:
        manifest = json.loads(manifest_bytes)
    except ValueError as exc:
        raise BackupError(f"{archive}: {MANIFEST} is not valid JSON ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{archive}: {MANIFEST} does not describe an egov backup")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise BackupError(
            f"{archive} has backup format version {manifest.get('format_version')!r}; this egov reads version "
            f"{FORMAT_VERSION}: restore it with the egov version that made it ({manifest.get('egov_version')})"
        )
    expected = manifest.get("checksums", {})
    for name, checksum in sorted(expected.items()):
        if name not in actual:
            raise BackupError(f"{archive} is damaged: the member {name} listed in the manifest is missing")
        if actual[name] != checksum:
            raise BackupError(f"{archive} is damaged: the checksum of {name} does not match the manifest")
    for name in sorted(set(actual) - set(expected)):
        raise BackupError(f"{archive} is damaged: the member {name} is not listed in the manifest")
    return manifest


def check_compatible(manifest: dict, connection) -> None:
    """The database schema must be the one the backup was made from: the same migrations applied, app by app."""
    here = migration_state(connection)
    if not here:
        raise BackupError("this database has no tables yet: run `egov migrate` first, then restore")
    there = manifest["migrations"]
    for app_label in sorted(set(here) | set(there)):
        theirs, ours = there.get(app_label, []), here.get(app_label, [])
        if theirs != ours:
            latest_theirs = theirs[-1] if theirs else "(none)"
            latest_ours = ours[-1] if ours else "(none)"
            raise BackupError(
                f"the backup was made at migration {latest_theirs} of app {app_label}; this installation is at "
                f"{latest_ours}: upgrade or downgrade egov (and run `egov migrate`) to the same migration first"
            )
    known = {model._meta.label_lower: model for model in backed_up_models()}
    for table in manifest["tables"]:
        model = known.get(table["model"])
        if model is None:
            raise BackupError(f"the backup holds table {table['model']}, which this installation does not have")
        if [f.column for f in columns(model)] != table["columns"]:
            raise BackupError(f"the columns of {table['model']} in the backup differ from this installation's")


def non_empty_tables(using: str = DEFAULT_DB_ALIAS) -> dict[str, int]:
    counts = {}
    for model in backed_up_models():
        label = model._meta.label_lower
        if label in CREATED_BY_MIGRATE:
            continue
        count = model._base_manager.using(using).count()
        if count:
            counts[label] = count
    return counts


# ----------------------------------------------------------------------------------------------------------- restore


@dataclass
class RestoreResult:
    tables: int
    rows: int
    files: int


def restore_backup(archive: Path, *, force: bool = False, using: str = DEFAULT_DB_ALIAS) -> RestoreResult:
    archive = Path(archive)
    connection = connections[using]
    manifest = read_manifest(archive)  # the whole archive is checked before anything is touched
    check_compatible(manifest, connection)
    if not force:
        existing = non_empty_tables(using)
        if existing:
            listed = ", ".join(f"{label}: {count}" for label, count in list(existing.items())[:5])
            raise BackupError(
                f"the database already holds data ({listed}{', …' if len(existing) > 5 else ''}); restoring replaces "
                "all of it: run again with --force to do so"
            )

    models_by_label = {model._meta.label_lower: model for model in backed_up_models()}
    tables = {table["member"]: table for table in manifest["tables"]}
    staged_media = _media_staging_dir()
    rows = 0
    try:
        with transaction.atomic(using=using):
            with connection.cursor() as cursor:
                if connection.vendor == "postgresql":
                    cursor.execute("SET CONSTRAINTS ALL DEFERRED")
                # Empty every table (PostgreSQL: one TRUNCATE; SQLite: DELETE). Foreign keys are deferred until
                # commit on both, so the order of deletes and inserts within the transaction does not matter.
                for sql in connection.ops.sql_flush(
                    no_style(), [model._meta.db_table for model in models_by_label.values()]
                ):
                    cursor.execute(sql)
            loaded = set()
            try:
                with _open(archive) as tar:
                    for member in tar:
                        if not member.isfile() or member.name == MANIFEST:
                            continue
                        handle = tar.extractfile(member)
                        expected = manifest["checksums"][member.name]
                        if member.name in tables:
                            table = tables[member.name]
                            rows += _load_table(connection, models_by_label[table["model"]], handle, expected,
                                                member.name)
                            loaded.add(member.name)
                        elif member.name.startswith("media/") and staged_media is not None:
                            _stage_file(staged_media, member.name, handle, expected)
            except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
                raise _damaged(archive, exc) from None
            missing = set(tables) - loaded
            if missing:
                raise BackupError(f"{archive} is damaged: {min(missing)} is missing")
            with connection.cursor() as cursor:
                for sql in connection.ops.sequence_reset_sql(no_style(), list(models_by_label.values())):
                    cursor.execute(sql)
            if connection.vendor == "sqlite":
                _check_sqlite_foreign_keys(connection)
        if staged_media is not None:
            _swap_media(staged_media)
            staged_media = None
    finally:
        if staged_media is not None:
            shutil.rmtree(staged_media, ignore_errors=True)
    from django.contrib.contenttypes.models import ContentType

    ContentType.objects.clear_cache()  # content type ids come from the backup
    return RestoreResult(len(tables), rows, manifest.get("media_files", 0))


def _load_table(connection, model, handle, expected: str, name: str) -> int:
    fields = columns(model)
    qn = connection.ops.quote_name
    sql = "INSERT INTO {} ({}) VALUES ({})".format(
        qn(model._meta.db_table), ", ".join(qn(f.column) for f in fields), ", ".join(["%s"] * len(fields))
    )
    digest = hashlib.sha256()
    batch = []
    count = 0
    with connection.cursor() as cursor:
        for line in handle:
            digest.update(line)
            values = json.loads(line)
            batch.append([_prepare(f, value, connection) for f, value in zip(fields, values, strict=True)])
            if len(batch) >= BATCH:
                cursor.executemany(sql, batch)
                count += len(batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)
            count += len(batch)
    if digest.hexdigest() != expected:  # the archive changed after it was verified
        raise BackupError(f"the checksum of {name} does not match the manifest")
    return count


def _prepare(f: models.Field, value, connection):
    if value is None and isinstance(f, models.JSONField) and not f.null:
        # A NOT NULL JSON column read as None held JSON null: write JSON null back, not SQL NULL.
        return connection.ops.adapt_json_value(None, f.encoder)
    return f.get_db_prep_save(decode(f, value), connection)


def _check_sqlite_foreign_keys(connection) -> None:
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA foreign_key_check")
        broken = cursor.fetchone()
    if broken:
        raise BackupError(f"the backup is inconsistent: a row of table {broken[0]} refers to a missing {broken[2]} row")


def _media_staging_dir() -> Path | None:
    from django.core.files.storage import FileSystemStorage, default_storage

    root = media_root()
    if root is None or not isinstance(default_storage, FileSystemStorage):
        return None
    root.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=".egov-restore-media-", dir=root.parent))


def _stage_file(staging: Path, name: str, handle, expected: str) -> None:
    relative = Path(name).relative_to("media")
    target = (staging / relative).resolve()
    if staging.resolve() not in target.parents:  # never write outside the media directory
        raise BackupError(f"the archive member {name} points outside the media directory")
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    with open(target, "wb") as out:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
            out.write(chunk)
    if digest.hexdigest() != expected:
        raise BackupError(f"the checksum of {name} does not match the manifest")


def _swap_media(staged: Path) -> None:
    """Put the restored files in place of the current ones (two renames on the same file system)."""
    root = media_root()
    old = None
    if root.exists():
        old = root.with_name(root.name + ".before-restore")
        if old.exists():
            shutil.rmtree(old)
        os.replace(root, old)
    os.replace(staged, root)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
