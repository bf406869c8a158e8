'use strict';
// The JSON protocol (docs/protocol.md, "The JSON protocol"): chosen with
// ?proto=json, which websocketd passes as QUERY_STRING.  JSON and legacy
// clients share rooms: every event crosses between them, whispers and
// signalling reach their two parties only, and every refusal reaches a JSON
// client as an error event with its code, after which it chats on.
//
// Every line a JSON client is sent is checked at the end of each test: one
// object, a known type, a time in ISO 8601 with its UTC offset (within the
// test's run), the welcome first, exactly one history_end, "history":true
// on every replayed event before it and on nothing else.
const assert = require('node:assert/strict');
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const { chatTest, WAIT_MS, sleep } = require('./harness');

const ROOM = 'lobby';
const JSON_ENV = { QUERY_STRING: 'proto=json' };
const TIME_RE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$/;
const SERVER_TYPES = new Set(['welcome', 'history_end', 'join', 'quit', 'users', 'message',
  'whisper', 'signal', 'command', 'notice', 'line', 'error']);
// Events that can come from the room log, and so be replayed as history.
const FROM_LOG = new Set(['join', 'quit', 'users', 'message', 'command', 'notice', 'line']);
const COLORS = { Alice: '#ff0000', Bob: '#00f', Carol: '#0a0', Dave: '#123' };
const Z = 'zalomeni'; // how the old client writes each CRLF of an SDP

// ---- helpers ------------------------------------------------------------

/** One line of a JSON connection as an object; the test fails otherwise. */
function parseEvent(c, line) {
  let ev;
  try {
    ev = JSON.parse(line);
  } catch (err) {
    assert.fail(`${c.label} was sent a line that is not JSON (${err.message}): ` +
      `${JSON.stringify(line.slice(0, 200))}\n${c.describe()}`);
  }
  assert.ok(ev !== null && typeof ev === 'object' && !Array.isArray(ev),
    `${c.label} was sent JSON that is not an object: ${line.slice(0, 200)}`);
  return ev;
}

/** c's events from line index from on. */
function events(c, from = 0) {
  return c.lines.slice(from).map((l) => parseEvent(c, l));
}

/** An event without its time, for comparisons. */
function untimed(ev) {
  const { time, ...rest } = ev;
  return rest;
}

/**
 * True when got has everything want has (recursively; arrays element by
 * element and of the same length).  A key of want that is undefined must be
 * absent from got.
 */
function subset(want, got) {
  if (want === null || typeof want !== 'object') return Object.is(want, got);
  if (got === null || typeof got !== 'object' || Array.isArray(want) !== Array.isArray(got)) return false;
  if (Array.isArray(want)) return want.length === got.length && want.every((w, i) => subset(w, got[i]));
  return Object.keys(want).every((k) => subset(want[k], got[k]));
}

/** A waitFor matcher on the parsed events of a JSON connection. */
function eventMatcher(want) {
  const ok = typeof want === 'function' ? want : (ev) => subset(want, ev);
  const m = (line) => {
    let ev;
    try { ev = JSON.parse(line); } catch { return false; }
    return ev !== null && typeof ev === 'object' && ok(ev);
  };
  m.toString = () => (typeof want === 'function' ? want.toString() : JSON.stringify(want));
  return m;
}

/** Resolves with c's first event (line index >= from) that has want. */
async function waitEvent(c, want, { from = 0, timeout } = {}) {
  return JSON.parse(await c.waitFor(eventMatcher(want), timeout, { from }));
}

/** The line index of c's first event at or after from that has want (-1). */
function indexOf(c, want, from = 0) {
  const m = eventMatcher(want);
  for (let i = from; i < c.lines.length; i++) if (m(c.lines[i])) return i;
  return -1;
}

function sessionFor(h, name, color) {
  return h.session(`s-${name}`, `${name}:${color || COLORS[name] || 'Gray'}`);
}

/**
 * Joins as name (a PHP session with COLORS[name]) with ?proto=json; waits
 * for the welcome, which must be the first line, and for history_end.
 * opts: room, env (added to QUERY_STRING), color, and h.spawn's options.
 */
async function jjoin(h, name, opts = {}) {
  const { env, room = ROOM, color, timeout, ...rest } = opts;
  const c = h.spawn(`/${room}`, {
    cookie: name ? sessionFor(h, name, color) : undefined,
    label: `${name || 'Anonymous'} (json)`,
    env: { ...JSON_ENV, ...(env || {}) },
    ...rest,
  });
  await c.waitFor(() => true, timeout);
  const welcome = parseEvent(c, c.lines[0]);
  assert.equal(welcome.type, 'welcome', `the first line is not the welcome\n${c.describe()}`);
  c.json = true;
  c.name = welcome.name;
  c.welcome = welcome;
  (h.jsonClients ||= []).push(c);
  await waitEvent(c, { type: 'history_end' }, { timeout });
  return c;
}

/** Joins as name with the legacy protocol, and waits for the user list with it. */
async function ljoin(h, name, opts = {}) {
  const { room = ROOM, color, ...rest } = opts;
  const c = await h.join(room, { cookie: sessionFor(h, name, color), label: `${name} (legacy)`, ...rest });
  await c.waitFor((l) => l.startsWith('T Userlist: ') && l.includes(`${c.name}:`));
  return c;
}

/** The names of a user list line or event. */
function listNames(c, line) {
  if (c.json) {
    let ev;
    try { ev = JSON.parse(line); } catch { return null; }
    return ev && ev.type === 'users' && Array.isArray(ev.users) ? ev.users.map((u) => u.name) : null;
  }
  const l = line.replace(/^\[\d\d:\d\d:\d\d\]/, 'T');
  return l.startsWith('T Userlist: ') ? l.slice(12).split(',').filter(Boolean).map((e) => e.split(':')[0]) : null;
}

/** Resolves once every one of clients has seen a user list of them all. */
async function together(clients) {
  const want = clients.map((c) => c.name).sort().join(',');
  await Promise.all(clients.map((c) => {
    const m = (line) => (listNames(c, line) || []).slice().sort().join(',') === want;
    m.toString = () => `a user list of ${want}`;
    return c.waitFor(m);
  }));
}

/** Sends one request object (or a raw string) to a JSON connection. */
function request(c, req) {
  c.send(typeof req === 'string' ? req : JSON.stringify(req));
}

/** Says text in the room, in c's protocol. */
function say(c, text) {
  if (c.json) request(c, { type: 'message', text });
  else c.send(text);
}

/** Waits until c shows text said by sender (in c's protocol). */
function sees(c, sender, text, from = 0) {
  return c.json
    ? waitEvent(c, { type: 'message', from: sender, text }, { from })
    : c.waitFor(`T ${sender}> ${text}`, undefined, { from });
}

let markers = 0;
/**
 * sender says a new marker; resolves once every client shows it (so that
 * what was sent before has had every chance to arrive), with each client's
 * line index of it.
 */
async function settle(sender, clients) {
  const text = `marker ${++markers}`;
  const from = clients.map((c) => c.lines.length);
  say(sender, text);
  await Promise.all(clients.map((c, i) => sees(c, sender.name, text, from[i])));
  return clients.map((c, i) => {
    const at = c.json ? indexOf(c, { type: 'message', text }, from[i])
      : c.out.indexOf(`T ${sender.name}> ${text}`, from[i]);
    assert.ok(at >= 0);
    return at;
  });
}

/** c's lines (parsed for JSON) from index from up to index to (excluded). */
function slice(c, from, to) {
  return c.json ? events(c).slice(from, to) : c.out.slice(from, to);
}

/** The room log's raw bytes. */
function logBytes(h, room = ROOM) {
  const f = h.p('rooms', `${room}.log`);
  return fs.existsSync(f) ? fs.readFileSync(f) : Buffer.alloc(0);
}

/** No secret occurs in bytes (a Buffer). */
function assertNoSecrets(bytes, what, secrets) {
  for (const s of secrets) {
    assert.ok(!bytes.includes(Buffer.from(s)),
      `${what} contains ${JSON.stringify(s)}:\n${bytes.toString('utf8').slice(-3000)}`);
  }
}

/** Every line of a JSON connection, as the protocol says (see the top). */
function assertWellFormed(c, since) {
  const evs = events(c);
  assert.ok(evs.length > 0 && evs[0].type === 'welcome', `${c.label}: the welcome is not first`);
  const ends = evs.flatMap((e, i) => (e.type === 'history_end' ? [i] : []));
  assert.equal(ends.length, 1, `${c.label}: ${ends.length} history_end events\n${c.describe(40)}`);
  evs.forEach((e, i) => {
    const what = `${c.label}, event ${i}: ${JSON.stringify(e).slice(0, 300)}`;
    assert.equal(typeof e.type, 'string', what);
    assert.ok(SERVER_TYPES.has(e.type), `unknown type: ${what}`);
    assert.match(String(e.time), TIME_RE, what);
    if (since !== undefined) {
      const t = Date.parse(e.time);
      assert.ok(t >= since - 1000 && t <= Date.now() + 1000,
        `time out of the test's run (${new Date(since).toISOString()} to now): ${what}`);
    }
    if (i > 0 && i < ends[0] && FROM_LOG.has(e.type)) {
      assert.equal(e.history, true, `replayed, without "history":true: ${what}`);
    } else {
      assert.equal(e.history, undefined, `"history" on a live event: ${what}`);
    }
  });
}

/**
 * A chatTest whose JSON clients (joined with jjoin) are checked at the end.
 * opts.anyTime: the log holds lines from before the test (no time bound).
 */
