"""The admin key opens the report but is never written into its pages: links and forms carry a signed,
expiring view token instead, which opens the list and the call pages until it expires."""

from __future__ import annotations

import html
import re
import time
from pathlib import Path

import httpx

from blueprints.api import create_api
from shared.report.access import REPORT_PATH, view_token
from tests.report.support import KEY, report_settings, seed

HREF = re.compile(r'href="([^"]+)"')


async def test_no_page_carries_the_admin_key_and_the_view_token_works(tmp_path: Path) -> None:
    settings = report_settings(tmp_path)
    calls = await seed(settings)
    app = create_api(settings)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
            listing = await http.get(REPORT_PATH, params={"key": KEY, "limit": "1"})
            call_page = await http.get(f"{REPORT_PATH}/{calls[0].call_id}", params={"key": KEY})
            assert listing.status_code == call_page.status_code == 200
            assert KEY not in listing.text and KEY not in call_page.text
            links = [html.unescape(h) for h in HREF.findall(listing.text + call_page.text)]
            carried = [link for link in links if "key=" in link]
            assert carried, "the pages link on with the admin's access"
            for link in carried:  # the token lets the admin in (a recording may still be missing: 404)
                assert (await http.get(link)).status_code not in (401, 403), link
            next_page = next(link for link in carried if link.startswith(REPORT_PATH + "?"))
            assert (await http.get(next_page)).status_code == 200
            forged = f"v1.{int(time.time()) + 3600}.{'0' * 64}"
            expired = view_token(settings, now=time.time() - 13 * 3600)
            for token in (forged, expired):
                assert (await http.get(REPORT_PATH, params={"key": token})).status_code == 401
    finally:
        await app.state.services.aclose()
