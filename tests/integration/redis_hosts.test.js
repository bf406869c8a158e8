'use strict';
// TRANSPORT=redis over several hosts (issue 15, docs/scale-out.md): one
// room, two or three websocketd hosts with a BASE_DIR each, one Redis, and
// everything a member sees is what it would see on one host.  Each test
// makes its hosts on the file's redis-server (redis.js) under a
// REDIS_KEY_PREFIX of its own; the test that restarts Redis has its own.
//
// Lines are compared with the clock as T (norm); JSON events as the legacy
// lines they stand for (legacyOf), so both protocols compare with each
// other, with the room's stream and with every host's room log.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { after, test } = require('node:test');
const { TEST_TIMEOUT_MS, WAIT_MS, norm, sleep, until } = require('./harness');
const { RedisServer, startHost, archiverInTree } = require('./redis');

const ROOM = 'lobby';
// redis_host.h: a host is gone REDIS_HOST_ALIVE_MS after its archiver's
// last word, and nobody is found dead while Redis has been up less than
// the grace (redis_room.h).
const HOST_ALIVE_MS = 20000;
const REAP_GRACE_S = 16;
// The issue's bounds: a member killed is gone within 10 s, a host within 30.
const MEMBER_GONE_MS = 10000;
const HOST_GONE_MS = 30000;
// Polls for the archiver and the like: generous, they are only deadlines.
const CATCH_UP_MS = 30000;
const TIMEOUT = Math.max(3 * TEST_TIMEOUT_MS, 240000);

const COLORS = {
  Alice: '#ff0000', Bob: '#00f', Carol: '#0a0', Dave: '#123', Erin: 'teal', Rita: '#abc',
  Jules: '#def', Kim: 'orange', Zoe: '#f0f',
};

// ---- the file's redis-server and the tests' hosts --------------------------------

let shared = null;
// Hosts not yet cleaned up: a test cut short by its timeout may leave its
// cleanup pending when the file ends.
const live = new Set();
after(async () => {
  for (const h of live) {
    try { await h.cleanup(true); } catch { /* reported by the test */ }
  }
  if (shared) await shared.cleanup();
});

async function fileRedis() {
  if (!shared) shared = await RedisServer.start();
  if (!shared.running) await shared.start();
  return shared;
}

let tests = 0;
/** A key prefix no other test (nor another run on this machine) uses. */
function nextPrefix() {
  return `it${process.pid}.${++tests}.${Math.random().toString(36).slice(2, 8)}:`;
}

/**
 * A test with n hosts (A, B, C; B reaches Redis over its Unix socket, the
 * others over TCP) in one room's Redis.  fn(cluster, A, B, C).  cluster:
 * redis, hosts, prefix, key(kind), stream() (the room's lines, normalized),
 * rawStream().  After fn, every host's connections close and the stderr of
 * chat_server and the archiver is checked; whatever happens, every process
 * ends and every temp dir goes.
 */
function hostsTest(name, opts, fn) {
  if (typeof opts === 'function') { fn = opts; opts = {}; }
  const { hosts = 2, config = {}, ownRedis = false, timeout = TIMEOUT } = opts;
  test(name, { timeout }, async (t) => {
    const prefix = nextPrefix();
    const cluster = { t, prefix, hosts: [], redis: null };
    let failed = true;
    try {
      const redis = ownRedis ? await RedisServer.start() : await fileRedis();
      cluster.redis = redis;
      cluster.key = (kind) => `${prefix}${kind}:${ROOM}`;
      cluster.rawStream = () => redis.streamLines(cluster.key('room'));
      cluster.stream = async () => (await cluster.rawStream()).map(norm);
      for (let i = 0; i < hosts; i++) {
        const host = await startHost(t, redis, { name: 'ABC'[i], prefix, config, unix: i === 1 });
        cluster.hosts.push(host);
        live.add(host);
      }
      await fn(cluster, ...cluster.hosts);
      for (const h of cluster.hosts) if (!h.killed) await h.finish();
      failed = false;
    } finally {
      if (failed && cluster.redis) {
        t.diagnostic(`redis-server:\n${cluster.redis.log().slice(-2000)}`);
        try {
          const lines = await cluster.rawStream();
          t.diagnostic(`the room's stream (last 40 of ${lines.length}):\n${lines.slice(-40).join('\n')}`);
        } catch (err) {
          t.diagnostic(`the room's stream: ${err.message}`);
        }
      }
      for (const h of cluster.hosts) {
        try {
          await h.cleanup(failed);
        } catch (err) {
          t.diagnostic(`cleaning up host ${h.name} failed: ${err.stack || err}`);
        }
        live.delete(h);
      }
      if (ownRedis && cluster.redis) await cluster.redis.cleanup();
    }
  });
}

/** Fails the test when the archiver is not in the tree yet. */
function needArchiver() {
  assert.ok(archiverInTree(), 'src/archive.c is not in the tree: this test needs ' +
    '`chat_server --archive` (the per-host archiver)');
}

// ---- lines of both protocols ---------------------------------------------------------

/**
 * An event of the JSON protocol as the legacy line it stands for (T for
 * the clock); events that are no legacy line as [type ...].
 */
function legacyOf(ev) {
  if (!ev || typeof ev !== 'object') return '[not JSON]';
  switch (ev.type) {
    case 'join': return `T ${ev.name} joined the ${ROOM}`;
    case 'quit': return `T ${ev.name} quit the ${ROOM}`;
    case 'users': return `T Userlist: ${ev.users.map((u) => `${u.name}:${u.color},`).join('')}`;
    case 'message': return `T ${ev.from}> ${ev.text}`;
    case 'command': return `T ${ev.from}>  ${ev.text}`;
    case 'whisper': return `T ${ev.from}> ${ev.to}: ${ev.text}`;
    case 'notice': return `T ${ev.from} whispers something to ${ev.to}`;
    case 'line': return `T ${ev.text}`;
    // The one code that is good news is a notice in the legacy protocol.
    case 'error': return `T ${ev.code === 'available' ? 'Notice' : 'Error'}: ${ev.message}`;
    case 'signal': return `[signal from ${ev.from}] ${JSON.stringify(ev.data)}`;
    case 'welcome': return `T Welcome to the chat room ${ev.room} ${ev.name}!`;
    default: return `[${ev.type}]`;
  }
}

function parse(raw) {
  try { return JSON.parse(raw); } catch { return undefined; }
}

/** c's lines from index from, legacy lines (normalized) for both protocols. */
function view(c, from = 0) {
  return c.json ? c.lines.slice(from).map((l) => legacyOf(parse(l))) : c.out.slice(from);
}

/** Waits until c (either protocol) shows want (a line, RegExp or predicate) at index >= from. */
function waitLine(c, want, timeoutMs = WAIT_MS, from = 0) {
  let ok = want;
  if (typeof want === 'string') ok = (l) => l === want;
  else if (want instanceof RegExp) ok = (l) => want.test(l);
  const m = c.json ? (raw) => ok(legacyOf(parse(raw))) : ok;
  m.toString = () => String(want);
  return c.waitFor(m, timeoutMs, { from });
}

const userlist = (...names) => `T Userlist: ${names.map((n) => `${n}:${COLORS[n] || 'Gray'},`).join('')}`;

