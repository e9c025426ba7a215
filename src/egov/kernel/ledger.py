"""The event ledger (sổ sự kiện): one spine for audit, outbox and KPIs.

* ``append()`` writes one event in the caller's transaction, hash-chained to its partition's previous event.
* ``checkpoint()`` signs every chain head with a key kept outside the database (``egov.kernel.signing``).
* ``verify()`` walks every chain and names the first broken link per partition.
* ``consume()`` feeds events to a consumer (outbox) with stored per-partition offsets, at least once.

Why per-partition sequences: ``seq`` is assigned while holding the partition's ChainHead row lock, and that lock is
held until the appending transaction commits. So within a partition, seq order is commit order and a reader can never
see seq n+1 without seq n. A global auto-increment id has no such property (PostgreSQL sequences are handed out
before commit), which is why consumers keep one offset per partition and never read by id.
"""
from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import hashlib
import json
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connections, models, router, transaction

from egov.kernel.ledger_models import AppendOnlyError, ChainHead, Checkpoint, ConsumerOffset, Event

__all__ = [
    "GENESIS_HASH",
    "AppendOnlyError",
    "PartitionReport",
    "PersonalDataError",
    "VerifyReport",
    "append",
    "checkpoint",
    "consume",
    "correlation",
    "current_correlation_id",
    "event_hash",
    "hash_fields",
    "verify",
]

GENESIS_HASH = "0" * 64
HASHED_FIELDS = (
    "partition", "seq", "event_type", "occurred_at", "actor_kind", "actor_id", "subject_type", "subject_id",
    "correlation_id", "payload", "prev_hash",
)
VERIFY_CHUNK = 2000


class PersonalDataError(ValueError):
    """A payload looked like it carried personal data in clear."""


# ---------------------------------------------------------------------------------------------------------------
# Correlation id: one id ties together every event caused by one request, task or command.

_correlation: contextvars.ContextVar[str | None] = contextvars.ContextVar("egov_ledger_correlation", default=None)


@contextlib.contextmanager
def correlation(correlation_id: str | uuid.UUID | None = None) -> Iterator[str]:
    """Give every event appended inside the block the same correlation id (a new uuid4 when none is given)."""
    value = str(correlation_id) if correlation_id is not None else str(uuid.uuid4())
    if not value or len(value) > 64:
        raise ValueError("a correlation id must be 1 to 64 characters")
    token = _correlation.set(value)
    try:
        yield value
    finally:
        _correlation.reset(token)


def current_correlation_id() -> str | None:
    return _correlation.get()


# ---------------------------------------------------------------------------------------------------------------
# Hashing

def format_time(moment: dt.datetime) -> str:
    """The canonical UTC text of an instant, always with microseconds: ``2026-02-13T10:30:00.000001Z``."""
    utc = moment.astimezone(dt.UTC)
    if utc.year < 1000:  # strftime writes such years unpadded; the chain's text must not change
        return utc.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    # isoformat, not strftime: the same text (a test compares them) at a fraction of the cost, on every append.
    return utc.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def parse_time(text: str) -> dt.datetime:
    return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.UTC)


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def event_hash(fields: dict) -> str:
    """sha256 (hex) of the canonical JSON of the hashed fields (``occurred_at`` as its canonical text)."""
    content = {name: fields[name] for name in HASHED_FIELDS}
    return hashlib.sha256(canonical_json(content).encode("utf-8")).hexdigest()


def hash_fields(event: Event) -> dict:
    """The hashed fields of a stored event, as ``event_hash`` expects them."""
    return {
        "partition": event.partition, "seq": event.seq, "event_type": event.event_type,
        "occurred_at": event.occurred_at_text, "actor_kind": event.actor_kind, "actor_id": event.actor_id,
        "subject_type": event.subject_type, "subject_id": event.subject_id, "correlation_id": event.correlation_id,
        "payload": event.payload, "prev_hash": event.prev_hash,
    }


# ---------------------------------------------------------------------------------------------------------------
# Payload guard: a safety net, not a substitute for thinking about what goes into a payload.

