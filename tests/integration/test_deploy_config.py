"""The deployment files, checked without a Docker engine: docker-compose.yml, the
Dockerfile and .dockerignore as written, and a database password with `@`, `/` and `#`
supplied exactly as docker-compose.yml supplies it.

What the password tests prove (and what they do not):
- `test_compose_password_over_tcp` takes the app service's environment from
  docker-compose.yml (POSTGRES_PASSWORD interpolated as compose does), points PGHOST/
  PGDATABASE at this machine's PostgreSQL (127.0.0.1:5432; skipped when it is not there),
  builds the settings from it and connects over TCP as a new role whose password is
  `p@ss/w#rd`. That server trusts 127.0.0.1, so it does not check passwords: the test
  also checks that the password the connection carried verifies against the role's
  SCRAM-SHA-256 verifier stored by PostgreSQL (the check scram-sha-256 auth makes), and
  that a wrong one does not.
- `test_password_auth_is_enforced_on_the_embedded_server` makes PostgreSQL itself check
  the password: a pg_hba.conf line for the new role only (scram-sha-256, Unix socket) on
  the test suite's own embedded server; the right password connects, a wrong one is refused.
- Neither runs the containers: the service names (`db`), the image build and the
  healthcheck commands are not exercised here.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import os
import re
import uuid
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import asyncpg
import pytest
import yaml

from forum.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "p@ss/w#rd"
LOCAL_PG = os.environ.get("FORUM_TEST_LOCAL_PG", "postgresql://postgres@127.0.0.1:5432/postgres")

_VAR = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)")


def interpolate(value: Any, env: Mapping[str, str]) -> Any:
    """Compose's variable interpolation: $$, ${VAR}, $VAR, ${VAR:-default}, ${VAR-default},
    ${VAR:?error}, ${VAR?error}."""
    if isinstance(value, dict):
        return {k: interpolate(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, env) for v in value]
    if not isinstance(value, str):
        return value

    def one(m: re.Match[str]) -> str:
        if m.group(0) == "$$":
            return "$"
        name = m.group(1) or m.group(4)
        op, arg = m.group(2), m.group(3) or ""
        present = name in env and (env[name] != "" or not (op or "").startswith(":"))
        if op in (":-", "-"):
            return env[name] if present else arg
        if op in (":?", "?"):
            if not present:
                raise KeyError(f"{name}: {arg}")
            return env[name]
        return env.get(name, "")

    return _VAR.sub(one, value)


def compose(env: Mapping[str, str] | None = None) -> dict[str, Any]:
    env = {"POSTGRES_PASSWORD": PASSWORD, "FORUM_SECRET_KEY": "k" * 48} if env is None else env
    raw = yaml.safe_load((ROOT / "docker-compose.yml").read_text())  # merges the `<<:` keys
    return dict(interpolate(raw, env))


def service_env(service: str, env: Mapping[str, str] | None = None) -> dict[str, str]:
    return {k: str(v) for k, v in compose(env)["services"][service]["environment"].items()}


# ---------------------------------------------------------------- the files as written


def test_compose_refuses_to_start_without_the_secrets() -> None:
    with pytest.raises(KeyError, match="POSTGRES_PASSWORD"):
        compose({"FORUM_SECRET_KEY": "k"})
    with pytest.raises(KeyError, match="FORUM_SECRET_KEY"):
        compose({"POSTGRES_PASSWORD": "x"})


@pytest.mark.parametrize("service", ["app", "migrate"])
def test_the_database_comes_as_pg_variables_never_as_a_built_url(service: str) -> None:
    raw = (ROOT / "docker-compose.yml").read_text()
    assert "DATABASE_URL" not in raw
    env = service_env(service)
    assert env["PGPASSWORD"] == PASSWORD  # the value itself, never spliced into a URL
    assert env["PGHOST"] == "db" and env["PGUSER"] == "forum" and env["PGDATABASE"] == "forum"
    assert compose()["services"]["db"]["environment"]["POSTGRES_PASSWORD"] == PASSWORD


def test_published_ports_are_bound_to_loopback() -> None:
    services = compose()["services"]
    published = {name: s.get("ports", []) for name, s in services.items()}
    assert published["app"], "the app publishes its port"
    assert not published["db"], "the database publishes no port"
    for name, ports in published.items():
        for port in ports:
            spec = port if isinstance(port, str) else f"{port.get('host_ip', '')}:{port.get('published')}:"
            assert spec.startswith("127.0.0.1:"), f"{name} publishes {port!r} beyond this host"


def test_health_checks_use_the_apps_health_routes() -> None:
    services = compose()["services"]
    app_check = " ".join(services["app"]["healthcheck"]["test"])
    assert "http://127.0.0.1:8000/health/ready" in app_check
    assert "pg_isready" in " ".join(services["db"]["healthcheck"]["test"])
    assert services["app"]["depends_on"] == {
        "db": {"condition": "service_healthy"},
        "migrate": {"condition": "service_completed_successfully"},
    }
    dockerfile = (ROOT / "Dockerfile").read_text()
    healthcheck = dockerfile[dockerfile.index("HEALTHCHECK"):].split("\n\n")[0]
    assert "http://127.0.0.1:8000/health/live" in healthcheck


def _pinned(image: str) -> bool:
    """A digest, or a tag naming an exact release: `major.minor` for PostgreSQL (10 and
    later number releases so: `16.10-bookworm`), `major.minor.patch` for the rest
    (`3.11.14-slim-bookworm`, not the moving `3.11-slim`)."""
    if re.search(r"@sha256:[0-9a-f]{64}$", image):
        return True
    name, _, tag = image.rpartition(":") if ":" in image else (image, "", "")
    release = r"\d+\.\d+" if name.rsplit("/", 1)[-1] == "postgres" else r"\d+\.\d+\.\d+"
    return bool(re.match(rf"^{release}(-[\w.-]+)?$", tag))


def test_image_tags_are_pinned() -> None:
    assert _pinned("postgres:16.10-bookworm") and _pinned("python:3.11.14-slim-bookworm")
    assert not _pinned("postgres:16") and not _pinned("python:3.11-slim") and not _pinned("postgres:latest")
    assert not _pinned("postgres")
    images = [s["image"] for s in compose()["services"].values() if "image" in s]
    froms = re.findall(r"^FROM\s+(\S+)", (ROOT / "Dockerfile").read_text(), re.MULTILINE)
    assert froms and images
    for image in images + froms:
        assert _pinned(image), f"{image} is not pinned to an exact release or digest"


def test_the_image_installs_exactly_the_lock() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "pip install --require-hashes -r requirements.lock" in dockerfile
    assert "pip install --no-deps ." in dockerfile
    lock = (ROOT / "requirements.lock").read_text()
    names = re.findall(r"^([A-Za-z0-9._-]+)==", lock, re.MULTILINE)
    assert {"litestar", "piccolo", "asyncpg", "markdown-it-py"} <= set(names)
    for entry in re.split(r"\n(?=[A-Za-z0-9._-]+==)", lock):
        first = entry.splitlines()[0]
        if "==" in first:
            assert "--hash=sha256:" in entry, f"no hash for {first}"


def test_the_build_context_leaves_out_local_state_and_secrets() -> None:
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
               if line.strip() and not line.startswith("#")}
    for pattern in (".git", ".venv", ".forum", ".forum-*", "**/pgdata", "**/secret_key", ".env",
                    "**/__pycache__", ".pytest_cache", ".hypothesis"):
        assert pattern in ignored, pattern
    for needed in ("requirements.lock", "pyproject.toml", "README.md", "forum", "moderation", "migrations"):
        assert needed not in ignored, needed


# ---------------------------------------------------------------- the password, end to end


@contextlib.asynccontextmanager
async def role_with_password(admin_dsn: str) -> AsyncIterator[str]:
    role = f"forum_pw_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(admin_dsn)
    try:
        await admin.execute("SET password_encryption = 'scram-sha-256'")
        # CREATE ROLE takes no bind parameters: the password is quoted by PostgreSQL itself.
        literal = await admin.fetchval("SELECT quote_literal($1::text)", PASSWORD)
        await admin.execute(f'CREATE ROLE "{role}" LOGIN PASSWORD {literal}')
        try:
            yield role
        finally:
            await admin.execute(f'DROP ROLE IF EXISTS "{role}"')
    finally:
        await admin.close()


def scram_verifies(verifier: str, password: str) -> bool:
    """PostgreSQL's SCRAM-SHA-256 check of a password against a stored verifier
    (`SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`), as in RFC 5802."""
    method, rest = verifier.split("$", 1)
    assert method == "SCRAM-SHA-256"
    params, keys = rest.split("$")
    iterations, salt = params.split(":")
    stored_key = base64.b64decode(keys.split(":")[0])
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), base64.b64decode(salt), int(iterations))
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    return hmac.compare_digest(hashlib.sha256(client_key).digest(), stored_key)


async def _local_postgres() -> None:
    try:
        conn = await asyncpg.connect(LOCAL_PG, timeout=3)
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        pytest.skip(f"no local PostgreSQL at {LOCAL_PG} ({type(exc).__name__})")
    await conn.close()


async def test_compose_password_over_tcp() -> None:
    await _local_postgres()
    async with role_with_password(LOCAL_PG) as role:
        env = service_env("app")
        # Only the names that differ on this machine change: the host is not `db` here and
        # the database is the server's default one. The password stays as compose passes it.
        env.update(PGHOST="127.0.0.1", PGUSER=role, PGDATABASE="postgres")
        settings = Settings.from_env(env)
        assert settings.database_url is not None
        assert PASSWORD not in settings.database_url and PASSWORD not in repr(settings)

        conn = await asyncpg.connect(settings.database_url)
        try:
            assert await conn.fetchval("SELECT current_user") == role
            assert await conn.fetchval("SELECT inet_server_addr()::text") in ("127.0.0.1/32", "127.0.0.1")
            sent = conn._params.password  # what this connection offered to the server
        finally:
            await conn.close()

        admin = await asyncpg.connect(LOCAL_PG)
        try:
            verifier = await admin.fetchval("SELECT rolpassword FROM pg_authid WHERE rolname = $1", role)
        finally:
            await admin.close()
        assert sent == PASSWORD
        assert scram_verifies(verifier, sent)
        assert not scram_verifies(verifier, "p")  # what `postgresql://forum:p@ss/w#rd@db/forum` would send


def _embedded_socket(database_url: str) -> str | None:
    parts = urlsplit(database_url)
    host = parse_qs(parts.query).get("host", [""])[0]
    return host if host.startswith("/") else None


async def test_password_auth_is_enforced_on_the_embedded_server(database_url: str) -> None:
    socket_dir = _embedded_socket(database_url)
    if socket_dir is None:
        pytest.skip("DATABASE_URL is set: no embedded server whose pg_hba.conf the test may change")
    async with role_with_password(database_url) as role:
        admin = await asyncpg.connect(database_url)
        hba = Path(await admin.fetchval("SHOW hba_file"))
        original = await asyncio.to_thread(hba.read_text)
        try:
            # Only this role, only here: every other connection keeps the server's trust rule.
            await asyncio.to_thread(hba.write_text, f"local all {role} scram-sha-256\n{original}")
            assert await admin.fetchval("SELECT pg_reload_conf()")
            rules = await admin.fetch("SELECT user_name, auth_method FROM pg_hba_file_rules ORDER BY rule_number")
            assert (rules[0]["user_name"], rules[0]["auth_method"]) == ([role], "scram-sha-256")

            env = service_env("app")
            env.update(PGHOST=socket_dir, PGUSER=role, PGDATABASE="postgres")
            env.pop("PGPORT")
            dsn = Settings.from_env(env).database_url
            assert dsn is not None
            conn = await asyncpg.connect(dsn)
            assert await conn.fetchval("SELECT current_user") == role
            await conn.close()

            env["PGPASSWORD"] = "p@ss/w#rd-wrong"
            with pytest.raises(asyncpg.InvalidPasswordError):
                await asyncpg.connect(Settings.from_env(env).database_url)
        finally:
            await asyncio.to_thread(hba.write_text, original)
            await admin.fetchval("SELECT pg_reload_conf()")
            await admin.close()


def _locked(name: str) -> dict[str, str]:
    text = (ROOT / name).read_text()
    pins = re.findall(r"^([A-Za-z0-9._-]+)==([^\s;\\]+)", text, re.MULTILINE)
    return {name.lower().replace("_", "-"): version for name, version in pins}


@pytest.mark.parametrize(("lock", "groups"), [("requirements.lock", ()), ("requirements-test.lock", ("test",))])
def test_the_lock_files_match_pyproject(lock: str, groups: tuple[str, ...]) -> None:
    """Every dependency of pyproject.toml is locked at a version its bounds allow (a
    dependency changed without regenerating the locks fails here; README: Reproducible installs)."""
    import tomllib

    from packaging.requirements import Requirement

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = list(project["dependencies"]) + [d for g in groups for d in project["optional-dependencies"][g]]
    locked = _locked(lock)
    for line in wanted:
        req = Requirement(line)
        name = req.name.lower().replace("_", "-")
        assert name in locked, f"{req.name} is missing from {lock}"
        assert req.specifier.contains(locked[name], prereleases=True), f"{lock}: {name}=={locked[name]} outside {req}"
