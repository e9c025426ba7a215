"""The enterprise registry: the enterprise code rule (property tests), registration, change of legal representative
and status, each a ledger event and each refused without the business registration right."""
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from egov.accounts.models import Role
from egov.kernel.access import SYSTEM, Caller, Denied
from egov.kernel.models import Event
from egov.registries import queries, rules, services
from egov.registries.models import AdministrativeUnit, Enterprise

# --- The code rule ------------------------------------------------------------------------------------------------

PUBLISHED = ["0100109106", "0300588569", "0100233488"]  # Viettel, Vinamilk, python-stdnum's example


@pytest.mark.parametrize("code", PUBLISHED)
def test_published_codes_are_valid(code):
    assert str(rules.parse_enterprise_code(code)) == code


def test_branch_code_keeps_its_enterprise_and_unit():
    code = rules.parse_enterprise_code("0314409058-002")
    assert (code.enterprise, code.unit, code.is_dependent_unit, str(code)) == ("0314409058", "002", True,
                                                                               "0314409058-002")
    assert str(rules.parse_enterprise_code("0314409058002")) == "0314409058-002"
    assert str(rules.parse_enterprise_code(" 0100 109 106 ")) == "0100109106"


@pytest.mark.parametrize(("raw", "rule"), [
    ("", "required"), ("   ", "required"), ("01001O9106", "characters"), ("0100-109106", "characters"),
    ("010010910", "length"), ("01001091061", "length"), ("0100109106-01", "length"), ("0100000000", "sequence"),
    ("0100109107", "check_digit"), ("0314409058-000", "unit"), ("０１００１０９１０６", "characters"),
])
def test_each_broken_rule_is_named(raw, rule):
    with pytest.raises(rules.InvalidEnterpriseCode) as caught:
        rules.parse_enterprise_code(raw)
    assert caught.value.rule == rule
    assert str(caught.value.message)


nine_digits = st.text(alphabet="0123456789", min_size=9, max_size=9).filter(lambda s: s[2:9] != "0000000")


@given(nine_digits)
def test_exactly_one_tenth_digit_fits_unless_none_does(first_nine):
    fitting = [d for d in "0123456789" if _valid(first_nine + d)]
    expected = rules.compose_enterprise_code(first_nine)
    assert fitting == ([] if expected is None else [expected[-1]])


@given(nine_digits, st.integers(0, 9), st.integers(1, 9))
def test_changing_one_digit_is_caught(first_nine, position, delta):
    code = rules.compose_enterprise_code(first_nine)
    if code is None:
        return
    changed = code[:position] + str((int(code[position]) + delta) % 10) + code[position + 1:]
    # A single mistyped digit never gives another valid code (11 is prime and every weight is below it).
    assert not _valid(changed)


@given(nine_digits, st.integers(1, 999))
def test_branches_of_a_valid_code_are_valid(first_nine, unit):
    code = rules.compose_enterprise_code(first_nine)
    if code is None:
        return
    parsed = rules.parse_enterprise_code(f"{code}-{unit:03d}")
    assert parsed.enterprise == code and parsed.unit == f"{unit:03d}"


@given(st.text(max_size=20))
def test_any_text_is_parsed_or_refused_with_a_rule(text):
    try:
        parsed = rules.parse_enterprise_code(text)
    except rules.InvalidEnterpriseCode as exc:
        assert exc.rule in {"required", "characters", "length", "sequence", "check_digit", "unit"}
    else:
        assert len(str(parsed)) in (10, 14) and rules.parse_enterprise_code(str(parsed)) == parsed


def _valid(code: str) -> bool:
    try:
        rules.parse_enterprise_code(code)
    except rules.InvalidEnterpriseCode:
        return False
    return True


def test_status_transitions():
    rules.check_enterprise_transition("active", "suspended")
    rules.check_enterprise_transition("suspended", "dissolved")
    for current, new in [("dissolved", "active"), ("dissolved", "suspended"), ("active", "active")]:
        with pytest.raises(rules.ForbiddenEnterpriseTransition):
            rules.check_enterprise_transition(current, new)