# Keys that name personal data whatever they are combined with (compared after lower-casing and dropping _ - and
# spaces, so "fullName", "full_name" and "Full-Name" are the same).
PERSONAL_KEYS = frozenset({
    "name", "fullname", "firstname", "lastname", "middlename", "givenname", "familyname", "surname",
    "idnumber", "personalid", "personalidnumber", "personalidentificationnumber", "nationalid", "citizenid",
    "cccd", "cmnd", "passport", "passportnumber", "address", "homeaddress", "permanentaddress", "residence",
    "dateofbirth", "birthdate", "birthday", "dob", "placeofbirth", "password", "passwordhash", "pin", "otp",
    "secret", "token",
})
# Words that mark personal data anywhere inside a key ("applicant_email", "contact_phone").
PERSONAL_WORDS = ("email", "phone", "mobile", "password", "passport", "birth")
EMAIL_VALUE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


_KEY_VERDICTS: dict[str, bool] = {}  # key -> names personal data; payload keys come from code, so few distinct
_KEY_VERDICTS_MAX = 4096


def _personal_key(key: str) -> bool:
    verdict = _KEY_VERDICTS.get(key)
    if verdict is None:
        folded = re.sub(r"[\s_\-]", "", key).lower()
        verdict = folded in PERSONAL_KEYS or any(word in folded for word in PERSONAL_WORDS)
        if len(_KEY_VERDICTS) < _KEY_VERDICTS_MAX:
            _KEY_VERDICTS[key] = verdict
    return verdict


def check_payload(payload: Any, path: str = "payload") -> None:
    """Raise PersonalDataError when a key (at any depth) or a string value looks like personal data."""
    if isinstance(payload, dict):
        for key, value in payload.items():
            if not isinstance(key, str):
                raise TypeError(f"{path}: keys must be strings, got {key!r}")
            if _personal_key(key):
                raise PersonalDataError(
                    f"{path}.{key}: ledger payloads must not carry personal data in clear; store a reference "
                    "(an id of the record that holds it) instead"
                )
            if not isinstance(value, (int, float, bool)) and value is not None:
                check_payload(value, f"{path}.{key}")
    elif isinstance(payload, (list, tuple)):
        for index, value in enumerate(payload):
            check_payload(value, f"{path}[{index}]")
    elif isinstance(payload, str) and "@" in payload and EMAIL_VALUE.fullmatch(payload.strip()):
        raise PersonalDataError(f"{path}: looks like an email address; ledger payloads must not carry personal data")


# ---------------------------------------------------------------------------------------------------------------
# Append

def _actor(actor: Any) -> tuple[str, int | None]:
    if actor is None:
        return "system", None
    if isinstance(actor, str):  # a named system actor, e.g. "worker" or "exchange:client-42" (never a person's name)
        if not actor or len(actor) > 64:
            raise ValueError("a named actor must be 1 to 64 characters")
        return actor, None
    if getattr(actor, "is_anonymous", False):
        return "anonymous", None
    if isinstance(actor, models.Model):
        if not isinstance(actor.pk, int):
            raise TypeError(f"actor {actor._meta.label} has a non-integer primary key {actor.pk!r}")
        return actor._meta.label_lower, actor.pk
    raise TypeError(f"actor must be a model instance, a system actor name or None, not {type(actor).__name__}")


def _subject(subject: Any) -> tuple[str, str]:
    if subject is None:
        return "", ""
    if isinstance(subject, models.Model):
        if subject.pk is None:
            raise ValueError(f"subject {subject._meta.label} is not saved yet: save it before appending its event")
        return subject._meta.label_lower, str(subject.pk)
    if isinstance(subject, tuple) and len(subject) == 2:  # ("app_label.model", id) for things without a model
        return str(subject[0]), str(subject[1])
    raise TypeError(f"subject must be a model instance or a (type, id) pair, not {type(subject).__name__}")


def _check_text(name: str, value: str, limit: int) -> None:
    if not isinstance(value, str) or not value or len(value) > limit:
        raise ValueError(f"{name} must be a non-empty string of at most {limit} characters, got {value!r}")


