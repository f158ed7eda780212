import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Decoder, encodeCommand, parseMessage, psmDocument, psmFromDocument, encodeParam, decodeParam,
  escapeXml, ProtocolError, textMessage,
} from '../js/msnp.js';

const bytes = (s) => new TextEncoder().encode(s);
const text = (b) => new TextDecoder().decode(b);

test('commands are cut from a stream split anywhere', () => {
  const wire = 'VER 1 MSNP11\r\nMSG dan@x.com Dan 6\r\nhé hoFLN a@b.c\r\n';
  const all = bytes(wire);
  for (let cut = 0; cut <= all.length; cut++) {
    const d = new Decoder();
    const frames = [...d.push(all.subarray(0, cut)), ...d.push(all.subarray(cut))];
    assert.deepEqual(frames.map((f) => f.cmd), ['VER', 'MSG', 'FLN']);
    assert.equal(text(frames[1].payload), 'hé ho');
    assert.deepEqual(frames[2].args, ['a@b.c']);
  }
});

test('errors and zero-length payloads', () => {
  const d = new Decoder();
  const frames = d.push(bytes('215 12\r\nUUX 8 0\r\nQNG 50\r\n'));
  assert.deepEqual(frames.map((f) => [f.cmd, f.args]), [['215', ['12']], ['UUX', ['8', '0']], ['QNG', ['50']]]);
  assert.equal(frames[1].payload.length, 0);
});

test('an endless line is a protocol error', () => {
  const d = new Decoder();
  assert.throws(() => d.push(new Uint8Array(20000).fill(65)), ProtocolError);
});

test('payload lengths are bytes of UTF-8', () => {
  const out = text(encodeCommand('MSG', ['3', 'A'], 'ñ日'));
  assert.equal(out, 'MSG 3 A 5\r\nñ日');
  assert.equal(text(encodeCommand('OUT', [])), 'OUT\r\n');
});

test('names are percent-encoded and decoded; bad escapes are kept', () => {
  assert.equal(encodeParam('Web User ñ'), 'Web%20User%20%C3%B1');
  assert.equal(decodeParam('Web%20User%20%C3%B1'), 'Web User ñ');
  assert.equal(decodeParam('100%'), '100%');
});

test('messages and personal messages', () => {
  const m = parseMessage(bytes(textMessage('<b>hi</b>\r\n:)')));
  assert.equal(m.contentType, 'text/plain');
  assert.equal(m.body, '<b>hi</b>\r\n:)');
  const doc = psmDocument('Coffee & <code>');
  assert.equal(doc, '<Data><PSM>Coffee &amp; &lt;code&gt;</PSM><CurrentMedia></CurrentMedia></Data>');
  assert.equal(psmFromDocument(bytes(doc)), 'Coffee & <code>');
  assert.equal(psmFromDocument('<Data><PSM>&#x263A; &#9731;</PSM></Data>'), '☺ ☃');
  assert.equal(psmFromDocument('<Data></Data>'), '');
  assert.equal(escapeXml(`'"`), '&apos;&quot;');
});
