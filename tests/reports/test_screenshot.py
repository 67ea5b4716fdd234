"""/reports/ in headless chromium: the SVG charts render with real shapes (not a golden image)."""

import pytest

from apportionment import publishing
from tests.apportionment.helpers import approved_claim, bulk_members, run_all_chunks
from tests.browser import browser_page
from tests.conftest import ARTIFACTS
from tests.factories import PoolFactory


@pytest.mark.browser
def test_reports_page_renders_its_charts(live_server, transactional_db):
    pool = PoolFactory(annual_cap_cents=10**9)
    bulk_members(pool, 20)
    for payout in (4_000, 9_000, 6_000):
        approved_claim(pool, payout)
        run_all_chunks(publishing.start_batch(pool))
    with browser_page() as page:
        page.goto(f"{live_server.url}/reports/")
        bars = page.locator("svg.chart").first.locator("rect")  # the share per batch
        assert bars.count() == 3
        # The forecast error: the second and third batches had a forecast (from the first's and
        # the second's publication).
        assert page.locator("svg.chart").nth(2).locator("rect").count() == 2
        heights = [float(bars.nth(i).get_attribute("height")) for i in range(3)]
        assert all(h > 0 for h in heights) and len(set(heights)) == 3
        box = page.locator("svg.chart").first.bounding_box()
        assert box["width"] > 200 and box["height"] > 50
        assert page.locator("svg.chart path").first.get_attribute("d").startswith("M")
        shot = ARTIFACTS / "reports-screenshot.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 5_000
