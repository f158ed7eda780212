// One switchboard session: joining it (`USR` with the cookie of our own
// `XFR SB`, then `CAL`; or `ANS` with the cookie of an `RNG`), the other
// participants (`IRO`, `JOI`, `BYE`), messages (`MSG … A` settled by
// `ACK`/`NAK`), typing notifications and nudges. Messages written before
// anyone has joined wait for the first `JOI` (the switchboard refuses a
// message to nobody). The transport is injected, as for the NS.

import { decodeParam, parseMessage, textMessage, typingMessage, nudgeMessage } from './msnp.js';
import { Acks } from './model.js';

export class SbSession {
  // `emit(event, data)`: joined {handle, name}, left {handle}, message
  // {handle, name, text}, typing {handle}, nudge {handle}, settled
  // {message}, call-failed {handle, code}, closed {unsettled}.
  constructor({ handle, connect, emit }) {
    this.handle = handle.toLowerCase();
    this.connect = connect;
    this.emit = emit;
    this.others = new Map(); // handle → name
    this.acks = new Acks();
    this.waiting = []; // messages written before anyone joined
    this.trid = 1;
    this.ready = false;
    this.closed = false;
    this.calling = new Map(); // CAL trid → handle
  }

  // Our own session: `USR` with the XFR cookie, then `CAL` each of `invite`.
  call(cookie, invite) {
    this.conn = this.connect('sb', {
      open: () => this.send('USR', [this.handle, cookie]),
      frame: (f) => this.onFrame(f, invite),
      close: () => this.onClose(),
    });
  }

  // Someone else's session: `ANS` with the RNG cookie.
  answer(cookie, session) {
    this.conn = this.connect('sb', {
      open: () => this.send('ANS', [this.handle, cookie, session]),
      frame: (f) => this.onFrame(f, []),
      close: () => this.onClose(),
    });
  }

  send(cmd, args, payload) {
    const trid = String(this.trid++);
    this.conn.send(cmd, [trid, ...args], payload);
    return trid;
  }

  get live() {
    return !this.closed && this.ready && this.others.size > 0;
  }

  invite(handle) {
    if (this.closed) return;
    const trid = this.send('CAL', [handle]);
    this.calling.set(trid, handle);
  }

  // Sends `message` (a model message of ours), now or once someone joined.
  sendText(message) {
    if (!this.live) {
      this.waiting.push(message);
      return;
    }
    const trid = this.send('MSG', ['A'], textMessage(message.text));
    this.acks.expect(trid, message);
  }

  typing() {
    if (this.live) this.send('MSG', ['U'], typingMessage(this.handle));
  }

  nudge() {
    if (this.live) this.send('MSG', ['N'], nudgeMessage());
    return this.live;
  }

  leave() {
    if (this.closed) return;
    this.closed = true;
    this.conn.send('OUT', []);
    this.conn.close();
    this.finish();
  }

  flush() {
    const waiting = this.waiting;
    this.waiting = [];
    for (const m of waiting) this.sendText(m);
  }

  onFrame(f, invite) {
    const { cmd, args } = f;
    if (/^\d{3}$/.test(cmd)) {
      const who = this.calling.get(args[0]);
      if (who) {
        this.calling.delete(args[0]);
        this.emit('call-failed', { handle: who, code: Number(cmd) });
        if (this.calling.size === 0 && this.others.size === 0) this.leave();
      } else if (!this.ready) {
        this.leave();
      }
      return;
    }
    switch (cmd) {
      case 'USR':
        // USR trid OK handle name: ours; now call.
        this.ready = true;
        for (const h of invite) this.invite(h);
        break;
      case 'CAL':
        this.calling.delete(args[0]);
        break;
      case 'IRO':
        // IRO trid index count handle name
        this.others.set(args[3].toLowerCase(), decodeParam(args[4] || args[3]));
        this.emit('joined', { handle: args[3].toLowerCase(), name: decodeParam(args[4] || args[3]), quiet: true });
        break;
      case 'ANS':
        this.ready = true;
        this.flush();
        break;
      case 'JOI': {
        const h = args[0].toLowerCase();
        this.others.set(h, decodeParam(args[1] || h));
        this.emit('joined', { handle: h, name: decodeParam(args[1] || h) });
        this.flush();
        break;
      }
      case 'BYE': {
        const h = args[0].toLowerCase();
        this.others.delete(h);
        this.emit('left', { handle: h });
        break;
      }
      case 'ACK':
      case 'NAK': {
        const m = this.acks.settle(args[0], cmd === 'ACK');
        if (m) this.emit('settled', { message: m });
        break;
      }
      case 'MSG':
        this.onMessage(args[0].toLowerCase(), decodeParam(args[1] || args[0]), f.payload);
        break;
      default:
        break;
    }
  }

  onMessage(handle, name, payload) {
    const m = parseMessage(payload || new Uint8Array(0));
    if (m.contentType === 'text/plain') {
      this.emit('message', { handle, name, text: m.body });
    } else if (m.contentType === 'text/x-msmsgscontrol') {
      this.emit('typing', { handle });
    } else if (m.contentType === 'text/x-msnmsgr-datacast' && /^ID:\s*1\b/m.test(m.body)) {
      this.emit('nudge', { handle });
    }
  }

  onClose() {
    this.closed = true;
    this.finish();
  }

  finish() {
    if (this.finished) return;
    this.finished = true;
    const unsettled = [...this.acks.abandon(), ...this.waiting];
    this.waiting = [];
    for (const m of unsettled) m.state = 'sending';
    this.emit('closed', { unsettled });
  }
}
