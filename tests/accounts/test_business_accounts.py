"""Business accounts: the legal representative (level 2) opens one, authorises and revokes staff; every refusal says
why; the pages work for them and refuse everyone else."""
from datetime import date

import pytest
from django.conf import settings
from django.test import Client

from egov.accounts import business_queries, business_services
from egov.accounts.business_models import BusinessMembership
from egov.accounts.models import AssuranceLevel, Role
from egov.accounts.services import AssuranceTooLow
from egov.kernel.access import SYSTEM
from egov.kernel.models import Event
from egov.registries import services as registry
from egov.registries.models import AdministrativeUnit, PersonalData

CODE = "0399000127"
OTHER_CODE = "0399000455"
LIST = "/business/"


def detail_url(code=CODE):
    return f"/business/{code}/"


def person(number, name, born, sex):
    return registry.register_person(PersonalData(personal_id_number=number, full_name=name, date_of_birth=born,
                                                 sex=sex), caller=SYSTEM)


@pytest.fixture
def world(db, make_user):
    """Two enterprises: one represented by Hà, one by her father Hùng; accounts for both, for a staff member (level
    2), a level-1 citizen and an officer."""
    hcm = AdministrativeUnit.objects.create(generation="2025", level="province", code="79",
                                            name="Thành phố Hồ Chí Minh")
    AdministrativeUnit.objects.create(generation="2025", level="commune", code="26743", name="Phường Bến Thành",
                                      parent=hcm)
    ha = person("079303001234", "Đỗ Thị Hà", date(2003, 3, 15), "female")
    hung = person("036072004321", "Đỗ Văn Hùng", date(1972, 8, 20), "male")
    lan = person("079176005678", "Nguyễn Thị Lan", date(1976, 11, 2), "female")
    own = registry.register_enterprise(caller=SYSTEM, code=CODE, name="Công ty TNHH Thiết kế Hà Đỗ",
                                       head_office_unit="26743", head_office_address="45 Lê Thánh Tôn",
                                       legal_representative=ha)
    other = registry.register_enterprise(caller=SYSTEM, code=OTHER_CODE, name="Công ty CP Thương mại Đỗ Hùng",
                                         head_office_unit="26743", head_office_address="88 Đồng Khởi",
                                         legal_representative=hung)
    verified = {"assurance_level": AssuranceLevel.VERIFIED}
    accounts = {
        "ha": make_user("demo.ha", password=None, person=ha, first_name="Hà", last_name="Đỗ Thị", **verified),
        "hung": make_user("hung", password=None, person=hung, **verified),
        "lan": make_user("lan", password=None, person=lan, first_name="Lan", last_name="Nguyễn Thị", **verified),
        "basic": make_user("basic", password=None),
        "officer": make_user("officer", role=Role.SPECIALIST, password=None, **verified),
    }
    return {"own": own, "other": other, "persons": {"ha": ha, "hung": hung, "lan": lan}, **accounts}


def events(prefix="business."):
    return list(Event.objects.filter(event_type__startswith=prefix).order_by("id")
                .values_list("event_type", "payload"))


# --- Services -----------------------------------------------------------------------------------------------------

def test_the_representative_opens_the_business_account_once(world):
    membership, created = business_services.open_business_account(world["ha"], " 0399 000 127 ")
    assert created and membership.role == "representative" and membership.granted_by == world["ha"]
    again, created_again = business_services.open_business_account(world["ha"], CODE)
    assert again == membership and not created_again
    assert events() == [("business.account_opened",
                         {"enterprise_code": CODE, "user_id": world["ha"].pk, "role": "representative"})]
    assert [m.enterprise for m in business_queries.enterprises_of(world["ha"])] == [world["own"]]


@pytest.mark.parametrize(("code", "rule"), [
    ("", "required"), ("03990001", "length"), ("0399000128", "check_digit"), ("03990OO127", "characters"),
    ("0100109106", "unknown"), ("0399000127-001", "dependent_unit"),
])
def test_bad_codes_are_named(world, code, rule):
    with pytest.raises(business_services.BusinessAccountError) as caught:
        business_services.open_business_account(world["ha"], code)
    assert caught.value.rule == rule and str(caught.value.reason)
    assert not BusinessMembership.objects.exists() and events() == []


def test_level_one_is_told_how_to_reach_level_two(world):
    world["ha"].assurance_level = AssuranceLevel.BASIC
    world["ha"].save()
    with pytest.raises(AssuranceTooLow) as caught:
        business_services.open_business_account(world["ha"], CODE)
    assert "level 2" in str(caught.value.reason) and "one-stop desk" in str(caught.value.reason)
    assert not BusinessMembership.objects.exists()


