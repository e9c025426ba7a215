"""Officers act only within their agency: the guard and the officer list page, grants AND denials, over HTTP."""
import pytest
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY

from egov.accounts import services
from egov.accounts.models import Role
from egov.accounts.rules import Action
from tests.accounts.conftest import PASSWORD


def officers_url(agency) -> str:
    return reverse("accounts:agency_officers", args=[agency.code])


def sign_in_verified(client, user, enrolled):
    """Password and TOTP done, as after the real two steps (tested in test_totp)."""
    device = enrolled(user)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()


def test_require_same_agency_grants_own_agency(agencies, make_user):
    officer = make_user("desk", Role.DESK_OFFICER, agencies["justice"])
    services.require_same_agency(officer, agencies["justice"])


def test_require_same_agency_denies_other_agency_with_reason(agencies, make_user):
    officer = make_user("desk", Role.DESK_OFFICER, agencies["justice"])
    with pytest.raises(services.AgencyPermissionDenied) as refused:
        services.require_same_agency(officer, agencies["building"])
    assert "own agency" in str(refused.value.reason)


def test_require_same_agency_denies_citizen_and_disabled_officer(agencies, make_user):
    with pytest.raises(services.AgencyPermissionDenied):
        services.require_same_agency(make_user("citizen"), agencies["justice"])
    disabled = make_user("gone", Role.SPECIALIST, agencies["justice"], is_active=False)
    with pytest.raises(services.AgencyPermissionDenied):
        services.require_same_agency(disabled, agencies["justice"])


def test_province_admin_manages_department_officers_but_not_the_reverse(agencies, make_user):
    province_admin = make_user("padmin", Role.AGENCY_ADMIN, agencies["h29"])
    department_admin = make_user("dadmin", Role.AGENCY_ADMIN, agencies["justice"])
    services.require_same_agency(province_admin, agencies["justice"], action=Action.MANAGE_OFFICERS)
    with pytest.raises(services.AgencyPermissionDenied):
        services.require_same_agency(department_admin, agencies["h29"], action=Action.MANAGE_OFFICERS)
    with pytest.raises(services.AgencyPermissionDenied):
        services.require_same_agency(province_admin, agencies["h41_justice"], action=Action.MANAGE_OFFICERS)


def test_officer_list_redirects_anonymous_to_sign_in(client, agencies):
    response = client.get(officers_url(agencies["justice"]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login") + "?next=")


def test_officer_list_refuses_citizen(client, agencies, make_user):
    client.force_login(make_user("citizen"))
    response = client.get(officers_url(agencies["justice"]))
    assert response.status_code == 403
    assert "officers only" in response.content.decode() or response.context["reason"]


def test_officer_list_refuses_admin_of_another_agency(client, agencies, make_user, enrolled):
    sign_in_verified(client, make_user("other", Role.AGENCY_ADMIN, agencies["building"]), enrolled)
    response = client.get(officers_url(agencies["justice"]))
    assert response.status_code == 403
    assert str(response.context["reason"]).startswith("You can manage officers only")


def test_officer_list_refuses_non_admin_officer_of_the_same_agency(client, agencies, make_user, enrolled):
    sign_in_verified(client, make_user("leader", Role.AGENCY_LEADER, agencies["justice"]), enrolled)
    assert client.get(officers_url(agencies["justice"])).status_code == 403


def test_officer_list_sends_unverified_admin_to_the_totp_step(client, agencies, make_user, enrolled):
    admin = make_user("admin", Role.AGENCY_ADMIN, agencies["justice"])
    enrolled(admin)
    client.force_login(admin)  # password only
    response = client.get(officers_url(agencies["justice"]))
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:totp"))


def test_officer_list_for_own_agency_admin(client, agencies, make_user, enrolled):
    admin = make_user("admin", Role.AGENCY_ADMIN, agencies["justice"])
    make_user("desk", Role.DESK_OFFICER, agencies["justice"])
    make_user("elsewhere", Role.DESK_OFFICER, agencies["building"])
    make_user("citizen")
    sign_in_verified(client, admin, enrolled)
    response = client.get(officers_url(agencies["justice"]))
    assert response.status_code == 200
    assert [u.username for u in response.context["officers"]] == ["admin", "desk"]


def test_officer_list_for_platform_admin(client, agencies, make_user, enrolled):
    make_user("desk", Role.DESK_OFFICER, agencies["h41_justice"])
    sign_in_verified(client, make_user("root", Role.PLATFORM_ADMIN, None), enrolled)
    response = client.get(officers_url(agencies["h41_justice"]))
    assert response.status_code == 200
    assert [u.username for u in response.context["officers"]] == ["desk"]


def test_officer_list_pages_by_key(client, agencies, make_user, enrolled):
    from egov.accounts import queries

    admin = make_user("admin", Role.AGENCY_ADMIN, agencies["justice"])
    for n in range(queries.OFFICERS_PAGE_SIZE + 3):
        make_user(f"desk{n:03d}", Role.DESK_OFFICER, agencies["justice"], password=None)
    sign_in_verified(client, admin, enrolled)
    first = client.get(officers_url(agencies["justice"]))
    assert len(first.context["officers"]) == queries.OFFICERS_PAGE_SIZE
    after = first.context["next_after"]
    assert f"?after={after}" in first.content.decode()
    second = client.get(officers_url(agencies["justice"]), {"after": after})
    assert len(second.context["officers"]) == 4 and second.context["next_after"] is None
    seen = [u.pk for u in first.context["officers"]] + [u.pk for u in second.context["officers"]]
    assert len(set(seen)) == queries.OFFICERS_PAGE_SIZE + 4


def test_officer_list_bad_page_key_is_a_clear_400(client, agencies, make_user, enrolled):
    sign_in_verified(client, make_user("admin", Role.AGENCY_ADMIN, agencies["justice"]), enrolled)
    response = client.get(officers_url(agencies["justice"]), {"after": "abc"})
    assert response.status_code == 400
    assert "not valid" in str(response.context["reason"])


def test_officer_list_unknown_agency_is_404(client, agencies, make_user, enrolled):
    sign_in_verified(client, make_user("root", Role.PLATFORM_ADMIN, None), enrolled)
    assert client.get(reverse("accounts:agency_officers", args=["000.00.99.H99"])).status_code == 404


def test_password_login_alone_does_not_verify(client, agencies, make_user, enrolled):
    user = make_user("admin", Role.AGENCY_ADMIN, agencies["justice"])
    enrolled(user)
    client.post(reverse("accounts:login"), {"username": "admin", "password": PASSWORD})
    response = client.get(officers_url(agencies["justice"]))
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:totp"))