/** Joins name (a PHP session of that host with COLORS[name]) to the room. */
async function member(host, name, opts = {}) {
  const c = await host.connect(ROOM, {
    cookie: host.session(`s-${name}`, `${name}:${COLORS[name] || 'Gray'}`),
    label: opts.json ? `${name}(json)` : name,
    ...opts,
  });
  assert.equal(c.name, name, `${name} joined as ${c.name}`);
  // A JSON member is in once its history has ended: what it is sent next
  // comes after that event.
  if (opts.json) await c.waitEvent((ev) => ev.type === 'history_end');
  return c;
}

/** Resolves once each of clients has seen the line (index >= its from). */
function allSee(clients, line, timeoutMs = WAIT_MS, from) {
  return Promise.all(clients.map((c, i) => waitLine(c, line, timeoutMs, from ? from[i] : 0)));
}

let markers = 0;
/**
 * sender says a marker line; resolves with it once every client shows it,
 * so that whatever was sent before has had every chance to arrive.
 */
async function settle(sender, clients, timeoutMs = 2 * WAIT_MS) {
  const text = `marker ${++markers}`;
  const line = `T ${sender.name}> ${text}`;
  const from = clients.map((c) => c.lines.length);
  sender.send(sender.json ? { type: 'message', text } : text);
  await allSee(clients, line, timeoutMs, from);
  return line;
}

/** c's lines (legacy form) from index from up to, without, the marker. */
function between(c, from, marker) {
  const lines = view(c, from);
  const i = lines.indexOf(marker);
  assert.ok(i >= 0, `${c.label} has no ${marker}\n${c.describe()}`);
  return lines.slice(0, i);
}

/** Says text as c (either protocol). */
function say(c, text) {
  c.send(c.json ? { type: 'message', text } : text);
}

/**
 * Waits until host's users/ holds the presence files of names in the
 * room, and nothing else (the archiver mirrors every host's members).
 */
async function mirrored(host, names) {
  const want = names.map((n) => `${ROOM}_${n}`).sort().join(' ');
  let got = '';
  try {
    await until(`host ${host.name}'s users/ to hold ${want}`, () => {
      try { got = fs.readdirSync(host.p('users')).sort().join(' '); } catch { got = '(none)'; }
      return got === want;
    }, CATCH_UP_MS, 100);
  } catch (err) {
    throw new Error(`${err.message}; it holds ${got}\n${host.tail()}`);
  }
}

/** How often line occurs in lines. */
const count = (lines, line) => lines.filter((l) => l === line).length;

/**
 * Waits until host's room log holds the stream's lines up to the marker
 * (the archiver caught up); returns the log's text.
 */
async function logCaughtUp(host, marker, timeoutMs = CATCH_UP_MS) {
  return until(`the room log of host ${host.name} to hold ${marker}`, () => {
    const text = host.logText(ROOM);
    return text.split('\n').map(norm).includes(marker) ? text : null;
  }, timeoutMs, 100).catch((err) => {
    throw new Error(`${err.message}\n${host.tail()}\nits log ends:\n${host.logText(ROOM).slice(-2000)}`);
  });
}

/**
 * Waits until host's log is the whole stream (byte for byte, each line
 * with its newline), as the stream is now: every line once, in order.
 */
async function assertLogIsStream(cl, host, timeoutMs = CATCH_UP_MS) {
  const want = (await cl.rawStream()).map((l) => `${l}\n`).join('');
  try {
    await until(`host ${host.name}'s log to be the stream`, () => host.logText(ROOM).length >= want.length,
      timeoutMs, 100);
  } catch { /* compared below, with the difference shown */ }
  const got = host.logText(ROOM);
  if (got !== want) {
    const g = got.split('\n');
    const w = want.split('\n');
    let i = 0;
    while (i < g.length && i < w.length && g[i] === w[i]) i++;
    assert.fail(`host ${host.name}'s rooms/${ROOM}.log is not the room's stream: ` +
      `${g.length - 1} lines against ${w.length - 1}; first difference at line ${i + 1}:\n` +
      `  log:    ${JSON.stringify(g.slice(i, i + 5))}\n  stream: ${JSON.stringify(w.slice(i, i + 5))}\n` +
      `lines twice in the log: ${JSON.stringify(g.filter((l, j) => l && g.indexOf(l) !== j).slice(0, 5))}\n` +
      `${host.tail()}`);
  }
  return got;
}

// ---- WebRTC signalling of the old client -----------------------------------------------

const Z = 'zalomeni';
const OFFER_SDP = ['v=0', 'o=- 4611731400430051336 2 IN IP4 127.0.0.1', 's=-', 't=0 0',
  'a=group:BUNDLE 0', 'm=audio 9 UDP/TLS/RTP/SAVPF 111', 'c=IN IP4 0.0.0.0',
  'a=ice-ufrag:sXfD', 'a=ice-pwd:dQ8bW2jB1p3kzLxYq7eN5mVh', 'a=mid:0',
  'a=rtpmap:111 opus/48000/2'].join(Z) + Z;
const ANSWER_SDP = ['v=0', 'o=- 8127403551950617245 2 IN IP4 127.0.0.1', 's=-', 't=0 0',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111', 'a=ice-ufrag:Qw9r', 'a=ice-pwd:Zt5uHk2LmN8pRs4vXy6bCd1e',
  'a=mid:0'].join(Z) + Z;
const OFFER = JSON.stringify({ sdp: OFFER_SDP, type: 'offer' });
const OFFER_RELAY = JSON.stringify({ type: 'offer', sdp: OFFER_SDP });
const ANSWER = JSON.stringify({ sdp: ANSWER_SDP, type: 'answer' });
const ANSWER_RELAY = JSON.stringify({ type: 'answer', sdp: ANSWER_SDP });
const CAND = '{"candidate":"candidate:842163049 1 udp 1677729535 203.0.113.5 46154 typ srflx raddr 0.0.0.0 rport 0","sdpMid":"0","sdpMLineIndex":0}';
const CAND_ODD = '{ "sdpMLineIndex" : 0, "candidate" : "candidate:9 1 udp 1 10.0.0.9 9 typ host", "sdpMid" : "0" }';
const SECRETS = ['key is under the mat', 'see you at eight', 'json whisper to Alice', Z, 'v=0',
  '4611731400430051336', '8127403551950617245', 'ice-pwd', 'sXfD', 'Qw9r', 'candidate:',
  '203.0.113.5', '10.0.0.9'];

function assertNoSecrets(text, what) {
  for (const s of SECRETS) {
    assert.ok(!text.includes(s), `${what} contains ${JSON.stringify(s)}:\n${text.slice(-3000)}`);
  }
}

// ---- the tests -------------------------------------------------------------------------