function jsonTest(name, opts, fn) {
  if (typeof opts === 'function') { fn = opts; opts = {}; }
  const { anyTime, ...rest } = opts;
  chatTest(name, rest, async (h, t) => {
    const since = Math.floor(Date.now() / 1000) * 1000;
    h.jsonClients = [];
    await fn(h, t);
    for (const c of h.jsonClients) assertWellFormed(c, anyTime ? undefined : since);
  });
}

const users = (...names) => names.map((n) => ({ name: n, color: COLORS[n] || 'Gray' }));

// WebRTC, as browsers write it (the old client writes CRLF as zalomeni).
const OFFER_SDP = ['v=0', 'o=- 4611731400430051336 2 IN IP4 127.0.0.1', 's=-', 't=0 0',
  'a=group:BUNDLE 0', 'm=audio 9 UDP/TLS/RTP/SAVPF 111', 'c=IN IP4 0.0.0.0',
  'a=ice-ufrag:sXfD', 'a=ice-pwd:dQ8bW2jB1p3kzLxYq7eN5mVh', 'a=setup:actpass', 'a=mid:0',
  'a=rtpmap:111 opus/48000/2', ''].join(Z);
const ANSWER_SDP = ['v=0', 'o=- 8127403551950617245 2 IN IP4 127.0.0.1', 's=-', 't=0 0',
  'a=group:BUNDLE 0', 'm=audio 9 UDP/TLS/RTP/SAVPF 111', 'a=ice-ufrag:Qw9r',
  'a=ice-pwd:Zt5uHk2LmN8pRs4vXy6bCd1e', 'a=setup:active', 'a=mid:0', ''].join(Z);
const CAND_A = { candidate: 'candidate:842163049 1 udp 1677729535 203.0.113.5 46154 typ srflx raddr 0.0.0.0 rport 0 generation 0 ufrag sXfD', sdpMid: '0', sdpMLineIndex: 0, usernameFragment: 'sXfD' };
const CAND_B = { candidate: 'candidate:3016592413 1 tcp 1518280447 198.51.100.7 9 typ host tcptype active generation 0 ufrag Qw9r', sdpMid: '0', sdpMLineIndex: 0, usernameFragment: 'Qw9r' };
const SIGNAL_SECRETS = [Z, 'v=0', '4611731400430051336', '8127403551950617245', 'ice-pwd',
  'sXfD', 'Qw9r', 'candidate:', '203.0.113.5', '198.51.100.7', 'sdpMid'];

// ---- choosing the protocol ------------------------------------------------

jsonTest('QUERY_STRING chooses: proto=json among its parameters is JSON, anything else legacy', async (h) => {
  const cases = [
    ['proto=json', true], ['a=1&proto=json', true], ['proto=json&a=1', true],
    [undefined, false], ['', false], ['proto=legacy', false], ['proto=jsonx', false],
    ['xproto=json', false], ['proto=JSON', false], ['proto', false], ['json', false],
  ];
  for (const [qs, json] of cases) {
    const what = `QUERY_STRING=${JSON.stringify(qs)}`;
    const c = h.spawn(`/${ROOM}`, { env: qs === undefined ? {} : { QUERY_STRING: qs }, label: what });
    await c.waitFor(() => true);
    if (json) {
      const w = parseEvent(c, c.lines[0]);
      assert.equal(w.type, 'welcome', what);
      assert.equal(w.name, 'Anonymous', what);
      await waitEvent(c, { type: 'history_end' });
    } else {
      assert.equal(c.out[0], 'T Welcome to the chat room lobby Anonymous!', what);
      await c.waitFor('T Userlist: Anonymous:Gray,');
      assert.ok(c.lines.every((l) => !l.startsWith('{')), `${what}\n${c.describe()}`);
    }
    assert.equal(await c.close(), 0, c.describe());
  }
});

jsonTest('the welcome comes first: room, name, colour, limits and the ICE servers of the config', {
  config: { ICE_SERVER_DNS: 'stun.example.org', MAX_MESSAGE_BYTES: 1000 },
}, async (h) => {
  const bob = await jjoin(h, 'Bob');
  assert.deepEqual(untimed(bob.welcome), {
    type: 'welcome', room: ROOM, name: 'Bob', color: '#00f',
    limits: { max_message_bytes: 1000 },
    ice_servers: [{ urls: 'stun:stun.example.org' }],
  });
  // The name and the room as the server made them.
  const bob1 = await jjoin(h, 'Bob');
  assert.equal(bob1.welcome.name, 'Bob1');
  const carol = await jjoin(h, 'Carol', { room: 'my room_2' });
  assert.equal(carol.welcome.room, 'my-room-2');
  const anon = await jjoin(h, null);
  assert.deepEqual([anon.welcome.name, anon.welcome.color], ['Anonymous', 'Gray']);
  // The limit told is the limit applied.
  const from = bob1.lines.length;
  say(bob, 'x'.repeat(1000));
  await sees(bob1, 'Bob', 'x'.repeat(1000), from);
  const err = bob.lines.length;
  say(bob, 'x'.repeat(1001));
  await waitEvent(bob, { type: 'error', code: 'too_long' }, { from: err });
});

jsonTest('without ICE_SERVER_DNS the welcome has an empty ice_servers list, and the default limit', async (h) => {
  const bob = await jjoin(h, 'Bob');
  assert.deepEqual(untimed(bob.welcome), {
    type: 'welcome', room: ROOM, name: 'Bob', color: '#00f',
    limits: { max_message_bytes: 4096 }, ice_servers: [],
  });
});

jsonTest('with TURN_URLS and TURN_SECRET each welcome has a TURN credential of its own, in coturn\'s REST form', {
  config: {
    ICE_SERVER_DNS: 'stun.example.org',
    TURN_URLS: '"turn:turn.example.org:3478?transport=udp, turns:turn.example.org:5349"',
    TURN_SECRET: '"Hunter2, but longer: 0123456789"',
    TURN_TTL: 600,
    ICE_TRANSPORT_POLICY: 'relay',
  },
}, async (h) => {
  const crypto = require('node:crypto');
  const before = Math.floor(Date.now() / 1000);
  const bob = await jjoin(h, 'Bob');
  const bob1 = await jjoin(h, 'Bob');
  const after = Math.floor(Date.now() / 1000);
  for (const [c, name] of [[bob, 'Bob'], [bob1, 'Bob1']]) {
    const w = c.welcome;
    assert.equal(w.ice_transport_policy, 'relay');
    assert.equal(w.ice_servers.length, 2, JSON.stringify(w.ice_servers));
    assert.deepEqual(w.ice_servers[0], { urls: 'stun:stun.example.org' });
    const turn = w.ice_servers[1];
    assert.deepEqual(Object.keys(turn), ['urls', 'username', 'credential']);
    assert.deepEqual(turn.urls, ['turn:turn.example.org:3478?transport=udp', 'turns:turn.example.org:5349']);
    // "<expiry>:<final name>", expiry TURN_TTL from the join.
    const m = /^(\d+):(.*)$/.exec(turn.username);
    assert.ok(m, turn.username);
    assert.equal(m[2], name);
    assert.ok(Number(m[1]) >= before + 600 && Number(m[1]) <= after + 600, `${turn.username} (${before}..${after})`);
    // base64 of HMAC-SHA1 of the username under the secret, as coturn computes it.
    const want = crypto.createHmac('sha1', 'Hunter2, but longer: 0123456789').update(turn.username).digest('base64');
    assert.equal(turn.credential, want);
  }
});

jsonTest('without TURN_URLS the other TURN keys are ignored and no policy is sent', {
  config: { TURN_SECRET: 'unused', ICE_TRANSPORT_POLICY: 'all' },
}, async (h) => {
  const bob = await jjoin(h, 'Bob');
  assert.deepEqual(bob.welcome.ice_servers, []);
  assert.equal('ice_transport_policy' in bob.welcome, false);
});

// ---- every event, between the protocols -----------------------------------