def test_only_the_legal_representative_opens_it(world):
    with pytest.raises(business_services.BusinessAccountDenied) as caught:
        business_services.open_business_account(world["hung"], CODE)
    assert caught.value.rule == "not_representative"
    with pytest.raises(business_services.BusinessAccountDenied) as caught:
        business_services.open_business_account(world["officer"], CODE)
    assert caught.value.rule == "officer"
    world["ha"].is_active = False
    with pytest.raises(business_services.BusinessAccountDenied) as caught:
        business_services.open_business_account(world["ha"], CODE)
    assert caught.value.rule == "disabled"


@pytest.mark.parametrize("status", ["suspended", "dissolved"])
def test_only_an_active_enterprise(world, status):
    registry.change_enterprise_status(CODE, caller=SYSTEM, status=status)
    with pytest.raises(business_services.BusinessAccountDenied) as caught:
        business_services.open_business_account(world["ha"], CODE)
    assert caught.value.rule == status


@pytest.fixture
def opened(world):
    business_services.open_business_account(world["ha"], CODE)
    return world


def test_authorise_and_revoke_staff(opened):
    ha, lan, own = opened["ha"], opened["lan"], opened["own"]
    membership, created = business_services.authorise_staff(ha, own, "LAN@example.org")
    assert created and membership.user == lan and membership.role == "staff" and membership.granted_by == ha
    assert business_services.authorise_staff(ha, own, "lan") == (membership, False)
    assert [m.user for m in business_queries.members_of(own)] == [ha, lan]
    assert business_queries.membership_of(lan, own) == membership
    revoked, now = business_services.revoke_staff(ha, own, membership.pk)
    assert now and revoked.revoked_by == ha and revoked.revoked_at is not None
    assert business_services.revoke_staff(ha, own, membership.pk)[1] is False
    assert business_queries.membership_of(lan, own) is None
    assert [t for t, _ in events()] == ["business.account_opened", "business.staff_authorised",
                                        "business.staff_revoked"]
    assert events()[1][1] == {"enterprise_code": CODE, "user_id": lan.pk, "role": "staff"}
    assert "lan" not in str(events()) and "example.org" not in str(events())
    # Authorised again after a revocation: a new membership, the old one stays as history.
    again, created = business_services.authorise_staff(ha, own, "lan")
    assert created and again.pk != membership.pk
    assert BusinessMembership.objects.filter(user=lan, enterprise=own).count() == 2


@pytest.mark.parametrize(("who", "rule"), [
    ("", "required"), ("nobody", "unknown_account"), ("nobody@example.org", "unknown_account"),
    ("demo.ha", "self"), ("basic", "level"), ("officer", "officer"),
])
def test_staff_refusals_are_named(opened, who, rule):
    with pytest.raises(business_services.BusinessAccountError) as caught:
        business_services.authorise_staff(opened["ha"], opened["own"], who)
    assert caught.value.rule == rule
    assert not BusinessMembership.objects.filter(role="staff").exists()


def test_ambiguous_email_and_disabled_staff(opened, make_user):
    make_user("twin1", email="twin@example.org", password=None, assurance_level=2)
    make_user("twin2", email="twin@example.org", password=None, assurance_level=2)
    with pytest.raises(business_services.BusinessAccountError) as caught:
        business_services.authorise_staff(opened["ha"], opened["own"], "twin@example.org")
    assert caught.value.rule == "ambiguous"
    make_user("gone", password=None, assurance_level=2, is_active=False)
    with pytest.raises(business_services.BusinessAccountError) as caught:
        business_services.authorise_staff(opened["ha"], opened["own"], "gone")
    assert caught.value.rule == "disabled"


def test_only_the_representative_manages_staff(opened):
    ha, lan, hung, own = opened["ha"], opened["lan"], opened["hung"], opened["own"]
    staff, _ = business_services.authorise_staff(ha, own, "lan")
    for intruder in (lan, hung, opened["officer"]):
        with pytest.raises(business_services.BusinessAccountDenied):
            business_services.authorise_staff(intruder, own, "hung")
        with pytest.raises(business_services.BusinessAccountDenied):
            business_services.revoke_staff(intruder, own, staff.pk)
    # The representative of another enterprise cannot touch this one's staff, nor revoke through their own.
    business_services.open_business_account(hung, OTHER_CODE)
    with pytest.raises(business_services.BusinessAccountError):
        business_services.revoke_staff(hung, opened["other"], staff.pk)
    assert business_queries.membership_of(lan, own) == staff


