import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ContactList, Conversation, Acks, FL, AL, BL, RL } from '../js/model.js';

test('the list is built from LSG/LST and edited by ADC/REM', () => {
  const l = new ContactList();
  l.groups.set('g1', 'Friends');
  l.applyLst(['N=bob@x.com', 'F=Bob%20B', 'C=c1', '11', 'g1']);
  l.applyLst(['N=eve@x.com', 'F=Eve', 'C=c2', '8']);
  const bob = l.contacts.get('bob@x.com');
  assert.equal(bob.name, 'Bob B');
  assert.deepEqual(bob.groups, ['g1']);
  assert.deepEqual(l.pending().map((c) => c.handle), ['eve@x.com']);
  l.setPresence('NLN', 'bob@x.com', 'Bobby');
  const view = l.view();
  assert.deepEqual(view.map((g) => [g.name, g.contacts.map((c) => c.handle)]), [['Friends', ['bob@x.com']], ['Other Contacts', []]]);
  // Block eve: pending no more.
  l.applyAdc(['12', 'BL', 'N=eve@x.com']);
  assert.equal(l.pending().length, 0);
  assert.ok(l.isBlocked('eve@x.com'));
  // Someone new adds us.
  l.applyAdc(['0', 'RL', 'N=new@x.com', 'F=New']);
  assert.deepEqual(l.pending().map((c) => c.handle), ['new@x.com']);
  // A group move and a removal by contact id.
  l.applyRem(['13', 'FL', 'c1', 'g1']);
  assert.deepEqual(bob.groups, []);
  l.applyRem(['14', 'FL', 'c1']);
  assert.equal(bob.lists & FL, 0);
  assert.equal(bob.lists & (AL | RL), AL | RL);
  assert.equal(BL, 4);
});

test('acknowledgements settle the right message; the rest can be sent again', () => {
  const c = new Conversation('c1', ['Bob@x.com']);
  assert.ok(c.participants.has('bob@x.com'));
  const a = c.outgoing('me', 'one');
  const b = c.outgoing('me', 'two');
  const acks = new Acks();
  acks.expect(5, a);
  acks.expect(6, b);
  assert.equal(acks.settle('5', true), a);
  assert.equal(a.state, 'sent');
  assert.equal(acks.settle('5', true), null);
  assert.deepEqual(acks.abandon(), [b]);
  assert.deepEqual(c.unacknowledged(), [b]);
});

test('typing expires', () => {
  const c = new Conversation('c1', ['bob@x.com']);
  c.setTyping('bob@x.com', 1000, 500);
  assert.deepEqual(c.whoIsTyping(1200), ['bob@x.com']);
  assert.deepEqual(c.whoIsTyping(1600), []);
});