jsonTest('a JSON and a legacy client in one room: joins, lists, messages, commands and quits both ways', async (h) => {
  const alice = await ljoin(h, 'Alice');
  const bob = await jjoin(h, 'Bob');
  // Bob's history holds Alice's join and list, then his own.
  const end = indexOf(bob, { type: 'history_end' });
  assert.deepEqual(events(bob).slice(1, end).map(untimed), [
    { type: 'join', history: true, name: 'Alice' },
    { type: 'users', history: true, users: users('Alice') },
    { type: 'join', history: true, name: 'Bob' },
    { type: 'users', history: true, users: users('Alice', 'Bob') },
  ]);
  await alice.waitFor('T Bob joined the lobby');
  await alice.waitFor('T Userlist: Alice:#ff0000,Bob:#00f,');

  // Messages both ways, with the sender's colour.
  let a = alice.lines.length;
  let b = bob.lines.length;
  say(bob, 'Hello from JSON');
  await alice.waitFor('T Bob> Hello from JSON', undefined, { from: a });
  assert.deepEqual(untimed(await sees(bob, 'Bob', 'Hello from JSON', b)),
    { type: 'message', from: 'Bob', color: '#00f', text: 'Hello from JSON' });
  alice.send('Hello from legacy');
  assert.deepEqual(untimed(await sees(bob, 'Alice', 'Hello from legacy', b)),
    { type: 'message', from: 'Alice', color: '#ff0000', text: 'Hello from legacy' });

  // /dice from JSON: values as numbers, the same as the legacy line says.
  a = alice.lines.length;
  b = bob.lines.length;
  request(bob, { type: 'command', text: '/dice 3 6 6' });
  const dice = await waitEvent(bob, { type: 'command', from: 'Bob', command: 'dice' }, { from: b });
  const { values } = dice.result;
  assert.deepEqual(Object.keys(dice.result).sort(), ['again', 'count', 'sides', 'values']);
  assert.deepEqual([dice.result.count, dice.result.sides, dice.result.again], [3, 6, 6]);
  assert.ok(Array.isArray(values) && values.every((v) => Number.isInteger(v) && v >= 1 && v <= 6),
    JSON.stringify(dice));
  assert.equal(values.length, 3 + values.filter((v) => v === 6).length, 'every 6 is thrown again');
  const sentence = `Throws 3 6-sided dice, throws again on 6: ${values.join(', ')}`;
  assert.deepEqual(untimed(dice), { type: 'command', from: 'Bob', command: 'dice', text: sentence,
    result: { count: 3, sides: 6, again: 6, values } });
  assert.equal(await alice.waitFor(/^T Bob>  Throws/, undefined, { from: a }), `T Bob>  ${sentence}`);

  // /dice from legacy reaches Bob as a command event.
  a = alice.lines.length;
  b = bob.lines.length;
  alice.send('/dice 2 10 0');
  const line = await alice.waitFor(/^T Alice>  Throws/, undefined, { from: a });
  const ad = await waitEvent(bob, { type: 'command', from: 'Alice' }, { from: b });
  assert.equal(ad.command, 'dice');
  assert.deepEqual([ad.result.count, ad.result.sides, ad.result.again], [2, 10, 0]);
  assert.equal(line, `T Alice>  Throws 2 10-sided dice, throws again on 0: ${ad.result.values.join(', ')}`);
  assert.equal(ad.result.values.length, 2);

  // /color from JSON: the new list, then the result; then messages in the new colour.
  a = alice.lines.length;
  b = bob.lines.length;
  request(bob, { type: 'command', text: '/color #0f0' });
  const res = await waitEvent(bob, { type: 'command', from: 'Bob', command: 'color' }, { from: b });
  assert.deepEqual(untimed(res), { type: 'command', from: 'Bob', command: 'color',
    text: 'Changed color to #0f0', result: { color: '#0f0' } });
  const list = indexOf(bob, { type: 'users' }, b);
  assert.ok(list >= 0 && list < indexOf(bob, { type: 'command', command: 'color' }, b),
    `the list comes before the result\n${bob.describe()}`);
  assert.deepEqual(events(bob)[list].users, [{ name: 'Alice', color: '#ff0000' }, { name: 'Bob', color: '#0f0' }]);
  await alice.waitFor('T Bob>  Changed color to #0f0', undefined, { from: a });
  const at = alice.out.indexOf('T Userlist: Alice:#ff0000,Bob:#0f0,', a);
  assert.deepEqual(alice.out.slice(at, at + 2),
    ['T Userlist: Alice:#ff0000,Bob:#0f0,', 'T Bob>  Changed color to #0f0']);
  b = bob.lines.length;
  say(bob, 'now in green');
  assert.equal((await sees(bob, 'Bob', 'now in green', b)).color, '#0f0');

  // /color from legacy: Bob sees the list and the result, then the colour.
  b = bob.lines.length;
  alice.send('/color #123');
  const ac = await waitEvent(bob, { type: 'command', from: 'Alice', command: 'color' }, { from: b });
  assert.deepEqual(ac.result, { color: '#123' });
  assert.deepEqual(events(bob).slice(b).filter((e) => e.type === 'users').map((e) => e.users),
    [[{ name: 'Alice', color: '#123' }, { name: 'Bob', color: '#0f0' }]]);
  alice.send('in another colour');
  assert.equal((await sees(bob, 'Alice', 'in another colour', b)).color, '#123');

  // A second JSON client joins and leaves: join, list, quit, list.
  a = alice.lines.length;
  b = bob.lines.length;
  const carol = await jjoin(h, 'Carol');
  assert.deepEqual(untimed(await waitEvent(bob, { type: 'join' }, { from: b })), { type: 'join', name: 'Carol' });
  assert.deepEqual(untimed(await waitEvent(bob, { type: 'users' }, { from: b })), { type: 'users',
    users: [{ name: 'Alice', color: '#123' }, { name: 'Bob', color: '#0f0' }, { name: 'Carol', color: '#0a0' }] });
  await alice.waitFor('T Carol joined the lobby', undefined, { from: a });
  b = bob.lines.length;
  assert.equal(await carol.close(), 0);
  assert.deepEqual(untimed(await waitEvent(bob, { type: 'quit' }, { from: b })), { type: 'quit', name: 'Carol' });
  await waitEvent(bob, { type: 'users', users: [{ name: 'Alice' }, { name: 'Bob' }] }, { from: b });
  await alice.waitFor('T Carol quit the lobby', undefined, { from: a });

  // A legacy client leaves: quit and list; a JSON client leaves: the legacy lines.
  const dave = await ljoin(h, 'Dave');
  b = bob.lines.length;
  assert.equal(await dave.close(), 0);
  await waitEvent(bob, { type: 'quit', name: 'Dave' }, { from: b });
  a = alice.lines.length;
  assert.equal(await bob.close(), 0);
  await alice.waitFor('T Bob quit the lobby', undefined, { from: a });
  await alice.waitFor('T Userlist: Alice:#123,', undefined, { from: a });
  // The log holds legacy lines only.
  for (const l of h.log(ROOM)) assert.match(l, /^T \S/, l);
  assert.ok(!logBytes(h).includes(Buffer.from('{"type"')));
});

jsonTest('history: replayed events carry "history":true and end with the joiner\'s own join and list, then one history_end', async (h) => {
  const alice = await ljoin(h, 'Alice');
  alice.send('first');
  alice.send('second');
  alice.send('/color #0f0');
  await alice.waitFor('T Alice>  Changed color to #0f0');
  alice.send('third, in green');
  alice.send('/dice 1 6 0');
  const thrown = await alice.waitFor(/^T Alice>  Throws 1 6-sided dice/);
  const die = Number(thrown.split(': ').pop());
  const bob = await jjoin(h, 'Bob');
  const end = indexOf(bob, { type: 'history_end' });
  assert.deepEqual(events(bob).slice(1, end).map(untimed), [
    { type: 'join', history: true, name: 'Alice' },
    { type: 'users', history: true, users: users('Alice') },
    { type: 'message', history: true, from: 'Alice', color: '#ff0000', text: 'first' },
    { type: 'message', history: true, from: 'Alice', color: '#ff0000', text: 'second' },
    { type: 'users', history: true, users: [{ name: 'Alice', color: '#0f0' }] },
    { type: 'command', history: true, from: 'Alice', command: 'color', text: 'Changed color to #0f0', result: { color: '#0f0' } },
    { type: 'message', history: true, from: 'Alice', color: '#0f0', text: 'third, in green' },
    { type: 'command', history: true, from: 'Alice', command: 'dice',
      text: `Throws 1 6-sided dice, throws again on 0: ${die}`, result: { count: 1, sides: 6, again: 0, values: [die] } },
    { type: 'join', history: true, name: 'Bob' },
    { type: 'users', history: true, users: [{ name: 'Alice', color: '#0f0' }, { name: 'Bob', color: '#00f' }] },
  ]);
  // One event per log line.
  assert.equal(end - 1, h.log(ROOM).length);
  // From then on, live: no "history".
  const b = bob.lines.length;
  alice.send('live');
  assert.deepEqual(untimed(await sees(bob, 'Alice', 'live', b)),
    { type: 'message', from: 'Alice', color: '#0f0', text: 'live' });
  // A legacy joiner's history is the same lines, unchanged.
  const carol = await ljoin(h, 'Carol');
  assert.ok(carol.out.includes('T Alice>  Changed color to #0f0'));
  assert.ok(carol.out.every((l) => !l.startsWith('{')));
});

jsonTest('LAST_MESSAGES=0: nothing from before the join, then history_end', { config: { LAST_MESSAGES: 0 } }, async (h) => {
  // With LAST_MESSAGES=0 a legacy joiner sees no list of its own.
  const alice = await h.join(ROOM, { cookie: sessionFor(h, 'Alice'), label: 'Alice (legacy)' });
  alice.send('before Bob');
  await h.waitForLog(ROOM, (l) => l.includes('T Alice> before Bob'));
  const bob = await jjoin(h, 'Bob');
  // Nothing from before the join.  (The legacy protocol says the joiner
  // gets neither its own join nor its list; the program sends them, and
  // to a JSON client then as history: either will do here.)
  const own = (c) => {
    const hist = events(c).slice(1, indexOf(c, { type: 'history_end' })).map(untimed);
    assert.ok(hist.length === 0 || (hist.length === 2 && subset(
      [{ type: 'join', name: c.name, history: true }, { type: 'users', history: true }], hist)),
    `${c.label}: ${JSON.stringify(hist)}`);
  };
  own(bob);
  const b = bob.lines.length;
  const carol = await jjoin(h, 'Carol');
  assert.deepEqual(untimed(await waitEvent(bob, { type: 'join' }, { from: b })), { type: 'join', name: 'Carol' });
  own(carol);
  assert.ok(!bob.lines.some((l) => l.includes('before Bob')));
});

