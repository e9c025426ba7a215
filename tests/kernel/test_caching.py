"""Values kept a short while in the cache: computed once within the time, every time when the time is 0, and a
``None`` (nothing found) never kept."""
from egov.kernel.caching import kept


def counter(value):
    calls = []

    def compute():
        calls.append(1)
        return value

    return calls, compute


def test_a_value_is_computed_once_while_it_is_kept():
    calls, compute = counter({"figures": 1})
    assert kept("test.kept", 60, compute) == {"figures": 1}
    assert kept("test.kept", 60, compute) == {"figures": 1}
    assert len(calls) == 1


def test_with_no_time_it_is_computed_every_time():
    calls, compute = counter(7)
    kept("test.not-kept", 0, compute)
    kept("test.not-kept", 0, compute)
    assert len(calls) == 2


def test_nothing_found_is_not_kept():
    calls, compute = counter(None)
    assert kept("test.none", 60, compute) is None
    assert kept("test.none", 60, compute) is None
    assert len(calls) == 2
