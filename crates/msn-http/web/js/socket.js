// A protocol connection over the server's WebSocket (`/messenger/ws`,
// subprotocol msnd.msnp.1): binary messages carry the same bytes as a
// TCP connection, which the Decoder cuts into commands.

import { Decoder, encodeCommand } from './msnp.js';

export const SUBPROTOCOL = 'msnd.msnp.1';

// Errors thrown while handling the server's commands (a bug; the
// browser test checks there are none).
export const errors = [];

// The open sockets, for `dropAll`.
const live = new Set();

// Closes every socket as a network failure would (the client is not told
// beforehand): what the reconnection logic is for. Used by the browser
// test and handy when trying the client out.
export function dropAll() {
  for (const ws of live) ws.close(4000, 'dropped');
}

// Opens a connection to `target` ('ns' or 'sb'). `handlers.frame(f)` gets
// each command, `handlers.open()` once connected, `handlers.close(clean)`
// once when it ends. Returns { send(cmd, args, payload), close() }.
export function openSocket(target, handlers) {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const ws = new WebSocket(`${scheme}//${location.host}/messenger/ws?target=${target}`, SUBPROTOCOL);
  ws.binaryType = 'arraybuffer';
  live.add(ws);
  const decoder = new Decoder();
  let closed = false;
  const finish = (clean) => {
    if (closed) return;
    closed = true;
    handlers.close(clean);
  };
  ws.onopen = () => handlers.open();
  ws.onmessage = (event) => {
    const bytes = new Uint8Array(event.data);
    let frames;
    try {
      frames = decoder.push(bytes);
    } catch (e) {
      console.warn('protocol error', e);
      ws.close();
      finish(false);
      return;
    }
    for (const f of frames) {
      try {
        handlers.frame(f);
      } catch (e) {
        console.error('while handling', f.cmd, e);
        errors.push(`${f.cmd}: ${e && e.stack ? e.stack : e}`);
      }
    }
  };
  ws.onclose = (event) => {
    live.delete(ws);
    finish(event.wasClean);
  };
  ws.onerror = () => finish(false);
  return {
    send(cmd, args, payload) {
      if (ws.readyState === WebSocket.OPEN) ws.send(encodeCommand(cmd, args, payload));
    },
    close() {
      closed = true;
      ws.close();
    },
    get open() {
      return ws.readyState === WebSocket.OPEN;
    },
  };
}