class _Statements:
    """The statements of an append, as SQL built once per database vendor from the models' metadata: three on
    SQLite (lock the head, insert, move the head), one on PostgreSQL (``append_one``).

    Raw SQL on purpose: the ORM's query compilation cost four times the database work per append, and the issue
    asks for 5,000 appends/s on SQLite in one process. Nothing here is cached across transactions but SQL text.
    """

    _by_vendor: ClassVar[dict[str, _Statements]] = {}

    def __init__(self, connection):
        q = connection.ops.quote_name
        head, event = q(ChainHead._meta.db_table), q(Event._meta.db_table)
        lock = " FOR UPDATE" if connection.features.has_select_for_update else ""  # SQLite: the write lock is the DB
        self.lock_head = f"SELECT {q('seq')}, {q('hash')} FROM {head} WHERE {q('partition')} = %s{lock}"
        # ON CONFLICT DO NOTHING waits for a concurrent creator of the same head and then does nothing: no
        # IntegrityError, so no savepoint is needed around it.
        self.create_head = (f"INSERT INTO {head} ({q('partition')}, {q('seq')}, {q('hash')}) VALUES (%s, 0, %s) "
                            f"ON CONFLICT DO NOTHING")
        self.move_head = f"UPDATE {head} SET {q('seq')} = %s, {q('hash')} = %s WHERE {q('partition')} = %s"
        columns = ["partition", "seq", "event_type", "occurred_at", "occurred_at_text", "actor_kind", "actor_id",
                   "subject_type", "subject_id", "correlation_id", "payload", "prev_hash", "hash"]
        values = ["%s::jsonb" if name == "payload" and connection.vendor == "postgresql" else "%s" for name in columns]
        self.returning = connection.features.can_return_columns_from_insert
        self.insert_event = (f"INSERT INTO {event} ({', '.join(q(c) for c in columns)}) VALUES ({', '.join(values)})"
                             + (f" RETURNING {q('id')}" if self.returning else ""))
        # PostgreSQL: the whole append as ONE statement (one round trip instead of three, and no BEGIN/COMMIT of its
        # own in autocommit). The head row is locked by FOR UPDATE; the time is taken after the lock
        # (clock_timestamp() in a materialised CTE over the locked row, so seq order is time order); the hash is
        # sha256 over the canonical JSON that Python prepared with the time, the previous hash and seq left out and
        # filled in by the database: exactly the text event_hash() hashes, so verify() checks it like any other.
        self.append_one = None
        if connection.vendor == "postgresql":
            utc_text = """to_char(s.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"""
            self.append_one = (
                f"WITH head AS MATERIALIZED (SELECT {q('seq')}, {q('hash')} FROM {head} WHERE {q('partition')} = %s "
                f"FOR UPDATE), "
                f"s AS MATERIALIZED (SELECT h.{q('seq')} + 1 AS seq, h.{q('hash')} AS prev, clock_timestamp() AS at "
                f"FROM head h), "
                f"t AS MATERIALIZED (SELECT s.seq, s.prev, s.at, {utc_text} AS at_text FROM s), "
                f"ins AS (INSERT INTO {event} ({', '.join(q(c) for c in columns)}) "
                f"SELECT %s, t.seq, %s, t.at, t.at_text, %s, %s, %s, %s, %s, %s::jsonb, t.prev, "
                f"encode(sha256(convert_to(%s || t.at_text || %s || t.prev || %s || t.seq::text || %s, 'UTF8')), 'hex') "
                f"FROM t RETURNING {q('id')}, {q('seq')}, {q('occurred_at')}, {q('occurred_at_text')}, "
                f"{q('prev_hash')}, {q('hash')}) "
                f"UPDATE {head} SET {q('seq')} = ins.{q('seq')}, {q('hash')} = ins.{q('hash')} FROM ins "
                f"WHERE {head}.{q('partition')} = %s "
                f"RETURNING ins.{q('id')}, ins.{q('seq')}, ins.{q('occurred_at')}, ins.{q('occurred_at_text')}, "
                f"ins.{q('prev_hash')}, ins.{q('hash')}")

    @classmethod
    def of(cls, connection) -> _Statements:
        statements = cls._by_vendor.get(connection.vendor)
        if statements is None:
            statements = cls._by_vendor[connection.vendor] = cls(connection)
        return statements


