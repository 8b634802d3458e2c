"""axe-core finds no WCAG 2.1 A/AA violation on any page kind, at 390 px and at 1280 px (issue #14).

axe-core is vendored for the tests only (tests/browser/vendor, MPL-2.0, pinned by its SHA-256) and injected
into each loaded page with Selenium; the application never serves it.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from tests.browser.pages import WIDTHS, open_page, page_kinds, set_width

VENDOR = Path(__file__).resolve().parent / "vendor"
AXE = VENDOR / "axe.min.js"
AXE_SHA256 = "29348999450cdf2849a8e70b7912fc2da85a849da39c0d0d5394f51d4a9ed95c"  # axe-core 4.14.1
WCAG21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

RUN_AXE = """
const done = arguments[arguments.length - 1];
axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}, resultTypes: ['violations']})
  .then(r => done({version: axe.version, violations: r.violations.map(v => ({
      id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.slice(0, 3).map(n => n.target.join(' ') + ' — ' + (n.failureSummary || '').slice(0, 160))}))}))
  .catch(e => done({error: String(e)}));
"""


@pytest.fixture(scope="module")
def pages(live_server):
    return page_kinds(live_server["app"])


@pytest.fixture(scope="module")
def axe_source() -> str:
    data = AXE.read_bytes()
    assert hashlib.sha256(data).hexdigest() == AXE_SHA256, "tests/browser/vendor/axe.min.js is not the pinned file"
    assert (VENDOR / "LICENSE").read_text(encoding="utf-8").startswith("Mozilla Public License")
    return data.decode("utf-8")


def test_the_app_does_not_serve_axe(live_server):
    client = live_server["app"].test_client()
    assert client.get("/static/axe.min.js").status_code == 404


@pytest.mark.parametrize("width_name", list(WIDTHS))
def test_no_wcag21_aa_violations(live_server, driver, pages, axe_source, width_name):
    width = WIDTHS[width_name]
    set_width(driver, width)
    driver.set_script_timeout(120)
    problems = []
    for page in pages:
        open_page(driver, live_server["base"], page)
        driver.execute_script(axe_source)
        outcome = driver.execute_async_script(RUN_AXE, WCAG21_AA)
        assert outcome.get("version") == "4.14.1", outcome
        for v in outcome["violations"]:
            problems.append(f"{page.name} @ {width}px: {v['id']} ({v['impact']}): {v['help']}; {v['nodes']}")
    assert not problems, "\n".join(problems)