hostsTest('three hosts: joins, messages, /dice, /color, quits and user lists are the same lines on every host', {
  hosts: 3,
}, async (cl, A, B, C) => {
  const alice = await member(A, 'Alice');
  await alice.waitFor(userlist('Alice'));
  assert.deepEqual(alice.out, ['T Welcome to the chat room lobby Alice!', 'T Alice joined the lobby',
    userlist('Alice')], alice.describe());
  const bob = await member(B, 'Bob');
  await allSee([alice, bob], userlist('Alice', 'Bob'));
  // Bob's history is the room's: Alice's join and list, then his own.
  assert.deepEqual(bob.out, ['T Welcome to the chat room lobby Bob!', 'T Alice joined the lobby',
    userlist('Alice'), 'T Bob joined the lobby', userlist('Alice', 'Bob')], bob.describe());
  const carol = await member(C, 'Carol');
  const three = userlist('Alice', 'Bob', 'Carol');
  await allSee([alice, bob, carol], three);
  assert.deepEqual(carol.out, ['T Welcome to the chat room lobby Carol!', ...bob.out.slice(1, 5),
    'T Carol joined the lobby', three], carol.describe());
  assert.deepEqual(alice.out.slice(1), carol.out.slice(1));
  assert.deepEqual(bob.out.slice(1), carol.out.slice(1));

  // One after the other, each seen by all three before the next.
  const everyone = [alice, bob, carol];
  const from = everyone.map((c) => c.lines.length);
  const steps = [
    [alice, 'Hello from A, <b>&amp; ž</b> \\n', ['T Alice> Hello from A, <b>&amp; ž</b> \\n']],
    [bob, '  spaces\tand a tab, kept  ', ['T Bob>   spaces\tand a tab, kept  ']],
    [carol, '/dice 3 6 6', [/^T Carol> {2}Throws 3 6-sided dice, throws again on 6: [1-6](, [1-6])*$/]],
    [bob, '/color #0f0', ['T Userlist: Alice:#ff0000,Bob:#0f0,Carol:#0a0,', 'T Bob>  Changed color to #0f0']],
    [carol, '/dice 150 2 0', [/^T Carol> {2}Max dice number is grater than 100 throwing only first 100 dice\. Throws 100 2-sided dice, throws again on 0: [12](, [12]){99}$/]],
    [alice, '/dice 2 0 0', ['T Alice>  Bad dice syntax, number of dice sides must be between 1 and 1000000']],
    [alice, '/color', ['T Alice>  Not changed color, missing color number']],
    [bob, '/nosuch thing', ['T Bob>  unknown command /nosuch thing']],
    [carol, 'Zed: nobody of that name, so a message', ['T Carol> Zed: nobody of that name, so a message']],
  ];
  const want = [];
  for (const [sender, text, lines] of steps) {
    const f = everyone.map((c) => c.lines.length);
    sender.send(text);
    for (const l of lines) await allSee(everyone, l, WAIT_MS, f);
    want.push(...lines);
  }
  // The refused colour goes to the sender alone.
  const f = everyone.map((c) => c.lines.length);
  alice.send('/color url(x)');
  await alice.waitFor('T Error: Not changed color: use #rgb, #rrggbb or a CSS colour name', WAIT_MS, { from: f[0] });
  const m1 = await settle(alice, everyone);
  const seen = everyone.map((c, i) => between(c, from[i], m1));
  const mine = seen[0].filter((l) => l.startsWith('T Error: '));
  assert.equal(mine.length, 1, seen[0].join('\n'));
  const common = seen[0].filter((l) => !l.startsWith('T Error: '));
  assert.equal(common.length, want.length, common.join('\n'));
  common.forEach((l, i) => (typeof want[i] === 'string' ? assert.equal(l, want[i]) : assert.match(l, want[i])));
  // The dice are thrown once, on one host: every host shows the same values.
  assert.deepEqual(seen[1], common);
  assert.deepEqual(seen[2], common);

  // Carol leaves: her quit and the list without her, on A and B alike.
  const g = [alice, bob].map((c) => c.lines.length);
  await carol.close();
  const two = 'T Userlist: Alice:#ff0000,Bob:#0f0,';
  await allSee([alice, bob], two, WAIT_MS, g);
  assert.deepEqual(view(alice, g[0]), ['T Carol quit the lobby', two]);
  assert.deepEqual(view(bob, g[1]), ['T Carol quit the lobby', two]);

  // Alice, here from the empty room's start, has seen the whole stream.
  const m2 = await settle(bob, [alice, bob]);
  const stream = await cl.stream();
  const noErrors = (lines) => lines.filter((l) => !l.startsWith('T Error: '));
  assert.deepEqual(noErrors(alice.out.slice(1)), stream, 'what Alice saw is not the room\'s stream');
  assert.deepEqual(noErrors(bob.out.slice(1)), stream);
  assert.equal(stream.at(-1), m2);

  if (archiverInTree()) {
    // Every host's users/ holds every host's members (the archiver's mirror).
    for (const h of [A, B, C]) {
      await mirrored(h, ['Alice', 'Bob']);
      assert.equal(fs.readFileSync(h.p('users', 'lobby_Bob'), 'utf8').split('\n')[0], '#0f0');
    }
  } else {
    cl.t.diagnostic('no archiver in the tree: users/ mirrors not checked');
  }

  // Both leave: one quit each, an empty list, nothing left in Redis.
  await bob.close();
  await alice.close();
  await until('the room to be empty', async () => (await cl.stream()).at(-1) === 'T Userlist: ', 2 * WAIT_MS, 100);
  const end = await cl.stream();
  for (const n of ['Alice', 'Bob', 'Carol']) assert.equal(count(end, `T ${n} quit the lobby`), 1, end.join('\n'));
  assert.equal(await cl.redis.command('HLEN', cl.key('members')), 0);
  assert.equal(await cl.redis.command('ZCARD', cl.key('alive')), 0);
  if (archiverInTree()) for (const h of [A, B, C]) await mirrored(h, []);
});

hostsTest('3 hosts x 2 senders x 50 lines at once: every receiver sees one and the same order', {
  hosts: 3, config: { FLOOD_RATE: 0 },
}, async (cl, A, B, C) => {
  const names = ['Sa', 'Sb', 'Sc', 'Sd', 'Se', 'Sf'];
  const senders = [];
  for (const [i, n] of names.entries()) senders.push(await member([A, B, C][Math.floor(i / 2)], n));
  // Two more who only read: a JSON one on B and a legacy one on C.
  const jr = await member(B, 'Jules', { json: true });
  const lr = await member(C, 'Rita');
  const all = [...senders, jr, lr];
  const full = userlist(...[...names, 'Jules', 'Rita'].sort());
  await allSee(all, full, 2 * WAIT_MS);
  const from = all.map((c) => c.lines.length);
  const N = 50;
  // Every sender writes its 50 lines in one go, all six at the same moment.
  for (const s of senders) for (let i = 0; i < N; i++) s.send(`${s.name} line ${i}`);
  for (const s of senders) await allSee(all, `T ${s.name}> ${s.name} line ${N - 1}`, 6 * WAIT_MS, from);
  const m = await settle(senders[0], all);
  const seqs = all.map((c, i) => between(c, from[i], m));
  const first = seqs[0];
  assert.equal(first.length, names.length * N, first.join('\n'));
  for (const s of senders) {
    assert.deepEqual(first.filter((l) => l.startsWith(`T ${s.name}> `)),
      Array.from({ length: N }, (_, i) => `T ${s.name}> ${s.name} line ${i}`), `${s.name}'s lines out of order`);
  }
  for (const [i, seq] of seqs.entries()) {
    assert.deepEqual(seq, first, `${all[i].label} saw another order than ${all[0].label}`);
  }
  // And that order is the stream's.
  const stream = await cl.stream();
  const at = stream.indexOf(first[0]);
  assert.deepEqual(stream.slice(at, at + first.length), first);
});