def _lock_head(cursor, sql: _Statements, partition: str) -> tuple[int, str]:
    """Lock the partition's chain head row until the end of the transaction and return (seq, hash)."""
    cursor.execute(sql.lock_head, [partition])
    row = cursor.fetchone()
    if row is None:  # first event of this partition
        cursor.execute(sql.create_head, [partition, GENESIS_HASH])
        cursor.execute(sql.lock_head, [partition])
        row = cursor.fetchone()
    return row


def append(event_type: str, *, partition: str, actor: Any = None, subject: Any = None,
           payload: dict | None = None) -> Event:
    """Append one event to ``partition``'s chain inside the caller's transaction (one is opened when none is).

    ``actor`` is a user (or a system actor name, or None for the system), ``subject`` any saved model instance,
    ``payload`` JSON-serialisable references and non-personal facts. Appends to one partition are serialised by its
    chain head's row lock, held until the caller's transaction ends; different partitions never wait for each other.
    A transaction that appends to several partitions should take them in one fixed order (e.g. sorted): two
    transactions taking the same two heads in opposite orders deadlock, and PostgreSQL aborts one of them.
    """
    _check_text("event_type", event_type, 100)
    _check_text("partition", partition, 64)
    actor_kind, actor_id = _actor(actor)
    subject_type, subject_id = _subject(subject)
    payload = {} if payload is None else payload
    if not isinstance(payload, dict):
        raise TypeError(f"payload must be a dict, not {type(payload).__name__}")
    check_payload(payload)
    # Normalise through JSON once, so what is hashed is exactly what the database gives back (tuples become lists,
    # dates and decimals become strings).
    payload_text = json.dumps(payload, cls=DjangoJSONEncoder, allow_nan=False, ensure_ascii=False)
    payload = json.loads(payload_text)
    correlation_id = _correlation.get() or str(uuid.uuid4())

    alias = router.db_for_write(Event)
    connection = connections[alias]
    sql = _Statements.of(connection)
    if sql.append_one is not None:
        return _append_one_statement(connection, alias, sql, partition=partition, event_type=event_type,
                                     actor_kind=actor_kind, actor_id=actor_id, subject_type=subject_type,
                                     subject_id=subject_id, correlation_id=correlation_id, payload=payload,
                                     payload_text=payload_text)
    # savepoint=False: a failed append must fail the caller's whole change, never leave it committed without its event.
    with transaction.atomic(using=alias, savepoint=False), connection.cursor() as cursor:
        prev_seq, prev_hash = _lock_head(cursor, sql, partition)
        occurred_at = dt.datetime.now(dt.UTC)  # taken under the lock, so time follows seq within a partition
        fields = {
            "partition": partition, "seq": prev_seq + 1, "event_type": event_type,
            "occurred_at": format_time(occurred_at), "actor_kind": actor_kind, "actor_id": actor_id,
            "subject_type": subject_type, "subject_id": subject_id, "correlation_id": correlation_id,
            "payload": payload, "prev_hash": prev_hash,
        }
        digest = event_hash(fields)
        db_time = Event._meta.get_field("occurred_at").get_db_prep_value(occurred_at, connection)
        cursor.execute(sql.insert_event, [
            partition, fields["seq"], event_type, db_time, fields["occurred_at"], actor_kind, actor_id,
            subject_type, subject_id, correlation_id, payload_text, prev_hash, digest,
        ])
        event_id = cursor.fetchone()[0] if sql.returning else cursor.lastrowid
        cursor.execute(sql.move_head, [fields["seq"], digest, partition])
    return _stored_event(alias, event_id, partition, fields["seq"], event_type, occurred_at, fields["occurred_at"],
                         actor_kind, actor_id, subject_type, subject_id, correlation_id, payload, prev_hash, digest)


