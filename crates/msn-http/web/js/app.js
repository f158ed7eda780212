// msnd Web Messenger: signing in, the contact list and the conversations,
// tied to the page. The protocol lives in ns.js and sb.js, the state in
// model.js, the drawing in ui.js.

import { openSocket, dropAll, errors } from './socket.js';
import { NsClient, CommandError } from './ns.js';
import { SbSession } from './sb.js';
import { Conversation, statusText, STATUSES, FL, BL } from './model.js';
import { errorText, byteLength } from './msnp.js';
import { $, el, renderContacts, renderPrompts, renderTabs, renderLog, fillStatusSelect, dialog, richText } from './ui.js';

const API = '/messenger/api/';
const TYPING_EVERY_MS = 4000;
// The switchboard's message limit is 1664 bytes with the MIME head.
const MAX_TEXT_BYTES = 1400;

class NotSignedIn extends Error {
  constructor() {
    super('not signed in');
    this.signedOut = true;
  }
}

async function api(path, body) {
  const response = await fetch(API + path, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json', 'X-MSND-Web': '1' },
    body: JSON.stringify(body || {}),
  });
  const data = await response.json().catch(() => ({}));
  return { status: response.status, data };
}

async function fetchTicket() {
  const { status, data } = await api('ticket');
  if (status === 401) throw new NotSignedIn();
  if (status !== 200) throw new Error(`ticket: ${status}`);
  return data.ticket;
}

const app = {
  ns: null,
  me: null,
  conversations: new Map(),
  active: null,
  collapsed: new Set(),
  nextConv: 1,
  lastTyping: 0,
  unreadHidden: 0,
  titleTimer: null,
};

// --- signing in and out ---

function showSignIn(message) {
  $('main').hidden = true;
  $('signin').hidden = false;
  const error = $('signin-error');
  error.hidden = !message;
  error.textContent = message || '';
  $('signin-button').disabled = false;
}

async function onSignIn(event) {
  event.preventDefault();
  $('signin-button').disabled = true;
  $('signin-error').hidden = true;
  if (window.Notification && Notification.permission === 'default') {
    Notification.requestPermission().catch(() => {});
  }
  const handle = $('signin-handle').value.trim();
  const { status, data } = await api('sign-in', { handle, password: $('signin-password').value }).catch(() => ({ status: 0, data: {} }));
  $('signin-password').value = '';
  if (status !== 200) {
    showSignIn(data.error || 'The server cannot be reached. Check your connection and try again.');
    return;
  }
  start(data.handle, data.ticket, $('signin-status').value);
}

function start(handle, ticket, status) {
  app.me = handle;
  app.ns = new NsClient({ handle, connect: openSocket, getTicket: fetchTicket, emit: onNsEvent });
  app.ns.start(ticket, status);
  $('signin').hidden = true;
  $('main').hidden = false;
  document.body.classList.add('signed-in');
  renderAll();
}

async function signOut() {
  if (app.ns) app.ns.signOut();
  for (const conv of app.conversations.values()) if (conv.sb) conv.sb.leave();
  app.conversations.clear();
  app.active = null;
  await api('sign-out').catch(() => {});
  document.body.classList.remove('signed-in', 'chatting');
  showSignIn('You have signed out.');
}

// --- the Notification Server's news ---

function onNsEvent(event, data) {
  switch (event) {
    case 'state':
      showConnState(data);
      if (data === 'online') resumeConversations();
      break;
    case 'list':
    case 'me':
    case 'presence':
      renderAll();
      break;
    case 'added-by':
      renderAll();
      break;
    case 'ring':
      answerRing(data);
      break;
    case 'signin-failed':
      showSignIn(`Signing in failed (${errorText(data)})`);
      break;
    case 'signed-out':
      showSignIn('Your sign-in has ended. Please sign in again.');
      break;
    case 'out':
      if (data === 'OTH') showSignIn('You signed in somewhere else, so you were signed out here.');
      else if (data === 'SSD') showConnState('server-down');
      break;
    case 'alert':
      break;
    case 'error':
      showError(data);
      break;
    default:
      break;
  }
}