hostsTest('history: a member joining on B gets the last LAST_MESSAGES lines written on A', {
  hosts: 3,
}, async (cl, A, B, C) => {
  const alice = await member(A, 'Alice');
  for (let i = 1; i <= 30; i++) alice.send(`history line ${i}`);
  await alice.waitFor('T Alice> history line 30', 2 * WAIT_MS);
  const dave = await member(B, 'Dave');
  await dave.waitFor(userlist('Alice', 'Dave'));
  let stream = await cl.stream();
  // The welcome, then 20 lines, the last 20 of the room, ending with his own.
  assert.equal(dave.out[0], 'T Welcome to the chat room lobby Dave!');
  assert.deepEqual(dave.out.slice(1, 21), stream.slice(-20), dave.describe(30));
  assert.deepEqual(dave.out.slice(1, 21).slice(0, 18),
    Array.from({ length: 18 }, (_, i) => `T Alice> history line ${i + 13}`));
  assert.deepEqual(dave.out.slice(19, 21), ['T Dave joined the lobby', userlist('Alice', 'Dave')]);

  // A JSON member on C: the same 20 as history events, then history_end.
  const erin = await member(C, 'Erin', { json: true });
  await erin.waitEvent((e) => e.type === 'history_end');
  stream = await cl.stream();
  const evs = erin.events();
  const end = evs.findIndex((e) => e.type === 'history_end');
  assert.equal(end, 21, erin.describe(30));
  assert.ok(evs.slice(1, end).every((e) => e.history === true), erin.describe(30));
  assert.deepEqual(evs.slice(1, end).map(legacyOf), stream.slice(-20));
  assert.equal(evs.slice(end + 1).filter((e) => e.history).length, 0);

  // Live from here on, on every host.
  const m = await settle(dave, [alice, dave, erin]);
  assert.equal((await cl.stream()).at(-1), m);
});

hostsTest('names are unique over all hosts: Anonymous on A, then Anonymous1 on B', {
  hosts: 3,
}, async (cl, A, B, C) => {
  const a = await A.connect(ROOM);
  assert.equal(a.name, 'Anonymous');
  const b = await B.connect(ROOM);
  assert.equal(b.name, 'Anonymous1');
  const c = await C.connect(ROOM);
  assert.equal(c.name, 'Anonymous2');
  await allSee([a, b, c], 'T Userlist: Anonymous:Gray,Anonymous1:Gray,Anonymous2:Gray,');

  // Zoe's session on A and on B, joining at the same moment: Zoe and Zoe1.
  const zoes = await Promise.all([A, B].map((h) => h.connect(ROOM, {
    cookie: h.session('s-zoe', 'Zoe:#f0f'), label: 'Zoe',
  })));
  assert.deepEqual(zoes.map((z) => z.name).sort(), ['Zoe', 'Zoe1']);

  // Six anonymous at once, two per host: all names different.
  const many = await Promise.all([A, A, B, B, C, C].map((h) => h.connect(ROOM)));
  const names = [a, b, c, ...many].map((x) => x.name);
  assert.equal(new Set(names).size, names.length, `duplicate names: ${names.sort().join(' ')}`);
  for (const n of names) assert.match(n, /^Anonymous\d*$/);
  const everyone = [a, b, c, ...zoes, ...many];
  const want = [...names.map((n) => `${n}:Gray`), 'Zoe:#f0f', 'Zoe1:#f0f'];
  // The last list has all of them, on every host.
  await Promise.all(everyone.map((x) => x.waitFor((l) => {
    if (!l.startsWith('T Userlist: ')) return false;
    const got = l.slice(12).split(',').filter(Boolean);
    return got.length === want.length && want.every((w) => got.includes(w));
  }, 2 * WAIT_MS)));
  const stream = await cl.stream();
  for (const n of [...names, 'Zoe', 'Zoe1']) assert.equal(count(stream, `T ${n} joined the lobby`), 1, n);
});

hostsTest('whispers and WebRTC signalling from one host reach the addressee on another alone, and are never stored', {
  hosts: 3,
}, async (cl, A, B, C) => {
  const alice = await member(A, 'Alice');
  const bob = await member(B, 'Bob');
  const carol = await member(C, 'Carol');
  const dave = await member(C, 'Dave', { json: true });
  const everyone = [alice, bob, carol, dave];
  await allSee(everyone, userlist('Alice', 'Bob', 'Carol', 'Dave'));
  const from = everyone.map((c) => c.lines.length);
  const deliver = async (fromC, line, toC, want) => {
    const start = toC.lines.length;
    fromC.send(line);
    return waitLine(toC, want, WAIT_MS, start);
  };

  const w1 = 'T Alice> Bob: psst, the key is under the mat';
  await deliver(alice, 'Bob: psst, the key is under the mat', bob, w1);
  await alice.waitFor(w1, WAIT_MS, { from: from[0] });
  const w2 = 'T Bob> Alice: thanks, see you at eight';
  await deliver(bob, 'Alice: thanks, see you at eight', alice, w2);
  await bob.waitFor(w2, WAIT_MS, { from: from[1] });
  await deliver(alice, `Bob: ${OFFER}`, bob, `T Alice> Bob: ${OFFER_RELAY}`);
  await deliver(bob, `Alice: ${ANSWER}`, alice, `T Bob> Alice: ${ANSWER_RELAY}`);
  await deliver(alice, `Bob: ${CAND}`, bob, `T Alice> Bob: ${CAND}`);
  await deliver(alice, `Bob: ${CAND_ODD}`, bob, `T Alice> Bob: ${CAND_ODD}`);
  // The JSON member on C whispers and signals to Alice on A.
  const w3 = 'T Dave> Alice: json whisper to Alice';
  await deliver(dave, { type: 'whisper', to: 'Alice', text: 'json whisper to Alice' }, alice, w3);
  await waitLine(dave, w3, WAIT_MS, from[3]);
  await deliver(dave, { type: 'signal', to: 'Alice', data: JSON.parse(CAND) }, alice, `T Dave> Alice: ${CAND}`);
  await deliver(bob, `Dave: ${OFFER}`, dave, `[signal from Bob] ${OFFER_RELAY}`);
  // Signalling to nobody of that name is refused, not published.
  const f = alice.lines.length;
  alice.send(`Zed: ${CAND}`);
  await alice.waitFor('T Error: signalling not sent: Zed is not in the room', WAIT_MS, { from: f });

  const m = await settle(carol, everyone);
  assert.deepEqual(between(alice, from[0], m), [w1, w2, `T Bob> Alice: ${ANSWER_RELAY}`, w3,
    `T Dave> Alice: ${CAND}`, 'T Error: signalling not sent: Zed is not in the room']);
  assert.deepEqual(between(bob, from[1], m), [w1, w2, `T Alice> Bob: ${OFFER_RELAY}`,
    `T Alice> Bob: ${CAND}`, `T Alice> Bob: ${CAND_ODD}`]);
  assert.deepEqual(between(carol, from[2], m), []);
  assert.deepEqual(between(dave, from[3], m), [w3, `[signal from Bob] ${OFFER_RELAY}`]);
  // Candidates byte for byte, odd spacing kept, across hosts.
  assert.ok(bob.lines.some((l) => l.endsWith(`> Bob: ${CAND_ODD}`)));
  assertNoSecrets(carol.lines.join('\n'), "Carol's messages");

  // The room's stream holds none of it; nor does any host's room log.
  const raw = (await cl.rawStream()).join('\n');
  assertNoSecrets(raw, `the stream ${cl.key('room')}`);
  assert.deepEqual((await cl.stream()).slice(-1), [m]);
  if (archiverInTree()) {
    for (const h of [A, B, C]) assertNoSecrets(await logCaughtUp(h, m), `host ${h.name}'s room log`);
  } else {
    cl.t.diagnostic('no archiver in the tree: the hosts\' logs not checked');
  }
});

