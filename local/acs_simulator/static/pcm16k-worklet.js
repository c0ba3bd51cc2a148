"use strict";
// The microphone as 20 ms frames of 16 kHz mono PCM16 (320 samples), averaged down from the context's rate.
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
