// MSNP framing: cutting the server's byte stream into commands, writing
// commands, MIME message payloads, parameter encoding. No DOM, no I/O.

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8');

// Server commands whose last parameter is the byte length of a payload
// that follows the line (NS and switchboard, MSNP12).
const PAYLOAD_COMMANDS = new Set(['MSG', 'NOT', 'IPG', 'UBX', 'GCF', 'UUX', 'UBN', 'FQY', 'ADL', 'RML']);

// The longest line or payload accepted from the server.
const MAX_LINE = 16384;
const MAX_PAYLOAD = 1 << 20;

export class ProtocolError extends Error {}

// One command from the server: `cmd`, its parameters `args` (the first is
// the transaction id where the command has one), and `payload`
// (Uint8Array) for the payload commands.
export class Decoder {
  constructor() {
    this.buf = new Uint8Array(0);
  }

  // Appends `bytes` and returns every complete command.
  push(bytes) {
    const joined = new Uint8Array(this.buf.length + bytes.length);
    joined.set(this.buf, 0);
    joined.set(bytes, this.buf.length);
    this.buf = joined;
    const out = [];
    for (;;) {
      const frame = this.next();
      if (!frame) break;
      out.push(frame);
    }
    return out;
  }

  next() {
    const buf = this.buf;
    let eol = -1;
    for (let i = 0; i + 1 < buf.length; i++) {
      if (buf[i] === 13 && buf[i + 1] === 10) {
        eol = i;
        break;
      }
    }
    if (eol < 0) {
      if (buf.length > MAX_LINE) throw new ProtocolError('line too long');
      return null;
    }
    const line = decoder.decode(buf.subarray(0, eol));
    const parts = line.split(' ');
    const cmd = parts[0];
    const args = parts.slice(1);
    let consumed = eol + 2;
    let payload = null;
    if (PAYLOAD_COMMANDS.has(cmd) && args.length > 0 && /^\d+$/.test(args[args.length - 1])) {
      const length = Number(args[args.length - 1]);
      if (length > MAX_PAYLOAD) throw new ProtocolError('payload too large');
      if (buf.length < consumed + length) return null;
      payload = buf.slice(consumed, consumed + length);
      consumed += length;
    }
    this.buf = buf.slice(consumed);
    return { cmd, args, payload, line };
  }
}

// The bytes of a command line, with an optional payload (string or
// Uint8Array) whose length is appended as the last parameter.
export function encodeCommand(cmd, args, payload) {
  const params = args.map(String);
  let body = null;
  if (payload !== undefined && payload !== null) {
    body = typeof payload === 'string' ? encoder.encode(payload) : payload;
    params.push(String(body.length));
  }
  const head = encoder.encode([cmd, ...params].join(' ') + '\r\n');
  if (!body) return head;
  const out = new Uint8Array(head.length + body.length);
  out.set(head, 0);
  out.set(body, head.length);
  return out;
}

// A friendly name or group name as a parameter: percent-encoded UTF-8
// (spaces and everything outside the unreserved set).
export function encodeParam(text) {
  return encodeURIComponent(text);
}

// A parameter back to text; a malformed escape is kept as it is.
export function decodeParam(param) {
  try {
    return decodeURIComponent(param);
  } catch {
    return param;
  }
}

// A MIME message payload: `headers` (lower-case names → values) and the
// body as text.
export function parseMessage(payload) {
  const text = decoder.decode(payload);
  const split = text.indexOf('\r\n\r\n');
  const head = split < 0 ? text : text.slice(0, split);
  const body = split < 0 ? '' : text.slice(split + 4);
  const headers = new Map();
  for (const line of head.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return { headers, body, contentType: (headers.get('content-type') || '').split(';')[0].trim().toLowerCase() };
}

export function byteLength(text) {
  return encoder.encode(text).length;
}

// Message payloads a client sends on the switchboard.
export function textMessage(text) {
  return 'MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n' +
    'X-MMS-IM-Format: FN=Segoe%20UI; EF=; CO=0; CS=1; PF=0\r\n\r\n' + text;
}

export function typingMessage(handle) {
  return `MIME-Version: 1.0\r\nContent-Type: text/x-msmsgscontrol\r\nTypingUser: ${handle}\r\n\r\n\r\n`;
}

export function nudgeMessage() {
  return 'MIME-Version: 1.0\r\nContent-Type: text/x-msnmsgr-datacast\r\n\r\nID: 1\r\n\r\n';
}

// The personal-message document of UUX/UBX.
export function psmDocument(text) {
  return `<Data><PSM>${escapeXml(text)}</PSM><CurrentMedia></CurrentMedia></Data>`;
}

// The personal message in a UBX document ('' when none).
export function psmFromDocument(payload) {
  const text = typeof payload === 'string' ? payload : decoder.decode(payload);
  const match = /<PSM>([\s\S]*?)<\/PSM>/.exec(text);
  return match ? unescapeXml(match[1]) : '';
}

export function escapeXml(text) {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]);
}

export function unescapeXml(text) {
  return text.replace(/&(#x[0-9a-fA-F]+|#\d+|amp|lt|gt|quot|apos);/g, (_, e) => {
    switch (e) {
      case 'amp': return '&';
      case 'lt': return '<';
      case 'gt': return '>';
      case 'quot': return '"';
      case 'apos': return "'";
      default: {
        const code = e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
        try {
          return String.fromCodePoint(code);
        } catch {
          return '';
        }
      }
    }
  });
}

// Server error codes the client explains to its user.
export const ERRORS = {
  200: 'The server did not understand the request.',
  201: 'That sign-in name is not valid.',
  205: 'There is no such account.',
  206: 'The name is missing.',
  208: 'That sign-in name is not valid.',
  209: 'That name cannot be used.',
  210: 'Your contact list is full.',
  215: 'That contact is already on your list.',
  216: 'That contact is not on your list.',
  217: 'That contact is not signed in.',
  219: 'That contact is on the allow and block lists at once.',
  223: 'You have too many groups.',
  224: 'No such group.',
  228: 'That group name is too long.',
  229: 'That group name is too long.',
  230: 'That group cannot be changed.',
  231: 'That group is not empty.',
  280: 'The switchboard is unavailable.',
  500: 'The server had an internal error.',
  600: 'The server is busy.',
  800: 'Too many changes too quickly; wait a little.',
  911: 'The sign-in failed.',
};

export function errorText(code) {
  return ERRORS[code] || `The server refused the request (error ${code}).`;
}
