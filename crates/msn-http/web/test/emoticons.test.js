import { test } from 'node:test';
import assert from 'node:assert/strict';
import { segments } from '../js/emoticons.js';

test('text emoticons become pictures that keep their text', () => {
  assert.deepEqual(segments('hi :) (Y)!'), [
    { text: 'hi ' }, { text: ':)', emoji: '🙂' }, { text: ' ' }, { text: '(Y)', emoji: '👍' }, { text: '!' },
  ]);
  assert.deepEqual(segments(':-D'), [{ text: ':-D', emoji: '😃' }]);
  assert.deepEqual(segments('http://x'), [{ text: 'http://x' }]);
  assert.deepEqual(segments(''), []);
});

test('HTML is just text', () => {
  const s = segments('<img src=x onerror=alert(1)>');
  assert.equal(s.map((x) => x.text).join(''), '<img src=x onerror=alert(1)>');
});
