"""The client's address behind the platform's own reverse proxies: X-Forwarded-For is read only when the request comes
from a configured proxy, from the right, and what a client writes into the header itself is never taken."""
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import RequestFactory
from hypothesis import given
from hypothesis import strategies as st

from egov import config
from egov.kernel.client_address import client_address

PROXY = "10.0.0.5"


def request_from(peer: str, forwarded: str | None = None):
    extra = {"REMOTE_ADDR": peer}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


def test_without_a_configured_proxy_the_peer_is_the_client_whatever_the_header_says(settings):
    settings.TRUSTED_PROXIES = []
    assert client_address(request_from("203.0.113.7", "198.51.100.1")) == "203.0.113.7"


def test_behind_a_trusted_proxy_the_address_it_saw_is_the_client(settings):
    settings.TRUSTED_PROXIES = [PROXY]
    assert client_address(request_from(PROXY, "203.0.113.7")) == "203.0.113.7"
    assert client_address(request_from(PROXY)) == PROXY                           # no header: the proxy itself


def test_an_address_a_client_writes_into_the_header_is_never_taken(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/24"]
    # The client sent "X-Forwarded-For: 1.2.3.4"; the proxy appended the address it saw.
    assert client_address(request_from(PROXY, "1.2.3.4, 203.0.113.7")) == "203.0.113.7"
    # Two proxies of ours in a row: the first address that is not one of them.
    assert client_address(request_from(PROXY, "1.2.3.4, 203.0.113.7, 10.0.0.9")) == "203.0.113.7"
    # Garbage where a proxy of ours should have written an address: the proxy is counted, not a guess.
    assert client_address(request_from(PROXY, "203.0.113.7, not-an-address")) == PROXY


def test_a_request_not_from_a_trusted_proxy_keeps_its_own_address(settings):
    settings.TRUSTED_PROXIES = [PROXY]
    assert client_address(request_from("203.0.113.9", "198.51.100.1")) == "203.0.113.9"


@given(st.lists(st.one_of(st.ip_addresses().map(str), st.text(max_size=20)), max_size=5))
def test_with_no_proxy_or_from_elsewhere_a_forged_header_never_changes_the_answer(forged):
    from django.test import override_settings

    header = ", ".join(forged)
    with override_settings(TRUSTED_PROXIES=[]):
        assert client_address(request_from("203.0.113.7", header)) == "203.0.113.7"
    with override_settings(TRUSTED_PROXIES=[PROXY]):
        assert client_address(request_from("203.0.113.7", header)) == "203.0.113.7"
        # Through our proxy, the address the proxy appended wins over anything forged before it.
        assert client_address(request_from(PROXY, f"{header}, 192.0.2.44" if header else "192.0.2.44")) == "192.0.2.44"


def test_a_wrong_proxy_setting_stops_the_start_with_its_name(monkeypatch):
    monkeypatch.setenv("EGOV_TRUSTED_PROXIES", "10.0.0.5, nginx.local")
    with pytest.raises(ImproperlyConfigured, match="EGOV_TRUSTED_PROXIES: 'nginx.local'"):
        config.env_networks("EGOV_TRUSTED_PROXIES")
    monkeypatch.setenv("EGOV_TRUSTED_PROXIES", "10.0.0.5, 10.1.0.0/16, ::1")
    assert config.env_networks("EGOV_TRUSTED_PROXIES") == ["10.0.0.5", "10.1.0.0/16", "::1"]
