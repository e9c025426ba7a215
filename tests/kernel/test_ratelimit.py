"""Rate limits in the shared store: fixed windows counted in the database, so every process sees one count."""
import pytest

from egov.kernel import ratelimit
from egov.kernel.models import RateCounter


@pytest.mark.django_db
def test_hits_up_to_the_limit_pass_and_the_next_is_refused_until_the_window_ends():
    # The minute's window runs from 1,000,020 (a multiple of 60) to 1,000,080; the hits come 20 s into it.
    decisions = [ratelimit.hit("verify:client:1", limit=3, window_seconds=60, now=1_000_040.0) for _ in range(4)]
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert decisions[-1].retry_after == 40
    assert ratelimit.hit("verify:client:1", limit=3, window_seconds=60, now=1_000_080.0).allowed


@pytest.mark.django_db
def test_keys_are_counted_apart():
    for _ in range(3):
        ratelimit.hit("verify:client:1", limit=3, window_seconds=60, now=60.0)
    assert ratelimit.hit("verify:client:2", limit=3, window_seconds=60, now=60.0).allowed
    assert not ratelimit.hit("verify:client:1", limit=3, window_seconds=60, now=60.0).allowed


@pytest.mark.django_db
def test_a_new_window_prunes_the_keys_old_windows():
    ratelimit.hit("k", limit=1, window_seconds=60, now=0.0)
    ratelimit.hit("k", limit=1, window_seconds=60, now=600.0)
    assert list(RateCounter.objects.values_list("window_start", flat=True)) == [600]


@pytest.mark.django_db(transaction=True)
def test_the_count_lives_in_the_database_where_another_connection_sees_it():
    from django.db import connections

    for _ in range(2):
        ratelimit.hit("shared", limit=5, window_seconds=60, now=120.0)
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute(f"SELECT hits FROM {RateCounter._meta.db_table} WHERE {other.ops.quote_name('key')} = %s",
                           ["shared"])
            assert cursor.fetchone()[0] == 2
    finally:
        other.close()


@pytest.mark.parametrize(("key", "window"), [("", 60), ("x" * 101, 60), ("k", 0)])
def test_nonsense_arguments_are_refused(key, window):
    with pytest.raises(ValueError):
        ratelimit.hit(key, limit=1, window_seconds=window)