def _append_one_statement(connection, alias: str, sql: _Statements, *, partition: str, event_type: str,
                          actor_kind: str, actor_id: int | None, subject_type: str, subject_id: str,
                          correlation_id: str, payload: dict, payload_text: str) -> Event:
    """PostgreSQL: one statement (see ``_Statements.append_one``). Atomic by itself, so it needs no transaction of
    its own; inside the caller's transaction, a failure aborts that transaction like any failed statement."""
    token = uuid.uuid4().hex
    at_mark, prev_mark, seq_mark = f"@at{token}@", f"@prev{token}@", f"@seq{token}@"
    text = canonical_json({
        "partition": partition, "seq": seq_mark, "event_type": event_type, "occurred_at": at_mark,
        "actor_kind": actor_kind, "actor_id": actor_id, "subject_type": subject_type, "subject_id": subject_id,
        "correlation_id": correlation_id, "payload": payload, "prev_hash": prev_mark,
    })
    # Keys are sorted: occurred_at < prev_hash < seq. seq is a number in the real text, so its quotes go too.
    before_at, rest = text.split(at_mark)
    before_prev, rest = rest.split(prev_mark)
    before_seq, after_seq = rest.split(f'"{seq_mark}"')
    params = [partition, partition, event_type, actor_kind, actor_id, subject_type, subject_id, correlation_id,
              payload_text, before_at, before_prev, before_seq, after_seq, partition]
    with connection.cursor() as cursor:
        cursor.execute(sql.append_one, params)
        row = cursor.fetchone()
        if row is None:  # first event of this partition: create its head (idempotent), then append
            cursor.execute(sql.create_head, [partition, GENESIS_HASH])
            cursor.execute(sql.append_one, params)
            row = cursor.fetchone()
    event_id, seq, occurred_at, occurred_at_text, prev_hash, digest = row
    return _stored_event(alias, event_id, partition, seq, event_type, occurred_at, occurred_at_text, actor_kind,
                         actor_id, subject_type, subject_id, correlation_id, payload, prev_hash, digest)


def _stored_event(alias: str, *values) -> Event:
    """The appended event as a stored instance. ``Model.from_db`` with every value in field order takes Django's
    positional fast path: a keyword ``Event(...)`` cost a tenth of an append (measured)."""
    return Event.from_db(alias, None, values)


# ---------------------------------------------------------------------------------------------------------------
# Checkpoints

def _checkpoint_message(partition: str, seq: int, head_hash: str, signed_at: str) -> bytes:
    return canonical_json({"partition": partition, "seq": seq, "hash": head_hash, "signed_at": signed_at}).encode()


def checkpoint() -> list[Checkpoint]:
    """Sign every chain head now (skipping heads already covered by an identical checkpoint). Returns new rows."""
    from egov.kernel import signing

    key = signing.checkpoint_key()
    created = []
    with transaction.atomic():
        for head in ChainHead.objects.order_by("partition"):
            if head.seq == 0:
                continue
            newest = Checkpoint.objects.filter(partition=head.partition).order_by("-seq", "-id").first()
            if newest is not None and newest.seq == head.seq and newest.hash == head.hash \
                    and newest.key_id == key.key_id:
                continue
            signed_at = format_time(dt.datetime.now(dt.UTC))
            signature = key.sign(_checkpoint_message(head.partition, head.seq, head.hash, signed_at))
            created.append(Checkpoint.objects.create(
                partition=head.partition, seq=head.seq, hash=head.hash, signed_at=signed_at,
                key_id=key.key_id, signature=signature,
            ))
    return created


# ---------------------------------------------------------------------------------------------------------------
# Verify

@dataclass
class PartitionReport:
    partition: str
    events_checked: int = 0
    last_seq: int = 0
    checkpoints_checked: int = 0
    broken_seq: int | None = None
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None

    def line(self) -> str:
        if self.ok:
            return (f"OK partition {self.partition}: {self.events_checked} events up to seq {self.last_seq}, "
                    f"{self.checkpoints_checked} signed checkpoints")
        return f"BROKEN partition {self.partition}: {self.problem}"


