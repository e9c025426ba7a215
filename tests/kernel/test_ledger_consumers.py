"""Ledger consumers (transactional outbox): stored per-partition offsets, at least once, idempotent, and no event
missed when writers commit out of order (PostgreSQL, concurrent writers)."""
import random
import threading

import pytest
from django.db import connection, connections, transaction

from egov.kernel import ledger
from egov.kernel.ledger_models import ConsumerOffset, Event

on_postgresql = pytest.mark.skipif(connection.vendor != "postgresql",
                                   reason="concurrent writers need PostgreSQL (SQLite has a single writer)")


class Recorder:
    """A handler that remembers what it saw. Its idempotency key is (partition, seq)."""

    def __init__(self):
        self.seen: list[tuple[str, int]] = []
        self.lock = threading.Lock()

    def __call__(self, event):
        with self.lock:
            self.seen.append((event.partition, event.seq))

    def by_partition(self):
        result = {}
        for partition, seq in self.seen:
            result.setdefault(partition, []).append(seq)
        return result


@pytest.mark.django_db
def test_consumer_reads_every_event_once_and_resumes_from_its_offset():
    for i in range(3):
        ledger.append("dossier.received", partition="H29", payload={"n": i})
    ledger.append("dossier.received", partition="G22")
    recorder = Recorder()

    assert ledger.consume("kpi", recorder, batch_size=2) == 4
    assert recorder.by_partition() == {"G22": [1], "H29": [1, 2, 3]}
    assert ledger.consume("kpi", recorder) == 0  # nothing new
    assert ConsumerOffset.objects.get(consumer="kpi", partition="H29").last_seq == 3

    ledger.append("dossier.transferred", partition="H29")
    assert ledger.consume("kpi", recorder) == 1
    assert recorder.by_partition()["H29"] == [1, 2, 3, 4]

    other = Recorder()  # another consumer has its own offsets
    assert ledger.consume("notifications", other) == 5


@pytest.mark.django_db
def test_a_failing_handler_rolls_back_its_writes_and_the_offset_then_replays():
    for i in range(4):
        ledger.append("dossier.received", partition="H29", payload={"n": i})
    calls = []

    def count_kpi(event):
        """Writes a derived fact (in another partition) in the same transaction, then fails on the third event."""
        calls.append(event.seq)
        ledger.append("kpi.counted", partition="kpi", payload={"source_seq": event.seq})
        if event.seq == 3 and len(calls) < 5:
            raise RuntimeError("handler crashed")

    with pytest.raises(RuntimeError):
        ledger.consume("kpi", count_kpi, partitions=["H29"])
    assert not Event.objects.filter(partition="kpi").exists()  # the handler's writes rolled back with the batch
    assert not ConsumerOffset.objects.filter(consumer="kpi", partition="H29", last_seq__gt=0).exists()

    assert ledger.consume("kpi", count_kpi, partitions=["H29"]) == 4  # at least once: replayed from the offset
    assert calls == [1, 2, 3, 1, 2, 3, 4]
    assert [e.payload["source_seq"] for e in Event.objects.filter(partition="kpi").order_by("seq")] == [1, 2, 3, 4]


@pytest.mark.django_db
def test_an_idempotent_handler_tolerates_replays():
    for i in range(3):
        ledger.append("dossier.received", partition="H29", payload={"n": i})
    counted: dict[tuple[str, int], int] = {}

    def count(event):
        counted[(event.partition, event.seq)] = 1  # keyed on (partition, seq): a replay changes nothing

    ledger.consume("kpi", count)
    ConsumerOffset.objects.filter(consumer="kpi").update(last_seq=1)  # as after a crash before the offset moved
    ledger.consume("kpi", count)
    assert counted == {("H29", 1): 1, ("H29", 2): 1, ("H29", 3): 1}


def close_connection_after(target):
    def run(*args):
        try:
            target(*args)
        finally:
            connections.close_all()
    return run


@on_postgresql
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_global_id_offset_skips_an_out_of_order_commit_but_partition_offsets_do_not():
    appended = threading.Event()
    release = threading.Event()
    errors = []

    @close_connection_after
    def slow_writer():
        try:
            with transaction.atomic():
                ledger.append("dossier.received", partition="X")  # takes the lower id ...
                appended.set()
                release.wait(timeout=30)                            # ... but commits last
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    writer = threading.Thread(target=slow_writer)
    writer.start()
    assert appended.wait(timeout=30)
    ledger.append("dossier.received", partition="Y")  # higher id, committed first

    # A consumer that keeps one global offset by id sees Y's event and moves past X's uncommitted lower id.
    global_seen = list(Event.objects.filter(id__gt=0).order_by("id").values_list("partition", "id"))
    global_offset = global_seen[-1][1]
    per_partition = Recorder()
    ledger.consume("outbox", per_partition)

    release.set()
    writer.join(timeout=30)
    assert not errors

    global_seen += list(Event.objects.filter(id__gt=global_offset).order_by("id").values_list("partition", "id"))
    ledger.consume("outbox", per_partition)
    assert [p for p, _ in global_seen] == ["Y"]            # the id-based reader missed X's event for ever
    assert sorted(per_partition.seen) == [("X", 1), ("Y", 1)]  # per-partition offsets missed nothing


@on_postgresql
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_committing_out_of_order_and_a_running_consumer_miss_nothing():
    partitions = ["H29", "H01", "G22"]
    writers, transactions_per_writer = 4, 25
    stop = threading.Event()
    errors = []
    recorder = Recorder()
    committed = []  # (partition, correlation) of each committed event, to compare with what the consumer saw
    committed_lock = threading.Lock()

    @close_connection_after
    def writer(number):
        rng = random.Random(number)
        try:
            for i in range(transactions_per_writer):
                wrote = []
                partition = rng.choice(partitions)
                try:
                    with transaction.atomic():
                        # One partition per transaction, as a business change appends to its agency's chain.
                        # (A transaction appending to several partitions must take them in one fixed order, or
                        # it can deadlock with another doing the reverse; PostgreSQL then aborts one of them.)
                        for _ in range(rng.randint(1, 3)):
                            event = ledger.append("dossier.step", partition=partition,
                                                  payload={"writer": number, "i": i})
                            wrote.append(event.partition)
                        # Hold the locks a little while others wait or commit elsewhere: commits interleave.
                        threading.Event().wait(rng.uniform(0, 0.004))
                        if rng.random() < 0.1:
                            raise ZeroDivisionError("rolled back on purpose")
                except ZeroDivisionError:
                    continue
                with committed_lock:
                    committed.extend(wrote)
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    @close_connection_after
    def consumer():
        try:
            while not stop.is_set():
                ledger.consume("outbox", recorder, batch_size=7)
                live = ledger.verify()  # verify on a live system: appends during the walk are no false alarm
                if not live.ok:
                    errors.append(AssertionError(live.lines()))
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    consumer_thread = threading.Thread(target=consumer)
    consumer_thread.start()
    threads = [threading.Thread(target=writer, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    stop.set()
    consumer_thread.join(timeout=120)
    assert not errors, errors
    ledger.consume("outbox", recorder)  # the final catch-up after the last commit

    seen = recorder.by_partition()
    for partition in partitions:
        expected = committed.count(partition)
        assert seen.get(partition, []) == list(range(1, expected + 1)), partition  # each once, in order, no gap
    assert sum(len(v) for v in seen.values()) == len(committed) == Event.objects.count()
    report = ledger.verify()
    assert report.ok, report.lines()
