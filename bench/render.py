"""The widget's render time (issue 15): from the arrival of a 200-comment thread's data to the
commit of the render that shows it, in headless Chromium (Debian's /usr/bin/chromium, driven by
Playwright; never a browser Playwright downloads).

The widget marks both moments itself (`forum:thread-data` once the first page of comments has
arrived, `forum:thread-rendered` once the render showing it is committed, and the measure
`forum:thread-render` between them: forum/frontend/static/js/widget/main.js). Each run opens
/embed/thread?topic=SLUG in a fresh browser context and reads the measure, the number of
comments in the DOM, and, as the baseline beside it, the raw fetch of that page of comments
(the resource timing of GET /api/topics/SLUG/comments: request start to response end)."""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TARGET_MS = 150.0

_READ = """() => {
  const m = performance.getEntriesByName('forum:thread-render')[0];
  const fetches = performance.getEntriesByType('resource').filter((e) => /\\/comments\\?/.test(e.name));
  const f = fetches[0];
  return {render: m ? m.duration : null, fetch: f ? f.responseEnd - f.startTime : null,
          comments: document.querySelectorAll('.comment').length};
}"""


def unavailable() -> str | None:
    """Why the render bench cannot run here, or None."""
    if not CHROMIUM.exists():
        return "Chromium is not installed (apt-get install -y chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is missing (pip install -e '.[test]')"
    return None


def _wait(page: Any, timeout: float = 30.0) -> dict[str, Any]:
    """The figures once the widget has made its measure (polled: the page's CSP forbids the
    string evaluation that wait_for_function would use)."""
    deadline = time.monotonic() + timeout
    while True:
        got = dict(page.evaluate(_READ))
        if got["render"] is not None or time.monotonic() > deadline:
            return got
        page.wait_for_timeout(20)


def measure(base_url: str, slug: str, runs: int, expected: int = 200) -> dict[str, Any]:
    """`runs` loads of the thread; medians and the raw samples (milliseconds)."""
    from playwright.sync_api import sync_playwright

    url = f"{base_url}/embed/thread?topic={slug}&lang=en"
    renders: list[float] = []
    fetches: list[float] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            for i in range(runs + 1):  # the first load warms the server and the browser: not counted
                context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
                try:
                    page = context.new_page()
                    page.goto(url)
                    got = _wait(page)
                finally:
                    context.close()
                if got["comments"] != expected:
                    raise RuntimeError(f"the widget showed {got['comments']} comments, not {expected}")
                if got["render"] is None or got["fetch"] is None:
                    raise RuntimeError(f"a mark or the fetch timing is missing: {got}")
                if i:
                    renders.append(float(got["render"]))
                    fetches.append(float(got["fetch"]))
        finally:
            browser.close()
    return {"runs": runs, "comments": expected, "render_ms": statistics.median(renders),
            "render_max_ms": max(renders), "fetch_ms": statistics.median(fetches),
            "renders": renders, "fetches": fetches}
