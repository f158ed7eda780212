import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NsClient } from '../js/ns.js';
import { SbSession } from '../js/sb.js';
import { Conversation } from '../js/model.js';
import { fakeNetwork, payloadLine } from './helpers.js';

function signedIn() {
  const net = fakeNetwork();
  const events = [];
  const timers = [];
  const ns = new NsClient({
    handle: 'Me@x.com',
    connect: net.connect,
    getTicket: async () => 't=new',
    emit: (e, d) => events.push([e, d]),
    setTimer: (f, ms) => timers.push([f, ms]),
    clearTimer: () => {},
  });
  ns.start('t=ticket', 'BSY');
  const s = net.sockets[0];
  s.handlers.open();
  s.server('VER 1 MSNP11\r\n');
  s.server('CVR 2 7.0 7.0 7.0 http://x http://x\r\n');
  s.server('USR 3 TWN S lc=1033\r\n');
  s.server('USR 4 OK me@x.com 1 0\r\nSBS 0 null\r\n');
  s.server(payloadLine('MSG Hotmail Hotmail', 'MIME-Version: 1.0\r\nContent-Type: text/x-msmsgsprofile\r\n\r\n'));
  s.server('SYN 5 1 1 2 1\r\nGTC A\r\nBLP AL\r\nPRP MFN Me%20Myself\r\nLSG Friends g1\r\n');
  s.server('LST N=bob@x.com F=Bob C=c1 11 g1\r\nLST N=eve@x.com F=Eve C=c2 8\r\n');
  s.server('CHG 6 BSY 1073741824\r\nILN 6 NLN bob@x.com Bob 0\r\n');
  s.server(payloadLine('UBX bob@x.com', '<Data><PSM>Coffee</PSM></Data>'));
  return { net, ns, s, events, timers };
}

test('sign-in: VER, CVR, USR TWN with the ticket, SYN, then CHG with the chosen status', () => {
  const { ns, s, events } = signedIn();
  assert.deepEqual(s.lines(), [
    'VER 1 MSNP11 CVR0',
    'CVR 2 0x0409 winnt 5.1 i386 MSNMSGR 7.0.0816 msmsgs me@x.com',
    'USR 3 TWN I me@x.com',
    'USR 4 TWN S t=ticket',
    'SYN 5 0 0',
    'CHG 6 BSY 1073741824',
  ]);
  assert.equal(ns.state, 'online');
  assert.equal(ns.me.name, 'Me Myself');
  assert.equal(ns.list.contacts.get('bob@x.com').status, 'NLN');
  assert.equal(ns.list.contacts.get('bob@x.com').psm, 'Coffee');
  // eve added us while we were away: the prompt is raised.
  assert.ok(events.some(([e, c]) => e === 'added-by' && c.handle === 'eve@x.com'));
});

test('edits are applied when the server confirms them, errors reject', async () => {
  const { ns, s } = signedIn();
  const block = ns.block('bob@x.com');
  assert.equal(s.lines().at(-1), 'ADC 10 BL N=bob@x.com');
  assert.equal(ns.list.isBlocked('bob@x.com'), false);
  s.server('ADC 10 BL N=bob@x.com\r\n');
  await new Promise((r) => setImmediate(r));
  assert.equal(s.lines().at(-1), 'REM 11 AL bob@x.com');
  s.server('REM 11 AL bob@x.com\r\n');
  await block;
  assert.equal(ns.list.isBlocked('bob@x.com'), true);
  const add = ns.addContact('nobody@x.com');
  s.server('205 12\r\n');
  await assert.rejects(add, (e) => e.code === 205);
  const name = ns.setName('<b>Me</b>');
  assert.equal(s.lines().at(-1), 'PRP 13 MFN %3Cb%3EMe%3C%2Fb%3E');
  s.server('PRP 13 MFN %3Cb%3EMe%3C%2Fb%3E\r\n');
  await name;
  assert.equal(ns.me.name, '<b>Me</b>');
});

