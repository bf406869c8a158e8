'use strict';
// TRANSPORT=redis (issue 15): while the room is unavailable, whether a
// whisper's or a signal's addressee is here cannot be known.  The line is
// refused as any other is then (code unavailable), never answered as if
// the addressee had gone (unknown_target), nor published to the room.
const assert = require('node:assert/strict');
const { after } = require('node:test');
const { chatTest, WAIT_MS, until } = require('./harness');
const { RedisServer } = require('./redis');

let shared = null;
after(async () => { if (shared) await shared.cleanup(); });

const DOWN = 'T Error: the room is unavailable; your messages are not delivered until it is back';
const REFUSED = 'T Error: message not sent: the room is unavailable; try again when it is back';
const UP = 'T Notice: the room is available again';
const OFFER = { type: 'offer', sdp: 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n' };

/** c's JSON events from line from on. */
function events(c, from = 0) {
  return c.lines.slice(from).map((l) => {
    try { return JSON.parse(l); } catch { return null; }
  }).filter(Boolean);
}

async function eventsBecome(c, from, pred, what) {
  return until(() => `${what}:\n${c.describe(20)}`, () => {
    const got = events(c, from);
    return pred(got) && got;
  });
}

chatTest('while the room is unavailable, whispers and signalling are refused as unavailable, not as to someone absent', { ownRedis: true }, async (h) => {
  shared = await RedisServer.start();
  h.addConfig({ TRANSPORT: 'redis', REDIS_URL: `"${shared.unixUrl(0)}"`, REDIS_KEY_PREFIX: 'out:' });
  const a = await h.join('lobby');
  const b = h.spawn('/lobby', { env: { QUERY_STRING: 'proto=json' }, label: 'Anonymous1 (json)' });
  await eventsBecome(b, 0, (ev) => ev.some((e) => e.type === 'history_end'), 'b never joined');
  await a.waitFor('T Userlist: Anonymous:Gray,Anonymous1:Gray,');
  await shared.kill();
  await a.waitFor(DOWN);
  await eventsBecome(b, 0, (ev) => ev.some((e) => e.code === 'unavailable'), 'b never told the room is unavailable');

  const fromA = a.lines.length;
  a.send('Anonymous1: psst');
  await a.waitFor(REFUSED, WAIT_MS, { from: fromA });
  const fromB = b.lines.length;
  b.send(JSON.stringify({ type: 'whisper', to: 'Anonymous', text: 'psst' }));
  b.send(JSON.stringify({ type: 'signal', to: 'Anonymous', data: OFFER }));
  const refused = await eventsBecome(b, fromB, (ev) => ev.filter((e) => e.type === 'error').length >= 2,
    'b\'s whisper and signal not answered');
  const errors = refused.filter((e) => e.type === 'error');
  assert.deepEqual(errors.map((e) => e.code), ['unavailable', 'unavailable'], JSON.stringify(errors));
  assert.match(errors[0].message, /message not sent: the room is unavailable; try again when it is back/);

  await shared.start();
  await a.waitFor(UP, 4 * WAIT_MS);
  await eventsBecome(b, fromB, (ev) => ev.some((e) => e.code === 'available'), 'b never told the room is back');
  const from = a.lines.length;
  b.send(JSON.stringify({ type: 'whisper', to: 'Anonymous', text: 'after the outage' }));
  await a.waitFor('T Anonymous1> Anonymous: after the outage', WAIT_MS, { from });
  // Nothing of the refused lines reached anybody, or the room's stream.
  assert.ok(!a.out.some((l) => l.includes('psst')), a.describe(20));
  const stream = await shared.command('XRANGE', 'out:room:lobby', '-', '+');
  assert.equal(stream.filter(([, f]) => String(f[1]).includes('psst')).length, 0);
  assert.equal(await a.close(), 0);
  assert.equal(await b.close(), 0);
});
