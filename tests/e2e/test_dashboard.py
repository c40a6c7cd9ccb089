"""The dashboard in a real browser (Debian's Chromium driven by Playwright) against `make run`'s stack:
log in as the demo user, the chain fills and prices move live, switching product switches
everything, the charts are drawn, and the console stays clean. Screenshots go to build/screenshots."""

from __future__ import annotations

import os
import shutil
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from devstack.__main__ import DEMO_EMAIL, DEMO_PASSWORD, ROOT
from devstack.process import CHROMIUM_ARGS, Stack, running

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = ROOT / "build" / "screenshots"

pytestmark = [
    pytest.mark.e2e,
    # CI installs it (.ci/run): there a missing browser fails the test instead of skipping it.
    pytest.mark.skipif(
        not Path(CHROMIUM).exists() and not os.environ.get("CI"),
        reason="no Chromium (apt-get install chromium)",
    ),
]

# Canvases with at least one painted pixel, by the panel they are in.
PAINTED = """() => [...document.querySelectorAll('canvas')].map((c) => {
  const panel = c.closest('section[aria-label]')?.getAttribute('aria-label') ?? '';
  if (!c.width || !c.height) return [panel, false];
  const pixels = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  for (let i = 3; i < pixels.length; i += 4) if (pixels[i]) return [panel, true];
  return [panel, false];
})"""


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    state = tmp_path_factory.mktemp("dashboard")
    with running(state, ("Products=NIFTY,SPY", "TickInterval=0.5", "ChainEvery=2")) as up:
        yield up


def test_a_trader_logs_in_and_watches_the_market_live(stack: Stack) -> None:
    from playwright.sync_api import ConsoleMessage, expect, sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=list(CHROMIUM_ARGS))
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 1800})

            def on_console(message: ConsoleMessage) -> None:
                if message.type == "error":
                    problems.append(f"console: {message.text}")

            page.on("console", on_console)
            page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
            page.on("requestfailed", lambda request: problems.append(f"request failed: {request.url}"))

            page.goto(stack.dashboard)
            page.get_by_label("Email").fill(DEMO_EMAIL)
            page.get_by_label("Password").fill(DEMO_PASSWORD)
            page.get_by_role("button", name="Sign in").click()

            rows = page.locator("[data-testid=chain-table] tbody tr")
            expect(rows.first).to_be_visible(timeout=30_000)
            assert rows.count() >= 20  # 41 strikes a side for NIFTY
            expect(page.locator("tr.atm")).to_have_count(1)
            expect(page.get_by_test_id("status")).to_contain_text("live", timeout=10_000)

            spot = page.get_by_test_id("spot")
            first_tick = int(spot.get_attribute("data-tick") or "0")
            page.wait_for_function(
                f"() => Number(document.querySelector('[data-testid=spot]').dataset.tick) > {first_tick}",
                timeout=5_000,
            )  # a live price update within 5 s
            assert 1_000 < float(spot.inner_text().replace(",", "")) < 100_000  # NIFTY's level
            page.wait_for_timeout(1_500)  # let the candles and charts take a few updates
            painted = dict(page.evaluate(PAINTED))
            for panel in (
                "Price",
                "Open interest",
                "IV smile",
                "Volatility surface",
                "Call OI heatmap",
                "Put OI heatmap",
            ):
                assert painted.get(panel), f"{panel}: nothing drawn ({painted})"
            metric = page.locator("[data-metric='Max pain']")
            assert metric.inner_text().replace(",", "").isdigit()
            page.screenshot(path=SCREENSHOTS / "dashboard-nifty.png", full_page=True)

            header = page.locator("[data-testid=chain-table] thead tr").nth(1)
            expect(header).not_to_contain_text("Vega")
            page.get_by_label("Greeks").check()  # Greeks on demand, both sides
            expect(header.locator("th", has_text="Vega")).to_have_count(2)
            five = page.get_by_role("button", name="5m", exact=True)
            five.click()  # 5-minute candles
            expect(five).to_have_attribute("aria-pressed", "true")
            page.wait_for_timeout(500)
            assert dict(page.evaluate(PAINTED)).get("Price")

            # the gateway drops the connection (as API Gateway does at 2 h): the page reconnects,
            # resubscribes, and the updates keep coming
            status = page.get_by_test_id("status")
            dropped = status.get_attribute("data-connection")
            assert dropped
            management = (
                f"http://127.0.0.1:{stack.ws_port}/dev/@connections/{urllib.parse.quote(dropped, safe='')}"
            )
            urllib.request.urlopen(urllib.request.Request(management, method="DELETE"), timeout=10).close()
            page.wait_for_function(
                "(old) => { const s = document.querySelector('[data-testid=status]');"
                " return s.classList.contains('live') && s.dataset.connection"
                " && s.dataset.connection !== old }",
                arg=dropped,
                timeout=15_000,
            )
            resumed = int(page.get_by_test_id("chain-table").get_attribute("data-tick") or "0")
            page.wait_for_function(  # chain updates come only to the chain's room: resubscribed
                f"() => Number(document.querySelector('[data-testid=chain-table]').dataset.tick) > {resumed}",
                timeout=10_000,
            )

            page.get_by_label("Product", exact=True).select_option("SPY")
            page.wait_for_function(
                "() => { const s = document.querySelector('[data-testid=spot]');"
                " const row = document.querySelector('tr.atm');"
                " return s && row && Number(s.textContent.replace(/,/g, '')) < 5000"
                " && Number(row.dataset.strike) < 5000 }",
                timeout=15_000,
            )  # the price and the chain are SPY's now
            assert "product=SPY" in page.url
            page.wait_for_timeout(1_000)
            page.screenshot(path=SCREENSHOTS / "dashboard-spy.png", full_page=True)
            assert dict(page.evaluate(PAINTED)).get("Open interest")
        finally:
            browser.close()
    assert problems == []


def test_a_newcomer_registers_signs_out_and_a_wrong_password_is_refused_clearly(stack: Stack) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=list(CHROMIUM_ARGS))
        try:
            page = browser.new_page()
            page.goto(stack.dashboard)
            page.get_by_role("button", name="New here? Create an account").click()
            page.get_by_label("Name").fill("Ada Trader")
            page.get_by_label("Email").fill("ada@deltastream.dev")
            page.get_by_label("Password").fill("short")
            page.get_by_role("button", name="Create account").click()
            assert page.get_by_label("Password").evaluate("e => e.validity.tooShort")  # the form wants 10+
            assert page.locator(".user").count() == 0  # not sent: still on the form

            page.get_by_label("Password").fill("ada-Password-2026")
            page.get_by_role("button", name="Create account").click()
            expect(page.locator(".user")).to_have_text("Ada Trader", timeout=15_000)
            expect(page.locator("[data-testid=chain-table] tbody tr").first).to_be_visible(timeout=30_000)

            page.get_by_role("button", name="Sign out").click()
            page.get_by_label("Email").fill("ada@deltastream.dev")
            page.get_by_label("Password").fill("not-the-Password-1")
            page.get_by_role("button", name="Sign in").click()
            expect(page.get_by_role("alert")).to_contain_text("nvalid", timeout=10_000)
            expect(page.get_by_role("button", name="Sign in")).to_be_visible()  # still on the sign-in form
        finally:
            browser.close()
