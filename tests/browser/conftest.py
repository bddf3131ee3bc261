"""Browser tests: Playwright driving Debian's Chromium (/usr/bin/chromium, never a browser
that Playwright downloads) against real server processes.

- `forum_server`: `python -m forum serve` on a free port, on the session's test database,
  reached as http://localhost:PORT; `FORUM_EMBED_ORIGINS` is the host site's origin.
- `host_site`: a tiny static server on http://127.0.0.1:PORT2 standing in for the blog (a
  different origin from the forum); `host_site.add(name, html)` publishes a page.
- `browser` (session) and `context` (per test, with `context.requests`: every URL requested).
- `axe_scan(page, label)`: axe-core on the page and each of its frames; 0 serious/critical.
- `screenshots(page, name)`: 1280 px and 375 px screenshots into tests/browser/artifacts/.

Without /usr/bin/chromium the tests skip (apt-get install chromium); with
FORUM_REQUIRE_BROWSER=1 (set by .ci/run) that skip is a failure.

These tests do not use the `client` fixture (which empties the database after each test):
they make their own unique data through the server's API, and leave it for the session's
next TRUNCATE."""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.helpers import free_port

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
ROOT = Path(__file__).resolve().parents[2]
SERIOUS = ("serious", "critical")


def require_browser() -> None:
    """Skip (or, with FORUM_REQUIRE_BROWSER=1, fail) when the browser tests cannot run here."""
    problem = None
    if not CHROMIUM.exists():
        problem = "Chromium is not installed: apt-get install -y chromium"
    else:
        try:
            import axe_playwright_python  # noqa: F401
            import playwright.async_api  # noqa: F401
        except ImportError:
            problem = "playwright / axe-playwright-python missing: pip install -e '.[test]'"
    if problem:
        if os.environ.get("FORUM_REQUIRE_BROWSER") == "1":
            pytest.fail(f"browser tests required (FORUM_REQUIRE_BROWSER=1): {problem}")
        pytest.skip(problem)


@dataclass
class HostSite:
    """The blog: static pages on another origin."""
    origin: str
    root: Path

    def add(self, name: str, html: str) -> str:
        (self.root / name).write_text(html, "utf-8")
        return f"{self.origin}/{name}"


@dataclass
class ForumServer:
    origin: str
    process: subprocess.Popen[bytes]
    log: Path
    env: dict[str, str] = field(default_factory=dict)

    def api(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.origin, headers=headers, timeout=30)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="session")
def host_site() -> Iterator[HostSite]:
    root = Path(tempfile.mkdtemp(prefix="forum-host-"))
    port = free_port()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port),
                                             functools.partial(_QuietHandler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield HostSite(f"http://127.0.0.1:{port}", root)
    finally:
        server.shutdown()
        server.server_close()


def start_forum(database_url: str, host_origin: str, **extra_env: str) -> ForumServer:
    """A `forum serve` process on a free port (the caller stops it with stop_forum)."""
    port = free_port()
    data_dir = Path(tempfile.mkdtemp(prefix="forum-browser-"))
    env = {**os.environ,
           "DATABASE_URL": database_url, "FORUM_HOST": "127.0.0.1", "FORUM_PORT": str(port),
           "FORUM_DATA_DIR": str(data_dir), "FORUM_SECRET_KEY": "browser-test-secret-key-not-for-production",
           "FORUM_RATE_LIMITS": "off", "FORUM_GUEST_CHALLENGE": "off", "FORUM_EMBED_ORIGINS": host_origin,
           "FORUM_PUBLIC_URL": f"http://localhost:{port}", "FORUM_LOG_LEVEL": "WARNING",
           "FORUM_LOG_FORMAT": "text", **extra_env}
    log = data_dir / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "forum", "serve"], env=env, cwd=ROOT,
                                   stdout=out, stderr=subprocess.STDOUT)
    origin = f"http://localhost:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"forum serve exited: {log.read_text(errors='replace')[-3000:]}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                return ForumServer(origin, process, log, env)
        time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"forum serve did not start: {log.read_text(errors='replace')[-3000:]}")


def stop_forum(server: ForumServer) -> None:
    server.process.terminate()
    try:
        server.process.wait(15)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait(5)


@pytest.fixture(scope="session")
def forum_server(migrated: str, host_site: HostSite) -> Iterator[ForumServer]:
    require_browser()
    server = start_forum(migrated, host_site.origin)
    try:
        yield server
    finally:
        stop_forum(server)


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Any]:
    require_browser()
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        chromium = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield chromium
        finally:
            await chromium.close()


@pytest.fixture
async def context(browser: Any) -> AsyncIterator[Any]:
    """A fresh browser context (own storage); `context.requests` lists every URL it asked for."""
    ctx = await browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    requests: list[str] = []
    ctx.on("request", lambda request: requests.append(request.url))
    ctx.requests = requests
    try:
        yield ctx
    finally:
        await ctx.close()


def assert_origins(requests: list[str], *origins: str) -> None:
    """Every request went to one of `origins` (data: and blob: URLs are local)."""
    strays = [u for u in requests if not u.startswith(("data:", "blob:", "about:"))
              and not any(u == o or u.startswith(o + "/") for o in origins)]
    assert not strays, f"requests to other origins: {strays}"


async def axe_scan(page: Any, label: str) -> dict[str, int]:
    """axe-core on the page and each frame; prints the counts, asserts 0 serious/critical."""
    from axe_playwright_python.async_playwright import Axe

    axe = Axe()
    counts: dict[str, int] = {}
    problems: list[str] = []
    for index, frame in enumerate(page.frames):
        if frame.url in ("", "about:blank"):
            continue
        results = await axe.run(frame)
        violations = results.response.get("violations", [])
        for v in violations:
            print(f"  axe frame {index}: {v['id']} ({v.get('impact')}): {v.get('help')}")
            counts[v.get("impact") or "unknown"] = counts.get(v.get("impact") or "unknown", 0) + 1
            if v.get("impact") in SERIOUS:
                targets = [n.get("target") for n in v.get("nodes", [])][:5]
                problems.append(f"frame {index} {v['id']} ({v['impact']}): {v.get('help')} {targets}")
    print(f"\naxe [{label}]: {sum(counts.values())} violations {counts or ''}")
    assert not problems, "axe serious/critical violations:\n" + "\n".join(problems)
    return counts


async def screenshots(page: Any, name: str) -> list[Path]:
    """Full-page screenshots at 1280 px and 375 px into tests/browser/artifacts/."""
    ARTIFACTS.mkdir(exist_ok=True)
    out = []
    original = page.viewport_size
    for width in (1280, 375):
        await page.set_viewport_size({"width": width, "height": 900})
        await page.wait_for_timeout(900)  # the frame reports its new height
        # a tall viewport rather than a full-page capture: Chromium paints a cross-origin
        # frame only where it is inside the viewport
        height = int(await page.evaluate("document.documentElement.scrollHeight"))
        await page.set_viewport_size({"width": width, "height": min(max(height, 600), 6000)})
        await page.evaluate("window.scrollTo(0, 0)")
        await page.wait_for_timeout(300)
        path = ARTIFACTS / f"{name}-{width}.png"
        await page.screenshot(path=str(path))
        out.append(path)
    if original:
        await page.set_viewport_size(original)
    return out


@pytest.fixture
async def page(context: Any) -> AsyncIterator[Any]:
    """A page of the test's context that keeps its script errors and console errors in
    `page.errors` (tests assert there are none)."""
    p = await context.new_page()
    errors: list[str] = []
    p.on("pageerror", lambda e: errors.append(str(e)))
    p.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    p.errors = errors
    yield p
    await p.close()
