// Drawing: the contact list, the conversation tabs and log, dialogs.
// Every piece of text a user or the server chose goes in with
// `textContent` (through `el`), never as HTML.

import { segments } from './emoticons.js';
import { statusText, STATUSES, FL, BL } from './model.js';

export const $ = (id) => document.getElementById(id);

// An element with attributes (`on…` functions become listeners) and
// children (strings become text nodes).
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') node.addEventListener(key.slice(2), value);
    else if (key === 'class') node.className = value;
    else if (key === 'dataset') Object.assign(node.dataset, value);
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(typeof child === 'string' ? document.createTextNode(child) : child);
  }
  return node;
}

// Text with its emoticons drawn (each keeps its characters as a tooltip
// and for copying).
export function richText(text) {
  const span = el('span', { class: 'rich' });
  for (const s of segments(text)) {
    if (s.emoji) span.append(el('span', { class: 'emoticon', title: s.text, 'aria-label': s.text, 'data-text': s.text }, s.emoji));
    else span.append(document.createTextNode(s.text));
  }
  return span;
}

export function fillStatusSelect(select, current) {
  select.replaceChildren(...STATUSES.map(([code, label]) => el('option', { value: code, selected: code === current }, label)));
}

// The contact list, by group. `actions.open(handle)` starts a chat,
// `actions.menu(contact)` shows what can be done with a contact.
export function renderContacts(root, list, collapsed, actions) {
  const groups = list.view();
  const out = [];
  for (const g of groups) {
    if (g.guid === '0' && g.contacts.length === 0) continue;
    const online = g.contacts.filter((c) => c.status !== 'FLN').length;
    const isCollapsed = collapsed.has(g.guid);
    const header = el('button', {
      type: 'button',
      class: 'group-head',
      'aria-expanded': String(!isCollapsed),
      dataset: { group: g.guid },
      onclick: () => actions.toggle(g.guid),
    }, `${isCollapsed ? '▸' : '▾'} ${g.name} (${online}/${g.contacts.length})`);
    const items = isCollapsed ? [] : g.contacts.map((c) => contactRow(c, actions));
    const groupActions = g.guid === '0' ? null : el('button', { type: 'button', class: 'group-menu', title: 'Group options', 'aria-label': `Options for ${g.name}`, onclick: () => actions.groupMenu(g) }, '⋯');
    out.push(el('div', { class: 'group', dataset: { group: g.guid } }, el('div', { class: 'group-bar' }, header, groupActions), el('ul', { class: 'group-list' }, items)));
  }
  root.replaceChildren(...out);
}

function contactRow(c, actions) {
  const blocked = Boolean(c.lists & BL);
  const status = blocked ? 'blocked' : c.status;
  return el('li', { class: `contact ${c.status === 'FLN' ? 'offline' : 'online'}`, dataset: { handle: c.handle, status: c.status } },
    el('button', { type: 'button', class: 'contact-open', title: `${c.handle} — ${statusText(c.status)}`, onclick: () => actions.open(c.handle) },
      el('span', { class: `presence ${status}`, 'aria-label': blocked ? 'Blocked' : statusText(c.status) }),
      el('span', { class: 'contact-name' }, richText(c.name)),
      c.status !== 'FLN' && c.status !== 'NLN' ? el('span', { class: 'contact-status' }, ` (${statusText(c.status)})`) : null,
      c.psm ? el('span', { class: 'contact-psm' }, ' — ', richText(c.psm)) : null),
    el('button', { type: 'button', class: 'contact-menu', title: 'Contact options', 'aria-label': `Options for ${c.handle}`, onclick: () => actions.menu(c) }, '⋯'));
}

// The "X added you" prompts.
export function renderPrompts(root, pending, answer) {
  root.replaceChildren(...pending.map((c) => el('div', { class: 'prompt', dataset: { handle: c.handle } },
    el('p', {}, el('strong', {}, richText(c.name)), ` (${c.handle}) has added you to their contact list.`),
    el('div', { class: 'buttons' },
      el('button', { type: 'button', class: 'primary prompt-allow', onclick: () => answer(c.handle, true, true) }, 'Allow and add'),
      el('button', { type: 'button', class: 'prompt-allow-only', onclick: () => answer(c.handle, true, false) }, 'Allow'),
      el('button', { type: 'button', class: 'prompt-block', onclick: () => answer(c.handle, false, false) }, 'Block')))));
}

export function renderTabs(root, conversations, activeId, names, select) {
  root.replaceChildren(...[...conversations.values()].map((conv) => {
    const title = [...conv.participants].map(names).join(', ');
    return el('button', {
      type: 'button',
      role: 'tab',
      class: `tab${conv.id === activeId ? ' active' : ''}${conv.unread ? ' unread' : ''}`,
      'aria-selected': String(conv.id === activeId),
      dataset: { conv: conv.id, participants: [...conv.participants].join(',') },
      onclick: () => select(conv.id),
    }, el('span', { class: 'tab-title' }, title), conv.unread ? el('span', { class: 'badge' }, String(conv.unread)) : null);
  }));
}

export function renderLog(root, conv, me, names) {
  const nearBottom = root.scrollHeight - root.scrollTop - root.clientHeight < 40;
  root.replaceChildren(...conv.messages.map((m) => {
    if (m.kind !== 'text') return el('li', { class: `notice ${m.kind}` }, m.text);
    const mine = m.from === me;
    return el('li', { class: `msg ${mine ? 'mine' : 'theirs'} ${m.state}`, dataset: { state: m.state } },
      el('span', { class: 'who' }, `${mine ? 'You' : names(m.from)} say:`),
      el('span', { class: 'text' }, richText(m.text)),
      m.state === 'sending' ? el('span', { class: 'state' }, ' (sending…)') : null,
      m.state === 'failed' ? el('span', { class: 'state' }, ' (could not be delivered)') : null);
  }));
  if (nearBottom) root.scrollTop = root.scrollHeight;
}

// A modal dialog: `fields` are { id, label, value, type, options }, and
// `buttons` { label, value, primary }; resolves to { button, values }
// (button null when dismissed).
export function dialog(title, fields, buttons) {
  const d = $('dialog');
  $('dialog-title').textContent = title;
  const body = $('dialog-body');
  body.replaceChildren(...fields.map((f) => {
    if (f.type === 'text-only') return el('p', {}, f.label);
    const input = f.options
      ? el('select', { id: `dlg-${f.id}` }, f.options.map(([v, label]) => el('option', { value: v, selected: v === f.value }, label)))
      : el('input', { id: `dlg-${f.id}`, type: f.type || 'text', value: f.value || '', maxlength: f.maxlength, required: f.required, autocomplete: 'off' });
    return el('label', {}, f.label, input);
  }));
  $('dialog-buttons').replaceChildren(...buttons.map((b) => el('button', { value: b.value, class: b.primary ? 'primary' : null, id: `dlg-btn-${b.value}`, formnovalidate: b.cancel }, b.label)));
  return new Promise((resolve) => {
    d.onclose = () => {
      const values = {};
      for (const f of fields) {
        const input = document.getElementById(`dlg-${f.id}`);
        if (input) values[f.id] = input.value;
      }
      resolve({ button: d.returnValue || null, values });
    };
    d.returnValue = '';
    d.showModal();
    const first = body.querySelector('input, select');
    if (first) first.focus();
  });
}

export function contactFlags(c) {
  return { onList: Boolean(c.lists & FL), blocked: Boolean(c.lists & BL) };
}
