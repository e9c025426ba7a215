# ruff: noqa: F811  (fixtures imported from other test modules are redefined as parameters)
"""Page keys and posted ids are read safely (kernel.paging): a tampered link gets the first page or a clear 400,
never a 500."""
import pytest
from hypothesis import given
from hypothesis import strategies as st

from egov.kernel.paging import MAX_ROW_ID, row_id
from tests.dossiers.conftest import agency, citizen, officers, signed_in  # noqa: F401

BAD_KEYS = ["9" * 25, str(MAX_ROW_ID + 1), "²", "١٢", "-1", "1e3", " 12", "abc", ""]


@given(st.integers(min_value=0, max_value=MAX_ROW_ID))
def test_every_id_a_column_can_hold_is_read_back(value):
    assert row_id(str(value)) == value


@given(st.text())
def test_anything_else_is_no_id(raw):
    value = row_id(raw)
    if value is not None:
        assert raw.isascii() and raw.isdigit() and int(raw) == value <= MAX_ROW_ID


@pytest.mark.parametrize("raw", BAD_KEYS)
def test_a_bad_key_is_no_id(raw):
    assert row_id(raw) is None


@pytest.mark.parametrize("raw", BAD_KEYS[:-1])
@pytest.mark.parametrize("who, path", [
    ("desk", "/backoffice/?after={}"), ("desk", "/backoffice/?status={}&procedure={}"),
    ("citizen", "/dossiers/?after={}"), ("citizen", "/my/notifications/?before={}"),
    ("citizen", "/my/data-access/?before={}"), ("citizen", "/accounts/history/?before={}"),
    ("citizen", "/feedback/answers/?after={}")])
def test_a_tampered_page_link_never_fails(client, officers, citizen, who, path, raw):
    from urllib.parse import quote

    user = officers["desk"] if who == "desk" else citizen
    response = signed_in(client, user).get(path.format(quote(raw), quote(raw)))
    assert response.status_code in (200, 400), response.status_code


@pytest.mark.parametrize("raw", ["9" * 25, "²"])
def test_a_tampered_session_to_sign_out_is_refused_with_a_reason(client, citizen, raw):
    response = signed_in(client, citizen).post("/accounts/sessions/", {"session": raw})
    assert response.status_code == 400 and "Choose a session to sign out." in response.content.decode()