# --- Services -----------------------------------------------------------------------------------------------------

@pytest.fixture
def ben_thanh(db):
    hcm = AdministrativeUnit.objects.create(generation="2025", level="province", code="79",
                                            name="Thành phố Hồ Chí Minh")
    return AdministrativeUnit.objects.create(generation="2025", level="commune", code="26743",
                                             name="Phường Bến Thành", parent=hcm)


@pytest.fixture
def registrar(make_user):
    from egov.accounts.services import caller_for_user

    return caller_for_user(make_user("chuyen-vien-dkkd", role=Role.SPECIALIST))


@pytest.fixture
def ha(registered):
    return registered()


@pytest.fixture
def hung(registered):
    return registered(number="036072004321", name="Đỗ Văn Hùng", born=date(1972, 8, 20), sex="male")


def register(caller, representative, **more):
    fields = {"code": "0399000127", "name": "Công ty TNHH Thiết kế Hà Đỗ", "head_office_unit": "26743",
              "head_office_address": "45 Lê Thánh Tôn", "legal_representative": representative}
    fields.update(more)
    return services.register_enterprise(caller=caller, **fields)


def test_register_enterprise_is_a_ledger_event_without_personal_data(registrar, ben_thanh, ha):
    enterprise = register(registrar, "079303001234", short_name="Hà Đỗ Design", code="0399 000 127")
    assert enterprise.code == "0399000127"
    assert enterprise.legal_representative_id == ha.pk and enterprise.status == Enterprise.Status.ACTIVE
    assert enterprise.head_office == "45 Lê Thánh Tôn, Phường Bến Thành, Thành phố Hồ Chí Minh"
    event = Event.objects.get(event_type="enterprise.registered")
    assert event.partition == "000.00.12.H29" and event.actor_id == registrar.actor.pk
    assert event.payload == {"code": "0399000127", "head_office_unit": "26743", "representative_person_id": ha.pk}
    assert "079303001234" not in str(event.payload)
    assert queries.enterprise_by_code("0399000127") == enterprise
    assert queries.enterprises_represented_by(ha.pk) == [enterprise]


@pytest.mark.parametrize(("more", "field", "rule"), [
    ({"code": "0399000128"}, "code", "check_digit"),
    ({"code": "0314409058-002"}, "code", "dependent_unit"),
    ({"name": "  "}, "name", "required"),
    ({"name": "x" * 256}, "name", "length"),
    ({"head_office_unit": "99999"}, "head_office_unit", "unit"),
    ({"head_office_unit": "79"}, "head_office_unit", "unit"),
    ({"head_office_address": ""}, "head_office_address", "required"),
    ({"legal_representative": "079303009999"}, "legal_representative", "unknown_person"),
    ({"legal_representative": "12345"}, "legal_representative", "length"),
])
def test_bad_input_names_field_and_rule(registrar, ben_thanh, ha, more, field, rule):
    with pytest.raises(services.InvalidInput) as caught:
        register(registrar, ha, **more)
    assert (caught.value.field, caught.value.rule) == (field, rule)
    assert not Enterprise.objects.exists() and not Event.objects.filter(event_type__startswith="enterprise").exists()


def test_a_code_is_registered_once(registrar, ben_thanh, ha):
    register(registrar, ha)
    with pytest.raises(services.Conflict) as caught:
        register(registrar, ha)
    assert caught.value.rule == "unique"


def test_a_deceased_person_cannot_represent(registrar, ben_thanh, ha):
    services.register_death(ha.uid, caller=SYSTEM, date_of_death=date(2026, 1, 2))
    with pytest.raises(services.InvalidInput) as caught:
        register(registrar, ha)
    assert caught.value.rule == "deceased"


@pytest.mark.parametrize("role", [Role.DESK_OFFICER, Role.HEAD_OF_UNIT, Role.AGENCY_ADMIN, Role.CITIZEN])
def test_only_registration_officers_register(make_user, ben_thanh, ha, role):
    from egov.accounts.services import caller_for_user

    caller = caller_for_user(make_user(f"u-{role}", role=role))
    with pytest.raises(Denied):
        register(caller, ha)
    with pytest.raises(Denied):
        services.change_legal_representative("0399000127", caller=caller, legal_representative=ha)
    with pytest.raises(Denied):
        services.change_enterprise_status("0399000127", caller=caller, status="suspended")
    assert not Enterprise.objects.exists()