function showConnState(state) {
  const banner = $('conn-state');
  const text = {
    connecting: 'Signing in…',
    reconnecting: 'Connection lost. Reconnecting…',
    'server-down': 'The server is going down for maintenance. Reconnecting when it is back…',
  }[state];
  banner.hidden = !text;
  banner.textContent = text || '';
  banner.dataset.state = state;
  document.body.dataset.conn = state;
}

function showError(code) {
  const banner = $('conn-state');
  banner.hidden = false;
  banner.textContent = errorText(code);
  banner.dataset.state = 'error';
  setTimeout(() => {
    if (banner.dataset.state === 'error') banner.hidden = true;
  }, 6000);
}

async function act(promise) {
  try {
    await promise;
  } catch (e) {
    if (e instanceof CommandError && e.code) showError(e.code);
    else if (e instanceof CommandError) showError(600);
    else throw e;
  }
}

// --- drawing ---

function nameOf(handle) {
  if (handle === app.me) return app.ns ? app.ns.me.name : handle;
  const c = app.ns && app.ns.list.contacts.get(handle);
  return c ? c.name : handle;
}

function renderAll() {
  if (!app.ns) return;
  const ns = app.ns;
  const me = ns.me;
  $('me-name').replaceChildren(richText(me.name));
  $('me-icon').className = `presence ${me.status}`;
  if (document.activeElement !== $('me-status')) fillStatusSelect($('me-status'), me.status);
  if (document.activeElement !== $('me-psm')) $('me-psm').value = me.psm;
  renderContacts($('contacts'), ns.list, app.collapsed, {
    open: (h) => openConversation([h]),
    menu: contactMenu,
    groupMenu,
    toggle: (g) => {
      if (app.collapsed.has(g)) app.collapsed.delete(g);
      else app.collapsed.add(g);
      renderAll();
    },
  });
  renderPrompts($('prompts'), ns.list.pending(), (h, allow, addBack) => act(ns.answerAdd(h, allow, addBack)));
  renderConversations();
}

function renderConversations() {
  renderTabs($('tabs'), app.conversations, app.active, nameOf, selectConversation);
  const conv = app.conversations.get(app.active);
  $('conversation').hidden = !conv;
  $('no-conversation').hidden = Boolean(conv);
  if (!conv) return;
  const people = [...conv.participants];
  $('conv-title').replaceChildren(...people.flatMap((h, i) => {
    const c = app.ns.list.contacts.get(h);
    const status = c ? c.status : 'FLN';
    return [i ? ', ' : '', el('span', { class: `presence ${c && c.lists & BL ? 'blocked' : status}` }), richText(nameOf(h)), el('span', { class: 'handle' }, ` <${h}>`)];
  }));
  renderLog($('log'), conv, app.me, nameOf);
  const typing = conv.whoIsTyping(Date.now());
  $('typing').textContent = typing.length ? `${typing.map(nameOf).join(', ')} ${typing.length > 1 ? 'are' : 'is'} typing a message…` : '';
  updateTitle();
}

function updateTitle() {
  let unread = 0;
  for (const c of app.conversations.values()) unread += c.unread;
  document.title = unread ? `(${unread}) msnd Web Messenger` : 'msnd Web Messenger';
}

// --- conversations ---

function findConversation(handles) {
  const want = handles.map((h) => h.toLowerCase()).sort().join(',');
  for (const conv of app.conversations.values()) {
    if ([...conv.participants].sort().join(',') === want) return conv;
  }
  return null;
}

function openConversation(handles) {
  let conv = findConversation(handles);
  if (!conv) {
    conv = new Conversation(`c${app.nextConv++}`, handles);
    app.conversations.set(conv.id, conv);
  }
  selectConversation(conv.id);
  $('input').focus();
  return conv;
}

function selectConversation(id) {
  app.active = id;
  const conv = app.conversations.get(id);
  if (conv) conv.unread = 0;
  document.body.classList.toggle('chatting', Boolean(conv));
  renderConversations();
}

