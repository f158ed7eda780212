// A fake transport for ns.js and sb.js: records what the client sends and
// lets a test play the server's lines.

import { encodeCommand, Decoder } from '../js/msnp.js';

export function fakeNetwork() {
  const net = { sockets: [] };
  net.connect = (target, handlers) => {
    const sent = [];
    const decoder = new Decoder();
    const socket = {
      target,
      handlers,
      sent,
      closed: false,
      send(cmd, args, payload) {
        sent.push(new TextDecoder().decode(encodeCommand(cmd, args, payload)));
      },
      close() {
        socket.closed = true;
      },
      // The server writes `text` (lines joined with CR LF).
      server(text) {
        for (const f of decoder.push(new TextEncoder().encode(text))) handlers.frame(f);
      },
      lines() {
        return sent.join('').split('\r\n').filter(Boolean);
      },
    };
    net.sockets.push(socket);
    return socket;
  };
  return net;
}

export function payloadLine(head, payload) {
  return `${head} ${new TextEncoder().encode(payload).length}\r\n${payload}`;
}
