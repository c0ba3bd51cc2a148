"use strict";
// The softphone: the microphone to the simulator's call as 20 ms PCM frames, the bot's audio played back,
// and the call's transcript, texts and claim as the server pushes them (JSON events on the same socket).
const $ = (id) => document.getElementById(id);
const callButton = $("call"), hangupButton = $("hangup"), statusLine = $("status"), stateBadge = $("state");
const stats = window.softphoneStats = {
  framesSent: 0, bytesReceived: 0, peakLevel: 0, botSpeakingSeen: false, interimSeen: 0, smsSeen: 0,
};
let ws = null, ctx = null, stream = null, playAt = 0, ticker = null, level = 0;
let lingering = null, hungUp = false;  // after the call: the socket still brings the texts (post-call SMS)

function setStatus(text) { statusLine.textContent = text; }

function setState(state, text) {
  if (stateBadge.dataset.state === state) return;
  stateBadge.dataset.state = state;
  stateBadge.textContent = text;
}

function label(persona, mine, theirs) {
  const span = document.createElement("span");
  span.className = "who";
  span.textContent = persona === "human" ? mine : theirs;
  return span;
}

function addLine(persona, text) {
  if (!text) return;
  const li = document.createElement("li");
  const who = persona === "human" ? "caller" : persona === "assistant" ? "bot" : persona;
  li.className = who; li.dataset.persona = who;
  li.append(label(persona, "You:", "Bot:"), document.createTextNode(text));
  $("transcript").append(li);
  showInterim("");
  li.scrollIntoView({block: "nearest"});
}

function linkified(text) {
  // http(s) links become anchors (built with the DOM: the text is never parsed as HTML)
  const nodes = [];
  let last = 0;
  for (const match of text.matchAll(/https?:\/\/\S+/g)) {
    nodes.push(document.createTextNode(text.slice(last, match.index)));
    const a = document.createElement("a");
    a.href = match[0]; a.textContent = match[0]; a.target = "_blank"; a.rel = "noopener noreferrer";
    nodes.push(a);
    last = match.index + match[0].length;
  }
  nodes.push(document.createTextNode(text.slice(last)));
  return nodes;
}

function addSms(persona, text) {
  const list = $("sms");
  list.querySelectorAll("li.none").forEach((li) => li.remove());
  const li = document.createElement("li");
  li.dataset.persona = persona;
  li.append(label(persona, "You texted:", "Text from the bot:"), ...linkified(text));
  list.append(li);
  stats.smsSeen++;
}

function showInterim(text) {
  const line = $("interim");
  line.textContent = text ? "You (so far): " + text : "";
  line.hidden = !text;
  if (text) stats.interimSeen++;
}

function showClaim(rows) {
  const body = $("claim").tBodies[0];
  body.replaceChildren();
  for (const field of rows || []) {
    const row = body.insertRow();
    row.dataset.field = field.field;
    const th = document.createElement("th");
    th.textContent = field.label;
    row.append(th);
    const cell = row.insertCell();
    if (field.missing) { cell.className = "missing"; cell.textContent = "missing"; }
    else cell.textContent = field.text;
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

function measure(frame) {
  // the microphone level, 0..1 on a -60..0 dBFS scale, quick to rise and slow to fall
  const samples = new Int16Array(frame);
  let sum = 0;
  for (let i = 0; i < samples.length; i++) sum += samples[i] * samples[i];
  const rms = Math.sqrt(sum / Math.max(samples.length, 1)) / 32768;
  const scaled = rms > 0 ? Math.max(0, Math.min(1, (20 * Math.log10(rms) + 60) / 60)) : 0;
  level = Math.max(scaled, level * 0.9);
  stats.peakLevel = Math.max(stats.peakLevel, scaled);
}

function tick() {
  $("level").value = level;
  if (!ws || !ctx) return;
  if (playAt > ctx.currentTime + 0.02) { setState("bot-speaking", "Bot speaking"); stats.botSpeakingSeen = true; }
  else if (stateBadge.dataset.state !== "ringing") setState("listening", "Listening");
}

function onEvent(event) {
  if (event.type === "status") {
    if (hungUp) return;  // the caller's own "Hung up" stays
    setStatus(event.text);
    if (event.connected) setState("listening", "Listening");
  } else if (event.type === "transcript") addLine(event.persona, event.text);
  else if (event.type === "interim") showInterim(event.text);
  else if (event.type === "sms") addSms(event.persona, event.text);
  else if (event.type === "claim") showClaim(event.claim);
  else if (event.type === "ended") {
    if (!hungUp) setStatus(event.error ? "Ended: " + event.error : "Call ended");
    if (event.report_url) { const a = $("report"); a.href = event.report_url; a.hidden = false; }
    stop(false);
  }
}

async function call() {
  const caller = $("caller");
  if (!caller.checkValidity()) { setStatus("Your number must be in E.164 form, such as +33612345678"); return; }
  callButton.disabled = true;
  hungUp = false;
  if (lingering) { lingering.close(); lingering = null; }
  $("transcript").replaceChildren(); showClaim([]); showInterim("");
  const none = document.createElement("li");
  none.className = "none"; none.textContent = "No text yet.";
  $("sms").replaceChildren(none); $("report").hidden = true;
  try {
    setStatus("Opening the microphone...");
    stream = await navigator.mediaDevices.getUserMedia({audio: true});
    ctx = new AudioContext();
    await ctx.resume();
    await ctx.audioWorklet.addModule("/softphone/pcm16k-worklet.js");
    const node = new AudioWorkletNode(ctx, "pcm16k");
    const mute = ctx.createGain(); mute.gain.value = 0;
    ctx.createMediaStreamSource(stream).connect(node);
    node.connect(mute); mute.connect(ctx.destination);
    const query = new URLSearchParams({key: $("lang").value});
    if (caller.value.trim()) query.set("from", caller.value.trim());
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    ws = new WebSocket(scheme + "//" + location.host + "/softphone/ws?" + query);
    ws.binaryType = "arraybuffer";
    ws.onopen = () => { setStatus("Ringing..."); setState("ringing", "Ringing"); hangupButton.disabled = false; };
    ws.onmessage = (m) => { if (typeof m.data === "string") onEvent(JSON.parse(m.data)); else play(m.data); };
    ws.onclose = () => { if (ws) { setStatus("Disconnected"); stop(false); } };
    node.port.onmessage = (m) => {
      measure(m.data);
      if (ws && ws.readyState === WebSocket.OPEN) { ws.send(m.data); stats.framesSent++; }
    };
    ticker = setInterval(tick, 100);
  } catch (error) {
    setStatus("Error: " + error);
    stop(true);
  }
}

function stop(closeSocket) {
  const socket = ws; ws = null;
  if (socket && closeSocket) socket.close();
  else if (socket) lingering = socket;
  if (stream) stream.getTracks().forEach((t) => t.stop());
  if (ctx) ctx.close();
  if (ticker) clearInterval(ticker);
  stream = null; ctx = null; playAt = 0; ticker = null; level = 0;
  $("level").value = 0;
  setState("idle", "Idle");
  callButton.disabled = false; hangupButton.disabled = true;
}

$("dial").addEventListener("submit", (event) => { event.preventDefault(); call(); });
callButton.addEventListener("click", call);
hangupButton.addEventListener("click", () => {
  hungUp = true;
  setStatus("Hung up");
  const socket = ws;
  if (socket && socket.readyState === WebSocket.OPEN) {
    socket.send(JSON.stringify({type: "hangup"}));  // the socket stays open for the texts that follow
    stop(false);
  } else stop(true);
});