@dataclass
class VerifyReport:
    partitions: list[PartitionReport] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(p.ok for p in self.partitions)

    @property
    def broken(self) -> list[PartitionReport]:
        return [p for p in self.partitions if not p.ok]

    def lines(self) -> list[str]:
        return [p.line() for p in self.partitions]


_EVENT_COLUMNS = ("seq", "event_type", "occurred_at", "occurred_at_text", "actor_kind", "actor_id", "subject_type",
                  "subject_id", "correlation_id", "payload", "prev_hash", "hash")


def _same_millisecond(a: dt.datetime, b: dt.datetime) -> bool:
    # A JSON backup (Django's serializer) keeps only milliseconds of a DateTimeField; the hashed text keeps all.
    return abs(a - b) < dt.timedelta(milliseconds=1)


def _verify_partition(partition: str, key) -> PartitionReport:
    report = PartitionReport(partition)
    p = f"partition {partition}"

    def broken(seq: int | None, problem: str) -> PartitionReport:
        report.broken_seq, report.problem = seq, f"{p} seq {seq}: {problem}" if seq is not None else f"{p}: {problem}"
        return report

    # Checkpoints first: signatures are checked whatever the events say.
    checkpoints: dict[int, list[Checkpoint]] = {}
    newest_checkpoint = None
    for cp in Checkpoint.objects.filter(partition=partition).order_by("seq", "id"):
        report.checkpoints_checked += 1
        if key is None:
            return broken(None, f"checkpoint #{cp.id} at seq {cp.seq} cannot be checked: the checkpoint key is missing")
        if not key.verify(_checkpoint_message(cp.partition, cp.seq, cp.hash, cp.signed_at), cp.signature, cp.key_id):
            return broken(cp.seq, f"checkpoint #{cp.id} signature invalid (checkpoint forged or altered, or signed "
                                  f"with an unknown key {cp.key_id})")
        checkpoints.setdefault(cp.seq, []).append(cp)
        newest_checkpoint = cp
    last_good_checkpoint = 0
    # The head is read before the walk: events appended while verify runs (a live system) are then beyond it and
    # allowed; events at or below it committed before and must all be there. It is read again after the walk.
    head_before = ChainHead.objects.filter(partition=partition).values_list("seq", "hash").first()

    expected, prev_hash = 1, GENESIS_HASH
    rows = (Event.objects.filter(partition=partition).order_by("seq").values_list(*_EVENT_COLUMNS)
            .iterator(chunk_size=VERIFY_CHUNK))
    for (seq, event_type, occurred_at, occurred_text, actor_kind, actor_id, subject_type, subject_id,
         correlation_id, payload, stored_prev, stored_hash) in rows:
        if seq != expected:
            if seq > expected:
                after = f" after {expected - 1}" if expected > 1 else " (the first event)"
                return broken(expected, f"missing{after}, next is seq {seq} (row deleted)")
            return broken(seq, f"out of order after {expected - 1} (rows reordered)")
        fields = {
            "partition": partition, "seq": seq, "event_type": event_type, "occurred_at": occurred_text,
            "actor_kind": actor_kind, "actor_id": actor_id, "subject_type": subject_type, "subject_id": subject_id,
            "correlation_id": correlation_id, "payload": payload, "prev_hash": stored_prev,
        }
        if event_hash(fields) != stored_hash:
            moved = (Event.objects.filter(partition=partition, hash=stored_prev).exclude(seq=seq - 1)
                     .values_list("seq", flat=True).first()) if stored_prev != prev_hash else None
            if moved is not None:
                return broken(seq, f"this row was chained after seq {moved}, not seq {seq - 1} (rows reordered)")
            return broken(seq, "hash does not match its content (row edited)")
        if stored_prev != prev_hash:
            return broken(seq, f"previous-hash link does not match seq {seq - 1} (row replaced, inserted or chain "
                               "rewritten)")
        try:
            if not _same_millisecond(occurred_at, parse_time(occurred_text)):
                return broken(seq, "occurred_at differs from its hashed timestamp (row edited)")
        except (ValueError, TypeError):
            return broken(seq, "occurred_at text is not a canonical timestamp (row edited)")
        for cp in checkpoints.get(seq, ()):
            if cp.hash != stored_hash:
                since = f"after seq {last_good_checkpoint} " if last_good_checkpoint else ""
                return broken(seq, f"signed checkpoint #{cp.id} ({cp.signed_at}) holds another hash: the chain "
                                   f"was rewritten {since}up to here with recomputed hashes")
            last_good_checkpoint = seq
        if head_before is not None and seq == head_before[0] and stored_hash != head_before[1]:
            return broken(seq, "the chain head holds another hash for this event (head or row altered)")
        report.events_checked += 1
        report.last_seq = seq
        prev_hash = stored_hash
        expected = seq + 1

    last_seq = expected - 1
    if newest_checkpoint is not None and newest_checkpoint.seq > last_seq:
        return broken(None, f"newest checkpoint at seq {newest_checkpoint.seq} but chain ends at {last_seq} "
                            "(newest rows deleted)")
    if head_before is not None and head_before[0] > last_seq:
        return broken(None, f"chain head at seq {head_before[0]} but chain ends at {last_seq} (newest rows deleted)")
    head_after = ChainHead.objects.filter(partition=partition).values_list("seq", "hash").first()
    if head_after is None:
        if last_seq:
            return broken(None, f"chain ends at seq {last_seq} but has no chain head (head row deleted)")
    elif head_after[0] < last_seq:
        return broken(None, f"chain ends at seq {last_seq}, beyond its head at seq {head_after[0]} (rows added "
                            "without the ledger, or head altered)")
    elif head_after[0] == last_seq and head_after[1] != prev_hash:
        return broken(None, f"chain head hash at seq {last_seq} does not match the last event (head or row altered)")
    return report


