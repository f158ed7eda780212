// The Notification Server connection: sign-in (MSNP11, `USR TWN` with the
// ticket the sign-in API gave), the contact list (`SYN`), presence,
// list and group edits, invitations to chats (`RNG`) and new chats
// (`XFR SB`). Every change is applied to the model only when the server
// confirms it. The transport is injected (`connect`), so this runs in
// tests without a browser.

import { encodeParam, decodeParam, psmDocument, psmFromDocument, parseMessage } from './msnp.js';
import { ContactList } from './model.js';

export const PROTOCOL = 'MSNP11';
// MSN Messenger 7.0's capabilities (no P2P features the web cannot do).
export const CAPABILITIES = '1073741824';
const PING_EVERY_MS = 45000;

export class CommandError extends Error {
  constructor(code) {
    super(`error ${code}`);
    this.code = Number(code);
  }
}

export class NsClient {
  // `connect(target, handlers)` opens a transport (see socket.js);
  // `getTicket()` resolves to a new Passport ticket (or rejects when the
  // web sign-in has ended); `emit(event, data)` tells the application.
  constructor({ handle, connect, getTicket, emit, setTimer = (f, ms) => setTimeout(f, ms), clearTimer = (t) => clearTimeout(t) }) {
    this.handle = handle.toLowerCase();
    this.connect = connect;
    this.getTicket = getTicket;
    this.emit = emit;
    this.setTimer = setTimer;
    this.clearTimer = clearTimer;
    this.list = new ContactList();
    this.me = { handle: this.handle, name: this.handle, status: 'NLN', psm: '' };
    this.state = 'offline'; // offline, connecting, online, reconnecting, signed-out
    this.trid = 10;
    this.pending = new Map();
    this.conn = null;
    this.pingTimer = null;
    this.retryTimer = null;
    this.retries = 0;
  }

  // Signs in with `ticket` as `status`.
  start(ticket, status = 'NLN') {
    this.me.status = status;
    this.ticket = ticket;
    this.open();
  }

  open() {
    this.state = 'connecting';
    this.emit('state', this.state);
    this.conn = this.connect('ns', {
      open: () => this.send('VER', ['1', PROTOCOL, 'CVR0']),
      frame: (f) => this.onFrame(f),
      close: () => this.onClose(),
    });
  }

  send(cmd, args, payload) {
    this.conn.send(cmd, args, payload);
  }

  // Sends a command with a transaction id; resolves with the reply,
  // rejects with a CommandError.
  command(cmd, args = [], payload) {
    if (this.state !== 'online') return Promise.reject(new CommandError(0));
    const trid = String(this.trid++);
    return new Promise((resolve, reject) => {
      this.pending.set(trid, { cmd, args, resolve, reject });
      this.send(cmd, [trid, ...args], payload);
    });
  }

  onFrame(f) {
    const { cmd, args } = f;
    if (/^\d{3}$/.test(cmd)) return this.onError(cmd, args[0]);
    const handler = HANDLERS[cmd];
    if (handler) handler.call(this, f);
    const trid = args[0];
    if (trid && trid !== '0' && this.pending.has(trid)) {
      const p = this.pending.get(trid);
      this.pending.delete(trid);
      p.resolve(f);
    }
  }

  onError(code, trid) {
    if (this.state === 'connecting') {
      // The ticket was refused (expired, used) or the sign-in failed.
      this.emit('signin-failed', Number(code));
      this.stop();
      return;
    }
    const p = this.pending.get(trid);
    if (p) {
      this.pending.delete(trid);
      p.reject(new CommandError(code));
    } else {
      this.emit('error', Number(code));
    }
  }

  onClose() {
    this.clearTimer(this.pingTimer);
    for (const p of this.pending.values()) p.reject(new CommandError(0));
    this.pending.clear();
    if (this.state === 'signed-out' || this.state === 'replaced') return;
    const wasOnline = this.state === 'online';
    this.state = 'reconnecting';
    this.emit('state', this.state);
    if (wasOnline) this.retries = 0;
    const delay = Math.min(30000, 1000 * 2 ** this.retries++);
    this.retryTimer = this.setTimer(() => this.reconnect(), delay);
  }

