"""Where a webhook may point, and the one HTTP call that delivers to it.

An endpoint's URL is checked when it is saved and again at every delivery: its host,
or every address its name resolves to, must be on the public internet (not loopback,
private, link-local, site-local, CGNAT, multicast, reserved, unspecified, a cloud metadata
address, or a 6to4 or Teredo address carrying one of those), unless
``webhooks.allow_private_targets`` is on. A delivery resolves the name once, checks the
addresses, and connects to a checked one, sending the original Host header and TLS
server name: a DNS answer that changes between the check and the call (rebinding)
cannot move the call elsewhere. Redirects are not followed.
"""

import asyncio
import contextvars
import ipaddress
import logging
import re
import socket
import time
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit, urlunsplit

import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

CONNECT_TIMEOUT_SECONDS = 5.0
EXCERPT_BYTES = 1024

# Control characters other than tab and newline: PostgreSQL text cannot hold NUL, and
# none of them helps an admin reading the excerpt.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")

# A Slack or Discord URL is itself a credential, and httpx logs every request's URL: while
# a delivery is being sent, that log line leaves out the URL's path and query.
_delivering = contextvars.ContextVar("webhook_delivering", default=False)


class _HideDeliveryPaths(logging.Filter):
    """Hides the path and query of the URLs in httpx's records about a delivery."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Keep ``record``; during a delivery, with its URLs cut to scheme and host."""
        if _delivering.get() and isinstance(record.args, tuple):
            record.args = tuple(
                f"{arg.scheme}://{arg.netloc.decode()}/…" if isinstance(arg, httpx.URL) else arg
                for arg in record.args
            )
        return True


_httpx_log = logging.getLogger("httpx")
if not any(isinstance(f, _HideDeliveryPaths) for f in _httpx_log.filters):
    _httpx_log.addFilter(_HideDeliveryPaths())

# Cloud metadata and host services: AWS/GCP/Azure IMDS, AWS over IPv6, Azure's WireServer.
_METADATA = {
    ipaddress.ip_address("169.254.169.254"),
    ipaddress.ip_address("fd00:ec2::254"),
    ipaddress.ip_address("168.63.129.16"),
}


class TargetRefused(Exception):
    """The URL is malformed, or points somewhere webhooks may not go."""


class Unresolved(Exception):
    """The URL's host name does not resolve now: DNS may answer later."""


def forbidden(address: IPAddress) -> bool:
    """Whether ``address`` is off the public internet, or a metadata service."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return forbidden(address.ipv4_mapped)
        # 6to4 and Teredo carry an IPv4 address a relay would forward to.
        tunnelled = [address.sixtofour, *(address.teredo or ())]
        if any(v4 is not None and forbidden(v4) for v4 in tunnelled):
            return True
    return (
        address in _METADATA
        # Loopback, private, link-local, CGNAT and unspecified addresses are not global.
        or not address.is_global
        # What is_global lets through: multicast, ::/8 with NAT64's 64:ff9b::/96, fec0::/10.
        or address.is_multicast
        or address.is_reserved
        or (isinstance(address, ipaddress.IPv6Address) and address.is_site_local)
    )


def parse(url: str) -> SplitResult:
    """``url`` split, if it is an absolute http(s) URL without credentials; a host name
    that is not ASCII is given in its IDNA form (``xn--``)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TargetRefused("must be an absolute http:// or https:// URL")
    if parts.username is not None or parts.password is not None:
        raise TargetRefused("must not carry a user name or password")
    try:
        port = parts.port
    except ValueError:
        raise TargetRefused("has an invalid port") from None
    if port == 0:
        raise TargetRefused("has an invalid port")
    if parts.hostname.isascii():
        return parts
    try:
        host = parts.hostname.encode("idna").decode("ascii")
    except UnicodeError:
        raise TargetRefused("has an invalid host name") from None
    return parts._replace(netloc=host if port is None else f"{host}:{port}")


def normalised(url: str) -> str:
    """``url`` as it is stored: checked by ``parse``, its host name in IDNA form."""
    return urlunsplit(parse(url))


async def resolve(url: str, *, allow_private: bool) -> list[IPAddress]:
    """The addresses to call for ``url``: its host's, each checked (see the module).

    Raises ``TargetRefused`` for a malformed URL or a forbidden address, ``Unresolved``
    when the name does not resolve (which may pass).
    """
    parts = parse(url)
    host = parts.hostname
    assert host is not None
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        addresses = [ipaddress.ip_address(host)]
    except ValueError:
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(
                host, port, type=socket.SOCK_STREAM
            )
        except OSError:
            raise Unresolved(f"names a host that does not resolve ({host})") from None
        found = (ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos)
        addresses = list(dict.fromkeys(found))
    if not addresses:
        raise Unresolved(f"names a host that does not resolve ({host})")
    if not allow_private:
        for address in addresses:
            if forbidden(address):
                raise TargetRefused(f"points to {address}, which is not on the public internet")
    return addresses


@dataclass(frozen=True)
class Response:
    """What the endpoint answered."""

    status_code: int
    duration_ms: int
    excerpt: str


async def post(
    url: str,
    addresses: Sequence[IPAddress],
    body: bytes,
    headers: dict[str, str],
    *,
    within_seconds: float,
) -> Response:
    """POST ``body`` to ``url``, connecting to the first of ``addresses`` (from ``resolve``)
    that takes the connection; the answer must come within ``within_seconds`` in all.

    Raises ``httpx.HTTPError`` when no address took the connection or the exchange
    failed, ``TimeoutError`` when no answer came within ``within_seconds``.
    """
    parts = parse(url)
    limits = httpx.Timeout(within_seconds, connect=min(within_seconds, CONNECT_TIMEOUT_SECONDS))
    started = time.monotonic()
    delivering = _delivering.set(True)
    try:
        async with (
            asyncio.timeout(within_seconds),
            httpx.AsyncClient(timeout=limits, follow_redirects=False, trust_env=False) as client,
        ):
            for address in addresses[:-1]:
                try:
                    return await _post_to(client, parts, address, body, headers, started)
                except (httpx.ConnectError, httpx.ConnectTimeout):
                    continue  # the next checked address of the same name
            return await _post_to(client, parts, addresses[-1], body, headers, started)
    finally:
        _delivering.reset(delivering)


async def _post_to(
    client: httpx.AsyncClient,
    parts: SplitResult,
    address: IPAddress,
    body: bytes,
    headers: dict[str, str],
    started: float,
) -> Response:
    host = f"[{address}]" if address.version == 6 else str(address)
    if parts.port:
        host = f"{host}:{parts.port}"
    direct = urlunsplit((parts.scheme, host, parts.path or "/", parts.query, ""))
    # The name, not the address, is what the endpoint and its certificate answer to.
    extensions = {"sni_hostname": parts.hostname} if parts.scheme == "https" else {}
    async with client.stream(
        "POST",
        direct,
        content=body,
        # Raw bytes, nothing asked compressed: a small compressed answer cannot unpack into
        # a large one in memory.
        headers={**headers, "Host": parts.netloc, "Accept-Encoding": "identity"},
        extensions=extensions,
    ) as response:
        excerpt = b""
        async for chunk in response.aiter_raw():
            excerpt += chunk
            if len(excerpt) >= EXCERPT_BYTES:
                break
    return Response(
        status_code=response.status_code,
        duration_ms=int((time.monotonic() - started) * 1000),
        excerpt=_CONTROL.sub("", excerpt[:EXCERPT_BYTES].decode("utf-8", "ignore")),
    )
