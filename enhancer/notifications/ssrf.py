"""The SSRF guard of webhook URLs.

A webhook URL is chosen by a client, so without a guard any client could make
the server POST to its own internal services (a database admin page, the cloud
metadata endpoint at 169.254.169.254). The guard resolves the host and refuses
addresses that are not public:

- always: unspecified (0.0.0.0 reaches the host itself), link-local (cloud
  metadata), multicast and reserved addresses;
- loopback unless NOTIFICATION_WEBHOOK_ALLOW_LOOPBACK (false by default: a
  tenant must not reach what listens on the server itself), or the port is one
  of NOTIFICATION_WEBHOOK_LOOPBACK_PORTS (`make run` opens its own web port,
  where the dashboard's receiver listens);
- every other non-global address (RFC 1918, IPv6 unique-local, carrier-grade
  NAT, ...) unless NOTIFICATION_WEBHOOK_ALLOW_PRIVATE_ADDRESSES.

It runs when a channel is saved (a clear 400) and again when each delivery
connects: the socket is opened to the addresses that were just checked, never
to a second resolution of the name, so DNS rebinding between the check and the
connection cannot slip through. TLS still verifies the certificate against the
host name. Redirects are not followed and proxies from the environment are not
used, since both would connect somewhere unchecked.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any
from urllib.parse import SplitResult, urlsplit

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError
from urllib3.util import connection as urllib3_connection

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class UrlRefused(ValueError):
    """The URL cannot be used for a webhook; the message says why, for a client."""


def address_refusal(address: IPAddress, *, allow_loopback: bool, allow_private: bool) -> str | None:
    """Why a webhook may not be sent to this address, or None if it may."""
    if isinstance(address, ipaddress.IPv6Address):
        # An IPv6 form of an IPv4 address is judged as that IPv4 address.
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is not None:
            return address_refusal(
                embedded, allow_loopback=allow_loopback, allow_private=allow_private
            )
    if address.is_unspecified:
        return "an unspecified address"
    if address.is_loopback:
        return None if allow_loopback else "a loopback address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_multicast:
        return "a multicast address"
    if address.is_reserved:
        return "a reserved address"
    if address.is_global:
        return None
    return None if allow_private else "a private address"


def _refusal(address: IPAddress, port: int) -> str | None:
    # Read at call time, so a changed setting applies without a restart of the check.
    return address_refusal(
        address,
        allow_loopback=settings.NOTIFICATION_WEBHOOK_ALLOW_LOOPBACK
        or port in settings.NOTIFICATION_WEBHOOK_LOOPBACK_PORTS,
        allow_private=settings.NOTIFICATION_WEBHOOK_ALLOW_PRIVATE_ADDRESSES,
    )


def permitted_addresses(host: str, port: int) -> list[str]:
    """Resolve `host` and return its addresses, if every one of them is permitted.

    Raises socket.gaierror when the name does not resolve, UrlRefused when any
    address is refused (a name that also points inside is not trusted at all).
    """
    infos = socket.getaddrinfo(
        host.strip("[]"), port, urllib3_connection.allowed_gai_family(), socket.SOCK_STREAM
    )
    addresses: list[str] = []
    for _family, _type, _proto, _canonname, sockaddr in infos:
        text = str(sockaddr[0])
        reason = _refusal(ipaddress.ip_address(text.split("%", 1)[0]), port)
        if reason is not None:
            raise UrlRefused(f"The host {host} resolves to {text}, {reason}.")
        if text not in addresses:
            addresses.append(text)
    if not addresses:
        raise socket.gaierror(f"{host} has no address")
    return addresses


def url_split(url: str, *, schemes: tuple[str, ...], wrong_scheme: str) -> SplitResult:
    """The parts of a channel's URL (webhook or AMQP), with a host and a valid port.

    UrlRefused says what is wrong, for a client; `wrong_scheme` when the
    scheme is not one of `schemes`.
    """
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - reading it is what validates it (ValueError)
    except ValueError:
        raise UrlRefused("The URL is not valid.") from None
    if parts.scheme not in schemes:
        raise UrlRefused(wrong_scheme)
    if not parts.hostname:
        raise UrlRefused("The URL has no host.")
    return parts


def host_check(host: str, port: int) -> None:
    """Refuse a host that does not resolve, or resolves to an address the guard refuses."""
    try:
        permitted_addresses(host, port)
    except socket.gaierror:
        raise UrlRefused(f"The host {host} cannot be resolved.") from None
    except UnicodeError:
        raise UrlRefused(f"The host {host} is not a valid host name.") from None


def url_check(url: str) -> None:
    """Refuse a webhook URL that is malformed or points at a refused address."""
    parts = url_split(
        url, schemes=("http", "https"), wrong_scheme="The URL must start with http:// or https://."
    )
    assert parts.hostname is not None  # url_split refuses a URL without one
    host_check(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))


class _GuardedConnectionMixin:
    """Open the socket only to addresses the guard has just permitted."""

    host: str
    port: int
    timeout: Any
    source_address: Any
    socket_options: Any
    _dns_host: str

    def _new_conn(self) -> socket.socket:
        # Same exceptions as urllib3's own _new_conn, so requests maps them alike.
        try:
            addresses = permitted_addresses(self._dns_host, self.port)
        except socket.gaierror as e:
            # The mixin is only ever mixed into urllib3's HTTP(S)Connection.
            raise NameResolutionError(self.host, self, e) from e  # type: ignore[arg-type]
        last_error: OSError | None = None
        for address in addresses:
            try:
                # A literal address: create_connection does no DNS lookup of its own.
                return urllib3_connection.create_connection(
                    (address, self.port),
                    self.timeout,
                    source_address=self.source_address,
                    socket_options=self.socket_options,
                )
            except TimeoutError as e:
                raise ConnectTimeoutError(
                    self, f"Connection to {self.host} timed out. (connect timeout={self.timeout})"
                ) from e
            except OSError as e:
                last_error = e
        raise NewConnectionError(
            self,  # type: ignore[arg-type]  # an HTTP(S)Connection: see the mixin's users
            f"Failed to establish a new connection: {last_error}",
        ) from last_error


class GuardedHTTPConnection(_GuardedConnectionMixin, HTTPConnection):
    pass


class GuardedHTTPSConnection(_GuardedConnectionMixin, HTTPSConnection):
    pass


class GuardedHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = GuardedHTTPConnection


class GuardedHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = GuardedHTTPSConnection


class GuardedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": GuardedHTTPConnectionPool,
            "https": GuardedHTTPSConnectionPool,
        }


class GuardedSession(requests.Session):
    """A requests session whose every connection passes the guard."""

    def __init__(self) -> None:
        super().__init__()
        # Proxies from the environment would connect on our behalf, unchecked.
        self.trust_env = False
        adapter = GuardedAdapter(max_retries=0)
        self.mount("http://", adapter)
        self.mount("https://", adapter)

    def get_redirect_target(self, resp: requests.Response) -> None:
        # Never follow a redirect, whatever a caller asks: a 3xx is the answer.
        return None


def guarded_session() -> requests.Session:
    return GuardedSession()