def verify(partitions: list[str] | None = None) -> VerifyReport:
    """Walk every chain (streamed in batches) and report, per partition, the first broken link or OK."""
    from egov.kernel import signing

    if partitions is None:
        names = set(Event.objects.values_list("partition", flat=True).distinct())
        names |= set(ChainHead.objects.values_list("partition", flat=True))
        names |= set(Checkpoint.objects.values_list("partition", flat=True).distinct())
        partitions = sorted(names)
    key = signing.checkpoint_verifier() if Checkpoint.objects.exists() else None
    return VerifyReport([_verify_partition(name, key) for name in partitions])


# ---------------------------------------------------------------------------------------------------------------
# Consumers (transactional outbox)

def consume(consumer_name: str, handler: Callable[[Event], None], batch_size: int = 500,
            partitions: list[str] | None = None) -> int:
    """Feed every event not yet seen by ``consumer_name`` to ``handler``, partition by partition, in seq order.

    Each batch runs in one transaction: the handler's database writes and the advanced offset commit together, so
    a crash replays the batch (at least once). Handlers must therefore be idempotent (e.g. key their writes on
    ``event.partition, event.seq`` or ``event.id``), and must not swallow their own errors: raising rolls the batch
    back and leaves the offset where it was. Returns how many events were handled.
    """
    _check_text("consumer_name", consumer_name, 100)
    if partitions is None:
        partitions = list(ChainHead.objects.order_by("partition").values_list("partition", flat=True))
    handled = 0
    for partition in partitions:
        while True:
            with transaction.atomic():
                ConsumerOffset.objects.bulk_create([ConsumerOffset(consumer=consumer_name, partition=partition)],
                                                   ignore_conflicts=True)
                # The lock makes two workers running the same consumer take turns on a partition.
                offset = ConsumerOffset.objects.select_for_update().get(consumer=consumer_name, partition=partition)
                batch = list(Event.objects.filter(partition=partition, seq__gt=offset.last_seq)
                             .order_by("seq")[:batch_size])
                for event in batch:
                    handler(event)
                if batch:
                    ConsumerOffset.objects.filter(pk=offset.pk).update(last_seq=batch[-1].seq)
            handled += len(batch)
            if len(batch) < batch_size:
                break
    return handled
