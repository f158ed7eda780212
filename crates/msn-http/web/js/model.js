// What the client knows, built from the server's lines: the contact list
// (contacts with their lists, groups, presence and personal message) and
// the conversations (messages, unread counts, who is typing, messages
// waiting for the switchboard's ACK). No DOM, no I/O: the NS and SB
// clients feed it, the UI reads it.

import { decodeParam } from './msnp.js';

// List bits of MSNP12's LST.
export const FL = 1;
export const AL = 2;
export const BL = 4;
export const RL = 8;
export const PL = 16;

export const STATUSES = [
  ['NLN', 'Online'],
  ['BSY', 'Busy'],
  ['BRB', 'Be right back'],
  ['AWY', 'Away'],
  ['PHN', 'On the phone'],
  ['LUN', 'Out to lunch'],
  ['HDN', 'Appear offline'],
];

export function statusText(code) {
  if (code === 'FLN') return 'Offline';
  if (code === 'IDL') return 'Idle';
  const found = STATUSES.find(([c]) => c === code);
  return found ? found[1] : code;
}

// The group contacts in no group are shown in.
export const NO_GROUP = '0';

// `N=`, `F=`, `C=` parameters of LST and ADC.
export function namedParams(args) {
  const out = { rest: [] };
  for (const a of args) {
    if (a.startsWith('N=')) out.handle = a.slice(2).toLowerCase();
    else if (a.startsWith('F=')) out.name = decodeParam(a.slice(2));
    else if (a.startsWith('C=')) out.guid = a.slice(2);
    else out.rest.push(a);
  }
  return out;
}

export class ContactList {
  constructor() {
    this.contacts = new Map(); // handle → contact
    this.groups = new Map(); // guid → name
    this.privacy = 'AL'; // BLP: AL (everyone else allowed) or BL
  }

  contact(handle) {
    handle = handle.toLowerCase();
    let c = this.contacts.get(handle);
    if (!c) {
      c = { handle, name: handle, guid: null, lists: 0, groups: [], status: 'FLN', psm: '' };
      this.contacts.set(handle, c);
    }
    return c;
  }

  // `LST N=… F=… C=… lists groups` (SYN).
  applyLst(args) {
    const p = namedParams(args);
    if (!p.handle) return null;
    const c = this.contact(p.handle);
    if (p.name !== undefined) c.name = p.name;
    if (p.guid) c.guid = p.guid;
    c.lists = Number(p.rest[0] || 0);
    c.groups = p.rest[1] ? p.rest[1].split(',').filter(Boolean) : [];
    return c;
  }

  // `ADC trid list N=… [F=…] [C=…] [group]` (a reply or `ADC 0 RL`).
  applyAdc(args) {
    const list = args[1];
    const p = namedParams(args.slice(2));
    let c = p.handle ? this.contact(p.handle) : this.byGuid(p.guid);
    if (!c) return null;
    if (p.name !== undefined) c.name = p.name;
    if (p.guid && p.handle) c.guid = p.guid;
    const group = p.rest[0];
    if (list === 'FL' && group) {
      if (!c.groups.includes(group)) c.groups.push(group);
    } else {
      c.lists |= listBit(list);
    }
    return c;
  }

  // `REM trid list handle|guid [group]`.
  applyRem(args) {
    const list = args[1];
    const who = args[2];
    const group = args[3];
    const c = this.contacts.get(who.toLowerCase()) || this.byGuid(who);
    if (!c) return null;
    if (list === 'FL' && group) {
      c.groups = c.groups.filter((g) => g !== group);
    } else {
      c.lists &= ~listBit(list);
      if (list === 'FL') c.groups = [];
    }
    return c;
  }

  byGuid(guid) {
    if (!guid) return null;
    for (const c of this.contacts.values()) if (c.guid === guid) return c;
    return null;
  }

  // ILN/NLN: status, handle, name.
  setPresence(status, handle, name) {
    const c = this.contact(handle);
    c.status = status;
    if (name !== undefined) c.name = decodeParam(name);
    return c;
  }

  setOffline(handle) {
    const c = this.contacts.get(handle.toLowerCase());
    if (c) c.status = 'FLN';
    return c;
  }

  // Everyone on the forward list, by group (guid → contacts, sorted);
  // groups in name order, "Other Contacts" last.
  view() {
    const byGroup = new Map();
    for (const [guid] of this.groups) byGroup.set(guid, []);
    byGroup.set(NO_GROUP, []);
    for (const c of this.contacts.values()) {
      if (!(c.lists & FL)) continue;
      const groups = c.groups.filter((g) => this.groups.has(g));
      for (const g of groups.length ? groups : [NO_GROUP]) byGroup.get(g).push(c);
    }
    const online = (c) => (c.status === 'FLN' ? 1 : 0);
    for (const list of byGroup.values()) {
      list.sort((a, b) => online(a) - online(b) || a.name.localeCompare(b.name));
    }
    const order = [...this.groups.entries()].sort((a, b) => a[1].localeCompare(b[1]));
    const out = order.map(([guid, name]) => ({ guid, name, contacts: byGroup.get(guid) }));
    out.push({ guid: NO_GROUP, name: 'Other Contacts', contacts: byGroup.get(NO_GROUP) });
    return out;
  }

  // People who added us and whom we have neither allowed nor blocked.
  pending() {
    return [...this.contacts.values()].filter(
      (c) => (c.lists & (RL | PL)) && !(c.lists & (AL | BL)),
    );
  }

  isBlocked(handle) {
    const c = this.contacts.get(handle.toLowerCase());
    return Boolean(c && c.lists & BL);
  }
}

export function listBit(list) {
  return { FL, AL, BL, RL, PL }[list] || 0;
}

let nextLocalId = 1;

// One conversation window: its participants (handles), messages, unread
// count and the messages not yet acknowledged by the switchboard.
export class Conversation {
  constructor(id, participants) {
    this.id = id;
    this.participants = new Set(participants.map((h) => h.toLowerCase()));
    this.messages = []; // { id, from, text, kind, state, at }
    this.unread = 0;
    this.typing = new Map(); // handle → expiry (ms)
  }

  add(from, text, kind = 'text', state = 'received') {
    const m = { id: nextLocalId++, from, text, kind, state, at: Date.now() };
    this.messages.push(m);
    return m;
  }

  // A message of ours, waiting for the switchboard's ACK.
  outgoing(from, text) {
    return this.add(from, text, 'text', 'sending');
  }

  // Messages of ours that were never acknowledged (to send again after a
  // reconnection), oldest first.
  unacknowledged() {
    return this.messages.filter((m) => m.state === 'sending');
  }

  setTyping(handle, now, forMs = 6000) {
    this.typing.set(handle, now + forMs);
  }

  stopTyping(handle) {
    this.typing.delete(handle);
  }

  whoIsTyping(now) {
    const out = [];
    for (const [h, until] of this.typing) {
      if (until > now) out.push(h);
      else this.typing.delete(h);
    }
    return out;
  }
}

// A switchboard's outstanding `MSG … A`: transaction id → message, so
// that `ACK`/`NAK` settle the right one.
export class Acks {
  constructor() {
    this.waiting = new Map();
  }

  expect(trid, message) {
    this.waiting.set(String(trid), message);
  }

  settle(trid, ok) {
    const m = this.waiting.get(String(trid));
    if (!m) return null;
    this.waiting.delete(String(trid));
    m.state = ok ? 'sent' : 'failed';
    return m;
  }

  // The session ended: what was never settled goes back to "sending".
  abandon() {
    const out = [...this.waiting.values()];
    this.waiting.clear();
    return out;
  }
}