function closeConversation() {
  const conv = app.conversations.get(app.active);
  if (!conv) return;
  if (conv.sb) conv.sb.leave();
  app.conversations.delete(conv.id);
  const next = [...app.conversations.keys()].pop() || null;
  app.active = null;
  if (next) selectConversation(next);
  else {
    document.body.classList.remove('chatting');
    renderConversations();
  }
}

// A switchboard session for `conv`, tied to it.
function newSession(conv) {
  const sb = new SbSession({
    handle: app.me,
    connect: openSocket,
    emit: (event, data) => onSbEvent(conv, sb, event, data),
  });
  conv.sb = sb;
  return sb;
}

// The conversation's switchboard, opening one (XFR SB, CAL everyone) if
// it has none that is usable.
async function ensureSession(conv) {
  if (conv.sb && !conv.sb.closed && (conv.sb.others.size > 0 || !conv.sb.ready || conv.sb.calling.size > 0)) return conv.sb;
  const sb = newSession(conv);
  try {
    const { cookie } = await app.ns.newSwitchboard();
    sb.call(cookie, [...conv.participants]);
  } catch (e) {
    sb.onClose();
    throw e;
  }
  return sb;
}

async function sendText(conv, text) {
  const message = conv.outgoing(app.me, text);
  renderConversations();
  await deliver(conv, [message]);
}

async function deliver(conv, messages) {
  try {
    const sb = await ensureSession(conv);
    for (const m of messages) sb.sendText(m);
  } catch {
    // Not signed in right now: sent again once the NS is back.
  }
}

function onSbEvent(conv, sb, event, data) {
  const now = Date.now();
  switch (event) {
    case 'joined':
      conv.participants.add(data.handle);
      if (!data.quiet && conv.participants.size > 1) conv.add(null, `${data.name} has joined the conversation.`, 'notice');
      break;
    case 'left':
      conv.stopTyping(data.handle);
      if (conv.participants.size > 1) {
        conv.participants.delete(data.handle);
        conv.add(null, `${nameOf(data.handle)} has left the conversation.`, 'notice');
      }
      break;
    case 'message':
      conv.stopTyping(data.handle);
      conv.participants.add(data.handle);
      conv.add(data.handle, data.text);
      arrived(conv, data.handle, data.text);
      break;
    case 'typing':
      conv.setTyping(data.handle, now);
      setTimeout(renderConversations, 6100);
      break;
    case 'nudge':
      conv.add(null, `${nameOf(data.handle)} just sent you a nudge!`, 'nudge');
      arrived(conv, data.handle, 'sent you a nudge!');
      shake();
      break;
    case 'call-failed': {
      const why = data.code === 217 ? 'is offline or not accepting messages' : `could not be invited (${errorText(data.code)})`;
      conv.add(null, `${nameOf(data.handle)} ${why}.`, 'notice');
      if (sb.others.size === 0 && sb.calling.size === 0) {
        for (const m of [...sb.waiting, ...conv.unacknowledged()]) m.state = 'failed';
        sb.waiting = [];
      }
      break;
    }
    case 'settled':
      if (data.message.state === 'failed') conv.add(null, 'The message could not be delivered to all recipients.', 'notice');
      break;
    case 'closed':
      if (conv.sb === sb) conv.sb = null;
      // Unacknowledged messages go again through a new session once we
      // are online (now, or after the reconnection).
      if (data.unsettled.length && app.conversations.has(conv.id) && app.ns && app.ns.state === 'online') {
        deliver(conv, data.unsettled);
      }
      break;
    default:
      break;
  }
  if (app.conversations.has(conv.id)) renderConversations();
}

function resumeConversations() {
  for (const conv of app.conversations.values()) {
    const waiting = conv.unacknowledged();
    if (waiting.length && (!conv.sb || conv.sb.closed)) deliver(conv, waiting);
  }
}

function answerRing(ring) {
  let conv = findConversation([ring.handle]);
  if (!conv) {
    conv = new Conversation(`c${app.nextConv++}`, [ring.handle]);
    app.conversations.set(conv.id, conv);
    if (!app.active) app.active = conv.id;
  }
  const sb = newSession(conv);
  sb.answer(ring.cookie, ring.session);
  renderConversations();
}