hostsTest('both wire protocols across hosts: legacy lines and ?proto=json events say the same', {
  hosts: 3,
}, async (cl, A, B, C) => {
  const alice = await member(A, 'Alice', { json: true });
  const bob = await member(B, 'Bob');
  const carol = await member(B, 'Carol', { json: true });
  const dave = await member(C, 'Dave');
  const everyone = [alice, bob, carol, dave];
  await allSee(everyone, userlist('Alice', 'Bob', 'Carol', 'Dave'));
  // The JSON members' history ends, each once.
  for (const c of [alice, carol]) {
    assert.equal(c.events().filter((e) => e.type === 'history_end').length, 1, c.describe());
  }
  const from = everyone.map((c) => c.lines.length);
  alice.send({ type: 'message', text: 'Bob: hi, said as a message by JSON <&>' });
  await allSee(everyone, 'T Alice> Bob: hi, said as a message by JSON <&>', WAIT_MS, from);
  bob.send('legacy says ž "quoted" \\ back');
  await allSee(everyone, 'T Bob> legacy says ž "quoted" \\ back', WAIT_MS, from);
  alice.send({ type: 'command', text: '/dice 4 6 0' });
  const dice = /^T Alice> {2}Throws 4 6-sided dice, throws again on 0: [1-6](, [1-6]){3}$/;
  await allSee(everyone, dice, WAIT_MS, from);
  dave.send('/color #00ff00');
  await allSee(everyone, 'T Dave>  Changed color to #00ff00', WAIT_MS, from);
  carol.send({ type: 'whisper', to: 'Dave', text: 'json to legacy' });
  await waitLine(dave, 'T Carol> Dave: json to legacy', WAIT_MS, from[3]);
  dave.send('Carol: legacy to json');
  await waitLine(carol, 'T Dave> Carol: legacy to json', WAIT_MS, from[2]);
  const m = await settle(bob, everyone);

  const seen = everyone.map((c, i) => between(c, from[i], m));
  const room = seen[1];
  assert.deepEqual(room.slice(0, 2), ['T Alice> Bob: hi, said as a message by JSON <&>',
    'T Bob> legacy says ž "quoted" \\ back']);
  assert.match(room[2], dice);
  assert.deepEqual(room.slice(3), ['T Userlist: Alice:#ff0000,Bob:#00f,Carol:#0a0,Dave:#00ff00,',
    'T Dave>  Changed color to #00ff00']);
  assert.deepEqual(seen[0], room);
  assert.deepEqual(seen[2].filter((l) => !l.includes('legacy to json') && !l.includes('json to legacy')), room);
  assert.deepEqual(seen[3].filter((l) => !l.includes('legacy to json') && !l.includes('json to legacy')), room);
  // The two JSON members, on A and on B, were sent the same events.
  const untimed = (c, from) => c.events(from).map((e) => {
    const { time, ...rest } = e;
    return rest;
  });
  const quiet = (evs) => evs.filter((e) => e.type !== 'whisper');
  const mark = (evs) => evs.findIndex((e) => e.type === 'message' && `T ${e.from}> ${e.text}` === m);
  const aliceEvs = untimed(alice, from[0]);
  const carolEvs = untimed(carol, from[2]);
  assert.deepEqual(quiet(carolEvs.slice(0, mark(carolEvs))), aliceEvs.slice(0, mark(aliceEvs)));
  // The JSON dice result as data: the values of the legacy line.
  const ev = alice.events(from[0]).find((e) => e && e.type === 'command' && e.command === 'dice');
  assert.equal(ev.result.values.join(', '), room[2].split(': ')[1]);
  assert.equal(ev.result.count, 4);
  // The JSON colour change: the users event, then the command's result.
  const evs = carol.events(from[2]);
  const u = evs.findIndex((e) => e && e.type === 'users' && e.users.some((x) => x.name === 'Dave' && x.color === '#00ff00'));
  assert.ok(u >= 0 && evs[u + 1].type === 'command' && evs[u + 1].command === 'color'
    && evs[u + 1].result.color === '#00ff00', carol.describe());
  // Every event has type and time first, and nothing live is history.
  for (const c of [alice, carol]) {
    for (const e of c.events(from[c === alice ? 0 : 2])) {
      assert.deepEqual(Object.keys(e).slice(0, 2), ['type', 'time']);
      assert.equal(e.history, undefined);
    }
  }
});

hostsTest('a connection killed with SIGKILL leaves every host\'s user list within 10 s, with one quit line', {
  hosts: 3,
}, async (cl, A, B, C) => {
  const alice = await member(A, 'Alice');
  const bob = await member(B, 'Bob');
  const carol = await member(C, 'Carol', { json: true });
  await allSee([alice, bob, carol], userlist('Alice', 'Bob', 'Carol'));
  assert.ok(bob.pid, `no chat_server process found for Bob\n${B.tail()}`);
  // The bound holds once Redis has been up past its grace (redis_room.h).
  await cl.redis.waitUptime(REAP_GRACE_S + 1);
  const from = [alice, carol].map((c) => c.lines.length);
  const t0 = Date.now();
  process.kill(bob.pid, 'SIGKILL');
  await allSee([alice, carol], 'T Bob quit the lobby', MEMBER_GONE_MS, from);
  await allSee([alice, carol], userlist('Alice', 'Carol'), Math.max(1, MEMBER_GONE_MS - (Date.now() - t0)), from);
  cl.t.diagnostic(`Bob's quit and the list without him on A and C after ${Date.now() - t0} ms`);
  // A few heartbeats and reaping rounds later, still one quit line.
  await sleep(4000);
  const m = await settle(alice, [alice, carol]);
  const stream = await cl.stream();
  assert.equal(count(stream, 'T Bob quit the lobby'), 1, stream.join('\n'));
  assert.deepEqual(between(alice, from[0], m), ['T Bob quit the lobby', userlist('Alice', 'Carol')]);
  assert.deepEqual(between(carol, from[1], m), ['T Bob quit the lobby', userlist('Alice', 'Carol')]);
  assert.equal(await cl.redis.command('HEXISTS', cl.key('members'), 'Bob'), 0);
  if (archiverInTree()) for (const h of [A, B, C]) await mirrored(h, ['Alice', 'Carol']);
  // His name is free again, on any host.
  const bob2 = await member(C, 'Bob');
  await allSee([alice, carol, bob2], userlist('Alice', 'Bob', 'Carol'));
});

