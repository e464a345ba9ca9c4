"""The client's IP address, the same for the audit log, the key-failure throttle and axes.

`X-Forwarded-For` is believed only as far as `STUDIO_TRUSTED_PROXIES` says: with N proxies in
front of the studio, each appending the address it saw, the client is the Nth entry from the
right. Anything further left was written by the client and could be anything. With no trusted
proxies (the default) the header is ignored and the socket's REMOTE_ADDR is the client.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings


def _valid(value: str | None) -> str | None:
    if not value:
        return None
    value = value.strip()
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def client_ip(request) -> str | None:
    if request is None:
        return None
    meta = getattr(request, "META", {})
    remote = _valid(meta.get("REMOTE_ADDR"))
    proxies = settings.STUDIO_TRUSTED_PROXIES
    if proxies <= 0:
        return remote
    hops = [hop.strip() for hop in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    if len(hops) < proxies:
        # The request did not come through every proxy: nothing in the header is trustworthy.
        return remote
    return _valid(hops[-proxies]) or remote