jsonTest('LAST_MESSAGES=3: the last three lines of the log are the history', { config: { LAST_MESSAGES: 3 } }, async (h) => {
  const alice = await h.join(ROOM, { cookie: sessionFor(h, 'Alice'), label: 'Alice (legacy)' });
  for (const t of ['one', 'two', 'three']) alice.send(t);
  await h.waitForLog(ROOM, (l) => l.at(-1) === 'T Alice> three');
  const bob = await jjoin(h, 'Bob');
  const end = indexOf(bob, { type: 'history_end' });
  const hist = events(bob).slice(1, end);
  assert.deepEqual(hist.map((e) => [e.type, e.history]), [['message', true], ['join', true], ['users', true]]);
  assert.deepEqual([hist[0].from, hist[0].text], ['Alice', 'three']);
  assert.deepEqual(hist[2].users, users('Alice', 'Bob'));
});

// Every process of an installation has the same time zone (websocketd
// passes TZ on to none): the log's times of day are read in the zone they
// were written in.  Here each client alone in a room of its own.
jsonTest('times: the server\'s clock with its UTC offset, "+00:00" for UTC', async (h) => {
  for (const [tz, offset, room] of [['UTC', '+00:00', 'utc'], ['Asia/Kathmandu', '+05:45', 'nepal']]) {
    const c = await jjoin(h, 'Alice', { env: { TZ: tz }, room });
    say(c, 'what time is it?');
    const m = await sees(c, 'Alice', 'what time is it?');
    for (const ev of events(c)) {
      assert.ok(ev.time.endsWith(offset), `${tz}: ${JSON.stringify(ev)}`);
      assert.ok(Math.abs(Date.parse(ev.time) - Date.now()) < 5000, `${tz}: ${ev.time} is not now`);
    }
    assert.ok(m.time.endsWith(offset));
  }
});

jsonTest('a replayed line gets the latest date at or before now that has its time of day', { anyTime: true }, async (h) => {
  // The log keeps "[HH:MM:SS]" only.  With TZ=UTC, lines an hour before
  // now and an hour "after" now (so, of yesterday).
  const now = Date.now();
  const tod = (ms) => new Date(ms).toISOString().slice(11, 19);
  const earlier = now - 3600 * 1000;
  const later = now + 3600 * 1000;
  const expect = (ms) => {
    // Today (UTC) at that time of day, or the day before if that is ahead.
    const d = new Date(now);
    const [hh, mm, ss] = tod(ms).split(':').map(Number);
    let t = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), hh, mm, ss);
    if (t > now) t -= 24 * 3600 * 1000;
    return `${new Date(t).toISOString().slice(0, 19)}+00:00`;
  };
  h.seedRoom(ROOM, [`[${tod(earlier)}] Zed> an hour ago`, `[${tod(later)}] Zed> twenty-three hours ago`]);
  const bob = await jjoin(h, 'Bob', { env: { TZ: 'UTC' } });
  const a = await waitEvent(bob, { type: 'message', text: 'an hour ago' });
  const b = await waitEvent(bob, { type: 'message', text: 'twenty-three hours ago' });
  assert.equal(a.time, expect(earlier));
  assert.equal(b.time, expect(later));
  assert.equal(a.history, true);
  for (const ev of events(bob)) {
    assert.ok(Date.parse(ev.time) <= Date.now() + 1000 && Date.parse(ev.time) > now - 24 * 3600 * 1000,
      JSON.stringify(ev));
  }
});

jsonTest('command results: dice capped and stopped, refusals and unknown commands', async (h) => {
  const alice = await jjoin(h, 'Alice');
  const carol = await ljoin(h, 'Carol');
  await together([alice, carol]);
  const ask = async (text) => {
    const from = [alice.lines.length, carol.lines.length];
    request(alice, { type: 'command', text });
    const ev = await waitEvent(alice, { type: 'command' }, { from: from[0] });
    const line = await carol.waitFor(/^T Alice>  /, undefined, { from: from[1] });
    assert.equal(line, `T Alice>  ${ev.text}`, 'the text is the legacy result without its leading space');
    return untimed(ev);
  };
  const capped = await ask('/dice 101 6 0');
  assert.equal(capped.command, 'dice');
  assert.deepEqual([capped.result.count, capped.result.sides, capped.result.again, capped.result.capped],
    [100, 6, 0, true]);
  assert.equal(capped.result.values.length, 100);
  assert.ok(capped.text.startsWith('Max dice number is grater than 100 throwing only first 100 dice. Throws 100 6-sided dice'));
  // Every die explodes: the list stops at 1000 values.
  const stopped = await ask('/dice 10 1000000 2');
  assert.deepEqual([stopped.result.count, stopped.result.stopped, stopped.result.values.length], [10, true, 1000]);
  assert.equal(stopped.result.capped, undefined);
  assert.ok(stopped.text.endsWith(' (stopped after 1000 throws)'));
  assert.deepEqual(await ask('/dice 0 6 6'), { type: 'command', from: 'Alice', command: 'dice',
    text: 'Throws 0 6-sided dice, throws again on 6: ', result: { count: 0, sides: 6, again: 6, values: [] } });
  assert.deepEqual(await ask('/dice x 6 6'), { type: 'command', from: 'Alice', command: 'dice',
    text: 'Bad dice syntax, input is not numeric', result: {} });
  assert.deepEqual(await ask('/color'), { type: 'command', from: 'Alice', command: 'color',
    text: 'Not changed color, missing color number', result: {} });
  assert.deepEqual(await ask('/help me'), { type: 'command', from: 'Alice', command: 'unknown',
    text: 'unknown command /help me', result: {} });
});

jsonTest('lines of no known shape (from older programs) are "line" events; bytes that are not UTF-8 become U+FFFD', {
  anyTime: true,
}, async (h) => {
  h.seedRoom(ROOM, ['[10:00:00] the server restarted', 'no clock at all',
    Buffer.concat([Buffer.from('[10:00:01] Zed> caf'), Buffer.from([0xe9])])]);
  const bob = await jjoin(h, 'Bob');
  const hist = events(bob).slice(1, 4);
  assert.deepEqual(hist.map(untimed), [
    { type: 'line', history: true, text: 'the server restarted' },
    { type: 'line', history: true, text: 'no clock at all' },
    { type: 'message', history: true, from: 'Zed', color: 'Gray', text: 'caf\ufffd' },
  ]);
  assert.match(hist[0].time, /T10:00:00[+-]/);
  assert.ok(Math.abs(Date.parse(hist[1].time) - Date.now()) < 5000, 'a line without a clock is now');
});

// The files transport itself (rotates the log a member follows): not run on Redis.
jsonTest('after the log is rotated, live events are not history', { transport: 'files' }, async (h) => {
  const alice = await ljoin(h, 'Alice');
  const bob = await jjoin(h, 'Bob');
  await together([alice, bob]);
  const log = h.p('rooms', `${ROOM}.log`);
  // Renamed, as a rotation without copytruncate leaves it.
  fs.renameSync(log, `${log}.1`);
  let b = bob.lines.length;
  alice.send('after the rename');
  let ev = await sees(bob, 'Alice', 'after the rename', b);
  assert.equal(ev.history, undefined, JSON.stringify(ev));
  // Copied and truncated, as the shipped logrotate rule does it.
  fs.copyFileSync(log, `${log}.2`);
  fs.truncateSync(log, 0);
  b = bob.lines.length;
  alice.send('after the truncation');
  ev = await sees(bob, 'Alice', 'after the truncation', b);
  assert.equal(ev.history, undefined, JSON.stringify(ev));
});

// ---- text -----------------------------------------------------------------

jsonTest('text is carried as sent, never HTML-escaped; control characters are removed', async (h) => {
  const alice = await jjoin(h, 'Alice');
  const bob = await jjoin(h, 'Bob');
  const carol = await ljoin(h, 'Carol');
  await together([alice, bob, carol]);
  const cases = [
    ['<script>alert("x")</script> & &amp; \'q\' \\ / ž 👍🏽', '<script>alert("x")</script> & &amp; \'q\' \\ / ž 👍🏽'],
    ['tab\there', 'tab\there'],
    ['trailing spaces  ', 'trailing spaces  '],
    // Controls (C0 but tab, DEL, C1), escaped or not, are taken out.
    ['a\u0001b\u001b[31mc\u007f\u0085d\te\rf\u0008g', 'ab[31mcd\tefg'],
    // A newline cannot make a second log line.
    ['hi\n[12:00:00] Bob> forged', 'hi[12:00:00] Bob> forged'],
    ['\u2028line separator\u2029', '\u2028line separator\u2029'],
  ];
  for (const [sent, shown] of cases) {
    const from = [bob.lines.length, carol.lines.length];
    say(alice, sent);
    const ev = await sees(bob, 'Alice', shown, from[0]);
    assert.equal(ev.text, shown);
    await sees(carol, 'Alice', shown, from[1]);
  }
  // Escapes of non-ASCII are the same text; the server sends UTF-8 as is.
  request(alice, '{"type":"message","text":"\\u017elu\\u0165ou\\u010dk\\u00fd \\ud83d\\udc4d"}');
  await Promise.all([alice, bob, carol].map((c) => sees(c, 'Alice', 'žluťoučký 👍')));
  assert.ok(bob.bytes.includes(Buffer.from('"text":"žluťoučký 👍"')), 'non-ASCII text is escaped');
  assert.ok(!bob.bytes.includes(Buffer.from('&lt;')) && !bob.bytes.includes(Buffer.from('&amp;amp;')));
  assert.ok(!logBytes(h).toString('utf8').split('\n').some((l) => l.startsWith('[12:00:00]')));
  // Nothing left to say: nothing is sent, and no error.
  const from = [alice.lines.length, bob.lines.length, carol.lines.length];
  say(alice, '');
  say(alice, '\u0001\r\u007f');
  const m = await settle(alice, [alice, bob, carol]);
  assert.deepEqual(slice(alice, from[0], m[0]), []);
  assert.deepEqual(slice(bob, from[1], m[1]), []);
  assert.deepEqual(slice(carol, from[2], m[2]), []);
});

