"""The feedback form's agency picker in Chromium (Vietnamese browser), with axe on every page.

With JavaScript: typing part of the name without diacritics suggests agencies (a WAI-ARIA combobox: the list is
announced, Down and Up move through it, Enter chooses without sending the form, Escape closes it), and the choice
is sent as the agency's code. A name several agencies match, sent as is, comes back with them to choose from.
Without JavaScript: the same rounds through the form alone, everything typed kept.
"""
import datetime as dt

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import VISITED_ROUTES
from tests.e2e.test_backoffice_journeys import submit

COMBOBOX = "input[name='agency_name']"
SUGGESTIONS = "#id_agency_suggestions"
WAIT = {"timeout": 15_000}  # ms: the answer to a pause in the typing, on a busy machine


def vi(message: str, **values) -> str:
    """A message as the Vietnamese page shows it (its catalogue's words, whichever are compiled)."""
    from django.utils import translation

    with translation.override("vi"):
        return translation.gettext(message) % values if values else translation.gettext(message)


@pytest.fixture
def agencies(transactional_db):
    from egov.kernel.calendar import seed_calendar
    from egov.registries.models import Agency

    seed_calendar([dt.date.today().year - 1, dt.date.today().year, dt.date.today().year + 1])
    nghe_an = Agency.objects.create(code="000.00.00.H41", name="Ủy ban nhân dân tỉnh Nghệ An")
    hcm = Agency.objects.create(code="000.00.00.H29", name="Ủy ban nhân dân Thành phố Hồ Chí Minh")
    Agency.objects.create(code="000.00.12.H41", name="Sở Tư pháp tỉnh Nghệ An", parent=nghe_an)
    Agency.objects.create(code="000.00.12.H29", name="Sở Tư pháp Thành phố Hồ Chí Minh", parent=hcm)
    Agency.objects.create(code="000.00.14.H41", name="Sở Y tế tỉnh Nghệ An", parent=nghe_an)
    # A national list: many more agencies, none of which the page carries.
    Agency.objects.bulk_create([Agency(code=f"000.{n // 100:02d}.{n % 100:02d}.H99", name=f"Phòng Văn hóa số {n}",
                                       folded_name=f"phong van hoa so {n}") for n in range(1, 500)])
    yield


def fill_the_rest(page):
    page.check("input[name='topic'][value='regulation']")
    page.fill("input[name='subject']", "Thủ tục chứng thực bản sao")
    page.fill("textarea[name='text']", "Phí chứng thực quá cao.")
    page.fill("input[name='full_name']", "Lê Thị Hoa")
    page.fill("input[name='email']", "hoa@example.org")


def test_suggestions_as_one_types_chosen_with_the_keyboard(page, visit, check_page, agencies):
    from egov.portal.feedback_models import Feedback

    visit(page, "/feedback/")
    assert page.locator("select[name='agency']").count() == 0 and "Phòng Văn hóa" not in page.content()
    fill_the_rest(page)
    combobox = page.locator(COMBOBOX)
    assert combobox.get_attribute("role") == "combobox" and combobox.get_attribute("aria-expanded") == "false"
    with page.expect_response(lambda r: "/feedback/agencies.json" in r.url and r.status == 200):
        combobox.press_sequentially("tu phap", delay=30)
    VISITED_ROUTES.add("portal:feedback_agencies")  # JSON, asked by the picker: no page of its own to check
    # Each pause in the typing asks again: wait for the answer to the whole text.
    expect(page.locator(f"{SUGGESTIONS} [role=option]")).to_have_text([
        "Sở Tư pháp tỉnh Nghệ An (Ủy ban nhân dân tỉnh Nghệ An)",
        "Sở Tư pháp Thành phố Hồ Chí Minh (Ủy ban nhân dân Thành phố Hồ Chí Minh)"], **WAIT)
    expect(page.locator(".agency-picker [role=status]")).to_have_text(vi(
        "%(number)s agencies found. Use the up and down arrow keys to choose.", number=2), **WAIT)
    assert combobox.get_attribute("aria-expanded") == "true"
    check_page(page)  # with the list open

    combobox.press("ArrowDown")
    first = page.locator(f"{SUGGESTIONS} [role=option]").nth(0)
    assert combobox.get_attribute("aria-activedescendant") == first.get_attribute("id")
    assert first.get_attribute("aria-selected") == "true"
    combobox.press("ArrowDown")
    combobox.press("ArrowDown")  # round to the first again
    combobox.press("ArrowUp")    # and back to the last
    combobox.press("Escape")
    assert combobox.get_attribute("aria-expanded") == "false" and not page.locator(SUGGESTIONS).is_visible()
    combobox.press("ArrowUp")    # opens on the last
    assert combobox.get_attribute("aria-expanded") == "true"
    combobox.press("Enter")      # chooses; the form is not sent
    assert page.url.endswith("/feedback/")
    assert combobox.input_value() == "Sở Tư pháp Thành phố Hồ Chí Minh"
    assert page.input_value("input[name='agency']") == "000.00.12.H29"
    assert not page.locator(SUGGESTIONS).is_visible()
    check_page(page)

    submit(page, "form[action='/feedback/'] button[type=submit]")
    check_page(page)
    assert "/feedback/sent/" in page.url
    assert Feedback.objects.get().agency.code == "000.00.12.H29"


