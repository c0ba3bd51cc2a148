"""A browser softphone on the simulator: talk to the bot with a microphone (loopback only, no CDN).

GET /softphone       the page (inline CSS and JS): Call / Hang up, a status line, the transcript and claim
WS  /softphone/ws    on connect, a softphone caller number rings `config.softphone_to` (the bot); then:
                     browser -> server: binary 20 ms frames of 16 kHz mono PCM16LE (the microphone), fed
                     to the call's phone as live caller audio;
                     server -> browser: binary 16 kHz PCM16LE (the bot audio the phone hears), and JSON
                     text events {type: "status", text} / {type: "transcript", persona, text} /
                     {type: "claim", claim} / {type: "ended", report_url?} (the call document, polled
                     through `config.softphone_events` every 300 ms). Closing the socket hangs up.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from local.acs_simulator.audio import resample
from local.acs_simulator.errors import AcsError
from local.acs_simulator.phone import Phone
from local.acs_simulator.state import SimCall

if TYPE_CHECKING:
    from local.acs_simulator.switchboard import Switchboard

__all__ = ["SOFTPHONE_RATE", "softphone_routes"]

SOFTPHONE_RATE = 16000
_POLL_S = 0.3
_MAX_QUEUED_FRAMES = 500  # 10 s of bot audio waiting for a slow browser
_log = logging.getLogger(__name__)


def _caller_number() -> str:
    return f"+1555{secrets.randbelow(10**7):07d}"


class _Session:
    """One browser on one call."""

    def __init__(self, board: Switchboard, websocket: WebSocket, call: SimCall) -> None:
        self.board, self.websocket, self.call = board, websocket, call
        self.audio: asyncio.Queue[bytes] = asyncio.Queue(maxsize=_MAX_QUEUED_FRAMES)
        self.phone: Phone | None = None
        self._listener: Callable[[bytes], None] | None = None
        self._send_lock = asyncio.Lock()
        self._messages_sent = 0
        self._claim: dict[str, Any] | None = None
        self.report_url: str | None = None

    async def send_json(self, event: dict[str, Any]) -> None:
        async with self._send_lock:
            await self.websocket.send_text(json.dumps(event))

    def current_phone(self) -> Phone | None:
        phone = self.board.streams.phones.get(self.call.call_connection_id)
        if phone is not self.phone:
            self.detach()
            if phone is not None:
                rate = phone.sample_rate

                def heard(pcm: bytes) -> None:
                    with contextlib.suppress(asyncio.QueueFull):
                        self.audio.put_nowait(resample(pcm, rate, SOFTPHONE_RATE))

                phone.listeners.append(heard)
                self._listener = heard
            self.phone = phone
        return phone

    def detach(self) -> None:
        if self.phone is not None and self._listener is not None:
            with contextlib.suppress(ValueError):
                self.phone.listeners.remove(self._listener)
        self.phone, self._listener = None, None

    async def relay_audio(self) -> None:
        while True:
            pcm = await self.audio.get()
            async with self._send_lock:
                await self.websocket.send_bytes(pcm)

    async def publish(self) -> None:
        """Push the call document's new messages and claim changes; `ended` when the call is over."""
        fetch = self.board.config.softphone_events
        if fetch is None:
            return
        try:
            document = await fetch(self.call.call_connection_id)
        except Exception:  # the page keeps working without its transcript
            _log.exception("softphone: reading call %s failed", self.call.call_connection_id)
            return
        if not document:
            return
        messages = document.get("messages") or []
        for message in messages[self._messages_sent :]:
            await self.send_json({"type": "transcript", **message})
        self._messages_sent = max(self._messages_sent, len(messages))
        claim = document.get("claim")
        if isinstance(claim, dict) and claim != self._claim:
            self._claim = dict(claim)
            await self.send_json({"type": "claim", "claim": claim})
        report_url = document.get("report_url")
        self.report_url = report_url if isinstance(report_url, str) else None

    async def watch(self) -> None:
        state = None
        while True:
            self.current_phone()
            if self.call.state.value != state:
                state = self.call.state.value
                await self.send_json({"type": "status", "text": f"call {state}"})
            await self.publish()
            if self.call.ended:
                await asyncio.sleep(_POLL_S)
                await self.publish()  # the last words
                await self.send_json({"type": "ended", "report_url": self.report_url})
                return
            await asyncio.sleep(_POLL_S)


