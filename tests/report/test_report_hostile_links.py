"""Hostile signed-link queries on the call page: digits that are not ASCII ('²', '١٢٣', '٣'), signs and
spaces get the small 403 page, never a server error."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from blueprints.api import create_api
from shared.report.access import REPORT_PATH
from tests.report.support import report_settings, seed


@pytest.mark.parametrize("expires", ["²", "²³⁴", "١٢٣٤٥٦٧٨٩٠", "𝟗𝟗𝟗", "+1", " 1", "1e9", "-5"])
async def test_odd_expiry_values_are_403_not_500(tmp_path: Path, expires: str) -> None:
    settings = report_settings(tmp_path)
    calls = await seed(settings)
    app = create_api(settings)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
            page = await http.get(
                f"{REPORT_PATH}/{calls[0].call_id}", params={"expires": expires, "sig": "ab"}
            )
    finally:
        await app.state.services.aclose()
    assert page.status_code == 403
