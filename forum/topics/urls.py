"""One canonical form for an article's address, so one article never gets two threads.

Every place that stores or looks up a topic URL goes through `canonical_url`: topic
create and update, the lookup by URL, the comment counts, the WordPress and Disqus
imports (and the migration that canonicalised the URLs stored before). The rules:

- scheme and host in lower case; only http and https; user names and passwords dropped;
- the host in its ASCII form: an internationalised name becomes punycode (IDNA 2008 with
  UTS 46 mapping, as browsers do), a trailing dot goes;
- the default port (80 for http, 443 for https) dropped;
- the fragment dropped (`#comment-12` names a place on the page, not another page);
- tracking parameters dropped: `utm_*` and the click and mail identifiers in
  `TRACKING_PARAMETERS`; the remaining query parameters sorted (stable, by their text);
- the path: dot segments resolved, percent-escapes in one form (upper-case hex,
  unreserved characters decoded, other characters encoded as UTF-8), and no trailing
  slash except for the root: `https://blog.example/2024/05/post/` and
  `https://blog.example/2024/05/post` are the same article, `https://blog.example` is
  `https://blog.example/`.

The result is its own canonical form (`canonical_url(canonical_url(u)) == canonical_url(u)`).
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import unquote_plus, urlsplit, urlunsplit

import idna

URL_MAX = 2000
DEFAULT_PORTS = {"http": 80, "https": 443}
TRACKING_PREFIXES = ("utm_",)
TRACKING_PARAMETERS = frozenset({
    "fbclid", "gclid", "gclsrc", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid", "ttclid",
    "igshid", "li_fat_id", "mc_cid", "mc_eid", "mkt_tok", "_ga", "_gl", "_hsenc", "_hsmi", "__hstc",
    "__hssc", "__hsfp", "oly_anon_id", "oly_enc_id", "vero_id", "rb_clickid", "s_cid", "wickedid",
})

_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
# characters left as they are (besides unreserved ones and escapes): RFC 3986 sub-delims, ":" "@"
_PATH_SAFE = frozenset("!$&'()*+,;=:@/")
_QUERY_SAFE = _PATH_SAFE | frozenset("?")
_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
_ASCII_HOST = re.compile(r"^[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?)*$")


class InvalidUrl(ValueError):
    """Not an http(s) address this service can store (the message says why)."""


def _escapes(text: str, safe: frozenset[str]) -> str:
    """Percent-escapes in one form: unreserved characters decoded, other escapes upper
    case, every other character outside `safe` (spaces, non-ASCII, a lone %) encoded."""
    out: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "%" and _ESCAPE.match(text, i):
            byte = int(text[i + 1:i + 3], 16)
            decoded = chr(byte)
            out.append(decoded if byte < 128 and decoded in _UNRESERVED else f"%{byte:02X}")
            i += 3
            continue
        if ch in _UNRESERVED or ch in safe:
            out.append(ch)
        else:
            out.extend(f"%{b:02X}" for b in ch.encode("utf-8", "surrogatepass"))
        i += 1
    return "".join(out)


def _dot_segments(path: str) -> str:
    """RFC 3986 5.2.4: `/a/./b/../c` -> `/a/c`."""
    out: list[str] = []
    segments = path.split("/")
    for n, segment in enumerate(segments):
        last = n == len(segments) - 1
        if segment == ".":
            if last:
                out.append("")
        elif segment == "..":
            if len(out) > 1:
                out.pop()
            if last:
                out.append("")
        else:
            out.append(segment)
    return "/".join(out)


def _host(raw: str) -> str:
    host = raw.strip().rstrip(".")
    if not host:
        raise InvalidUrl("the address has no host")
    if ":" in host:  # an IPv6 literal (urlsplit removed its brackets)
        try:
            return f"[{ipaddress.IPv6Address(host).compressed}]"
        except ValueError:
            raise InvalidUrl("the host is not a valid IPv6 address") from None
    if not host.isascii():
        try:
            host = idna.encode(host, uts46=True).decode("ascii")
        except (idna.IDNAError, UnicodeError):
            raise InvalidUrl("the host is not a valid domain name") from None
    host = host.lower()
    if not _ASCII_HOST.match(host):
        raise InvalidUrl("the host is not a valid domain name")
    return host


def _tracking(name: str) -> bool:
    name = unquote_plus(name).strip().lower()
    return name in TRACKING_PARAMETERS or name.startswith(TRACKING_PREFIXES)


def canonical_url(url: str) -> str:
    """The canonical form of an http(s) address; InvalidUrl when it is not one."""
    url = url.strip()
    if not url or not url.isprintable():
        raise InvalidUrl("the address is empty or holds control characters")
    if len(url) > URL_MAX * 2:
        raise InvalidUrl(f"the address is longer than {URL_MAX} characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise InvalidUrl("the address cannot be read (bad host or port)") from None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise InvalidUrl("the address must start with http:// or https://")
    host = _host(parts.hostname or "")
    netloc = host if port is None or port == DEFAULT_PORTS[scheme] else f"{host}:{port}"
    path = _dot_segments(_escapes(parts.path or "/", _PATH_SAFE))
    if not path.startswith("/"):
        path = "/" + path
    path = path.rstrip("/") or "/"
    params = [_escapes(p, _QUERY_SAFE) for p in parts.query.split("&") if p]
    query = "&".join(sorted(p for p in params if not _tracking(p.split("=", 1)[0])))
    result = urlunsplit((scheme, netloc, path, query, ""))
    if len(result) > URL_MAX:
        raise InvalidUrl(f"the address is longer than {URL_MAX} characters")
    return result


def looks_like_url(value: str) -> bool:
    """Whether a topic reference (a slug or an address) is an address."""
    return value[:8].lower().startswith(("http://", "https://"))
