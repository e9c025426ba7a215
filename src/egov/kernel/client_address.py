"""The address of the client a request comes from (địa chỉ người gửi yêu cầu), behind the platform's own proxies.

In production a reverse proxy (nginx, a load balancer) stands in front of the server, so ``REMOTE_ADDR`` is the
proxy's address for every request: a limit counted per address (the public look-up, sign-in attempts, the
verification page) would then be one limit shared by every citizen, and an address allow-list would admit everyone
the proxy admits. ``EGOV_TRUSTED_PROXIES`` lists the proxies' addresses or CIDR ranges; only a request that arrives
from one of them has its ``X-Forwarded-For`` read, from the right (each trusted proxy appends the address it saw), and
the first address that is not a trusted proxy is the client. Anything a client writes into the header itself stays on
its left and is never read. With no proxy configured, ``REMOTE_ADDR`` is the client, whatever the header says.
"""
from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.conf import settings


@lru_cache(maxsize=16)
def _networks(spec: tuple[str, ...]) -> tuple:
    return tuple(ipaddress.ip_network(item, strict=False) for item in spec)


def _ip(text: str):
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def in_networks(address: str, spec) -> bool:
    """Whether ``address`` is one of the IP addresses or CIDR ranges of ``spec`` (a setting checked at start by
    ``config.env_networks``); False for an address that is not one."""
    ip = _ip(address or "")
    return ip is not None and any(ip in network for network in _networks(tuple(spec)))


def client_address(request) -> str:
    """The client's IP address as text ('' when the server gave none)."""
    peer = request.META.get("REMOTE_ADDR") or ""
    proxies = getattr(settings, "TRUSTED_PROXIES", ())
    if not proxies or not in_networks(peer, proxies):
        return peer
    hops = [hop for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    for hop in reversed(hops):
        ip = _ip(hop)
        if ip is None:
            return peer  # a trusted proxy never writes garbage: the chain is not what it should be, count the proxy
        if not in_networks(str(ip), proxies):
            return str(ip)
    return str(_ip(hops[0])) if hops else peer  # every hop a proxy of ours: the first is where the request began
