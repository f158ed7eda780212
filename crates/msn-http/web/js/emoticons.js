// MSN Messenger's text emoticons, shown as pictures (Unicode emoji, so
// nothing is loaded) while the text stays what was sent: a segment keeps
// its original characters for copying and as its tooltip.

// The shortcuts MSN Messenger 6–7.5 turned into emoticons (case-insensitive
// for letters), longest first where one is a prefix of another.
export const EMOTICONS = [
  [':-)', '🙂'], [':)', '🙂'],
  [':-D', '😃'], [':D', '😃'], [':-d', '😃'], [':d', '😃'],
  [';-)', '😉'], [';)', '😉'],
  [':-O', '😮'], [':O', '😮'], [':-o', '😮'], [':o', '😮'],
  [':-P', '😛'], [':P', '😛'], [':-p', '😛'], [':p', '😛'],
  ['(H)', '😎'], ['(h)', '😎'],
  [':-@', '😠'], [':@', '😠'],
  [':-$', '😳'], [':$', '😳'],
  [':-S', '😕'], [':S', '😕'], [':-s', '😕'], [':s', '😕'],
  [':-(', '🙁'], [':(', '🙁'],
  [":'(", '😢'],
  [':-|', '😐'], [':|', '😐'],
  ['(6)', '😈'],
  ['(A)', '😇'], ['(a)', '😇'],
  ['(L)', '❤️'], ['(l)', '❤️'],
  ['(U)', '💔'], ['(u)', '💔'],
  ['(M)', '💬'], ['(m)', '💬'],
  ['(@)', '🐱'], ['(&)', '🐶'],
  ['(S)', '🌙'], ['(*)', '⭐'],
  ['(8)', '🎵'], ['(E)', '✉️'], ['(e)', '✉️'],
  ['(F)', '🌹'], ['(f)', '🌹'],
  ['(W)', '🥀'], ['(w)', '🥀'],
  ['(O)', '🕒'], ['(o)', '🕒'],
  ['(K)', '💋'], ['(k)', '💋'],
  ['(G)', '🎁'], ['(g)', '🎁'],
  ['(^)', '🎂'], ['(P)', '📷'], ['(p)', '📷'],
  ['(I)', '💡'], ['(i)', '💡'],
  ['(C)', '☕'], ['(c)', '☕'],
  ['(T)', '📞'], ['(t)', '📞'],
  ['({)', '🤗'], ['(})', '🤗'],
  ['(B)', '🍺'], ['(b)', '🍺'],
  ['(D)', '🍸'], ['(d)', '🍸'],
  ['(Z)', '👦'], ['(z)', '👦'], ['(X)', '👧'], ['(x)', '👧'],
  ['(Y)', '👍'], ['(y)', '👍'], ['(N)', '👎'], ['(n)', '👎'],
  [':-[', '🦇'], [':[', '🦇'],
  ['(%)', '🔗'], ['(mp)', '📱'], ['(ap)', '✈️'], ['(au)', '🚗'],
  ['(pi)', '🍕'], ['(so)', '⚽'], ['(um)', '☂️'], ['(co)', '💻'],
  ['(st)', '🌧️'], ['(li)', '⚡'], ['(#)', '☀️'], ['(R)', '🌈'], ['(r)', '🌈'],
  ['(brb)', '🏃'],
].sort((a, b) => b[0].length - a[0].length);

// The text cut into segments: `{ text }` for plain text and
// `{ text, emoji }` for an emoticon (its original characters in `text`).
export function segments(text) {
  const out = [];
  let plain = '';
  let i = 0;
  outer: while (i < text.length) {
    for (const [code, emoji] of EMOTICONS) {
      if (text.startsWith(code, i)) {
        if (plain) out.push({ text: plain });
        plain = '';
        out.push({ text: code, emoji });
        i += code.length;
        continue outer;
      }
    }
    plain += text[i];
    i += 1;
  }
  if (plain) out.push({ text: plain });
  return out;
}