hostsTest('a whole host killed (websocketd, its connections, its archiver) leaves within 30 s', {
  hosts: 3,
}, async (cl, A, B, C) => {
  const alice = await member(A, 'Alice');
  const bob = await member(B, 'Bob', { json: true });
  const carol = await member(C, 'Carol');
  const dave = await member(C, 'Dave', { json: true });
  const anon = await C.connect(ROOM);
  assert.equal(anon.name, 'Anonymous');
  await allSee([alice, bob, carol, dave, anon], userlist('Alice', 'Anonymous', 'Bob', 'Carol', 'Dave'));
  await cl.redis.waitUptime(REAP_GRACE_S + 1);
  const from = [alice, bob].map((c) => c.lines.length);
  const t0 = Date.now();
  await C.kill();
  const gone = ['T Carol quit the lobby', 'T Dave quit the lobby', 'T Anonymous quit the lobby'];
  for (const q of gone) await allSee([alice, bob], q, Math.max(1, HOST_GONE_MS - (Date.now() - t0)), from);
  await allSee([alice, bob], userlist('Alice', 'Bob'), Math.max(1, HOST_GONE_MS - (Date.now() - t0)), from);
  cl.t.diagnostic(`host C's members gone from A and B after ${Date.now() - t0} ms`);
  await sleep(4000);
  const m = await settle(bob, [alice, bob]);
  const stream = await cl.stream();
  for (const q of gone) assert.equal(count(stream, q), 1, `${q}:\n${stream.join('\n')}`);
  for (const c of [alice, bob]) {
    const got = between(c, from[c === alice ? 0 : 1], m);
    assert.deepEqual(got.filter((l) => !l.startsWith('T Userlist: ')).sort(), [...gone].sort(), got.join('\n'));
    assert.equal(got.at(-1), userlist('Alice', 'Bob'));
  }
  // The others chat on.
  alice.send('still here');
  await allSee([alice, bob], 'T Alice> still here');
  if (archiverInTree()) for (const h of [A, B]) await mirrored(h, ['Alice', 'Bob']);
});

/** Every process of host h (websocketd, its connections, its archiver)
 *  gets sig: SIGSTOP freezes the host with its sockets open, as a host
 *  that loses its power or its network leaves them to Redis. */
function signalHost(h, sig) {
  const pids = h.connectionPids();
  try { process.kill(-h.wsd.proc.pid, sig); } catch { /* gone */ }
  for (const pid of pids) {
    try { process.kill(pid, sig); } catch { /* gone */ }
  }
  if (h.archive && h.archive.running()) h.archive.proc.kill(sig);
}

hostsTest('a whole host frozen, its sockets open, leaves within 30 s; woken, its members join anew', {
  hosts: 3,
}, async (cl, A, B, C) => {
  needArchiver();
  const alice = await member(A, 'Alice');
  const bob = await member(B, 'Bob', { json: true });
  const carol = await member(C, 'Carol');
  const dave = await member(C, 'Dave', { json: true });
  await allSee([alice, bob, carol, dave], userlist('Alice', 'Bob', 'Carol', 'Dave'));
  await cl.redis.waitUptime(REAP_GRACE_S + 1);
  const from = [alice, bob].map((c) => c.lines.length);
  const t0 = Date.now();
  signalHost(C, 'SIGSTOP');
  let woken = false;
  try {
    // Nothing closed: Redis still has every client of C connected; only
    // C's archiver's silence says the host is gone.
    const gone = ['T Carol quit the lobby', 'T Dave quit the lobby'];
    for (const q of gone) await allSee([alice, bob], q, Math.max(1, HOST_GONE_MS - (Date.now() - t0)), from);
    await allSee([alice, bob], userlist('Alice', 'Bob'), Math.max(1, HOST_GONE_MS - (Date.now() - t0)), from);
    cl.t.diagnostic(`frozen host C's members gone from A and B after ${Date.now() - t0} ms`);
    // The others chat on meanwhile.
    alice.send('while C sleeps');
    await allSee([alice, bob], 'T Alice> while C sleeps');
    const back = [alice, bob].map((c) => c.lines.length);
    signalHost(C, 'SIGCONT');
    woken = true;
    // Woken, each of C's members reads its own quit, finds its name
    // free, and joins again: every host sees it, and the list is whole.
    for (const c of [carol, dave]) {
      await allSee([alice, bob, carol, dave], `T ${c.name} joined the lobby`, 4 * WAIT_MS, back);
    }
    await allSee([alice, bob, carol, dave], userlist('Alice', 'Bob', 'Carol', 'Dave'), 4 * WAIT_MS, back);
    await allSee([carol, dave], 'T Alice> while C sleeps');
    carol.send('awake');
    await allSee([alice, bob, carol, dave], 'T Carol> awake');
    await settle(bob, [alice, bob, carol, dave]);
    // One quit each, and one join more than at the start: no flapping.
    const stream = await cl.stream();
    for (const [line, n] of [[gone[0], 1], [gone[1], 1], ['T Carol joined the lobby', 2], ['T Dave joined the lobby', 2]]) {
      assert.equal(count(stream, line), n, `${line}:\n${stream.join('\n')}`);
    }
    if (archiverInTree()) for (const h of [A, B, C]) await mirrored(h, ['Alice', 'Bob', 'Carol', 'Dave']);
  } finally {
    if (!woken) signalHost(C, 'SIGCONT');
  }
});