// A message or nudge arrived: count it unless it is being read, and tell
// the user when the page is in the background.
function arrived(conv, handle, text) {
  const reading = conv.id === app.active && !document.hidden;
  if (!reading) conv.unread += 1;
  if (!app.active) app.active = conv.id;
  if (document.hidden) {
    flashTitle(`${nameOf(handle)} says…`);
    if (window.Notification && Notification.permission === 'granted') {
      try {
        const n = new Notification(`${nameOf(handle)} says:`, { body: text, tag: conv.id });
        n.onclick = () => {
          window.focus();
          selectConversation(conv.id);
        };
      } catch {
        // Some browsers only allow notifications from a service worker.
      }
    }
  }
}

function flashTitle(text) {
  clearInterval(app.titleTimer);
  let on = false;
  app.titleTimer = setInterval(() => {
    if (!document.hidden) {
      clearInterval(app.titleTimer);
      updateTitle();
      return;
    }
    on = !on;
    if (on) document.title = text;
    else updateTitle();
  }, 1000);
}

function shake() {
  const pane = $('conversation');
  pane.classList.remove('shake');
  void pane.offsetWidth;
  pane.classList.add('shake');
  pane.addEventListener('animationend', () => pane.classList.remove('shake'), { once: true });
}

// --- contact and group menus ---

async function contactMenu(c) {
  const ns = app.ns;
  const blocked = Boolean(c.lists & BL);
  const groups = [['0', 'Other Contacts'], ...[...ns.list.groups.entries()].map(([g, n]) => [g, n])];
  const current = c.groups[0] || '0';
  const { button, values } = await dialog(`${c.name} (${c.handle})`, [
    { type: 'text-only', label: `${statusText(c.status)}${c.psm ? ` — ${c.psm}` : ''}` },
    { id: 'group', label: 'Group', options: groups, value: current },
  ], [
    { label: 'Send a message', value: 'message', primary: true },
    { label: 'Move to group', value: 'move' },
    { label: blocked ? 'Unblock' : 'Block', value: blocked ? 'unblock' : 'block' },
    { label: 'Delete contact', value: 'remove' },
    { label: 'Cancel', value: 'cancel', cancel: true },
  ]);
  switch (button) {
    case 'message':
      openConversation([c.handle]);
      break;
    case 'move':
      await act(ns.moveContact(c.handle, current, values.group));
      break;
    case 'block':
      await act(ns.block(c.handle));
      break;
    case 'unblock':
      await act(ns.unblock(c.handle));
      break;
    case 'remove':
      await act(ns.removeContact(c.handle));
      break;
    default:
      break;
  }
}

async function groupMenu(g) {
  const { button, values } = await dialog(`Group "${g.name}"`, [
    { id: 'name', label: 'Name', value: g.name, maxlength: 61 },
  ], [
    { label: 'Rename', value: 'rename', primary: true },
    { label: 'Delete group', value: 'delete' },
    { label: 'Cancel', value: 'cancel', cancel: true },
  ]);
  if (button === 'rename' && values.name.trim()) await act(app.ns.renameGroup(g.guid, values.name.trim()));
  if (button === 'delete') await act(app.ns.removeGroup(g.guid));
}

async function addContactDialog() {
  const groups = [['0', 'Other Contacts'], ...app.ns.list.groups.entries()];
  const { button, values } = await dialog('Add a contact', [
    { id: 'handle', label: "Their sign-in name (e-mail address)", type: 'email', required: true },
    { id: 'group', label: 'Group', options: groups, value: '0' },
  ], [
    { label: 'Add', value: 'add', primary: true },
    { label: 'Cancel', value: 'cancel', cancel: true },
  ]);
  if (button === 'add' && values.handle.trim()) {
    await act(app.ns.addContact(values.handle, values.group !== '0' ? values.group : null));
  }
}

async function addGroupDialog() {
  const { button, values } = await dialog('Create a group', [
    { id: 'name', label: 'Group name', maxlength: 61, required: true },
  ], [
    { label: 'Create', value: 'create', primary: true },
    { label: 'Cancel', value: 'cancel', cancel: true },
  ]);
  if (button === 'create' && values.name.trim()) await act(app.ns.addGroup(values.name.trim()));
}