def test_a_client_system_without_the_right_is_denied(ben_thanh, ha):
    with pytest.raises(Denied):
        register(Caller(kind="client", agency_code="000.00.00.H29", rights=frozenset({"population.verify"})), ha)


def test_change_legal_representative(registrar, ben_thanh, ha, hung):
    register(registrar, ha)
    enterprise = services.change_legal_representative("0399000127", caller=registrar, legal_representative=hung)
    assert enterprise.legal_representative_id == hung.pk
    event = Event.objects.get(event_type="enterprise.representative_changed")
    assert event.payload == {"code": "0399000127", "previous_person_id": ha.pk, "representative_person_id": hung.pk}
    with pytest.raises(services.Conflict) as caught:
        services.change_legal_representative("0399000127", caller=registrar, legal_representative="036072004321")
    assert caught.value.rule == "unchanged"
    with pytest.raises(services.NotFound):
        services.change_legal_representative("0100109106", caller=registrar, legal_representative=hung)
    with pytest.raises(services.InvalidInput) as caught:
        services.change_legal_representative("12", caller=registrar, legal_representative=hung)
    assert caught.value.rule == "length"


def test_status_changes_and_dissolution_is_final(registrar, ben_thanh, ha, hung):
    register(registrar, ha)
    assert services.change_enterprise_status("0399000127", caller=registrar, status="suspended").status == "suspended"
    assert services.change_enterprise_status("0399000127", caller=registrar, status="active").status == "active"
    services.change_enterprise_status("0399000127", caller=registrar, status="dissolved")
    assert list(Event.objects.filter(event_type="enterprise.status_changed").values_list("payload", flat=True)) == [
        {"code": "0399000127", "from": "active", "to": "suspended"},
        {"code": "0399000127", "from": "suspended", "to": "active"},
        {"code": "0399000127", "from": "active", "to": "dissolved"}]
    with pytest.raises(services.Conflict) as caught:
        services.change_enterprise_status("0399000127", caller=registrar, status="active")
    assert caught.value.rule == "transition"
    with pytest.raises(services.Conflict) as caught:
        services.change_legal_representative("0399000127", caller=registrar, legal_representative=hung)
    assert caught.value.rule == "dissolved"
    with pytest.raises(services.InvalidInput):
        services.change_enterprise_status("0399000127", caller=registrar, status="bankrupt")


def test_enterprise_by_code_is_none_for_unknown_or_invalid(db):
    assert queries.enterprise_by_code("0100109106") is None
    assert queries.enterprise_by_code("nonsense") is None
    assert queries.enterprises_represented_by(None) == []


def test_demo_enterprises_load_once(ben_thanh, ha, hung, registered, settings):
    from egov.registries import demo_enterprises

    registered(number="079176005678", name="Nguyễn Thị Lan", born=date(1976, 11, 2), sex="female")
    hcm = ben_thanh.parent
    AdministrativeUnit.objects.create(generation="2025", level="commune", code="26740", name="Phường Sài Gòn",
                                      parent=hcm)
    na = AdministrativeUnit.objects.create(generation="2025", level="province", code="40", name="Tỉnh Nghệ An")
    AdministrativeUnit.objects.create(generation="2025", level="commune", code="16681", name="Phường Thành Vinh",
                                      parent=na)
    assert demo_enterprises.load_demo_enterprises() == len(demo_enterprises.DEMO_ENTERPRISES)
    assert demo_enterprises.load_demo_enterprises() == 0
    for spec in demo_enterprises.DEMO_ENTERPRISES:
        assert rules.parse_enterprise_code(spec.code)
        assert Enterprise.objects.get(code=spec.code).status == spec.status
    assert [e.code for e in queries.enterprises_represented_by(ha.pk)] == ["0399000127", "0399000342"]