hostsTest('Redis restarted: members are told the room is unavailable, then carry on; nothing lost, nothing twice', {
  hosts: 2, ownRedis: true, config: { FLOOD_RATE: 0 },
}, async (cl, A, B) => {
  const redis = cl.redis;
  const alice = await member(A, 'Alice', { json: true });
  const bob = await member(B, 'Bob');
  const rita = await member(B, 'Rita');                   // reads throughout, legacy
  const jules = await member(A, 'Jules', { json: true }); // reads throughout, JSON
  const four = userlist('Alice', 'Bob', 'Jules', 'Rita');
  await allSee([alice, bob, rita, jules], four);

  // Alice and Bob each say a numbered line every 40 ms until told to stop.
  const pumps = [alice, bob].map((c) => ({ c, n: 0, stop: false }));
  const running = pumps.map(async (p) => {
    while (!p.stop) {
      p.n += 1;
      say(p.c, `${p.c.name} pump ${p.n}`);
      await sleep(40);
    }
  });
  const isPump = (l) => / pump \d+$/.test(l);
  const pumpNo = (l) => Number(l.split(' ').pop());
  // docs/protocol.md: told once (code unavailable), then each message
  // refused, then told it is back (code available).
  const DOWN = 'T Error: the room is unavailable; your messages are not delivered until it is back';
  const REFUSED = 'T Error: message not sent: the room is unavailable; try again when it is back';
  const UP = 'T Notice: the room is available again';
  const told = [(raw) => legacyOf(parse(raw)) === DOWN, DOWN];
  /** Redis goes away (down(): stop or kill) for downMs; the pumps go on. */
  const outage = async (what, down, downMs) => {
    const before = pumps.map((p) => p.c.lines.length);
    const stopped = Date.now();
    await down();
    await Promise.all(pumps.map((p, i) => p.c.waitFor(told[i], 4 * WAIT_MS, { from: before[i] })));
    await sleep(Math.max(0, downMs - (Date.now() - stopped)));
    const back = pumps.map((p) => p.c.lines.length);
    const sent = pumps.map((p) => p.n);
    await redis.start();
    cl.t.diagnostic(`${what}: Redis was down ${Date.now() - stopped} ms`);
    // They carry on: a line said after the restart is echoed to its sender.
    await Promise.all(pumps.map((p, i) => waitLine(p.c, (l) => l.startsWith(`T ${p.c.name}> `)
      && isPump(l) && pumpNo(l) > sent[i], 6 * WAIT_MS, back[i])));
  };
  try {
    await waitLine(rita, 'T Bob> Bob pump 10', 2 * WAIT_MS);
    await waitLine(rita, 'T Alice> Alice pump 10', 2 * WAIT_MS);
    // Down longer than REDIS_HOST_ALIVE_MS, so every host's word is past
    // (the grace keeps everyone in until the archivers speak again); then
    // killed outright for a moment.
    await outage('SIGTERM', () => redis.stop(), HOST_ALIVE_MS + 2000);
    await outage('SIGKILL', () => redis.kill(), 2000);
  } finally {
    for (const p of pumps) p.stop = true;
    await Promise.all(running);
  }
  // Every line said was echoed to its sender or refused: none vanished.
  const echoedOf = (p) => view(p.c).filter((l) => l.startsWith(`T ${p.c.name}> `) && isPump(l));
  for (const p of pumps) {
    await until(`each of ${p.c.name}'s ${p.n} lines to be echoed or refused`,
      () => echoedOf(p).length + count(view(p.c), REFUSED) >= p.n, CATCH_UP_MS, 100);
  }
  const m = await settle(bob, [alice, bob, rita, jules], 4 * WAIT_MS);
  // Each member, sender or reader, was told of each outage once, and of
  // its end once; a JSON member with the codes.
  for (const c of [alice, bob, rita, jules]) {
    const notices = view(c).filter((l) => l === DOWN || l === UP);
    assert.deepEqual(notices, [DOWN, UP, DOWN, UP], c.describe(40));
    const errors = view(c).filter((l) => l.startsWith('T Error: '));
    assert.deepEqual(errors.filter((l) => l !== DOWN && l !== UP && l !== REFUSED), [], c.describe(40));
    if (c.json) {
      const codes = c.events().filter((e) => e && e.type === 'error').map((e) => e.code);
      assert.deepEqual([...new Set(codes)].sort(), ['available', 'unavailable']);
      for (const e of c.events().filter((x) => x && x.type === 'error')) {
        assert.equal(e.code, legacyOf(e) === UP ? 'available' : 'unavailable', JSON.stringify(e));
      }
    }
  }
  // Refusals come only while the room is down, between its two notices.
  for (const p of pumps) {
    let down = false;
    for (const l of view(p.c)) {
      if (l === DOWN) down = true;
      if (l === UP) down = false;
      if (l === REFUSED) assert.ok(down, `${p.c.name} was refused a line while Redis was up`);
    }
  }

  const stream = await cl.stream();
  const streamPump = stream.filter(isPump);
  assert.equal(new Set(streamPump).size, streamPump.length,
    `lines twice in the stream: ${streamPump.filter((l, i) => streamPump.indexOf(l) !== i).slice(0, 5)}`);
  for (const p of pumps) {
    // What the sender saw echoed is in the stream once, in its order.
    const echoed = view(p.c).filter((l) => l.startsWith(`T ${p.c.name}> `) && isPump(l));
    assert.equal(new Set(echoed).size, echoed.length, `${p.c.name} saw a line twice`);
    assert.deepEqual(streamPump.filter((l) => l.startsWith(`T ${p.c.name}> `)), echoed,
      `${p.c.name}'s echoed lines against the stream's`);
    const nums = echoed.map(pumpNo);
    assert.ok(nums.every((n, i) => i === 0 || n > nums[i - 1]), nums.join(' '));
  }
  // Everyone connected throughout saw the stream from their join on,
  // nothing missing, nothing twice, in its order (errors and notices of
  // the outage aside).
  for (const c of [alice, bob, rita, jules]) {
    const own = `T ${c.name} joined the lobby`;
    const tail = stream.slice(stream.indexOf(own));
    const saw = view(c).filter((l) => !/^T (Error|Notice): /.test(l) && !l.startsWith('['));
    assert.deepEqual(saw.slice(saw.indexOf(own)), tail, `${c.label} against the stream`);
  }
  assert.equal(stream.at(-1), m);

  // A new member joins after the restarts and finds everyone; nobody is
  // taken for dead once the grace after the restart is over.
  const kim = await member(A, 'Kim');
  const five = userlist('Alice', 'Bob', 'Jules', 'Kim', 'Rita');
  await allSee([alice, bob, rita, jules, kim], five, 2 * WAIT_MS);
  await redis.waitUptime(REAP_GRACE_S + 4);
  const m2 = await settle(kim, [alice, bob, rita, jules, kim]);
  const end = await cl.stream();
  assert.deepEqual(end.filter((l) => / quit the lobby$/.test(l)), [], 'a living member was reaped');
  assert.equal(end.filter((l) => l.startsWith('T Userlist: ')).at(-1), five);
  assert.equal(end.at(-1), m2);
  // The archivers lived through both outages: every host's log is the stream.
  if (archiverInTree()) {
    for (const h of [A, B]) {
      await logCaughtUp(h, m2);
      await assertLogIsStream(cl, h);
    }
  }
});

hostsTest('the archiver SIGKILLed and restarted while lines flow: every host\'s log holds every line once, in stream order', {
  hosts: 2, config: { FLOOD_RATE: 0 },
}, async (cl, A, B) => {
  needArchiver();
  const alice = await member(A, 'Alice');
  const bob = await member(B, 'Bob');
  await allSee([alice, bob], userlist('Alice', 'Bob'));
  const N = 300;
  const flow = [alice, bob].map(async (c) => {
    for (let i = 1; i <= N; i++) {
      c.send(`${c.name} flowing ${i}`);
      await sleep(10);
    }
  });
  // A's archiver dies six times and B's twice, at odd moments, while the
  // lines flow; each comes back after a moment.
  const killer = (async () => {
    for (let k = 0; k < 8; k++) {
      await sleep(200 + Math.floor(Math.random() * 500));
      const h = k % 4 === 3 ? B : A;
      await h.killArchive();
      await sleep(Math.floor(Math.random() * 300));
      await h.startArchive();
    }
  })();
  await Promise.all([...flow, killer]);
  for (const c of [alice, bob]) await allSee([alice, bob], `T ${c.name}> ${c.name} flowing ${N}`, 6 * WAIT_MS);
  const m = await settle(alice, [alice, bob]);
  for (const h of [A, B]) {
    await logCaughtUp(h, m);
    await assertLogIsStream(cl, h);
  }
  // The same once more after a last kill in a quiet moment.
  await A.killArchive();
  alice.send('while A has no archiver');
  const m2 = await settle(bob, [alice, bob]);
  await A.startArchive();
  await logCaughtUp(A, m2);
  await assertLogIsStream(cl, A);
  await assertLogIsStream(cl, B);
});