def softphone_routes(board: Switchboard) -> list[BaseRoute]:
    async def page(_request: Request) -> Response:
        return HTMLResponse(PAGE)

    async def socket(websocket: WebSocket) -> None:
        await websocket.accept()
        to_number = board.config.softphone_to
        if not to_number:
            await websocket.send_text(json.dumps({"type": "ended", "error": "no softphone_to configured"}))
            await websocket.close(code=1011)
            return
        caller = _caller_number()
        call = board.ring(caller, to_number, "Softphone")
        session = _Session(board, websocket, call)
        await session.send_json(
            {"type": "status", "text": f"ringing {to_number} from {caller}", "call": call.call_connection_id}
        )
        tasks = [asyncio.create_task(session.relay_audio()), asyncio.create_task(session.watch())]
        try:
            while True:
                message = await websocket.receive()
                if message["type"] == "websocket.disconnect":
                    break
                data = message.get("bytes")
                if data:
                    phone = session.current_phone()
                    if phone is not None:
                        phone.feed_live(data, SOFTPHONE_RATE)
        except (WebSocketDisconnect, RuntimeError):
            pass
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            session.detach()
            if not call.ended:
                with contextlib.suppress(AcsError):
                    board.hang_up_as_caller(call.call_connection_id)

    return [Route("/softphone", page, methods=["GET"]), WebSocketRoute("/softphone/ws", socket)]


PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Softphone - ACS simulator</title>
<style>
  body { font-family: system-ui, sans-serif; margin: 0; background: #f4f5f7; color: #1d2430; }
  main { max-width: 760px; margin: 0 auto; padding: 16px; }
  h1 { font-size: 1.3rem; }
  .controls { display: flex; gap: 8px; align-items: center; flex-wrap: wrap; }
  button { font-size: 1rem; padding: 8px 20px; border: 0; border-radius: 6px; color: #fff; cursor: pointer; }
  #call { background: #1a7f37; } #hangup { background: #c62828; }
  button:disabled { opacity: .4; cursor: default; }
  #status { margin: 12px 0; font-weight: 600; }
  section { background: #fff; border-radius: 8px; padding: 12px; margin-top: 12px; }
  h2 { font-size: 1rem; margin: 0 0 8px; }
  #transcript { list-style: none; padding: 0; margin: 0; max-height: 45vh; overflow-y: auto; }
  #transcript li { padding: 6px 8px; margin: 4px 0; border-radius: 6px; }
  #transcript li.caller { background: #e3f2fd; }
  #transcript li.bot { background: #eef7ee; }
  #transcript .who { font-weight: 600; margin-right: 6px; }
  table { width: 100%; border-collapse: collapse; }
  th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #e5e7eb; }
  th { width: 40%; font-weight: 600; }
</style>
</head>
<body>
<main>
  <h1>Softphone</h1>
  <div class="controls">
    <button id="call" type="button">Call</button>
    <button id="hangup" type="button" disabled>Hang up</button>
    <a id="report" hidden>Report</a>
  </div>
  <div id="status" role="status">Idle</div>
  <section><h2>Transcript</h2><ul id="transcript"></ul></section>
  <section><h2>Claim</h2><table id="claim"><tbody></tbody></table></section>
</main>
<script>
"use strict";
const WORKLET = `
class Pcm16k extends AudioWorkletProcessor {
  constructor() {
    super();
    this.ratio = sampleRate / 16000; this.pos = 0; this.sum = 0; this.count = 0;
    this.buf = new Int16Array(320); this.at = 0;
  }
  process(inputs) {
    const channel = inputs[0] && inputs[0][0];
    if (!channel) return true;
    for (let k = 0; k < channel.length; k++) {
      this.sum += channel[k]; this.count++; this.pos += 1;
      if (this.pos >= this.ratio) {
        this.pos -= this.ratio;
        const v = Math.max(-1, Math.min(1, this.sum / this.count));
        this.buf[this.at++] = v < 0 ? v * 32768 : v * 32767;
        this.sum = 0; this.count = 0;
        if (this.at === 320) {
          this.port.postMessage(this.buf.buffer, [this.buf.buffer]);
          this.buf = new Int16Array(320); this.at = 0;
        }
      }
    }
    return true;
  }
}
registerProcessor("pcm16k", Pcm16k);
`;
const $ = (id) => document.getElementById(id);
const callButton = $("call"), hangupButton = $("hangup"), statusLine = $("status");
let ws = null, ctx = null, stream = null, playAt = 0;
const stats = window.softphoneStats = {framesSent: 0, bytesReceived: 0};

function setStatus(text) { statusLine.textContent = text; }

function addLine(persona, text) {
  if (!text) return;
  const li = document.createElement("li");
  const who = persona === "human" ? "caller" : persona === "assistant" ? "bot" : persona;
  li.className = who; li.dataset.persona = who;
  const label = document.createElement("span");
  label.className = "who"; label.textContent = who === "caller" ? "You:" : "Bot:";
  li.append(label, document.createTextNode(text));
  $("transcript").append(li);
  li.scrollIntoView({block: "nearest"});
}

function showClaim(claim) {
  const body = $("claim").tBodies[0];
  body.replaceChildren();
  for (const [field, value] of Object.entries(claim || {})) {
    const row = body.insertRow();
    row.dataset.field = field;
    const th = document.createElement("th");
    th.textContent = field;
    row.append(th);
    row.insertCell().textContent = value == null ? "" : String(value);
  }
}

function play(data) {
  const pcm = new Int16Array(data);
  stats.bytesReceived += data.byteLength;
  if (!ctx || pcm.length === 0) return;
  const buffer = ctx.createBuffer(1, pcm.length, 16000);
  const out = buffer.getChannelData(0);
  for (let i = 0; i < pcm.length; i++) out[i] = pcm[i] / 32768;
  const source = ctx.createBufferSource();
  source.buffer = buffer;
  source.connect(ctx.destination);
  const now = ctx.currentTime;
  if (playAt < now + 0.02) playAt = now + 0.12;  // a small scheduling buffer after an underrun
  source.start(playAt);
  playAt += buffer.duration;
}

function onEvent(event) {
  if (event.type === "status") setStatus(event.text);
  else if (event.type === "transcript") addLine(event.persona, event.text);
  else if (event.type === "claim") showClaim(event.claim);
  else if (event.type === "ended") {
    setStatus(event.error ? "Ended: " + event.error : "Call ended");
    if (event.report_url) { const a = $("report"); a.href = event.report_url; a.hidden = false; }
    stop(false);
  }
}

async function call() {
  callButton.disabled = true;
  $("transcript").replaceChildren(); showClaim({});
  try {
    setStatus("Opening the microphone...");
    stream = await navigator.mediaDevices.getUserMedia({audio: true});
    ctx = new AudioContext();
    await ctx.resume();
    const url = URL.createObjectURL(new Blob([WORKLET], {type: "application/javascript"}));
    await ctx.audioWorklet.addModule(url);
    URL.revokeObjectURL(url);
    const node = new AudioWorkletNode(ctx, "pcm16k");
    const mute = ctx.createGain(); mute.gain.value = 0;
    ctx.createMediaStreamSource(stream).connect(node);
    node.connect(mute); mute.connect(ctx.destination);
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    ws = new WebSocket(scheme + "//" + location.host + "/softphone/ws");
    ws.binaryType = "arraybuffer";
    ws.onopen = () => { setStatus("Ringing..."); hangupButton.disabled = false; };
    ws.onmessage = (m) => { if (typeof m.data === "string") onEvent(JSON.parse(m.data)); else play(m.data); };
    ws.onclose = () => { if (ws) { setStatus("Disconnected"); stop(false); } };
    node.port.onmessage = (m) => {
      if (ws && ws.readyState === WebSocket.OPEN) { ws.send(m.data); stats.framesSent++; }
    };
  } catch (error) {
    setStatus("Error: " + error);
    stop(true);
  }
}

function stop(closeSocket) {
  const socket = ws; ws = null;
  if (socket && closeSocket) socket.close();
  if (stream) stream.getTracks().forEach((t) => t.stop());
  if (ctx) ctx.close();
  stream = null; ctx = null; playAt = 0;
  callButton.disabled = false; hangupButton.disabled = true;
}

callButton.addEventListener("click", call);
hangupButton.addEventListener("click", () => { setStatus("Hung up"); stop(true); });
</script>
</body>
</html>
"""