  async reconnect() {
    try {
      this.ticket = await this.getTicket();
    } catch (e) {
      if (e && e.signedOut) {
        this.state = 'signed-out';
        this.emit('signed-out', 'expired');
        return;
      }
      return this.onClose();
    }
    this.list = new ContactList();
    this.open();
  }

  // Signs out: `OUT`, then the socket closes.
  signOut() {
    this.state = 'signed-out';
    this.clearTimer(this.pingTimer);
    this.clearTimer(this.retryTimer);
    if (this.conn) {
      this.send('OUT', []);
      this.conn.close();
    }
  }

  stop() {
    this.state = 'signed-out';
    this.clearTimer(this.pingTimer);
    this.clearTimer(this.retryTimer);
    if (this.conn) this.conn.close();
  }

  schedulePing() {
    this.clearTimer(this.pingTimer);
    this.pingTimer = this.setTimer(() => {
      if (this.state === 'online') this.send('PNG', []);
      this.schedulePing();
    }, PING_EVERY_MS);
  }

  // --- what the user does ---

  setStatus(status) {
    return this.command('CHG', [status, CAPABILITIES]);
  }

  setName(name) {
    return this.command('PRP', ['MFN', encodeParam(name)]).then(() => {
      this.me.name = name;
      this.emit('me', this.me);
    });
  }

  setPersonalMessage(text) {
    return this.command('UUX', [], psmDocument(text)).then(() => {
      this.me.psm = text;
      this.emit('me', this.me);
    });
  }

  // Adds `handle` to the forward and allow lists (as MSN Messenger does).
  async addContact(handle, group) {
    handle = handle.trim().toLowerCase();
    const c = this.list.contacts.get(handle);
    if (!c || !(c.lists & 1)) await this.command('ADC', ['FL', `N=${handle}`, `F=${handle}`]);
    const added = this.list.contacts.get(handle);
    if (!(added.lists & 2) && !(added.lists & 4)) await this.command('ADC', ['AL', `N=${handle}`]);
    if (group && added.guid) await this.command('ADC', ['FL', `C=${added.guid}`, group]);
    this.changed();
  }

  async removeContact(handle) {
    const c = this.list.contacts.get(handle);
    if (c && c.guid && c.lists & 1) await this.command('REM', ['FL', c.guid]);
    this.changed();
  }

  // Blocks: on the block list, off the allow list. The server tells the
  // contact we went offline.
  async block(handle) {
    const c = this.list.contact(handle);
    if (!(c.lists & 4)) await this.command('ADC', ['BL', `N=${c.handle}`]);
    if (c.lists & 2) await this.command('REM', ['AL', c.handle]);
    this.changed();
  }

  async unblock(handle) {
    const c = this.list.contact(handle);
    if (c.lists & 4) await this.command('REM', ['BL', c.handle]);
    if (!(c.lists & 2)) await this.command('ADC', ['AL', `N=${c.handle}`]);
    this.changed();
  }

  // Someone added us: allow them (and add them back when `addBack`), or block.
  async answerAdd(handle, allow, addBack) {
    if (allow) {
      await this.unblock(handle);
      if (addBack) await this.addContact(handle);
    } else {
      await this.block(handle);
    }
    const c = this.list.contacts.get(handle);
    if (c && c.lists & 16) await this.command('REM', ['PL', handle]).catch(() => {});
    this.changed();
  }

  async addGroup(name) {
    await this.command('ADG', [encodeParam(name), '0']);
    this.changed();
  }

  async removeGroup(guid) {
    await this.command('RMG', [guid]);
    this.list.groups.delete(guid);
    for (const c of this.list.contacts.values()) c.groups = c.groups.filter((g) => g !== guid);
    this.changed();
  }

  async renameGroup(guid, name) {
    await this.command('REG', [guid, encodeParam(name), '0']);
    this.list.groups.set(guid, name);
    this.changed();
  }

  // Moves a contact from one group (or none) to another (or none).
  async moveContact(handle, from, to) {
    const c = this.list.contacts.get(handle);
    if (!c || !c.guid) return;
    if (to && to !== '0') await this.command('ADC', ['FL', `C=${c.guid}`, to]);
    if (from && from !== '0' && from !== to) await this.command('REM', ['FL', c.guid, from]);
    this.changed();
  }