hostsTest('history pages: every host\'s rooms/lobby.log holds the whole room, every host\'s lines, in one order', {
  hosts: 3, config: { FLOOD_RATE: 0 },
}, async (cl, A, B, C) => {
  needArchiver();
  const alice = await member(A, 'Alice');
  const bob = await member(B, 'Bob', { json: true });
  const carol = await member(C, 'Carol');
  const everyone = [alice, bob, carol];
  await allSee(everyone, userlist('Alice', 'Bob', 'Carol'));
  const talk = everyone.map(async (c) => {
    for (let i = 1; i <= 20; i++) {
      say(c, `${c.name} page line ${i}`);
      if (i % 7 === 0) c.send(c.json ? { type: 'command', text: '/dice 2 6 6' } : '/dice 2 6 6');
      await sleep(5);
    }
  });
  // Someone comes and goes on C meanwhile.
  const dave = await member(C, 'Dave');
  await talk;
  await dave.close();
  for (const c of everyone) await allSee(everyone, `T ${c.name}> ${c.name} page line 20`, 4 * WAIT_MS);
  const m = await settle(carol, everyone);
  const texts = [];
  for (const h of [A, B, C]) {
    await logCaughtUp(h, m);
    texts.push(await assertLogIsStream(cl, h));
  }
  assert.equal(texts[1], texts[0]);
  assert.equal(texts[2], texts[0]);
  // The lines in Alice's view since she came are the log's.
  const log = A.log(ROOM);
  assert.deepEqual(alice.out.slice(1), log.slice(log.length - (alice.out.length - 1)));
  assert.equal(count(log, 'T Dave quit the lobby'), 1);
});

// ---- the relay (src/archive_relay.c) ------------------------------------------

/** Clients of Redis subscribed to something (CLIENT LIST's sub=). */
async function subscribedClients(cl) {
  const list = await cl.redis.command('CLIENT', 'LIST');
  return list.split('\n').filter((l) => / sub=[1-9]/.test(l)).length;
}

/** The members' records in clients:<room>, by name. */
async function records(cl) {
  const flat = await cl.redis.command('HGETALL', cl.key('clients'));
  const out = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[flat[i]] = flat[i + 1];
  return out;
}

const RELAYED = /^[0-9a-f]+:(\d+)\.[0-9a-f]{16}:[0-9a-f]{16}$/;

hostsTest('members listen through their host\'s relay: Redis keeps one subscribed client per host, however many members', {
  hosts: 2,
}, async (cl, A, B) => {
  needArchiver();
  const onA = [];
  for (const n of ['Alice', 'Bob', 'Carol', 'Dave', 'Erin']) onA.push(await member(A, n));
  const zoe = await member(B, 'Zoe');
  const all = [...onA, zoe];
  await allSee(all, userlist('Alice', 'Bob', 'Carol', 'Dave', 'Erin', 'Zoe'));
  assert.equal(await subscribedClients(cl), 2, 'one per host: its relay');
  const recs = await records(cl);
  for (const [name, rec] of Object.entries(recs)) assert.match(rec, RELAYED, name);
  const relayOf = (n) => RELAYED.exec(recs[n])[1];
  assert.equal(new Set(['Alice', 'Bob', 'Carol', 'Dave', 'Erin'].map(relayOf)).size, 1, 'A\'s members share A\'s relay');
  assert.notEqual(relayOf('Zoe'), relayOf('Alice'));
  onA[2].send('through the relay');
  zoe.send('and back');
  await allSee(all, 'T Carol> through the relay');
  await allSee(all, 'T Zoe> and back');
  zoe.send('Bob: only for you');
  await waitLine(onA[1], 'T Zoe> Bob: only for you');
  const m = await settle(zoe, all);
  for (const c of all.filter((x) => x.name !== 'Bob' && x.name !== 'Zoe')) {
    assert.ok(!c.lines.some((l) => l.includes('only for you')), `${c.name} saw the whisper`);
  }
  assert.ok(m);
});

hostsTest('a member killed behind the relay leaves at once, and its connection slot is free again', {
  hosts: 2, config: { MAX_CONNECTIONS_PER_ADDRESS: 3 },
}, async (cl, A, B) => {
  needArchiver();
  const alice = await member(A, 'Alice');
  const bob = await member(A, 'Bob');
  const carol = await member(B, 'Carol');
  await allSee([alice, bob, carol], userlist('Alice', 'Bob', 'Carol'));
  assert.match((await records(cl)).Alice, RELAYED);
  await assert.rejects(member(B, 'Dave'), /too many connections from your address/);
  await cl.redis.waitUptime(REAP_GRACE_S + 1);
  const from = [bob, carol].map((c) => c.lines.length);
  const t0 = Date.now();
  process.kill(alice.pid, 'SIGKILL');
  await allSee([bob, carol], 'T Alice quit the lobby', MEMBER_GONE_MS, from);
  cl.t.diagnostic(`Alice's quit on A and B after ${Date.now() - t0} ms`);
  // Her slot went with her, on the relay's word: the address may connect again.
  await until('a slot is free', async () => {
    try {
      const dave = await member(B, 'Dave');
      return !!dave;
    } catch (err) {
      if (!/too many connections/.test(err.message)) throw err;
      return false;
    }
  }, MEMBER_GONE_MS);
  const m = await settle(bob, [bob, carol]);
  const stream = await cl.stream();
  assert.equal(count(stream, 'T Alice quit the lobby'), 1, stream.join('\n'));
  assert.ok(m);
});

hostsTest('the archiver restarted: its members chat on, their browsers told nothing, and listen through its relay again', {
  hosts: 2,
}, async (cl, A, B) => {
  needArchiver();
  const alice = await member(A, 'Alice');
  const bob = await member(A, 'Bob');
  const carol = await member(B, 'Carol');
  const all = [alice, bob, carol];
  await allSee(all, userlist('Alice', 'Bob', 'Carol'));
  const from = all.map((c) => c.lines.length);
  await A.killArchive();
  alice.send('while the relay is away');
  await A.startArchive();
  carol.send('after it came back');
  await allSee(all, 'T Alice> while the relay is away', 2 * WAIT_MS, from);
  await allSee(all, 'T Carol> after it came back', 2 * WAIT_MS, from);
  // A's members left the relay when it went, and go back at their next
  // heartbeat (every 30 s): Redis again keeps one subscribed client a host.
  await until('A\'s members back behind its relay', async () => {
    const recs = await records(cl);
    return RELAYED.test(recs.Alice) && RELAYED.test(recs.Bob) && await subscribedClients(cl) === 2;
  }, 45000, 250);
  const m = await settle(bob, all);
  for (const [i, c] of all.entries()) {
    const seen = between(c, from[i], m);
    assert.ok(!seen.some((l) => / quit the lobby|unavailable|available again/.test(l)), `${c.name}:\n${seen.join('\n')}`);
  }
});
