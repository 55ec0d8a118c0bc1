"""Where outbound webhooks may go: public addresses only.

A webhook URL is the operator's input, and the server sends to it from inside the network it
runs in: without a check, an endpoint on `http://127.0.0.1:6379/`, `http://169.254.169.254/`
or a name that resolves to `10.0.0.5` turns deliveries (and their logged errors) into a probe of
the private network. So:

- The host is resolved when an endpoint is saved and again at every delivery; every address it
  resolves to must be public. Refused: loopback, private (RFC 1918), shared (100.64/10),
  link-local, unique-local, unspecified, multicast, reserved and documentation ranges,
  and IPv6 addresses that embed one of those (IPv4-mapped `::ffff:a.b.c.d`, NAT64
  `64:ff9b::/96`, 6to4, Teredo).
- The connection goes to the address that was checked (no second lookup between the check and
  the connect that a DNS answer with a short TTL could change). TLS still verifies the
  certificate against the host name.
- Redirects are not followed: a 3xx is a failed delivery (`redirect`).
- The delivery log records a category (`timeout`, `connect_failed`, …), never the socket's
  own error text.

Self-hosted installs whose bots live on a private network can allow ranges explicitly:
`WEBHOOK_ALLOWED_NETWORKS=10.20.0.0/16,fd00:1::/64` (off by default; see docs/deployment.md).
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext_lazy as _

# Delivery error categories (WebhookDelivery.last_error) and what the dashboard shows for them.
INVALID_URL = "invalid_url"
DNS_FAILED = "dns_failed"
ADDRESS_REFUSED = "address_refused"
CONNECT_FAILED = "connect_failed"
TIMEOUT = "timeout"
TLS_FAILED = "tls_failed"
BAD_RESPONSE = "bad_response"
REDIRECT = "redirect"
HTTP_ERROR = "http_error"
ENDPOINT_DISABLED = "endpoint_disabled"

ERROR_LABELS = {
    INVALID_URL: _("Not a usable http(s) address"),
    DNS_FAILED: _("The host name does not resolve"),
    ADDRESS_REFUSED: _("The host is on an internal network (not allowed)"),
    CONNECT_FAILED: _("Could not connect"),
    TIMEOUT: _("No answer in time"),
    TLS_FAILED: _("TLS/certificate error"),
    BAD_RESPONSE: _("Not a valid HTTP answer"),
    REDIRECT: _("Redirected (redirects are not followed)"),
    HTTP_ERROR: _("The endpoint answered with an error status"),
    ENDPOINT_DISABLED: _("The endpoint was paused"),
}

NAT64 = ipaddress.ip_network("64:ff9b::/96")
NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")
RESPONSE_BYTES_READ = 4096


class Refused(Exception):
    """The URL cannot be used now; `category` says why (one of the names above)."""

    def __init__(self, category: str):
        super().__init__(category)
        self.category = category


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str  # as written (IDNA-encoded), for the Host header and TLS
    port: int
    path: str  # path and query, never empty
    addresses: tuple[str, ...]  # checked, in the resolver's order


# --- the address policy ------------------------------------------------------------------------


@lru_cache(maxsize=8)
def _parse_networks(values: tuple[str, ...]):
    return tuple(ipaddress.ip_network(value.strip(), strict=False) for value in values if value)


def allowed_networks():
    return _parse_networks(tuple(getattr(settings, "WEBHOOK_ALLOWED_NETWORKS", ()) or ()))


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in NAT64 or address in NAT64_LOCAL:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]  # the client behind the relay
    return None


def is_public(address) -> bool:
    """Globally routable unicast, and nothing internal hidden inside an IPv6 form."""
    if isinstance(address, ipaddress.IPv6Address):
        inner = _embedded_ipv4(address)
        if inner is not None and not is_public(inner):
            return False
        if address.is_site_local:
            return False
    return address.is_global and not (
        address.is_multicast
        or address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_reserved
        or address.is_unspecified
    )


def is_allowed(address) -> bool:
    allowed = allowed_networks()
    candidates = [address]
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        candidates.append(address.ipv4_mapped)
    for candidate in candidates:
        if any(candidate.version == net.version and candidate in net for net in allowed):
            return True
    return is_public(address)


# --- resolving ---------------------------------------------------------------------------------


def _split(url: str):
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise Refused(INVALID_URL) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Refused(INVALID_URL)
    if parts.username is not None or parts.password is not None:
        raise Refused(INVALID_URL)  # credentials in a URL end up in logs
    try:
        host = parts.hostname.encode("idna").decode("ascii")
    except UnicodeError:
        raise Refused(INVALID_URL) from None
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return parts.scheme, host, port or (443 if parts.scheme == "https" else 80), path


def getaddrinfo(host, port):
    """The resolver (tests replace it to play a DNS server)."""
    return socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)


def resolve(url: str) -> Target:
    """Resolve the URL's host and check every address; raise Refused if any is not allowed."""
    scheme, host, port, path = _split(url)
    try:
        infos = getaddrinfo(host, port)
    except (OSError, UnicodeError):
        raise Refused(DNS_FAILED) from None
    addresses = []
    for _family, _type, _proto, _name, sockaddr in infos:
        try:
            address = ipaddress.ip_address(sockaddr[0].split("%", 1)[0])
        except ValueError:
            raise Refused(ADDRESS_REFUSED) from None
        if not is_allowed(address):
            raise Refused(ADDRESS_REFUSED)
        if str(address) not in addresses:
            addresses.append(str(address))
    if not addresses:
        raise Refused(DNS_FAILED)
    return Target(scheme, host, port, path, tuple(addresses))


# --- sending -----------------------------------------------------------------------------------


def _connect(target: Target, timeout: float) -> socket.socket:
    timed_out = False
    for address in target.addresses:
        try:
            return socket.create_connection((address, target.port), timeout=timeout)
        except TimeoutError:
            timed_out = True
        except OSError:
            continue
    raise Refused(TIMEOUT if timed_out else CONNECT_FAILED)


def post(target: Target, body: bytes, headers: dict, timeout: float) -> int:
    """POST `body` to the checked addresses of `target`; the response's status code.
    Raises Refused with a category for anything but an HTTP answer."""
    sock = _connect(target, timeout)
    try:
        if target.scheme == "https":
            try:
                sock = ssl.create_default_context().wrap_socket(sock, server_hostname=target.host)
            except TimeoutError:
                raise Refused(TIMEOUT) from None
            except (ssl.SSLError, ssl.CertificateError, OSError):
                raise Refused(TLS_FAILED) from None
        connection = http.client.HTTPConnection(target.host, target.port, timeout=timeout)
        connection.sock = sock
        try:
            connection.request("POST", target.path, body=body, headers=headers)
            response = connection.getresponse()
            response.read(RESPONSE_BYTES_READ)
            return response.status
        except TimeoutError:
            raise Refused(TIMEOUT) from None
        except (http.client.HTTPException, ValueError):
            raise Refused(BAD_RESPONSE) from None
        except OSError:
            raise Refused(CONNECT_FAILED) from None
        finally:
            connection.close()
    finally:
        sock.close()
