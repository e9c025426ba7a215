"""Pure rules: who may act for which agency; throttling arithmetic."""
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from egov.accounts import rules
from egov.accounts.models import Role
from egov.accounts.rules import Action, can_act_for_agency

codes = st.sampled_from(["000.00.00.H29", "000.00.12.H29", "000.00.15.H29", "000.00.00.H41", "000.00.12.H41"])
roles = st.sampled_from(list(Role))
OFFICERS_BUT_PLATFORM = [r for r in rules.OFFICER_ROLES if r != Role.PLATFORM_ADMIN]


def test_officer_acts_for_own_agency():
    assert can_act_for_agency(Role.DESK_OFFICER, "000.00.12.H29", "000.00.12.H29")


def test_officer_refused_for_other_agency_with_reason():
    verdict = can_act_for_agency(Role.SPECIALIST, "000.00.12.H29", "000.00.15.H29")
    assert not verdict and "own agency" in str(verdict.reason)


def test_officer_of_parent_does_not_act_for_child():
    assert not can_act_for_agency(Role.AGENCY_LEADER, "000.00.00.H29", "000.00.12.H29",
                                  target_ancestor_codes=("000.00.00.H29",))


def test_citizen_and_business_never_act_for_an_agency():
    for role in (Role.CITIZEN, Role.BUSINESS_REPRESENTATIVE):
        verdict = can_act_for_agency(role, "000.00.12.H29", "000.00.12.H29")
        assert not verdict and "officers" in str(verdict.reason)


def test_officer_without_agency_is_refused():
    assert not can_act_for_agency(Role.DESK_OFFICER, None, "000.00.12.H29")


def test_agency_admin_manages_own_and_child_agencies_only():
    manage = Action.MANAGE_OFFICERS
    assert can_act_for_agency(Role.AGENCY_ADMIN, "000.00.12.H29", "000.00.12.H29", action=manage)
    assert can_act_for_agency(Role.AGENCY_ADMIN, "000.00.00.H29", "000.00.12.H29",
                              target_ancestor_codes=("000.00.00.H29",), action=manage)
    # Never upwards, never sideways.
    assert not can_act_for_agency(Role.AGENCY_ADMIN, "000.00.12.H29", "000.00.00.H29", action=manage)
    assert not can_act_for_agency(Role.AGENCY_ADMIN, "000.00.12.H29", "000.00.15.H29",
                                  target_ancestor_codes=("000.00.00.H29",), action=manage)


def test_only_agency_admins_manage_officers():
    for role in (Role.DESK_OFFICER, Role.SPECIALIST, Role.HEAD_OF_UNIT, Role.AGENCY_LEADER):
        verdict = can_act_for_agency(role, "000.00.12.H29", "000.00.12.H29", action=Action.MANAGE_OFFICERS)
        assert not verdict and "administrator" in str(verdict.reason)


@given(user_agency=codes, target=codes, action=st.sampled_from(list(Action)))
def test_platform_admin_may_do_anything_anywhere(user_agency, target, action):
    assert can_act_for_agency(Role.PLATFORM_ADMIN, user_agency, target, action=action)


@given(role=roles, user_agency=st.one_of(st.none(), codes), target=codes, action=st.sampled_from(list(Action)),
       ancestors=st.lists(codes, max_size=3).map(tuple))
def test_no_grant_outside_the_rules(role, user_agency, target, action, ancestors):
    """Every grant is explained by one of the rules; every refusal carries a reason."""
    verdict = can_act_for_agency(role, user_agency, target, target_ancestor_codes=ancestors, action=action)
    if verdict:
        assert (role == Role.PLATFORM_ADMIN
                or (role in OFFICERS_BUT_PLATFORM and action == Action.ACT and user_agency == target)
                or (role == Role.AGENCY_ADMIN and action == Action.MANAGE_OFFICERS
                    and (user_agency == target or user_agency in ancestors)))
    else:
        assert str(verdict.reason)


@given(role=roles, staff=st.booleans(), superuser=st.booleans())
def test_second_factor_for_officers_and_staff_only(role, staff, superuser):
    needed = rules.requires_second_factor(role, is_staff=staff, is_superuser=superuser)
    assert needed == (role not in (Role.CITIZEN, Role.BUSINESS_REPRESENTATIVE) or staff or superuser)


def test_usernames_normalise_case_width_and_spaces():
    assert rules.normalise_username("  Demo.Desk ") == rules.normalise_username("demo.desk")
    assert rules.normalise_username("ＡＢＣ") == "abc"  # full-width letters


NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
WINDOW = timedelta(minutes=15)


def test_throttle_starts_at_the_limit_and_ends_when_the_oldest_counted_failure_ages_out():
    failures = [NOW - timedelta(minutes=m) for m in (10, 8, 6, 4)]
    assert rules.throttle_retry_at(failures, limit=5, window=WINDOW, now=NOW) is None
    failures.append(NOW - timedelta(minutes=1))
    assert rules.throttle_retry_at(failures, limit=5, window=WINDOW, now=NOW) == NOW + timedelta(minutes=5)


def test_failures_outside_the_window_do_not_count():
    failures = [NOW - timedelta(minutes=20)] * 10 + [NOW - timedelta(minutes=1)]
    assert rules.throttle_retry_at(failures, limit=5, window=WINDOW, now=NOW) is None


@given(offsets=st.lists(st.integers(min_value=0, max_value=3000), max_size=30), limit=st.integers(1, 10))
def test_retry_time_is_in_the_future_and_frees_a_slot(offsets, limit):
    failures = [NOW - timedelta(seconds=s) for s in offsets]
    retry = rules.throttle_retry_at(failures, limit=limit, window=WINDOW, now=NOW)
    if retry is None:
        assert sum(1 for t in failures if NOW - t < WINDOW) < limit
    else:
        assert retry > NOW
        assert rules.throttle_retry_at(failures, limit=limit, window=WINDOW, now=retry) is None