async function inviteDialog() {
  const conv = app.conversations.get(app.active);
  if (!conv) return;
  const candidates = [...app.ns.list.contacts.values()].filter((c) => c.lists & FL && c.status !== 'FLN' && !conv.participants.has(c.handle));
  if (!candidates.length) {
    conv.add(null, 'None of your other contacts is online.', 'notice');
    renderConversations();
    return;
  }
  const { button, values } = await dialog('Invite someone to this conversation', [
    { id: 'who', label: 'Contact', options: candidates.map((c) => [c.handle, `${c.name} (${c.handle})`]) },
  ], [
    { label: 'Invite', value: 'invite', primary: true },
    { label: 'Cancel', value: 'cancel', cancel: true },
  ]);
  if (button !== 'invite') return;
  const sb = await ensureSession(conv).catch(() => null);
  if (sb) sb.invite(values.who);
}

async function editName() {
  const { button, values } = await dialog('Your display name', [
    { id: 'name', label: 'Display name', value: app.ns.me.name, maxlength: 129, required: true },
  ], [
    { label: 'Save', value: 'save', primary: true },
    { label: 'Cancel', value: 'cancel', cancel: true },
  ]);
  if (button === 'save' && values.name.trim()) await act(app.ns.setName(values.name.trim()));
}

// --- wiring ---

function wire() {
  fillStatusSelect($('signin-status'), 'NLN');
  $('signin-form').addEventListener('submit', onSignIn);
  $('signout').addEventListener('click', signOut);
  $('me-name').addEventListener('click', editName);
  $('me-status').addEventListener('change', (e) => act(app.ns.setStatus(e.target.value)));
  $('me-psm').addEventListener('change', (e) => act(app.ns.setPersonalMessage(e.target.value)));
  $('me-psm').addEventListener('keydown', (e) => {
    if (e.key === 'Enter') e.target.blur();
  });
  $('add-contact').addEventListener('click', addContactDialog);
  $('add-group').addEventListener('click', addGroupDialog);
  $('conv-close').addEventListener('click', closeConversation);
  $('conv-invite').addEventListener('click', inviteDialog);
  $('back').addEventListener('click', () => document.body.classList.remove('chatting'));
  $('conv-nudge').addEventListener('click', async () => {
    const conv = app.conversations.get(app.active);
    if (!conv) return;
    const sb = await ensureSession(conv).catch(() => null);
    if (sb && sb.nudge()) {
      conv.add(null, 'You have just sent a nudge.', 'nudge');
      shake();
    } else {
      conv.add(null, 'The nudge could not be sent: nobody is in the conversation yet.', 'notice');
    }
    renderConversations();
  });
  $('compose').addEventListener('submit', (e) => {
    e.preventDefault();
    const conv = app.conversations.get(app.active);
    const text = $('input').value;
    if (!conv || !text.trim()) return;
    if (byteLength(text) > MAX_TEXT_BYTES) {
      conv.add(null, 'That message is too long to send.', 'notice');
      renderConversations();
      return;
    }
    $('input').value = '';
    sendText(conv, text);
  });
  $('input').addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey) {
      e.preventDefault();
      $('compose').requestSubmit();
    }
  });
  $('input').addEventListener('input', () => {
    const conv = app.conversations.get(app.active);
    const now = Date.now();
    if (conv && conv.sb && conv.sb.live && now - app.lastTyping > TYPING_EVERY_MS) {
      app.lastTyping = now;
      conv.sb.typing();
    }
  });
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden) {
      const conv = app.conversations.get(app.active);
      if (conv) conv.unread = 0;
      if (app.ns) renderConversations();
    }
  });
  window.addEventListener('beforeunload', () => {
    if (app.ns) app.ns.signOut();
  });
}

// A sign-in that is still valid (a reload) continues without the password.
async function resume() {
  const { status, data } = await api('ticket').catch(() => ({ status: 0 }));
  if (status === 200) start(data.handle, data.ticket, 'NLN');
  else showSignIn('');
}

wire();
resume();

// For the browser test and debugging: the state, read-only.
window.msnd = { app, STATUSES, errors, dropConnections: dropAll };