  // A new switchboard: resolves to { address, cookie }.
  async newSwitchboard() {
    const reply = await this.command('XFR', ['SB']);
    return { address: reply.args[2], cookie: reply.args[4] };
  }

  changed() {
    this.emit('list', this.list);
  }
}

const HANDLERS = {
  VER() {
    this.send('CVR', ['2', '0x0409', 'winnt', '5.1', 'i386', 'MSNMSGR', '7.0.0816', 'msmsgs', this.handle]);
  },
  CVR() {
    this.send('USR', ['3', 'TWN', 'I', this.handle]);
  },
  USR(f) {
    if (f.args[1] === 'TWN' && f.args[2] === 'S') {
      this.send('USR', ['4', 'TWN', 'S', this.ticket]);
    } else if (f.args[1] === 'OK') {
      this.send('SYN', ['5', '0', '0']);
    }
  },
  SYN(f) {
    if (f.args[0] !== '5') return;
    // Every SYN line is queued before the server reads the next command:
    // the first CHG's ILNs follow the list.
    this.send('CHG', ['6', this.me.status, CAPABILITIES]);
  },
  GTC() {},
  BLP(f) {
    this.list.privacy = f.args[f.args.length - 1];
  },
  PRP(f) {
    const i = f.args.indexOf('MFN');
    if (i >= 0 && f.args[i + 1] !== undefined) {
      this.me.name = decodeParam(f.args[i + 1]);
      this.emit('me', this.me);
    }
  },
  LSG(f) {
    // LSG name guid
    this.list.groups.set(f.args[1], decodeParam(f.args[0]));
  },
  LST(f) {
    this.list.applyLst(f.args);
  },
  ADG(f) {
    // ADG trid version name guid 0
    this.list.groups.set(f.args[3], decodeParam(f.args[2]));
  },
  ADC(f) {
    const c = this.list.applyAdc(f.args);
    if (f.args[0] === '0' && f.args[1] === 'RL' && c) {
      this.emit('added-by', c);
    }
    this.changed();
  },
  REM(f) {
    this.list.applyRem(f.args);
    this.changed();
  },
  CHG(f) {
    this.me.status = f.args[1];
    if (this.state === 'connecting' && f.args[0] === '6') {
      this.state = 'online';
      this.retries = 0;
      this.emit('state', this.state);
      this.schedulePing();
      this.changed();
      for (const c of this.list.pending()) this.emit('added-by', c);
    }
    this.emit('me', this.me);
  },
  ILN(f) {
    // ILN trid status handle name caps [msnobj]
    this.list.setPresence(f.args[1], f.args[2], f.args[3]);
    this.changed();
  },
  NLN(f) {
    // NLN status handle name caps [msnobj]
    const c = this.list.setPresence(f.args[0], f.args[1], f.args[2]);
    this.changed();
    this.emit('presence', c);
  },
  FLN(f) {
    const c = this.list.setOffline(f.args[0]);
    this.changed();
    if (c) this.emit('presence', c);
  },
  UBX(f) {
    const c = this.list.contact(f.args[0]);
    c.psm = f.payload ? psmFromDocument(f.payload) : '';
    this.changed();
  },
  RNG(f) {
    // RNG session address CKI cookie handle name
    this.emit('ring', {
      session: f.args[0],
      address: f.args[1],
      cookie: f.args[3],
      handle: f.args[4].toLowerCase(),
      name: decodeParam(f.args[5] || f.args[4]),
    });
  },
  OUT(f) {
    const reason = f.args[0] || '';
    this.state = reason === 'OTH' ? 'replaced' : 'reconnecting';
    this.emit('out', reason);
  },
  QNG() {},
  CHL() {
    // Challenges are off by default ([challenge] mode = "off"); the web
    // client does not answer them (see the README).
  },
  NOT(f) {
    this.emit('alert', f.payload);
  },
  MSG(f) {
    const m = parseMessage(f.payload || new Uint8Array(0));
    if (m.contentType === 'text/x-msmsgssystemmessage') this.emit('system', m);
  },
};