test('someone adding us, presence, invitations', () => {
  const { s, events, ns } = signedIn();
  s.server('ADC 0 RL N=new@x.com F=New%20One\r\n');
  assert.ok(events.some(([e, c]) => e === 'added-by' && c.name === 'New One'));
  s.server('FLN bob@x.com\r\n');
  assert.equal(ns.list.contacts.get('bob@x.com').status, 'FLN');
  s.server('RNG 1234 127.0.0.1:1865 CKI ck.1 bob@x.com Bob\r\n');
  const ring = events.find(([e]) => e === 'ring')[1];
  assert.deepEqual(ring, { session: '1234', address: '127.0.0.1:1865', cookie: 'ck.1', handle: 'bob@x.com', name: 'Bob' });
});

test('a dropped connection reconnects with a new ticket and signs in again', async () => {
  const { net, ns, s, timers } = signedIn();
  s.handlers.close(false);
  assert.equal(ns.state, 'reconnecting');
  const [retry] = timers.filter(([, ms]) => ms === 1000);
  await retry[0]();
  const again = net.sockets[1];
  again.handlers.open();
  again.server('VER 1 MSNP11\r\nCVR 2 x\r\nUSR 3 TWN S x\r\n');
  assert.equal(again.lines().at(-1), 'USR 4 TWN S t=new');
});

test('OUT OTH does not reconnect', () => {
  const { ns, s, timers } = signedIn();
  const before = timers.length;
  s.server('OUT OTH\r\n');
  s.handlers.close(true);
  assert.equal(ns.state, 'replaced');
  assert.equal(timers.length, before);
});

test('switchboard: messages wait for someone to join, ACK settles, the rest survive a drop', () => {
  const net = fakeNetwork();
  const events = [];
  const sb = new SbSession({ handle: 'me@x.com', connect: net.connect, emit: (e, d) => events.push([e, d]) });
  const conv = new Conversation('c1', ['bob@x.com']);
  sb.call('ck', ['bob@x.com']);
  const s = net.sockets[0];
  s.handlers.open();
  const first = conv.outgoing('me@x.com', 'héllo :)');
  sb.sendText(first);
  s.server('USR 1 OK me@x.com Me\r\nCAL 2 RINGING 99\r\n');
  assert.deepEqual(s.lines(), ['USR 1 me@x.com ck', 'CAL 2 bob@x.com']);
  s.server('JOI bob@x.com Bob\r\n');
  const lines = s.sent.join('');
  assert.match(lines, /MSG 3 A \d+\r\nMIME-Version: 1.0\r\nContent-Type: text\/plain; charset=UTF-8\r\n/);
  assert.ok(lines.endsWith('héllo :)'));
  s.server('ACK 3\r\n');
  assert.equal(first.state, 'sent');
  const second = conv.outgoing('me@x.com', 'two');
  sb.sendText(second);
  s.server(payloadLine('MSG bob@x.com Bob', 'MIME-Version: 1.0\r\nContent-Type: text/x-msmsgscontrol\r\nTypingUser: bob@x.com\r\n\r\n\r\n'));
  s.server(payloadLine('MSG bob@x.com Bob', 'MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\n<img src=x onerror=alert(1)>'));
  s.server(payloadLine('MSG bob@x.com Bob', 'MIME-Version: 1.0\r\nContent-Type: text/x-msnmsgr-datacast\r\n\r\nID: 1\r\n\r\n'));
  assert.deepEqual(events.map(([e]) => e), ['joined', 'settled', 'typing', 'message', 'nudge']);
  assert.equal(events[3][1].text, '<img src=x onerror=alert(1)>');
  s.handlers.close(false);
  const closed = events.at(-1);
  assert.equal(closed[0], 'closed');
  assert.deepEqual(closed[1].unsettled, [second]);
  assert.deepEqual(conv.unacknowledged(), [second]);
});

test('answering an invitation', () => {
  const net = fakeNetwork();
  const events = [];
  const sb = new SbSession({ handle: 'me@x.com', connect: net.connect, emit: (e, d) => events.push([e, d]) });
  sb.answer('ck.2', '1234');
  const s = net.sockets[0];
  s.handlers.open();
  assert.deepEqual(s.lines(), ['ANS 1 me@x.com ck.2 1234']);
  s.server('IRO 1 1 1 bob@x.com Bob%20B\r\nANS 1 OK\r\n');
  assert.ok(sb.live);
  assert.equal(sb.others.get('bob@x.com'), 'Bob B');
  s.server('BYE bob@x.com\r\n');
  assert.equal(sb.live, false);
});
