"""Settings: one frozen object read from the environment (documented in README.md)."""

from __future__ import annotations

import ipaddress
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import quote, urlencode, urlsplit

from forum.topics.urls import canonical_url

PLAN_CACHE_MODES = ("force_generic_plan", "auto", "force_custom_plan")  # PostgreSQL's own values


class SettingsError(ValueError):
    """A setting has a value that cannot be used."""


def _bool(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off", ""):
        return False
    raise SettingsError(f"{name} must be on/off, got {raw!r}")


def _int(name: str, raw: str, minimum: int = 0) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, got {raw!r}") from None
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, got {value}")
    return value


def _float(name: str, raw: str, minimum: float = 0.0) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number, got {raw!r}") from None
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, got {value}")
    return value


def _rate_factor(raw: str) -> float:
    """`on` (1.0), `off` (0.0: no limits) or a multiplier such as `100` (limits 100x looser)."""
    value = raw.strip().lower()
    if value in ("on", "true", "1", ""):
        return 1.0
    if value in ("off", "false", "0"):
        return 0.0
    factor = _float("FORUM_RATE_LIMITS", value)
    if factor <= 0:
        raise SettingsError("FORUM_RATE_LIMITS must be on, off or a positive multiplier")
    return factor


def _networks(name: str, raw: str) -> tuple[str, ...]:
    """Comma-separated addresses and networks, each checked and written the canonical way
    (`10.0.0.7/8` becomes `10.0.0.0/8`: uvicorn's proxy-header middleware reads networks strictly)."""
    found = []
    for item in (p.strip() for p in raw.split(",")):
        if not item:
            continue
        try:
            found.append(str(ipaddress.ip_network(item, strict=False)) if "/" in item
                         else str(ipaddress.ip_address(item)))
        except ValueError:
            raise SettingsError(f"{name}: {item!r} is not an IP address or network") from None
    return tuple(found)

# libpq's own variables (what docker-compose.yml passes): the DSN is built from them when
# DATABASE_URL is unset and PGHOST is set. Each part is URL-encoded, so any password works.
_PG_QUERY_VARIABLES = (("PGSSLMODE", "sslmode"), ("PGSSLROOTCERT", "sslrootcert"))


def dsn_from_pg_env(env: Mapping[str, str]) -> str | None:
    """A `postgresql://` DSN from PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE (and
    PGSSLMODE, PGSSLROOTCERT), or None when PGHOST is unset. A PGHOST starting with `/` is
    a Unix socket folder. Unset parts are left out (asyncpg then applies its defaults)."""
    host = (env.get("PGHOST") or "").strip()
    if not host:
        return None

    def part(name: str) -> str:
        return quote(env.get(name) or "", safe="")

    user, password, database = part("PGUSER"), part("PGPASSWORD"), part("PGDATABASE")
    port = (env.get("PGPORT") or "").strip()
    if port:
        _int("PGPORT", port, 1)
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    query = [f"{key}={quote(env[name], safe='')}" for name, key in _PG_QUERY_VARIABLES if env.get(name)]
    if host.startswith("/"):  # a socket folder (and its port) go in the query; the URL's host stays empty
        query[:0] = [f"host={quote(host, safe='/')}"] + ([f"port={port}"] if port else [])
        host = port = ""
    elif ":" in host and not host.startswith("["):  # an IPv6 address
        host = f"[{host}]"
    netloc = credentials + quote(host, safe=".-_[]:,") + (f":{port}" if port else "")
    return f"postgresql://{netloc}/{database}" + (f"?{'&'.join(query)}" if query else "")


@dataclass(frozen=True)
class Settings:
    # Unset (neither DATABASE_URL nor PGHOST): the embedded PostgreSQL in data_dir.
    database_url: str | None = field(default=None, repr=False)
    data_dir: Path = Path(".forum")
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(32), repr=False)
    secret_key_is_ephemeral: bool = True
    log_level: str = "INFO"
    log_format: str = "auto"  # json | text | auto (text on a terminal, JSON otherwise)
    cors_origins: tuple[str, ...] = ()
    db_pool_min: int = 2
    db_pool_max: int = 10
    db_statement_timeout_ms: int = 5000
    # PostgreSQL's plan_cache_mode for the pool's connections (forum/db.py says why)
    db_plan_cache_mode: str = "force_generic_plan"
    request_timeout_s: float = 15.0
    max_body_bytes: int = 64 * 1024
    metrics_enabled: bool = True
    metrics_token: str | None = field(default=None, repr=False)
    # 1.0 = production limits, 0.0 = no limits, N = every limit N times looser.
    rate_limit_factor: float = 1.0
    trusted_proxies: tuple[str, ...] = ()
    site_name: str = "forum"
    public_url: str = "http://localhost:8000"
    search_language: str = "english"
    smtp_url: str | None = field(default=None, repr=False)
    mail_from: str | None = None
    session_days: int = 30
    session_idle_days: int = 7
    cache_entries: int = 2000
    # privacy and availability (issue 14)
    erased_handle_hold_days: int = 90
    render_budget_s: float = 1.0
    render_workers: int = 1

    # On-call alert for urgent (crisis) items: a signed JSON POST through the outbox.
    urgent_webhook_url: str | None = field(default=None, repr=False)
    urgent_webhook_secret: str | None = field(default=None, repr=False)

    # Two-factor sign-in for staff in the console (issue 16): optional | required.
    staff_2fa: str = "optional"
    # the browser front end (forum/frontend): who may frame the comment widget (CSP
    # frame-ancestors; also the blogs whose articles get a thread on first sight, issue 18),
    # the guest proof-of-work challenge, threads made on first sight (default on when origins
    # are set), and the blog feed sync
    embed_origins: tuple[str, ...] = ()
    guest_challenge: bool = True
    auto_articles: bool = False
    blog_feed_url: str | None = None
    blog_feed_interval_s: int = 1800

    @property
    def rate_limits_on(self) -> bool:
        return self.rate_limit_factor > 0

    @property
    def mail_enabled(self) -> bool:
        return bool(self.smtp_url and self.mail_from)

    @property
    def urgent_webhook_enabled(self) -> bool:
        return bool(self.urgent_webhook_url and self.urgent_webhook_secret)

    def public_link(self, path: str, **query: str) -> str:
        """An absolute link for emails and pages: FORUM_PUBLIC_URL (which may end in a path
        prefix such as `/comments`) joined with `path` (`/reset`) and the query, encoded."""
        return public_link(self.public_url, path, **query)

    def with_overrides(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        get = env.get
        secret = get("FORUM_SECRET_KEY")
        kwargs: dict[str, object] = {
            "database_url": get("DATABASE_URL") or dsn_from_pg_env(env),
            "data_dir": Path(get("FORUM_DATA_DIR", ".forum")),
            "host": get("FORUM_HOST", "127.0.0.1"),
            "port": _int("FORUM_PORT", get("FORUM_PORT", "8000"), 1),
            "workers": _int("FORUM_WORKERS", get("FORUM_WORKERS", "1"), 1),
            "log_level": get("FORUM_LOG_LEVEL", "INFO").upper(),
            "log_format": get("FORUM_LOG_FORMAT", "auto").strip().lower() or "auto",
            "cors_origins": tuple(o.strip() for o in get("FORUM_CORS_ORIGINS", "").split(",") if o.strip()),
            "db_pool_min": _int("FORUM_DB_POOL_MIN", get("FORUM_DB_POOL_MIN", "2"), 1),
            "db_pool_max": _int("FORUM_DB_POOL_MAX", get("FORUM_DB_POOL_MAX", "10"), 1),
            "db_statement_timeout_ms": _int(
                "FORUM_DB_STATEMENT_TIMEOUT_MS", get("FORUM_DB_STATEMENT_TIMEOUT_MS", "5000"), 100
            ),
            "db_plan_cache_mode": get("FORUM_DB_PLAN_CACHE_MODE", "force_generic_plan").strip().lower()
            or "force_generic_plan",
            "request_timeout_s": _float("FORUM_REQUEST_TIMEOUT", get("FORUM_REQUEST_TIMEOUT", "15"), 0.5),
            "max_body_bytes": _int("FORUM_MAX_BODY_BYTES", get("FORUM_MAX_BODY_BYTES", str(64 * 1024)), 1024),
            "metrics_enabled": _bool("FORUM_METRICS", get("FORUM_METRICS", "on")),
            "metrics_token": get("FORUM_METRICS_TOKEN") or None,
            "rate_limit_factor": _rate_factor(get("FORUM_RATE_LIMITS", "on")),
            "trusted_proxies": _networks("FORUM_TRUSTED_PROXIES", get("FORUM_TRUSTED_PROXIES", "")),
            "site_name": get("FORUM_SITE_NAME", "forum"),
            "public_url": get("FORUM_PUBLIC_URL", "http://localhost:8000").rstrip("/"),
            "search_language": get("FORUM_SEARCH_LANGUAGE", "english"),
            "smtp_url": get("FORUM_SMTP_URL") or None,
            "mail_from": get("FORUM_MAIL_FROM") or None,
            "session_days": _int("FORUM_SESSION_DAYS", get("FORUM_SESSION_DAYS", "30"), 1),
            "session_idle_days": _int("FORUM_SESSION_IDLE_DAYS", get("FORUM_SESSION_IDLE_DAYS", "7"), 1),
            "cache_entries": _int("FORUM_CACHE_ENTRIES", get("FORUM_CACHE_ENTRIES", "2000"), 0),
            "erased_handle_hold_days": _int("FORUM_ERASED_HANDLE_HOLD_DAYS",
                                            get("FORUM_ERASED_HANDLE_HOLD_DAYS", "90"), 0),
            "render_budget_s": _int("FORUM_RENDER_BUDGET_MS", get("FORUM_RENDER_BUDGET_MS", "1000"), 50) / 1000,
            "render_workers": _int("FORUM_RENDER_WORKERS", get("FORUM_RENDER_WORKERS", "1"), 0),

            "urgent_webhook_url": get("FORUM_URGENT_WEBHOOK_URL") or None,
            "urgent_webhook_secret": get("FORUM_URGENT_WEBHOOK_SECRET") or None,
            "staff_2fa": get("FORUM_STAFF_2FA", "optional").strip().lower() or "optional",
            "embed_origins": _origins("FORUM_EMBED_ORIGINS", get("FORUM_EMBED_ORIGINS", "")),
            "guest_challenge": _bool("FORUM_GUEST_CHALLENGE", get("FORUM_GUEST_CHALLENGE", "on")),
        }
        kwargs["auto_articles"] = _bool("FORUM_AUTO_ARTICLES", get(
            "FORUM_AUTO_ARTICLES", "on" if kwargs["embed_origins"] else "off"))
        kwargs["blog_feed_url"] = _feed_url(get("FORUM_BLOG_FEED_URL", ""))
        kwargs["blog_feed_interval_s"] = _int("FORUM_BLOG_FEED_INTERVAL", get("FORUM_BLOG_FEED_INTERVAL", "1800"), 60)
        if secret:
            kwargs["secret_key"] = secret
            kwargs["secret_key_is_ephemeral"] = False
        settings = cls(**kwargs)  # type: ignore[arg-type]
        if settings.db_pool_min > settings.db_pool_max:
            raise SettingsError("FORUM_DB_POOL_MIN must not exceed FORUM_DB_POOL_MAX")
        if settings.log_format not in ("auto", "json", "text"):
            raise SettingsError(f"FORUM_LOG_FORMAT must be json, text or auto, got {settings.log_format!r}")
        if settings.log_level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
            raise SettingsError(f"FORUM_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, got {settings.log_level!r}")
        if not settings.search_language.isidentifier():
            raise SettingsError("FORUM_SEARCH_LANGUAGE must be a PostgreSQL text search configuration name")
        _check_urgent_webhook(settings)
        if settings.db_plan_cache_mode not in PLAN_CACHE_MODES:
            raise SettingsError(f"FORUM_DB_PLAN_CACHE_MODE must be one of {', '.join(PLAN_CACHE_MODES)},"
                                f" got {settings.db_plan_cache_mode!r}")
        if settings.staff_2fa not in ("optional", "required"):
            raise SettingsError(f"FORUM_STAFF_2FA must be optional or required, got {settings.staff_2fa!r}")
        return settings


def origin_of(url: str) -> str:
    """`scheme://host[:port]` of an address (canonical form: forum/topics/urls.py);
    ValueError when it is not an http(s) address."""
    parts = urlsplit(canonical_url(url))
    return f"{parts.scheme}://{parts.netloc}"


def _origins(name: str, raw: str) -> tuple[str, ...]:
    """Comma-separated origins (`https://blog.example`), each in canonical form; a path,
    query or fragment is refused (an origin is scheme, host and port only)."""
    found: list[str] = []
    for item in (p.strip() for p in raw.split(",")):
        if not item:
            continue
        try:
            origin = origin_of(item)
        except ValueError as exc:
            raise SettingsError(f"{name}: {item!r} is not an http(s) origin ({exc})") from None
        parts = urlsplit(item)
        if parts.path.strip("/") or parts.query or parts.fragment:
            raise SettingsError(f"{name}: {item!r} is not an origin (scheme and host only, no path)")
        if origin not in found:
            found.append(origin)
    return tuple(found)


def _feed_url(raw: str) -> str | None:
    url = raw.strip()
    if not url:
        return None
    if not url.lower().startswith(("https://", "http://")):
        raise SettingsError("FORUM_BLOG_FEED_URL must be an http:// or https:// URL")
    return url


def public_link(base: str, path: str, **query: str) -> str:
    """`base` (no trailing slash needed) + `/path` + `?query`: one join for every link."""
    link = base.rstrip("/") + "/" + path.lstrip("/")
    return f"{link}?{urlencode(query)}" if query else link


def _check_urgent_webhook(settings: Settings) -> None:
    """The on-call webhook needs an http(s) URL and its own shared secret (never derived from
    FORUM_SECRET_KEY: the receiver holds it, and it must not open anything else)."""
    url, secret = settings.urgent_webhook_url, settings.urgent_webhook_secret
    if url is None:
        return
    if not url.lower().startswith(("https://", "http://")):
        raise SettingsError("FORUM_URGENT_WEBHOOK_URL must be an http:// or https:// URL")
    if not secret or len(secret) < 16:
        raise SettingsError("FORUM_URGENT_WEBHOOK_SECRET (at least 16 characters) is required with"
                            " FORUM_URGENT_WEBHOOK_URL: the receiver checks the signature with it")