def test_typing_another_name_after_choosing_forgets_the_code(page, visit, check_page, agencies):
    visit(page, "/feedback/")
    combobox = page.locator(COMBOBOX)
    combobox.press_sequentially("y te nghe", delay=30)
    expect(page.locator(".agency-picker [role=status]")).to_have_text(vi(
        "1 agency found. Use the down arrow key to choose it."), **WAIT)
    expect(page.locator(f"{SUGGESTIONS} [role=option]")).to_have_count(1, **WAIT)
    combobox.press("ArrowDown")
    combobox.press("Enter")
    assert page.input_value("input[name='agency']") == "000.00.14.H41"
    combobox.press("Backspace")
    assert page.input_value("input[name='agency']") == ""
    combobox.fill("")
    combobox.press_sequentially("bo ngoai giao", delay=30)
    expect(page.locator(".agency-picker [role=status]")).to_have_text(vi(
        "No agency found: type fewer words, or check the spelling."), **WAIT)
    expect(combobox).to_have_attribute("aria-expanded", "false")


def test_a_name_several_agencies_match_sent_as_is_lists_them(page, visit, check_page, agencies):
    from egov.portal.feedback_models import Feedback

    visit(page, "/feedback/")
    fill_the_rest(page)
    page.fill(COMBOBOX, "tu phap")
    submit(page, "form[action='/feedback/'] button[type=submit]")
    check_page(page)
    assert page.locator(".error-summary").is_visible()
    assert page.locator("input[name='agency_choice']").count() == 2
    assert page.input_value("textarea[name='text']") == "Phí chứng thực quá cao."
    page.check("input[name='agency_choice'][value='000.00.12.H41']")
    submit(page, "form[action='/feedback/'] button[type=submit]")
    check_page(page)
    assert Feedback.objects.get().agency.code == "000.00.12.H41"


def test_without_javascript_the_form_finds_the_agency(open_page, agencies):
    from egov.portal.feedback_models import Feedback

    page = open_page(java_script_enabled=False)  # axe needs scripts: the same pages are checked with them above
    page.goto("/feedback/")
    assert page.locator(COMBOBOX).get_attribute("role") is None
    fill_the_rest(page)
    page.fill(COMBOBOX, "so tu phap")
    submit(page, "form[action='/feedback/'] button[type=submit]")
    assert page.locator("input[name='agency_choice']").count() == 2
    for name, value in (("subject", "Thủ tục chứng thực bản sao"), ("full_name", "Lê Thị Hoa"),
                        ("email", "hoa@example.org"), ("agency_name", "so tu phap")):
        assert page.input_value(f"input[name='{name}']") == value
    # None matches: said, and what was typed stays.
    page.fill(COMBOBOX, "bo ngoai giao")
    submit(page, "form[action='/feedback/'] button[type=submit]")
    assert vi("No agency's name contains “%(text)s”. Check the spelling, or type fewer words of the name.",
              text="bo ngoai giao") in page.locator(".error-summary").inner_text()
    assert page.input_value("textarea[name='text']") == "Phí chứng thực quá cao."
    # One matches: taken.
    page.fill(COMBOBOX, "tu phap nghe an")
    submit(page, "form[action='/feedback/'] button[type=submit]")
    assert "/feedback/sent/" in page.url
    assert Feedback.objects.get().agency.code == "000.00.12.H41"
