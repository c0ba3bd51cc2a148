"""The local stack behind `callcenter dev`: the ACS simulator, the function app under uvicorn with the
Functions host stand-in (Event Grid webhook, timers) in front of it, all on loopback.

Usable in the foreground (`run_forever`) or started in a background thread by tests and the demo
(`with LocalStack(...) as stack:`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

from starlette.applications import Starlette
from starlette.routing import Mount

from blueprints import runtime
from local.acs_simulator import AcsSimulator
from local.durable_rpc import DEFAULT_TASK_HUB, client_binding, close_client_session, durable_routes
from local.functions_host import EVENT_GRID_PATH, FunctionsHost
from local.host_settings import HostIndexingError, HostSettings
from local.indexing import seed_demo_knowledge
from local.keys import KEYS_FILE, STATE_FILE, local_keys
from local.post_call import LocalPostCall
from local.softphone_view import softphone_view
from local.threaded_server import Background, ThreadedServer
from media_host.app import create_media_app
from shared.composition import Services, ServicesHolder, build_speech, build_store
from shared.jobs.base import MemoryJobQueue
from shared.mappings import deep_merge
from shared.models import Call
from shared.report.access import relative_report_link
from shared.settings import JobsBackend, Settings, load_settings
from shared.speech.base import SpeechEngines, SpeechError, TextToSpeech
from shared.store.base import CallStore

INCOMING_CALL = "Microsoft.Communication.IncomingCall"
SMS_RECEIVED = "Microsoft.Communication.SMSReceived"
RECORDING_FILE_STATUS_UPDATED = "Microsoft.Communication.RecordingFileStatusUpdated"
EVENT_GRID_FUNCTIONS = {
    INCOMING_CALL: "incoming_call",
    SMS_RECEIVED: "sms_received",
    RECORDING_FILE_STATUS_UPDATED: "recording_file_status",
}


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@dataclass
class LocalStack(Background):
    """The simulator + the function app on loopback, wired to each other."""

    api_port: int = 7071
    media_port: int = 8765
    simulator_port: int = 0  # 0: any free port (tests); `callcenter dev` uses a fixed one
    host: str = "127.0.0.1"
    data_dir: Path = Path(".data")
    speed: float = 1.0
    overrides: Mapping[str, Any] = field(default_factory=dict)
    app_settings: Mapping[str, str] = field(default_factory=dict)  # more app settings for the host stand-in
    speech: Callable[[Services], SpeechEngines] | None = None  # default: the local engines from settings
    simulator: AcsSimulator | None = None
    settings: Settings | None = None
    functions: FunctionsHost | None = None
    post_call: LocalPostCall | None = None  # the post-call orchestration runner, while the app runs
    _servers: list[ThreadedServer] = field(default_factory=list)
    _wiring: dict[str, Any] = field(default_factory=dict)  # the settings overrides in force
    _media_workers: subprocess.Popen[bytes] | None = None  # with media.workers > 1
    _softphone_store: CallStore | None = None
    _event_grid_key: str = field(default_factory=lambda: secrets.token_urlsafe(24))  # the host's system key
    _media_app: Any = None  # the in-process media host (for the softphone's interim transcript)

    @property
    def api_url(self) -> str:
        return f"http://{self.host}:{self.api_port}"

    @property
    def api_key(self) -> str:
        assert self.settings is not None and self.settings.api.key is not None
        return self.settings.api.key.get_secret_value()

    def event_grid_url(self, function_name: str) -> str:
        """The host's Event Grid webhook URL for one function, with the host's key."""
        return f"{self.api_url}{EVENT_GRID_PATH}?functionName={function_name}&code={self._event_grid_key}"

    def _configure(self) -> Settings:
        """Settings pointing the app at the simulator; explicit overrides and the environment win."""
        assert self.simulator is not None
        base = load_settings()
        simulator = self.simulator
        keys = local_keys(self.data_dir)  # stable across restarts: printed URLs keep working
        api_key = base.api.key.get_secret_value() if base.api.key else keys.api_key
        signing_key = (
            base.report.signing_key.get_secret_value() if base.report.signing_key else keys.report_signing_key
        )
        wiring: dict[str, Any] = {
            "api": {"public_url": self.api_url, "key": api_key},
            "report": {"signing_key": signing_key},
            "acs": {
                "endpoint": simulator.endpoint,
                "access_key": simulator.access_key,
                "phone_number": base.acs.phone_number,
                "callback_jwt": {
                    "issuer": simulator.issuer,
                    "audience": simulator.audience,
                    "jwks_url": simulator.jwks_url,
                },
            },
            "media": {"public_url": f"ws://{self.host}:{self.media_port}"},
            "store": {"sqlite": {"path": self.data_dir / "calls.sqlite3"}},
            "blobs": {"files_dir": self.data_dir / "blobs"},
            "search": {"sqlite": {"path": self.data_dir / "search.sqlite3"}},
        }
        self._wiring = deep_merge(wiring, dict(self.overrides))
        return load_settings(**self._wiring)

    def _build_app(self, settings: Settings) -> Starlette:
        """The function app behind the host stand-in, which first checks every binding as the host
        would (HostIndexingError: nothing starts)."""
        import function_app  # noqa: PLC0415 (after configure: the app reads the process's services)

        self.functions = FunctionsHost(
            function_app.app,
            HostSettings.from_environment(
                Path(os.environ.get("LOCAL_SETTINGS_PATH", "local.settings.json")), self.app_settings
            ),
            event_grid_key=self._event_grid_key,
        )
        functions = self.functions
        functions.check(in_process_queues=settings.jobs_backend is JobsBackend.MEMORY)

        @contextlib.asynccontextmanager
        async def lifespan(_app: Starlette) -> AsyncIterator[None]:
            holder = runtime.current()
            services = await holder.get()
            self.post_call = LocalPostCall(holder.get)  # the Durable extension's stand-in
            await self.post_call.start()
            jobs = services.jobs if isinstance(services.jobs, MemoryJobQueue) else None
            tasks = [
                asyncio.create_task(functions.run_timers(), name="functions-timers"),
                asyncio.create_task(
                    functions.run_queue_triggers(
                        durable=client_binding(
                            self.api_url, functions.settings.value("DURABLE_TASK_HUB") or DEFAULT_TASK_HUB
                        ),
                        jobs=jobs,
                    ),
                    name="functions-queues",
                ),
            ]
            try:
                yield
            finally:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
                runner, self.post_call = self.post_call, None
                await runner.aclose()
                await close_client_session()
                await holder.aclose()

        routes = [
            *functions.routes(),
            *durable_routes(lambda: self.post_call),
            Mount("/", app=function_app.api),
        ]
        return Starlette(routes=routes, lifespan=lifespan)

    def start(self, timeout: float = 20.0) -> Self:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        event_grid = {kind: self.event_grid_url(name) for kind, name in EVENT_GRID_FUNCTIONS.items()}
        self.simulator = AcsSimulator(
            event_grid_urls=event_grid,
            recordings_dir=self.data_dir / "recordings",
            speed=self.speed,
            port=self.simulator_port,
        ).start()
        self.settings = self._configure()
        asyncio.run(seed_demo_knowledge(self.settings))  # the demo company's documents, in an empty index
        self.simulator.config.softphone_to = self.settings.acs.phone_number
        self.simulator.config.softphone_events = self._softphone_call
        self.simulator.config.caller_voice = CallerVoice()
        runtime.configure(self.settings)
        try:
            app = self._build_app(self.settings)
        except HostIndexingError:
            self.stop()
            raise
        self._serve(app, self.api_port, "function-app", timeout)
        if self.settings.media.workers > 1:
            self._serve_media_workers(self.settings.media.workers, timeout)
        else:
            media = create_media_app(
                engines=self.speech or build_speech, holder=ServicesHolder(self.settings)
            )
            self._media_app = media
            self._serve(media, self.media_port, "media-host", timeout)
        return self

    def _serve_media_workers(self, workers: int, timeout: float) -> None:
        """`media.workers` > 1: the media host as `python -m media_host` worker processes on the media
        port, with the stack's settings (and speech engines, which must then be a module-level function)."""
        command = [sys.executable, "-m", "media_host", "--host", self.host, "--port", str(self.media_port)]
        overrides = self.data_dir / "media-host.json"
        overrides.write_text(json.dumps(self._wiring, default=str))
        command += ["--workers", str(workers), "--overrides", str(overrides)]
        if self.speech is not None:
            reference = f"{self.speech.__module__}:{self.speech.__qualname__}"
            if "<" in reference:
                raise ValueError(f"media workers need a module-level speech factory, not {reference}")
            command += ["--engines", reference]
        self._media_workers = subprocess.Popen(command)  # noqa: S603 (this interpreter, our own arguments)
        deadline = time.monotonic() + timeout
        while True:
            with contextlib.suppress(OSError), socket.create_connection((self.host, self.media_port), 0.5):
                return
            if self._media_workers.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the media host workers did not start on {self.host}:{self.media_port}")
            time.sleep(0.1)

    @property
    def softphone_url(self) -> str:
        assert self.simulator is not None
        return f"{self.simulator.endpoint}/softphone"

    async def _softphone_call(self, connection_id: str) -> dict[str, Any] | None:
        """The softphone page's view of a call: messages, claim, report link (runs on the simulator)."""
        assert self.simulator is not None and self.settings is not None
        if self._softphone_store is None:
            self._softphone_store = build_store(self.settings)
        caller = self.simulator.call(connection_id).caller
        page = await self._softphone_store.list_by_phone(caller, limit=5)
        call = next((c for c in page.items if c.connection.call_connection_id == connection_id), None)
        if call is None:
            return None
        return softphone_view(call, self._interim(call), self._report_url(call))

    def _report_url(self, call: Call) -> str | None:
        assert self.settings is not None
        try:
            return self.api_url + relative_report_link(self.settings, call)
        except Exception:  # no report key configured: the page simply shows no link
            return None

    def _interim(self, call: Call) -> str:
        """The caller's words of the turn in progress (in-process media host only, else none)."""
        host = getattr(getattr(self._media_app, "state", None), "host", None)
        session = host.sessions.get(call.call_id) if host is not None else None
        try:
            return str(session.interim_transcript()) if session is not None else ""
        except (RuntimeError, AttributeError, asyncio.CancelledError):  # the turn changed meanwhile
            return ""

    def _serve(self, app: Any, port: int, name: str, timeout: float) -> None:
        """One uvicorn server on its own thread and event loop, as separate processes would have."""
        server = ThreadedServer(
            app,
            name=name,
            host=self.host,
            port=port,
            lifespan="on",
            timeout_graceful_shutdown=2,
            ws_per_message_deflate=False,  # 20 ms PCM frames don't compress; deflate cost 9-26% CPU
        )
        self._servers.append(server)
        try:
            server.start(timeout)
        except RuntimeError:
            self.stop()
            raise

    def stop(self) -> None:
        for server in self._servers:
            server.server.should_exit = True  # all at once, then wait for each
        for server in self._servers:
            server.stop(timeout=10)
        self._servers.clear()
        if self._media_workers is not None:
            workers, self._media_workers = self._media_workers, None
            end_process(workers, timeout=15)
        if self.simulator is not None:
            self.simulator.stop()
        if self._softphone_store is not None:
            store, self._softphone_store = self._softphone_store, None
            with contextlib.suppress(Exception):
                asyncio.run(store.close())

    def describe(self) -> list[str]:
        assert self.simulator is not None and self.settings is not None
        return [
            f"function app      {self.api_url}/api  (x-functions-key: {self.api_key})",
            f"  API key         {self.api_key}  (kept in {self.data_dir / KEYS_FILE}; "
            "`callcenter key` prints it)",
            f"  report          {self.api_url}/api/report?key={self.api_key}",
            f"  API docs        {self.api_url}/api/docs",
            f"  health          {self.api_url}/api/health/readiness",
            f"  Event Grid      {self.event_grid_url('<function>')}",
            f"media host        ws://{self.host}:{self.media_port}/ws/<call id>"
            + (f"  ({self.settings.media.workers} workers)" if self.settings.media.workers > 1 else ""),
            f"ACS simulator     {self.simulator.endpoint}  (inspect: {self.simulator.endpoint}/sim/calls)",
            f"  softphone       {self.softphone_url}  (call the bot from a browser)",
            f"bot phone number  {self.settings.acs.phone_number}",
            f"data              {self.data_dir.resolve()}",
            "",
            "Try it: `callcenter call` rings the bot (or `callcenter call --to +33612345678` places an",
            'outbound call), then `callcenter say "My name is John Smith."` speaks a line as the caller.',
        ]

    @property
    def state_file(self) -> Path:
        """Where a running `callcenter dev` writes its URLs, for `callcenter call` / `say` / `key`."""
        return self.data_dir / STATE_FILE

    def _write_state(self) -> None:
        assert self.simulator is not None
        state = {
            "api_url": self.api_url,
            "simulator_url": self.simulator.endpoint,
            "media_url": f"ws://{self.host}:{self.media_port}",
            "softphone_url": self.softphone_url,
            "pid": os.getpid(),
        }
        self.state_file.write_text(json.dumps(state, indent=2), encoding="utf-8")

    def run_forever(self) -> None:
        """Start, print the URLs, and serve until Ctrl-C."""
        print("starting the ACS simulator, the function app and the media host...", flush=True)
        started = time.monotonic()
        self.start()
        print(
            f"started in {time.monotonic() - started:.1f} s (the speech models finish loading in the "
            "background; a language's first words load its model, a second or two)",
            flush=True,
        )
        try:
            self._write_state()
            for line in self.describe():
                print(line, flush=True)
            print("Ctrl-C to stop.", flush=True)
            while (
                self._servers
                and all(server.running for server in self._servers)
                and (self._media_workers is None or self._media_workers.poll() is None)
            ):
                time.sleep(0.5)
        except KeyboardInterrupt:
            print("\nstopping...", flush=True)
        finally:
            with contextlib.suppress(OSError):
                self.state_file.unlink()
            self.stop()


class CallerVoice:
    """Typed caller lines spoken with the local voices (`POST /sim/calls/{id}/say {"text"}`); the voices
    load at the first line, so a stack that never hears one never loads them."""

    def __init__(self) -> None:
        self._voices: Callable[[str], TextToSpeech] | None = None

    async def __call__(self, text: str, lang: str) -> bytes:
        if self._voices is None:
            from local.simulate import caller_voices  # noqa: PLC0415 (loads piper)

            self._voices = await asyncio.to_thread(caller_voices)
        try:
            tts = self._voices(lang)
            return b"".join([chunk async for chunk in tts.synthesize(text, lang=lang)])
        except SpeechError as exc:  # an unknown language...: the route answers 400
            raise ValueError(str(exc)) from exc


def end_process(child: subprocess.Popen[bytes], *, timeout: float) -> None:
    """SIGTERM (a graceful stop), then SIGKILL if the child is still there after `timeout`."""
    child.terminate()
    try:
        child.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()
