"""The dashboard in headless Chromium on ``make run``'s stack (``devstack.process``):

- **Page weight**: the built JS and CSS in ``web/dist`` (``make web``), raw and gzip-compressed (what
  CloudFront serves with compression on).
- **First chain render**: from the login button to the option chain drawn with data (the page's
  ``login-submit`` and ``first-chain`` performance marks), median of fresh browser contexts.
- **Smoothness**: with a chain update every second for every expiry (``ChainEvery=1``,
  ``TickInterval=1``), Long Tasks (main-thread tasks over 50 ms, the Long Tasks API) over a 30 s
  trace, and the p99 interval between animation frames.
"""

from __future__ import annotations

import gzip
import shutil
import statistics
import tempfile
from pathlib import Path
from typing import Any

from bench.config import Config, detail, heading
from bench.report import Check, Section

ROOT = Path(__file__).resolve().parents[1]
DIST = ROOT / "web" / "dist"
WEIGHT_TARGET_KB = 150.0  # JS + CSS, gzip
FIRST_CHAIN_TARGET_MS = 1_000.0

TRACE = """async (seconds) => {
  if (!PerformanceObserver.supportedEntryTypes.includes('longtask')) return null;  // no way to see them
  const tasks = [];
  new PerformanceObserver((list) => tasks.push(...list.getEntries().map((e) => e.duration)))
    .observe({ type: 'longtask', buffered: false });
  const frames = [];
  let last = performance.now();
  const end = last + seconds * 1000;
  await new Promise((done) => {
    const frame = (now) => {
      frames.push(now - last);
      last = now;
      now < end ? requestAnimationFrame(frame) : done();
    };
    requestAnimationFrame(frame);
  });
  const ticks = Number(document.querySelector('[data-testid=spot]').dataset.tick);
  return { tasks, frames, ticks };
}"""


def _weight() -> tuple[int, int]:
    files = [p for p in (DIST / "assets").iterdir() if p.suffix in (".js", ".css")]
    raw = sum(p.stat().st_size for p in files)
    compressed = sum(len(gzip.compress(p.read_bytes(), 6)) for p in files)
    return raw, compressed


def bench_dashboard(cfg: Config) -> Section:
    from playwright.sync_api import sync_playwright

    from devstack.__main__ import DEMO_EMAIL, DEMO_PASSWORD
    from devstack.process import CHROMIUM_ARGS, running
    from devstack.web import ensure_built

    heading("dashboard: headless Chromium on the local stack")
    chromium = shutil.which("chromium")
    if chromium is None or ensure_built(ROOT / "web") is None:
        detail("skipped: needs Debian's chromium and a built web/ (make web)")
        return Section("dashboard", [Check("dashboard", "skipped", "-", None)])
    raw, compressed = _weight()
    detail(f"JS + CSS: {raw / 1024:.0f} KB raw, {compressed / 1024:.1f} KB gzip")
    seconds = 10 if cfg.quick else 30
    overrides = ("Products=NIFTY,SPY", "TickInterval=1", "ChainEvery=1")
    with (
        tempfile.TemporaryDirectory() as state,
        running(Path(state), overrides) as stack,
        sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch(executable_path=chromium, args=list(CHROMIUM_ARGS))

        def signed_in() -> Any:
            """A fresh context (nothing cached but the HTTP cache's rules), logged in, chain shown."""
            page = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
            page.goto(stack.dashboard)
            page.get_by_label("Email").fill(DEMO_EMAIL)
            page.get_by_label("Password").fill(DEMO_PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_selector("tr.atm", timeout=30_000)
            return page

        firsts = []
        for _ in range(3 if cfg.quick else 5):
            page = signed_in()
            firsts.append(page.evaluate("performance.measure('m', 'login-submit', 'first-chain').duration"))
            page.context.close()
        page = signed_in()
        page.wait_for_timeout(2_000)
        start_tick = int(page.get_by_test_id("spot").get_attribute("data-tick") or "0")
        trace = page.evaluate(TRACE, seconds)
        browser.close()
    if trace is None:
        raise RuntimeError("this Chromium does not report Long Tasks: the smoothness check would be blind")
    first = statistics.median(firsts)
    tasks: list[float] = trace["tasks"]
    frames = sorted(trace["frames"])
    frame_p99 = frames[int(len(frames) * 0.99)] if frames else float("nan")
    updates = trace["ticks"] - start_tick
    each = ", ".join(f"{f:.0f}" for f in firsts)
    detail(f"first chain render after login: median {first:.0f} ms of {len(firsts)} ({each})")
    detail(
        f"{seconds} s trace ({updates} ticks, a chain a second per expiry): {len(tasks)} long tasks"
        f"{f' (max {max(tasks):.0f} ms)' if tasks else ''}; {len(frames)} frames, "
        f"p99 interval {frame_p99:.1f} ms"
    )
    return Section(
        "dashboard",
        [
            Check(
                "JS + CSS (gzip)",
                f"{compressed / 1024:.1f} KB",
                f"≤ {WEIGHT_TARGET_KB:.0f} KB",
                compressed / 1024 <= WEIGHT_TARGET_KB,
            ),
            Check(
                "first chain render",
                f"{first:.0f} ms",
                f"≤ {FIRST_CHAIN_TARGET_MS:.0f} ms",
                first <= FIRST_CHAIN_TARGET_MS,
            ),
            Check(f"long tasks in {seconds} s", str(len(tasks)), "0 (none ≥ 50 ms)", not tasks),
            Check("frame interval p99", f"{frame_p99:.1f} ms", "-", None),
        ],
    )