def test_a_dissolved_enterprise_cannot_change_its_staff(opened):
    registry.change_enterprise_status(CODE, caller=SYSTEM, status="dissolved")
    with pytest.raises(business_services.BusinessAccountDenied) as caught:
        business_services.authorise_staff(opened["ha"], opened["own"], "lan")
    assert caught.value.rule == "dissolved"


def test_representation_follows_the_registry(opened):
    ha, hung, lan, own = opened["ha"], opened["hung"], opened["lan"], opened["own"]
    staff, _ = business_services.authorise_staff(ha, own, "lan")
    registry.change_legal_representative(CODE, caller=SYSTEM, legal_representative=opened["persons"]["hung"])
    # At once: Hà no longer acts for it and cannot manage staff; Lan (authorised by the enterprise) still does.
    assert business_queries.enterprises_of(ha) == []
    with pytest.raises(business_services.BusinessAccountDenied):
        business_services.authorise_staff(ha, own, "hung")
    assert business_queries.membership_of(lan, own) == staff
    membership, created = business_services.open_business_account(hung, CODE)
    assert created
    assert BusinessMembership.objects.get(user=ha, enterprise=own).revoked_by == hung
    assert ("business.membership_revoked", {"enterprise_code": CODE, "user_id": ha.pk, "role": "representative",
                                           "reason": "representative_changed"}) in events()
    # The former representative can be made staff by the new one.
    business_services.authorise_staff(hung, own, "demo.ha")
    assert business_queries.membership_of(ha, own).role == "staff"


def test_staff_who_becomes_representative_is_upgraded(opened):
    ha, lan, own = opened["ha"], opened["lan"], opened["own"]
    business_services.authorise_staff(ha, own, "lan")
    registry.change_legal_representative(CODE, caller=SYSTEM, legal_representative=opened["persons"]["lan"])
    membership, created = business_services.open_business_account(lan, CODE)
    assert created and membership.role == "representative"
    assert [m.role for m in BusinessMembership.objects.filter(user=lan, revoked_at__isnull=True)] == ["representative"]


# --- Pages --------------------------------------------------------------------------------------------------------

def browser(user=None) -> Client:
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    if user is not None:
        client.force_login(user)
    return client