jsonTest('a JSON message that looks like a whisper or a command is a plain message', async (h) => {
  const alice = await jjoin(h, 'Alice');
  const bob = await jjoin(h, 'Bob');
  const carol = await ljoin(h, 'Carol');
  await together([alice, bob, carol]);
  const from = [alice.lines.length, bob.lines.length, carol.lines.length];
  const texts = ['Bob: this is for everyone', '/dice 1 6 6', '/color red', 'Carol:'];
  for (const t of texts) say(alice, t);
  const m = await settle(alice, [alice, bob, carol]);
  for (const [c, i] of [[alice, 0], [bob, 1]]) {
    assert.deepEqual(slice(c, from[i], m[i]).map(untimed),
      texts.map((text) => ({ type: 'message', from: 'Alice', color: '#ff0000', text })), c.label);
  }
  assert.deepEqual(slice(carol, from[2], m[2]), texts.map((t) => `T Alice> ${t}`));
  const log = h.log(ROOM);
  for (const t of texts) assert.ok(log.includes(`T Alice> ${t}`), t);
  // No colour changed.
  assert.ok(!log.some((l) => l.startsWith('T Userlist: ') && l.includes('Alice:red')));
});

// The log keeps "T <name>>  <result>" for a command's result: two spaces.
// A message of text that starts with a space must not pass for one.
jsonTest('a message that starts with a space never reaches a JSON client as a command result', async (h) => {
  const alice = await ljoin(h, 'Alice');
  const bob = await jjoin(h, 'Bob');
  const dave = await jjoin(h, 'Dave');
  await together([alice, bob, dave]);
  const forged = [' Throws 1 6-sided dice, throws again on 7: 6', ' Changed color to red', '  indented'];
  const from = [alice.lines.length, bob.lines.length, dave.lines.length];
  alice.send(forged[0]);
  say(bob, forged[1]);
  say(bob, forged[2]);
  const m = await settle(alice, [alice, bob, dave]);
  const seen = slice(dave, from[2], m[2]);
  assert.deepEqual(seen.filter((e) => e.type === 'command'), [], JSON.stringify(seen));
  // Each is shown as the message it is, or refused to its sender.
  for (const [i, text] of forged.entries()) {
    const sender = i === 0 ? 'Alice' : 'Bob';
    const shown = seen.some((e) => e.type === 'message' && e.from === sender && e.text === text);
    const refused = i === 0 ? alice.out.slice(from[0]).some((l) => l.startsWith('T Error: '))
      : slice(bob, from[1], m[1]).some((e) => e.type === 'error');
    assert.ok(shown || refused, `${JSON.stringify(text)}: neither shown as a message nor refused`);
  }
});

jsonTest('"Userlist: " from a JSON client reaches JSON clients as a message, and never a legacy client', async (h) => {
  const alice = await jjoin(h, 'Alice');
  const bob = await jjoin(h, 'Bob');
  const carol = await ljoin(h, 'Carol');
  await together([alice, bob, carol]);
  const from = [alice.lines.length, bob.lines.length, carol.lines.length];
  const texts = ['Userlist: Mallory:red,Alice:<img src=x onerror=alert(1)>,',
    'see: Welcome to the chat room lobby Eve!'];
  for (const t of texts) say(alice, t);
  // A whisper to the legacy client with these words does not reach it either.
  request(alice, { type: 'whisper', to: 'Carol', text: 'Userlist: Eve:red,' });
  const m = await settle(alice, [alice, bob, carol]);
  assert.deepEqual(slice(bob, from[1], m[1]).map(untimed),
    texts.map((text) => ({ type: 'message', from: 'Alice', color: '#ff0000', text })));
  assert.ok(!slice(alice, from[0], m[0]).some((e) => e.type === 'error' && e.code === 'misleading'),
    alice.describe());
  assert.deepEqual(slice(carol, from[2], m[2]), []);
  assertNoSecrets(carol.bytes, "Carol's stdout", ['Mallory', 'Eve']);
  // The lines are in the log as they are, and the lists are the server's.
  assert.ok(h.log(ROOM).includes(`T Alice> ${texts[0]}`));
  const b = bob.lines.length;
  const dave = await ljoin(h, 'Dave');
  assert.deepEqual((await waitEvent(bob, { type: 'users' }, { from: b })).users, users('Alice', 'Bob', 'Carol', 'Dave'));
  // Dave's replayed history leaves them out too.
  assertNoSecrets(dave.bytes, "Dave's stdout", ['Mallory', 'Eve']);
  // A legacy client saying the same is refused, as ever.
  const c = carol.lines.length;
  carol.send('Userlist: x:Gray,');
  await carol.waitFor('T Error: message not sent: chat clients would take it for a line from the server',
    undefined, { from: c });
});

jsonTest('LEGACY_CLIENT=no: a legacy client gets the JSON client\'s "Userlist: " text', {
  config: { LEGACY_CLIENT: 'no' },
}, async (h) => {
  const alice = await jjoin(h, 'Alice');
  const carol = await ljoin(h, 'Carol');
  await together([alice, carol]);
  say(alice, 'Userlist: Mallory:red,');
  await carol.waitFor('T Alice> Userlist: Mallory:red,');
});

// ---- whispers and signalling --------------------------------------------

jsonTest('whispers cross the protocols both ways, to the two of them only', async (h) => {
  const alice = await ljoin(h, 'Alice');
  const bob = await jjoin(h, 'Bob');
  const carol = await ljoin(h, 'Carol'); // bystander, legacy
  const dave = await jjoin(h, 'Dave'); // bystander, JSON (and party to one whisper)
  await together([alice, bob, carol, dave]);
  const all = [alice, bob, carol, dave];
  const from = all.map((c) => c.lines.length);
  const logFrom = h.log(ROOM).length;

  // Legacy to JSON.
  alice.send('Bob: psst, the key is under the mat');
  const w1 = { type: 'whisper', from: 'Alice', to: 'Bob', text: 'psst, the key is under the mat' };
  assert.deepEqual(untimed(await waitEvent(bob, { type: 'whisper' }, { from: from[1] })), w1);
  await alice.waitFor('T Alice> Bob: psst, the key is under the mat', undefined, { from: from[0] });
  // JSON to legacy: the sender gets its own copy.
  request(bob, { type: 'whisper', to: 'Alice', text: 'thanks, see you at eight' });
  await alice.waitFor('T Bob> Alice: thanks, see you at eight', undefined, { from: from[0] });
  const w2 = { type: 'whisper', from: 'Bob', to: 'Alice', text: 'thanks, see you at eight' };
  await waitEvent(bob, w2, { from: from[1] });
  // JSON to JSON.
  request(bob, { type: 'whisper', to: 'Dave', text: 'and you bring the cake' });
  const w3 = { type: 'whisper', from: 'Bob', to: 'Dave', text: 'and you bring the cake' };
  await waitEvent(dave, w3, { from: from[3] });
  await waitEvent(bob, w3, { from: from[1] });
  const m = await settle(alice, all);

  assert.deepEqual(slice(alice, from[0], m[0]),
    ['T Alice> Bob: psst, the key is under the mat', 'T Bob> Alice: thanks, see you at eight']);
  assert.deepEqual(slice(bob, from[1], m[1]).map(untimed), [w1, w2, w3]);
  assert.deepEqual(slice(carol, from[2], m[2]), []);
  assert.deepEqual(slice(dave, from[3], m[3]).map(untimed), [w3]);
  const secrets = ['key is under the mat', 'see you at eight'];
  assertNoSecrets(carol.bytes, "Carol's stdout", [...secrets, 'cake']);
  assertNoSecrets(dave.bytes, "Dave's stdout", secrets);
  assertNoSecrets(logBytes(h), 'the room log', [...secrets, 'cake']);
  assert.equal(h.log(ROOM).length, logFrom + 1); // the marker
});

// On the way a private line "<to>: {...}" is WebRTC signalling: a whisper
// may start with "{", but one that is a whole JSON object would reach its
// addressee as a signal, and is refused ("malformed": send a signal).
jsonTest('a JSON whisper is a whisper whatever its text, unless the text is a JSON object', async (h) => {
  const alice = await jjoin(h, 'Alice');
  const bob = await jjoin(h, 'Bob');
  const carol = await ljoin(h, 'Carol');
  await together([alice, bob, carol]);
  const texts = ['{curly} braces', '[1, 2]', '{"unclosed": 1'];
  const from = [alice.lines.length, bob.lines.length, carol.lines.length];
  for (const text of texts) request(alice, { type: 'whisper', to: 'Bob', text });
  request(alice, { type: 'whisper', to: 'Bob', text: JSON.stringify(CAND_A) });
  const m = await settle(alice, [alice, bob, carol]);
  const want = texts.map((text) => ({ type: 'whisper', from: 'Alice', to: 'Bob', text }));
  assert.deepEqual(slice(bob, from[1], m[1]).map(untimed), want);
  const own = slice(alice, from[0], m[0]);
  assert.deepEqual(own.filter((e) => e.type === 'whisper').map(untimed), want);
  assert.deepEqual(own.filter((e) => e.type === 'error').map((e) => e.code), ['malformed']);
  assert.deepEqual(slice(carol, from[2], m[2]), []);
});

