"""The report command `make demo` prints opens the demo's call once `callcenter dev` runs on the demo's
data folder: the link is signed with the key kept in that folder, so it survives the demo's exit."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import httpx

from local.simulate import DEV_API_URL, _print_call
from shared.composition import build_store
from shared.models import Call, Message, Persona
from tests.stack import local_stack


def test_the_printed_report_command_opens_the_demo_call(tmp_path: Path) -> None:
    demo_data = tmp_path / "demo"
    call = Call(caller_phone="+33612345678")
    call.messages = [Message(persona=Persona.HUMAN, content="My car was damaged this morning.")]
    lines: list[str] = []
    with local_stack(demo_data) as demo:  # the demo's own stack, on free ports
        assert demo.settings is not None
        settings = demo.settings

        async def store_it() -> None:
            store = build_store(settings)
            try:
                await store.create(call)
            finally:
                await store.close()

        asyncio.run(store_it())
        _print_call(call, demo, lines.append, demo_data)
    printed = "\n".join(lines)
    assert f".venv/bin/callcenter dev --data {demo_data}" in printed
    match = re.search(r"then open\s+(\S+)", printed)
    assert match is not None, printed
    link = match.group(1)
    assert link.startswith(f"{DEV_API_URL}/api/report/{call.call_id}?expires=")
    with local_stack(demo_data) as dev:  # `callcenter dev --data <the demo folder>` (a free port here)
        page = httpx.get(dev.api_url + link.removeprefix(DEV_API_URL))
    assert page.status_code == 200, page.text
    assert "My car was damaged this morning." in page.text
