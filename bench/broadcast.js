#!/usr/bin/env node
'use strict';
// bench/broadcast.js: the smallest single-process broadcast server on the
// `ws` package, the other baseline of issue 6.  One Node process serves
// every connection: no process per member, no log file, no inotify.  The
// issue expects it to cost less CPU per message than any process-per-
// connection design in big rooms but more in small ones; bench/run.sh
// measures where chat_server stands against it.  A baseline, not a chat
// server: no identity, presence, history, commands or flood limits.
//
//   node bench/broadcast.js PORT        (listens on 127.0.0.1 only)
//
// Like bench/floor.c, so that bench/load.js drives both alike: the room is
// the first segment of the URL path, a connection is greeted with
// "Welcome <room>", and every text message is sent, one frame each, to
// every open connection of its room, the sender included.

const { WebSocketServer, WebSocket } = require('ws');

const MAX_CONNECTIONS = 5000;      // above bench/load.js's own limit
const MAX_MESSAGE = 4096;          // floor's MAX_LINE
const MAX_BUFFERED = 1 << 20;      // a reader this far behind is dropped

const port = Number(process.argv[2]);
if (!Number.isInteger(port) || port < 1 || port > 65535) {
  process.stderr.write('usage: node bench/broadcast.js PORT\n');
  process.exit(2);
}

const rooms = new Map(); // room name -> Set of its open sockets
let connections = 0;
const wss = new WebSocketServer({ host: '127.0.0.1', port, maxPayload: MAX_MESSAGE,
  perMessageDeflate: false, clientTracking: false });

wss.on('connection', (ws, req) => {
  // A protocol error (say, a message over MAX_MESSAGE) is followed by
  // 'close'; without a listener it would end the server.
  ws.on('error', () => {});
  // floor's rule: the first path segment, not empty, not dot-led, < 256.
  const room = req.url.replace(/^\/+/, '').split(/[/?#]/)[0];
  if (!room || room.startsWith('.') || room.length > 255 || connections >= MAX_CONNECTIONS) {
    ws.close(1008);
    return;
  }
  connections++;
  if (!rooms.has(room)) rooms.set(room, new Set());
  const members = rooms.get(room).add(ws);
  ws.send(`Welcome ${room}`);
  ws.on('message', (data, isBinary) => {
    if (isBinary) return;
    for (const m of members) {
      if (m.readyState !== WebSocket.OPEN) continue;
      if (m.bufferedAmount > MAX_BUFFERED) m.terminate();
      else m.send(data, { binary: false });
    }
  });
  ws.on('close', () => {
    connections--;
    members.delete(ws);
    if (!members.size) rooms.delete(room);
  });
});
wss.on('error', (err) => {
  process.stderr.write(`broadcast: ${err.message}\n`);
  process.exit(1);
});