jsonTest('signalling crosses the protocols both ways; data is the object itself', async (h) => {
  const alice = await ljoin(h, 'Alice');
  const bob = await jjoin(h, 'Bob');
  const carol = await ljoin(h, 'Carol'); // bystander, legacy
  const dave = await jjoin(h, 'Dave'); // bystander, JSON (and party to one candidate)
  await together([alice, bob, carol, dave]);
  const all = [alice, bob, carol, dave];
  const from = all.map((c) => c.lines.length);

  // JSON offer (sdp first, as browsers write it) to legacy: type first.
  request(bob, { type: 'signal', to: 'Alice', data: { sdp: OFFER_SDP, type: 'offer' } });
  const offer = await alice.waitFor(/^T Bob> Alice: \{/, undefined, { from: from[0] });
  assert.equal(offer, `T Bob> Alice: ${JSON.stringify({ type: 'offer', sdp: OFFER_SDP })}`);
  // Legacy answer to JSON: data is the object.
  alice.send(`Bob: ${JSON.stringify({ sdp: ANSWER_SDP, type: 'answer' })}`);
  const answer = await waitEvent(bob, { type: 'signal' }, { from: from[1] });
  assert.deepEqual(untimed(answer), { type: 'signal', from: 'Alice', data: { type: 'answer', sdp: ANSWER_SDP } });
  assert.equal(typeof answer.data, 'object');
  // Candidates both ways.
  alice.send(`Bob: ${JSON.stringify(CAND_B)}`);
  const cand = await waitEvent(bob, { type: 'signal', data: { candidate: CAND_B.candidate } }, { from: from[1] });
  assert.deepEqual(cand.data, CAND_B);
  request(bob, { type: 'signal', to: 'Alice', data: CAND_A });
  const back = await alice.waitFor(/^T Bob> Alice: \{"candidate"/, undefined, { from: from[0] });
  assert.deepEqual(JSON.parse(back.slice('T Bob> Alice: '.length)), CAND_A);
  // JSON to JSON.
  request(bob, { type: 'signal', to: 'Dave', data: CAND_A });
  const jj = await waitEvent(dave, { type: 'signal' }, { from: from[3] });
  assert.deepEqual(untimed(jj), { type: 'signal', from: 'Bob', data: CAND_A });
  const m = await settle(alice, all);

  // Never echoed to the sender, never seen by anyone else, never logged.
  assert.deepEqual(slice(alice, from[0], m[0]).map((l) => l.slice(0, 16)),
    ['T Bob> Alice: {"', 'T Bob> Alice: {"']);
  assert.deepEqual(slice(bob, from[1], m[1]).map((e) => [e.type, e.from]),
    [['signal', 'Alice'], ['signal', 'Alice']]);
  assert.deepEqual(slice(carol, from[2], m[2]), []);
  assert.deepEqual(slice(dave, from[3], m[3]).map((e) => [e.type, e.from]), [['signal', 'Bob']]);
  assertNoSecrets(carol.bytes, "Carol's stdout", SIGNAL_SECRETS);
  assertNoSecrets(dave.bytes, "Dave's stdout", [Z, 'v=0', 'ice-pwd', 'Qw9r', '198.51.100.7']);
  assertNoSecrets(logBytes(h), 'the room log', SIGNAL_SECRETS);
});

jsonTest('WHISPER_LOG=notice: bystanders of either protocol get the notice, never the whisper', {
  config: { WHISPER_LOG: 'notice' },
}, async (h) => {
  const alice = await ljoin(h, 'Alice');
  const bob = await jjoin(h, 'Bob');
  const carol = await ljoin(h, 'Carol');
  const dave = await jjoin(h, 'Dave');
  await together([alice, bob, carol, dave]);
  const all = [alice, bob, carol, dave];
  const from = all.map((c) => c.lines.length);
  alice.send('Bob: psst');
  await waitEvent(bob, { type: 'whisper', from: 'Alice', text: 'psst' }, { from: from[1] });
  request(bob, { type: 'whisper', to: 'Alice', text: 'psst back' });
  await alice.waitFor('T Bob> Alice: psst back', undefined, { from: from[0] });
  // Each notice is logged by its sender once the whisper is delivered:
  // Bob's marker comes after his own notice.
  const m = await settle(bob, all);
  assert.deepEqual(slice(carol, from[2], m[2]),
    ['T Alice whispers something to Bob', 'T Bob whispers something to Alice']);
  assert.deepEqual(slice(dave, from[3], m[3]).map(untimed), [
    { type: 'notice', from: 'Alice', to: 'Bob' },
    { type: 'notice', from: 'Bob', to: 'Alice' },
  ]);
  assertNoSecrets(carol.bytes, "Carol's stdout", ['psst']);
  assertNoSecrets(dave.bytes, "Dave's stdout", ['psst']);
});

// With WHISPER_LOG=full the log keeps whisper lines, and every connection
// hides lines of their shape ("T <from>> <member>: ...") while <member> is
// present.  A JSON message of that shape would be logged and shown to
// nobody: it is refused ("misleading"), so that its sender knows.
jsonTest('WHISPER_LOG=full: whispers are archived and shown to nobody else; a message "Bob: hi" is refused, not lost', {
  config: { WHISPER_LOG: 'full' },
}, async (h) => {
  const alice = await jjoin(h, 'Alice');
  const bob = await ljoin(h, 'Bob');
  const carol = await ljoin(h, 'Carol');
  const dave = await jjoin(h, 'Dave');
  const all = [alice, bob, carol, dave];
  await together(all);
  const from = all.map((c) => c.lines.length);
  request(alice, { type: 'whisper', to: 'Bob', text: 'archived secret' });
  await bob.waitFor('T Alice> Bob: archived secret', undefined, { from: from[1] });
  say(alice, 'Bob: this one is for everyone');
  say(alice, 'Nobody: this one is for everyone');
  const m = await settle(alice, all);
  assert.ok(h.log(ROOM).includes('T Alice> Bob: archived secret'));
  assert.ok(!h.log(ROOM).includes('T Alice> Bob: this one is for everyone'));
  const own = slice(alice, from[0], m[0]);
  assert.deepEqual(own.filter((e) => e.type === 'error').map((e) => e.code), ['misleading']);
  const msg = { type: 'message', from: 'Alice', color: '#ff0000', text: 'Nobody: this one is for everyone' };
  for (const c of [alice, dave]) {
    assert.deepEqual(slice(c, from[all.indexOf(c)], m[all.indexOf(c)]).filter((e) => e.type === 'message').map(untimed),
      [msg], c.label);
  }
  assert.deepEqual(slice(carol, from[2], m[2]), ['T Alice> Nobody: this one is for everyone']);
  assert.deepEqual(slice(dave, from[3], m[3]).filter((e) => e.type !== 'message'), []);
  assertNoSecrets(carol.bytes, "Carol's stdout", ['archived secret']);
  assertNoSecrets(dave.bytes, "Dave's stdout", ['archived secret']);
  // A later joiner's history holds the message and not the whisper.
  const eve = await jjoin(h, 'Eve');
  assert.ok(events(eve).some((e) => e.history && e.type === 'message' && e.text === msg.text), eve.describe(30));
  assertNoSecrets(eve.bytes, "Eve's stdout", ['archived secret']);
});

// ---- errors ---------------------------------------------------------------

/**
 * Sends each [line, code] (line a string, a Buffer, or an object) from
 * sender; each must give the sender exactly one error with that code (or
 * one of the codes, for an array) and nothing else, reach nobody, log
 * nothing; and the sender must go on chatting at once.
 */
async function expectErrors(h, sender, others, cases) {
  const all = [sender, ...others];
  for (const [line, code] of cases) {
    const what = `${Buffer.isBuffer(line) ? line.toString('latin1') : JSON.stringify(line)}`.slice(0, 120);
    const from = all.map((c) => c.lines.length);
    const logBefore = logBytes(h);
    if (Buffer.isBuffer(line)) sender.sendBytes(line);
    else request(sender, line);
    const codes = Array.isArray(code) ? code : [code];
    const err = await waitEvent(sender, { type: 'error' }, { from: from[0] });
    assert.ok(codes.includes(err.code), `${what}: code ${err.code}, expected ${codes.join(' or ')}`);
    assert.ok(typeof err.message === 'string' && err.message.length > 0, `${what}: ${JSON.stringify(err)}`);
    assert.deepEqual(Object.keys(err).sort(), ['code', 'message', 'time', 'type'], what);
    // The connection goes on: the next message arrives everywhere.
    const m = await settle(sender, all);
    assert.deepEqual(slice(sender, from[0], m[0]).map((e) => e.type), ['error'], what);
    others.forEach((c, i) => assert.deepEqual(slice(c, from[i + 1], m[i + 1]), [], `${what}: ${c.label}`));
    const now = logBytes(h);
    assert.ok(now.subarray(0, logBefore.length).equals(logBefore), what);
    const added = now.subarray(logBefore.length).toString('utf8').split('\n').slice(0, -1);
    assert.equal(added.length, 1, `${what}: logged ${JSON.stringify(added)}`);
  }
}

jsonTest('malformed requests: an error with its code, nothing sent or logged, and the connection goes on', async (h) => {
  const alice = await jjoin(h, 'Alice');
  const bob = await jjoin(h, 'Bob');
  const carol = await ljoin(h, 'Carol');
  await together([alice, bob, carol]);
  await expectErrors(h, alice, [bob, carol], [
    ['not json', 'malformed'],
    ['{"type":"message","text":', 'malformed'],
    ['{"type":"message","text":"hi"} {"type":"message","text":"again"}', 'malformed'],
    ['[{"type":"message","text":"hi"}]', 'malformed'],
    ['"hi"', 'malformed'],
    ['42', 'malformed'],
    ['null', 'malformed'],
    ['{}', 'malformed'],
    ['{"text":"hi"}', 'malformed'],
    ['{"type":5,"text":"hi"}', 'malformed'],
    ['{"type":null,"text":"hi"}', 'malformed'],
    ['{"type":"shout","text":"hi"}', 'unknown_type'],
    ['{"type":"welcome"}', 'unknown_type'],
    ['{"type":"Message","text":"hi"}', 'unknown_type'],
    ['{"type":"message"}', 'malformed'],
    ['{"type":"message","text":5}', 'malformed'],
    ['{"type":"message","text":null}', 'malformed'],
    ['{"type":"message","text":["hi"]}', 'malformed'],
    ['{"type":"whisper","text":"hi"}', 'malformed'],
    ['{"type":"whisper","to":"Bob"}', 'malformed'],
    ['{"type":"whisper","to":["Bob"],"text":"hi"}', 'malformed'],
    ['{"type":"whisper","to":"Bob","text":{"a":1}}', 'malformed'],
    ['{"type":"signal","to":"Bob"}', 'malformed'],
    ['{"type":"signal","data":{"candidate":"candidate:1 1 udp 1 10.0.0.1 9 typ host"}}', 'malformed'],
    [JSON.stringify({ type: 'signal', to: 'Bob', data: JSON.stringify(CAND_A) }), 'malformed'],
    ['{"type":"signal","to":"Bob","data":[1]}', 'malformed'],
    ['{"type":"command"}', 'malformed'],
    ['{"type":"command","text":7}', 'malformed'],
    ['{"type":"command","text":"dice 1 6 6"}', 'malformed'],
    // What jansson cannot hold as text.
    ['{"type":"message","text":"a\\u0000b"}', ['malformed', 'bad_utf8']],
    ['{"type":"message","text":"\\ud800"}', ['malformed', 'bad_utf8']],
  ]);
});

jsonTest('refused requests: too long, invalid UTF-8, unknown targets, bad signalling, bad colour', async (h) => {
  const alice = await jjoin(h, 'Alice');
  const bob = await jjoin(h, 'Bob');
  const carol = await ljoin(h, 'Carol');
  await together([alice, bob, carol]);
  const cand = { candidate: 'candidate:1 1 udp 1 10.0.0.1 9 typ host', sdpMid: '0' };
  const offerOf = (bytes) => {
    const data = { type: 'offer', sdp: '' };
    data.sdp = `v=0${Z}${'a'.repeat(bytes - JSON.stringify(data).length - `v=0${Z}`.length)}`;
    assert.equal(JSON.stringify(data).length, bytes);
    return data;
  };
  await expectErrors(h, alice, [bob, carol], [
    [{ type: 'message', text: 'x'.repeat(4097) }, 'too_long'],
    [{ type: 'message', text: 'ž'.repeat(2048) + 'x' }, 'too_long'],
    [{ type: 'whisper', to: 'Bob', text: 'w'.repeat(5000) }, 'too_long'],
    [{ type: 'command', text: `/dice 1 6 6${' '.repeat(4090)}` }, 'too_long'],
    // Over the input line limit (66560 bytes).
    [{ type: 'message', text: 'y'.repeat(70000) }, 'too_long'],
    [Buffer.concat([Buffer.from('{"type":"message","text":"caf'), Buffer.from([0xe9]), Buffer.from('"}')]), 'bad_utf8'],
    [Buffer.concat([Buffer.from('{"type":"message","text":"'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('"}')]), 'bad_utf8'],
    [Buffer.from([0xff, 0xfe]), 'bad_utf8'],
    [{ type: 'whisper', to: 'Nobody', text: 'hello?' }, 'unknown_target'],
    [{ type: 'whisper', to: 'Bo', text: 'hello?' }, 'unknown_target'],
    [{ type: 'signal', to: 'Nobody', data: cand }, 'unknown_target'],
    [{ type: 'signal', to: 'Bob', data: { foo: 'bar' } }, 'bad_signal'],
    [{ type: 'signal', to: 'Bob', data: { type: 'offer' } }, 'bad_signal'],
    [{ type: 'signal', to: 'Bob', data: { type: 'offer', sdp: 5 } }, 'bad_signal'],
    [{ type: 'signal', to: 'Bob', data: { type: 'pranswer', sdp: 'v=0' } }, 'bad_signal'],
    [{ type: 'signal', to: 'Bob', data: { candidate: 42 } }, 'bad_signal'],
    [{ type: 'signal', to: 'Bob', data: offerOf(64 * 1024 + 1) }, 'signal_too_large'],
    [{ type: 'command', text: '/color url(x)' }, 'command'],
  ]);
  // At the limits it goes through.
  let b = bob.lines.length;
  say(alice, 'x'.repeat(4096));
  await sees(bob, 'Alice', 'x'.repeat(4096), b);
  b = bob.lines.length;
  const big = offerOf(64 * 1024);
  request(alice, { type: 'signal', to: 'Bob', data: big });
  assert.deepEqual((await waitEvent(bob, { type: 'signal' }, { from: b })).data, big);
  assertNoSecrets(carol.bytes, "Carol's stdout", ['hello?', 'yyyyyyyy', Z]);
  assertNoSecrets(logBytes(h), 'the room log', ['hello?', 'yyyyyyyy', Z, 'url(x)']);
});

jsonTest('flood: "flood" refusals, then chat goes on; far too many: "flood_disconnect"', async (h) => {
  // Through the trusted proxy (127.0.0.1), from a client address that flood
  // control applies to.
  const proxied = (xff) => ({ REMOTE_ADDR: '127.0.0.1', HTTP_X_FORWARDED_FOR: xff });
  const mallory = await jjoin(h, 'Mallory', { env: proxied('198.51.100.7') });
  const bob = await jjoin(h, 'Bob', { env: { REMOTE_ADDR: '198.51.100.8' } });
  const carol = await ljoin(h, 'Carol');
  await together([mallory, bob, carol]);
  // 70 lines at once: over the burst (50), not over twice it.
  let from = mallory.lines.length;
  mallory.child.stdin.write(Array.from({ length: 70 },
    (_, i) => `${JSON.stringify({ type: 'message', text: `burst ${i}` })}\n`).join(''));
  await waitEvent(mallory, { type: 'error', code: 'flood' }, { from });
  await sees(bob, 'Mallory', 'burst 40');
  await sleep(3000); // the bucket leaks 10 points a second
  const errors = events(mallory, from).filter((e) => e.type === 'error');
  assert.ok(errors.length >= 10 && errors.every((e) => e.code === 'flood'), JSON.stringify(errors));
  assert.ok(mallory.running);
  const m = await settle(mallory, [mallory, bob, carol]);
  assert.ok(m.every((i) => i >= 0));

  // 300 at once: refused, then disconnected.
  from = mallory.lines.length;
  mallory.child.stdin.write(Array.from({ length: 300 },
    (_, i) => `${JSON.stringify({ type: 'message', text: `flood ${i}` })}\n`).join(''));
  await waitEvent(mallory, { type: 'error', code: 'flood_disconnect' }, { from });
  assert.equal(await mallory.waitExit(), 0);
  const told = events(mallory, from).filter((e) => e.type === 'error').map((e) => e.code);
  assert.equal(told.at(-1), 'flood_disconnect');
  assert.ok(told.slice(0, -1).every((c) => c === 'flood'), told.join(' '));
  await waitEvent(bob, { type: 'quit', name: 'Mallory' });
  await carol.waitFor('T Mallory quit the lobby');
  // The address takes no new connection for a while: refused with "flood".
  const again = await h.run(`/${ROOM}`, { env: { ...JSON_ENV, ...proxied('198.51.100.7') }, expectCode: 1, label: 'again' });
  assert.equal(again.lines.length, 1, again.describe());
  const refusal = parseEvent(again, again.lines[0]);
  assert.deepEqual([refusal.type, refusal.code], ['error', 'flood']);
  // Bob chats on.
  await settle(bob, [bob, carol]);
});

/** A JSON connection refused before it joins: one error event, exit status 1. */
async function refusedJson(h, pathInfo, opts = {}) {
  const { env, ...rest } = opts;
  const c = await h.run(pathInfo, { env: { ...JSON_ENV, ...(env || {}) }, expectCode: 1,
    label: `refused ${pathInfo}`, ...rest });
  assert.equal(c.code, 1, c.describe());
  assert.equal(c.lines.length, 1, `expected one line\n${c.describe()}`);
  const ev = parseEvent(c, c.lines[0]);
  assert.equal(ev.type, 'error', c.describe());
  assert.match(ev.time, TIME_RE);
  assert.ok(typeof ev.message === 'string' && ev.message.length > 0);
  return ev;
}

jsonTest('refusals before the join reach a JSON client as one error event with its code', {
  config: { ALLOWED_ORIGINS: 'https://chat.example.org', MAX_ROOM_USERS: 1, MAX_CONNECTIONS_PER_ADDRESS: 1 },
}, async (h) => {
  for (const p of ['/.hidden', '/', '/a<b', `/${'r'.repeat(101)}`]) {
    const ev = await refusedJson(h, p);
    assert.equal(ev.code, 'bad_room', p);
  }
  assert.equal((await refusedJson(h, `/${ROOM}`, { env: { HTTP_ORIGIN: 'https://evil.example' } })).code, 'origin');
  const alice = await jjoin(h, 'Alice', { env: { REMOTE_ADDR: '198.51.100.1', HTTP_ORIGIN: 'https://chat.example.org' } });
  assert.equal((await refusedJson(h, `/${ROOM}`, { cookie: sessionFor(h, 'Bob'),
    env: { REMOTE_ADDR: '198.51.100.2' } })).code, 'room_full');
  assert.equal((await refusedJson(h, '/other', { env: { REMOTE_ADDR: '198.51.100.1' } })).code,
    'too_many_connections');
  // Alice chats on.
  say(alice, 'still here');
  await sees(alice, 'Alice', 'still here');
  assert.ok(!h.log(ROOM).some((l) => l.includes('Bob')));
});

jsonTest('a config that cannot be loaded: one error event with code "config"', {
  configText: '[global]\nLAST_MESSAGES=5\n',
}, async (h) => {
  const ev = await refusedJson(h, `/${ROOM}`);
  assert.equal(ev.code, 'config');
  assert.equal(ev.message,
    'the chat server is not configured correctly; its administrator will find why in the server log');
});

// The files transport itself (a member's own append to the log): not run on Redis.
jsonTest('a log that cannot take the line: "not_stored", and the connection stays', { transport: 'files' }, async (h) => {
  const LIMIT = 8192;
  const alice = await jjoin(h, 'Alice', { wrap: ['prlimit', `--fsize=${LIMIT}`] });
  const bob = await jjoin(h, 'Bob');
  await together([alice, bob]);
  const text = 'k'.repeat(1000);
  const codes = [];
  for (let i = 0; i < 12 && !codes.length; i++) {
    const from = alice.lines.length;
    say(alice, `${i} ${text}`);
    const ev = await waitEvent(alice, (e) => e.type === 'error' || (e.type === 'message' && e.text === `${i} ${text}`), { from });
    if (ev.type === 'error') codes.push(ev.code);
  }
  assert.deepEqual(codes, ['not_stored']);
  assert.ok(alice.running);
  // Alice still reads, and is told again at her next line.
  const b = alice.lines.length;
  say(bob, 'hello');
  await sees(alice, 'Bob', 'hello', b);
  say(alice, `again ${text}`);
  assert.equal((await waitEvent(alice, { type: 'error' }, { from: b })).code, 'not_stored');
});

jsonTest('a whisper to a member killed a moment ago: "target_left"', async (h) => {
  await h.holdReaper(); // else the warden or the archiver counts Zed out at once
  const alice = await jjoin(h, 'Alice');
  const bob = await jjoin(h, 'Bob');
  const zed = await ljoin(h, 'Zed');
  await together([alice, bob, zed]);
  zed.kill('SIGKILL');
  await zed.exited;
  // With Redis, users/ is the archiver's mirror: reading it lets it run.
  if (!h.redis) assert.ok(fs.existsSync(h.p('users', `${ROOM}_Zed`)));
  const from = [alice.lines.length, bob.lines.length];
  request(alice, { type: 'whisper', to: 'Zed', text: 'are you there?' });
  const err = await waitEvent(alice, { type: 'error' }, { from: from[0] });
  assert.equal(err.code, 'target_left');
  const m = await settle(alice, [alice, bob]);
  // Bob may learn that Zed is gone (his quit and a list), nothing more.
  const gone = (e) => (e.type === 'quit' && e.name === 'Zed') || e.type === 'users';
  assert.deepEqual(slice(bob, from[1], m[1]).filter((e) => !gone(e)), []);
  assert.deepEqual(slice(alice, from[0], m[0]).filter((e) => !gone(e)).map((e) => e.type), ['error']);
  assertNoSecrets(bob.bytes, "Bob's stdout", ['are you there?']);
  assertNoSecrets(logBytes(h), 'the room log', ['are you there?']);
});

jsonTest('a whisper to a member who does not read: "target_slow"', async (h) => {
  const alice = await ljoin(h, 'Alice');
  const carol = await jjoin(h, 'Carol');
  const zed = await ljoin(h, 'Zed');
  await together([alice, carol, zed]);
  zed.child.stdout.pause();
  // Some 1.5 MiB for Zed: his pipe, his queue and his inbox fill up.
  const pad = 's'.repeat(4000);
  carol.child.stdin.write(Array.from({ length: 400 },
    (_, i) => `${JSON.stringify({ type: 'whisper', to: 'Zed', text: `${i} ${pad}` })}\n`).join(''));
  const err = await waitEvent(carol, { type: 'error' }, { timeout: 4 * WAIT_MS });
  assert.equal(err.code, 'target_slow');
  zed.child.stdout.resume();
  await settle(carol, [carol, alice, zed]);
  assert.ok(!alice.out.some((l) => l.includes(pad.slice(0, 100))));
});

// The room lock is waited for 10 seconds with files (presence.h), 30 with
// Redis (transport_redis_conn.h), before "busy".
jsonTest('a command that cannot get the room lock: "busy"', async (h, t) => {
  if (!h.redis && spawnSync('flock', ['-V']).error) {
    t.skip('flock(1) is not installed');
    return;
  }
  const alice = await jjoin(h, 'Alice');
  const bob = await ljoin(h, 'Bob');
  await together([alice, bob]);
  const release = await h.holdRoomLock(ROOM);
  try {
    const from = alice.lines.length;
    request(alice, { type: 'command', text: '/dice 1 6 6' });
    const err = await waitEvent(alice, { type: 'error' }, { from, timeout: 60000 });
    assert.equal(err.code, 'busy');
  } finally {
    await release();
  }
  await settle(alice, [alice, bob]);
});

// The files transport itself (a member's own append to the log): not run on Redis.
jsonTest('WHISPER_LOG=notice and a log that cannot take the notice: "not_recorded", the whisper delivered', { transport: 'files',
  config: { WHISPER_LOG: 'notice' },
}, async (h) => {
  const LIMIT = 4096;
  const alice = await jjoin(h, 'Alice', { wrap: ['prlimit', `--fsize=${LIMIT}`] });
  const bob = await jjoin(h, 'Bob');
  await together([alice, bob]);
  // Bob, without a limit, takes the log past Alice's.
  for (let i = 0; i < 5; i++) say(bob, `${i} ${'p'.repeat(1000)}`);
  await sees(alice, 'Bob', `4 ${'p'.repeat(1000)}`);
  const from = [alice.lines.length, bob.lines.length];
  request(alice, { type: 'whisper', to: 'Bob', text: 'delivered anyway' });
  await waitEvent(bob, { type: 'whisper', from: 'Alice', text: 'delivered anyway' }, { from: from[1] });
  const err = await waitEvent(alice, { type: 'error' }, { from: from[0] });
  assert.equal(err.code, 'not_recorded');
  // Alice still hears the room.
  say(bob, 'still here');
  await sees(alice, 'Bob', 'still here', from[0]);
});

// ---- through websocketd ---------------------------------------------------

jsonTest('through websocketd: ?proto=json in the URL is JSON, without it legacy, in one room', async (h, t) => {
  if (spawnSync('websocketd', ['--version']).error) {
    t.skip('websocketd is not installed');
    return;
  }
  const WebSocket = require('ws');
  const { startWebsocketd } = require('./wsd');
  const wsd = await startWebsocketd(h);
  const open = (url, headers) => new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.msgs = [];
    ws.on('message', (m) => ws.msgs.push(String(m)));
    ws.on('open', () => resolve(ws));
    ws.on('error', reject);
  });
  const until = async (ws, pred) => {
    const end = Date.now() + 2 * WAIT_MS;
    while (!ws.msgs.some(pred)) {
      if (Date.now() > end) throw new Error(`timeout; got:\n${ws.msgs.join('\n')}`);
      await sleep(20);
    }
    return ws.msgs.find(pred);
  };
  const base = `ws://127.0.0.1:${wsd.port}/${ROOM}`;
  const bob = await open(`${base}?proto=json`, { Cookie: sessionFor(h, 'Bob') });
  const alice = await open(base, { Cookie: sessionFor(h, 'Alice') });
  const socks = [bob, alice];
  try {
    await until(bob, (m) => m.includes('"history_end"'));
    const welcome = JSON.parse(bob.msgs[0]);
    assert.deepEqual([welcome.type, welcome.room, welcome.name], ['welcome', ROOM, 'Bob']);
    await until(alice, (m) => /^\[\d\d:\d\d:\d\d\] Welcome to the chat room lobby Alice!$/.test(m));
    await until(bob, (m) => m.includes('"join"') && m.includes('"Alice"'));
    bob.send(JSON.stringify({ type: 'message', text: 'hi from the JSON socket' }));
    await until(alice, (m) => m.endsWith('] Bob> hi from the JSON socket'));
    alice.send('Bob: psst');
    const w = JSON.parse(await until(bob, (m) => m.includes('"whisper"')));
    assert.deepEqual(untimed(w), { type: 'whisper', from: 'Alice', to: 'Bob', text: 'psst' });
    for (const m of bob.msgs) assert.match(JSON.parse(m).time, TIME_RE);
  } finally {
    const closed = socks.map((ws) => new Promise((resolve) => ws.on('close', resolve)));
    for (const ws of socks) ws.close();
    await Promise.race([Promise.all(closed), sleep(2 * WAIT_MS)]);
    for (const ws of socks) ws.terminate();
  }
  await h.waitForLog(ROOM, (l) => l.filter((x) => / quit the lobby$/.test(x)).length === 2, 4 * WAIT_MS);
});