def test_anonymous_is_sent_to_sign_in(world):
    client = browser()
    for url in (LIST, detail_url()):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    response = client.post(f"{detail_url()}staff/1/revoke/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_officers_are_refused(world):
    response = browser(world["officer"]).get(LIST)
    assert response.status_code == 403 and b"Officer accounts act for their agency" in response.content
    assert b'href="/business/"' not in response.content  # not in an officer's menu


def test_open_from_the_page(world):
    client = browser(world["ha"])
    page = client.get(LIST)
    assert page.status_code == 200
    content = page.content.decode()
    assert "You do not act for any enterprise yet." in content
    assert "Open the business account of Công ty TNHH Thiết kế Hà Đỗ" in content  # the registry's suggestion
    assert 'for="id_enterprise_code"' in content
    assert '<a href="/business/" aria-current="page">My businesses</a>' in content  # in the site menu
    response = client.post(LIST, {"enterprise_code": CODE})
    assert response.status_code == 302 and response["Location"] == detail_url()
    page = client.get(detail_url())
    assert page.status_code == 200
    content = page.content.decode()
    assert "The business account of Công ty TNHH Thiết kế Hà Đỗ is open." in content
    assert "45 Lê Thánh Tôn, Phường Bến Thành, Thành phố Hồ Chí Minh" in content
    assert "Authorise staff" in content
    listing = client.get(LIST).content.decode()
    assert f'href="{detail_url()}"' in listing and "Open the business account of" not in listing


@pytest.mark.parametrize(("user", "code", "status", "says"), [
    ("ha", "0399000128", 400, "does not match the others"),
    ("ha", "12345", 400, "has 5"),
    ("ha", "0100109106", 400, "No enterprise with code 0100109106"),
    ("ha", "", 400, "This field is required"),
    ("ha", "x" * 60, 400, "at most 40 characters"),
    ("hung", CODE, 403, "does not record you as the legal representative"),
    ("basic", CODE, 403, "needs an account at level 2"),
])
def test_open_errors_are_shown_with_what_was_typed(world, user, code, status, says):
    response = browser(world[user]).post(LIST, {"enterprise_code": code})
    assert response.status_code == status
    content = response.content.decode()
    assert says in content
    assert "Please correct what is marked below" in content and 'href="#id_enterprise_code"' in content
    assert f'value="{code}"' in content or not code
    assert not BusinessMembership.objects.exists()


def test_dissolved_is_explained(world):
    registry.change_enterprise_status(CODE, caller=SYSTEM, status="dissolved")
    response = browser(world["ha"]).post(LIST, {"enterprise_code": CODE})
    assert response.status_code == 403 and "is dissolved" in response.content.decode()


def test_level_one_sees_how_to_verify_before_trying(world):
    content = browser(world["basic"]).get(LIST).content.decode()
    assert "Only an account at level 2 (identity verified) can open a business account." in content


def test_only_active_enterprises_offer_the_open_button(world):
    registry.change_enterprise_status(CODE, caller=SYSTEM, status="suspended")
    content = browser(world["ha"]).get(LIST).content.decode()
    assert "Công ty TNHH Thiết kế Hà Đỗ (<code>0399000127</code>, suspended)" in content
    assert "Open the business account of" not in content
    assert "Only an active enterprise's business account can be opened." in content


def test_pages_render_in_vietnamese(opened):
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "vi"
    client.force_login(opened["ha"])
    for url in (LIST, detail_url()):
        response = client.get(url)
        assert response.status_code == 200 and '<html lang="vi">' in response.content.decode()


def test_odd_addresses_never_fail(opened):
    client = browser(opened["ha"])
    assert client.post(f"{detail_url()}staff/{'9' * 30}/revoke/").status_code == 404
    assert client.get("/business/" + "1" * 300 + "/").status_code == 404
    assert client.get("/business/0399%20000%20127/").status_code == 200
    assert client.post(LIST, {"enterprise_code": "0399\x00000127"}).status_code == 400


def test_someone_elses_business_is_refused(opened):
    for user in ("hung", "lan", "basic"):
        assert browser(opened[user]).get(detail_url()).status_code == 403
    assert browser(opened["ha"]).get("/business/0100109106/").status_code == 404
    assert browser(opened["ha"]).get("/business/nonsense/").status_code == 404


def test_authorise_and_revoke_from_the_page(opened):
    client = browser(opened["ha"])
    response = client.post(detail_url(), {"staff": "lan"})
    assert response.status_code == 302
    membership = BusinessMembership.objects.get(user=opened["lan"], revoked_at__isnull=True)
    content = client.get(detail_url()).content.decode()
    who = opened["lan"].get_full_name()
    assert f"{who} may now act for Công ty TNHH Thiết kế Hà Đỗ." in content
    revoke = f"{detail_url()}staff/{membership.pk}/revoke/"
    assert f'action="{revoke}"' in content
    # Staff see the page but not the forms, and cannot post to them.
    staff_client = browser(opened["lan"])
    staff_page = staff_client.get(detail_url())
    assert staff_page.status_code == 200 and "Authorise staff" not in staff_page.content.decode()
    assert staff_client.post(detail_url(), {"staff": "hung"}).status_code == 403
    assert staff_client.post(revoke).status_code == 403
    assert client.get(revoke).status_code == 405  # revoking is a POST only
    assert browser(opened["hung"]).post(revoke).status_code == 403
    response = client.post(revoke)
    assert response.status_code == 302
    assert "no longer acts for" in client.get(detail_url()).content.decode()
    assert browser(opened["lan"]).get(detail_url()).status_code == 403
    assert client.post(f"{detail_url()}staff/999999/revoke/").status_code == 404


@pytest.mark.parametrize(("staff", "says"), [
    ("nobody", "No account has this username"),
    ("basic", "This account is at level 1"),
    ("officer", "This is an officer account"),
    ("", "This field is required"),
])
def test_authorise_errors_keep_what_was_typed(opened, staff, says):
    response = browser(opened["ha"]).post(detail_url(), {"staff": staff})
    assert response.status_code == 400
    content = response.content.decode()
    assert says in content and 'href="#id_staff"' in content
    assert f'value="{staff}"' in content or not staff


def test_revoke_needs_the_csrf_token(opened):
    staff, _ = business_services.authorise_staff(opened["ha"], opened["own"], "lan")
    client = Client(enforce_csrf_checks=True)
    client.force_login(opened["ha"])
    assert client.post(f"{detail_url()}staff/{staff.pk}/revoke/").status_code == 403
    assert business_queries.membership_of(opened["lan"], opened["own"]) == staff
