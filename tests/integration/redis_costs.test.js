'use strict';
// TRANSPORT=redis (issue 15): what an idle room and a busy one cost.  An
// idle member wakes once per heartbeat (docs/scale-out.md: every 30 s; its
// host's archiver speaks for it meanwhile), not more; Redis holds a bounded room stream (MAXLEN ~ 10000), and nothing of
// a member once it is gone, however it went.
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const { after } = require('node:test');
const { chatTest, SANITIZED, WAIT_MS, sleep } = require('./harness');
const { RedisServer } = require('./redis');

const STREAM_MAX = 10000;    // REDIS_STREAM_MAX
const HEARTBEAT_MS = 30000;  // REDIS_HEARTBEAT_MS
const WRITER_REST_MS = 5000; // transport_redis: the writer's rest
const LOCK_WAIT_MS = 30000;  // transport_redis: a join's wait for the lock
// MAXLEN ~ trims whole nodes of the stream's radix tree (100 entries by
// default: stream-node-max-entries): the stream may run over by one node.
const TRIM_SLACK = 100;

let shared = null;
after(async () => { if (shared) await shared.cleanup(); });

async function onRedis(h, prefix) {
  if (!shared) shared = await RedisServer.start();
  h.addConfig({ TRANSPORT: 'redis', REDIS_URL: `"${shared.unixUrl(0)}"`, REDIS_KEY_PREFIX: prefix });
  return shared;
}

/** Voluntary and involuntary context switches of pid: its wake-ups. */
function switches(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name) => Number(new RegExp(`^${name}:\\s+(\\d+)$`, 'm').exec(status)[1]);
  return field('voluntary_ctxt_switches') + field('nonvoluntary_ctxt_switches');
}

/** Every key of the prefix. */
async function keys(redis, prefix) {
  return (await redis.command('KEYS', `${prefix}*`)).sort();
}

chatTest('an idle member does not wake between its heartbeats', { ownRedis: true }, async (h) => {
  await onRedis(h, 'idle:');
  const a = await h.join('lobby');
  await a.waitFor('T Userlist: Anonymous:Gray,');
  await sleep(1000); // past the join's own work
  const before = switches(a.pid);
  const idleMs = 12000;
  await sleep(idleMs);
  const woke = switches(a.pid) - before;
  // Less than a heartbeat's time: nothing to do, so no wake-up but for
  // the scheduler's own (a beat would be the timer, then one command and
  // its reply).
  assert.ok(idleMs < HEARTBEAT_MS);
  assert.ok(woke <= 3, `${woke} wake-ups in ${idleMs} ms of an idle room`);
});

/** The connections to Redis that are not subscribed (the members' writers),
 * but for the one asking. */
async function writers(redis) {
  const list = await redis.command('CLIENT', 'LIST');
  return String(list).split('\n').filter((l) => / sub=0 /.test(l) && / psub=0 /.test(l)
    && !/ cmd=client\|list /.test(l)).length;
}

async function writersBecome(redis, want, ms) {
  const end = Date.now() + ms;
  let n;
  while ((n = await writers(redis)) !== want && Date.now() < end) await sleep(100);
  return n;
}

/** The age (s, Redis's clock) of the oldest subscribed connection. */
async function readerAge(redis) {
  const list = String(await redis.command('CLIENT', 'LIST')).split('\n');
  const ages = list.filter((l) => / age=/.test(l) && !/ sub=0 /.test(l)).map((l) => Number(/ age=(\d+) /.exec(l)[1]));
  return Math.max(...ages);
}

// A member that only listens closes its writer as soon as its join is done
// (its history and its private stream read), not WRITER_REST_MS later:
// right after a storm of joins Redis holds one connection per member, not
// two, and not the writer's buffers (docs/scale-out.md, "One
// connection").  The reader connected before the writer, so the writer
// is younger than the reader's age when it goes.
chatTest('a member that only listens closes its writer as soon as its join is done', { ownRedis: true }, async (h) => {
  const redis = await onRedis(h, 'joined:');
  for (let i = 0; i < 30; i++) await redis.command('XADD', 'joined:room:lobby', '*', 'l', `[12:00:00] Old> line ${i}`);
  const a = await h.join('lobby');
  await a.waitFor('T Userlist: Anonymous:Gray,');
  await a.waitFor('T Old> line 29');
  let n;
  let age;
  do {
    n = await writers(redis);
    age = await readerAge(redis);
    if (n === 0) break;
    await sleep(20);
  } while (age < WRITER_REST_MS / 1000);
  assert.equal(n, 0, `the writer still open ${age} s after the join`);
  assert.ok(age < WRITER_REST_MS / 1000, `the writer rested only after ${age} s`);
  // It speaks at once all the same, and keeps its writer while it talks.
  a.send('first words');
  await a.waitFor('T Anonymous> first words');
  a.send('second words');
  await a.waitFor('T Anonymous> second words');
  assert.equal(await writers(redis), 1, 'a talking member without its writer');
  assert.equal(await a.close(), 0);
});

/** Two members in the lobby, each seen by the other, their writers at
 *  rest (12 s at most: the errand's rest, else WRITER_REST_MS). */
async function twoAtRest(h, prefix) {
  const redis = await onRedis(h, prefix);
  const a = await h.join('lobby');
  const b = await h.join('lobby');
  await a.waitFor('T Userlist: Anonymous:Gray,Anonymous1:Gray,');
  assert.equal(await writersBecome(redis, 0, 12000), 0, 'writers still open 12 s after the joins');
  return { redis, a, b };
}

// A member that has said nothing for WRITER_REST_MS (5 s) closes its
// writer: Redis then holds one connection per member, its subscribed
// reader (docs/scale-out.md, "What a member costs").  Its next line,
// whisper or colour opens it again, at once.
chatTest('an idle member keeps one connection to Redis, and speaks at once when it speaks again', { ownRedis: true }, async (h) => {
  const { redis, a, b } = await twoAtRest(h, 'rest:');
  const from = b.lines.length;
  a.send('after the rest');
  await b.waitFor('T Anonymous> after the rest', WAIT_MS, { from });
  b.send('Anonymous: psst');
  await a.waitFor('T Anonymous1> Anonymous: psst');
  a.send('/color red');
  await b.waitFor('T Userlist: Anonymous:red,Anonymous1:Gray,', WAIT_MS, { from });
  assert.ok(await writers(redis) >= 1, 'no writer opened again');
  // WRITER_REST_MS after the last command, not at the next heartbeat.
  assert.equal(await writersBecome(redis, 0, 12000), 0, 'writers still open 12 s after the last command');
  // A rested writer's member still leaves with its quit on every side.
  const fromB = b.lines.length;
  assert.equal(await a.close(), 0);
  await b.waitFor('T Anonymous quit the lobby', WAIT_MS, { from: fromB });
  await b.waitFor('T Userlist: Anonymous1:Gray,', WAIT_MS, { from: fromB });
  assert.equal(await b.close(), 0);
});

/** How many connections Redis has accepted since it started. */
async function connectionsReceived(redis) {
  return Number(/total_connections_received:(\d+)/.exec(String(await redis.command('INFO', 'stats')))[1]);
}

// The at-once rest is for the room's business alone (the join, a
// heartbeat): a member that receives whispers, or the bursts of WebRTC
// signalling that come as private lines, keeps its writer between them
// and opens it once, not once a line.
chatTest('a listener keeps its writer through a burst of private lines', { ownRedis: true }, async (h) => {
  const { redis, a, b } = await twoAtRest(h, 'burst:');
  const before = await connectionsReceived(redis);
  const N = 10;
  for (let i = 0; i < N; i++) {
    const from = b.lines.length;
    a.send(`Anonymous1: psst ${i}`);
    await b.waitFor(`T Anonymous> Anonymous1: psst ${i}`, WAIT_MS, { from });
  }
  // a's writer and b's, once each, and the INFO of this test's own.
  const opened = await connectionsReceived(redis) - before;
  assert.ok(opened <= 4, `${opened} connections for ${N} whispers`);
  assert.equal(await a.close(), 0);
  assert.equal(await b.close(), 0);
});

/** /proc/net/tcp's IPv4 sockets: local and remote port, state, inode. */
function tcpSockets() {
  return fs.readFileSync('/proc/net/tcp', 'utf8').trim().split('\n').slice(1).map((l) => {
    const f = l.trim().split(/\s+/);
    return { local: parseInt(f[1].split(':')[1], 16), remote: parseInt(f[2].split(':')[1], 16),
      state: f[3], inode: f[9] };
  });
}

/** The local ports of pid's TCP connections to port. */
function portsTo(pid, port) {
  const inodes = new Set();
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]);
    } catch { /* closed meanwhile */ }
  }
  return tcpSockets().filter((t) => t.remote === port && inodes.has(t.inode)).map((t) => t.local);
}

// Over TCP, a writer's rest resets its connection: a member rests its
// writer after every heartbeat, and a host of thousands would otherwise
// hold as many local ports in TIME_WAIT towards Redis.
chatTest('a writer that rests over TCP leaves no TIME_WAIT behind', { ownRedis: true }, async (h) => {
  if (!shared) shared = await RedisServer.start();
  h.addConfig({ TRANSPORT: 'redis', REDIS_URL: `"${shared.url(0)}"`, REDIS_KEY_PREFIX: 'tw:' });
  const a = await h.join('lobby');
  await a.waitFor('T Userlist: Anonymous:Gray,');
  a.send('awake');
  await a.waitFor('T Anonymous> awake');
  const before = portsTo(a.pid, shared.port);
  assert.equal(before.length, 2, `reader and writer: ${before}`);
  assert.equal(await writersBecome(shared, 0, 12000), 0, 'the writer did not rest');
  const after = portsTo(a.pid, shared.port);
  assert.equal(after.length, 1, `the reader alone: ${after}`);
  const writer = before.filter((p) => !after.includes(p));
  assert.equal(writer.length, 1);
  // Its connection to Redis: a port of an older connection to another
  // address may be in TIME_WAIT too (the kernel reuses ports across
  // addresses).
  const waiting = tcpSockets().filter((t) => t.local === writer[0] && t.remote === shared.port &&
    t.state === '06');
  assert.equal(waiting.length, 0, `the writer's port ${writer[0]} in TIME_WAIT`);
  a.send('over tcp');
  await a.waitFor('T Anonymous> over tcp');
  assert.equal(await a.close(), 0);
});

chatTest('the room stream stays bounded, and nothing of a member stays once it is gone', { ownRedis: true }, async (h) => {
  const redis = await onRedis(h, 'bound:');
  const a = await h.join('lobby');
  const b = await h.join('lobby');
  await a.waitFor('T Userlist: Anonymous:Gray,Anonymous1:Gray,');
  // From this host: no flood limit.
  const N = STREAM_MAX + 2500;
  a.child.stdin.write(Array.from({ length: N }, (_, i) => `line ${i}\n`).join(''));
  await b.waitFor(`T Anonymous> line ${N - 1}`, 60000);
  const len = await redis.command('XLEN', 'bound:room:lobby');
  assert.ok(len >= STREAM_MAX && len <= STREAM_MAX + TRIM_SLACK, `XLEN ${len}`);
  // A whisper makes a private stream; it goes with its reader.
  a.send('Anonymous1: psst');
  await b.waitFor('T Anonymous> Anonymous1: psst');
  // One leaves, one is killed: both leave no key of theirs behind.
  assert.equal(await a.close(), 0);
  b.kill('SIGKILL');
  await b.exited;
  const c = await h.join('lobby'); // its listing reaps the killed one
  await c.waitFor('T Userlist: Anonymous:Gray,');
  assert.equal(await c.close(), 0);
  const end = Date.now() + WAIT_MS;
  let left;
  do {
    left = await keys(redis, 'bound:');
    if (left.length === 3) break;
    await sleep(50);
  } while (Date.now() < end);
  // The room's lines, its name in the rooms set, and the news of it.
  assert.deepEqual(left, ['bound:room:lobby', 'bound:rooms', 'bound:rooms:new']);
  assert.equal((await redis.command('XRANGE', 'bound:room:lobby', '-', '+'))
    .filter(([, f]) => f[1].includes('psst')).length, 0, 'a whisper in the room stream');
});

// What a join asks of Redis while it holds the room lock is what the lock
// is for: the listing (the members and what judges them, in one round
// trip), the claim, and its own lines.  Each round trip after its lines
// waits behind every member they woke, so the history it is to be
// replayed is read after the lock is let go, up to its own user list.
chatTest('a join reads its history after it lets the room lock go', { ownRedis: true }, async (h) => {
  const redis = await onRedis(h, 'held:');
  const a = await h.join('lobby');
  for (let i = 0; i < 5; i++) a.send(`line ${i}`);
  await a.waitFor('T Anonymous> line 4');
  const monitor = spawn('redis-cli', ['-s', redis.socket, 'MONITOR']);
  let seen = '';
  monitor.stdout.on('data', (d) => { seen += d; });
  try {
    while (!/OK/.test(seen)) await sleep(20);
    const b = await h.join('lobby');
    await b.waitFor('T Anonymous> line 4');
    await b.waitFor('T Userlist: Anonymous:Gray,Anonymous1:Gray,');
    await sleep(200);
    // Each command: "<time> [<db> <client>] "NAME" ...", those of scripts
    // from "lua": only the joiner's own count.
    const cmds = seen.split('\n').filter((l) => / \[\d+ unix:/.test(l))
      .map((l) => l.replace(/^.*?\] /, ''));
    const taken = cmds.findIndex((c) => c.startsWith('"SET" "held:lock:lobby"'));
    const released = cmds.findIndex((c, i) => i > taken && c.startsWith('"EVAL"') && c.includes('RPUSH'));
    assert.ok(taken >= 0 && released > taken, `no lock taken and let go:\n${cmds.join('\n')}`);
    const held = cmds.slice(taken + 1, released).map((c) => c.slice(0, 60));
    assert.ok(!held.some((c) => c.startsWith('"XREVRANGE"') || c.startsWith('"XRANGE"')),
      `the stream read under the lock:\n${held.join('\n')}`);
    assert.equal(held.filter((c) => c.startsWith('"HGETALL" "held:members:lobby"')).length, 1, held.join('\n'));
    assert.ok(held.length <= 12, `${held.length} commands under the lock:\n${held.join('\n')}`);
    assert.equal(await b.close(), 0);
  } finally {
    monitor.kill();
  }
  assert.equal(await a.close(), 0);
});

// The room lock is taken in turn: a join waits for as long as the lock
// keeps changing hands (a storm of joins into a big room, each holding it
// a moment, queues for longer than LOCK_WAIT_MS), and is told the room is
// busy only when one holder keeps it that long.  Both rooms here are
// locked by hand: in 'moving' the lock goes to another holder every 5 s,
// in 'stuck' one holder keeps it.
chatTest('a join waits its turn while the room lock changes hands; one holder keeping it makes the room busy', { ownRedis: true, timeout: 120000 }, async (h) => {
  const redis = await onRedis(h, 'turn:');
  const ttl = String(2 * 5000);
  await redis.command('SET', 'turn:lock:moving', 'holder0', 'PX', ttl);
  await redis.command('SET', 'turn:lock:stuck', 'holder', 'PX', ttl);
  const moving = h.spawn('/moving');
  const stuck = h.spawn('/stuck', { expectCode: 1 });
  const t0 = Date.now();
  for (let k = 1; Date.now() - t0 < LOCK_WAIT_MS + 5000; k++) {
    await sleep(5000);
    await redis.command('SET', 'turn:lock:moving', `holder${k}`, 'PX', ttl);
    await redis.command('PEXPIRE', 'turn:lock:stuck', ttl);
  }
  assert.deepEqual(stuck.out, ['T Error: the room is busy; try again in a moment']);
  assert.deepEqual(moving.out, [], 'a join in a room whose lock moves was answered before its turn');
  // Its turn: the last holder lets go as every holder does.
  await redis.command('DEL', 'turn:lock:moving');
  await redis.command('RPUSH', 'turn:lockq:moving', '1');
  await moving.waitFor(/^T Welcome to the chat room moving/);
  await moving.waitFor('T Userlist: Anonymous:Gray,');
  assert.equal(await moving.close(), 0);
});

// Joins queue for the room lock (lockq:<room>) instead of hammering it:
// a storm of joins into one room lets every one in.
// Counted out while alive (reaped while its host's archiver or Redis could
// not speak for it: here its entries are simply taken away), a member
// whose name is still free takes it again as soon as it reads its own
// quit line, and the room sees it join anew, as it saw it go.
chatTest('a member counted out while it lived joins anew when it reads its quit', { ownRedis: true }, async (h) => {
  const redis = await onRedis(h, 'back:');
  const a = await h.join('lobby');
  const b = await h.join('lobby');
  const both = 'T Userlist: Anonymous:Gray,Anonymous1:Gray,';
  await a.waitFor(both);
  const from = a.lines.length;
  const fromB = b.lines.length;
  // As the reaper does it, in one script: the member's entries gone, and
  // its quit in the stream, announced on the room's channel after the
  // line before it.
  const reap = "redis.call('HDEL', KEYS[1], ARGV[1]) redis.call('ZREM', KEYS[2], ARGV[1]) " +
    "local last = redis.call('XREVRANGE', KEYS[3], '+', '-', 'COUNT', 1) " +
    "local id = redis.call('XADD', KEYS[3], '*', 'l', ARGV[2]) " +
    "redis.call('PUBLISH', ARGV[3], last[1][1] .. ' ' .. id .. ' ' .. ARGV[2] .. '\\n') return 1";
  await redis.command('EVAL', reap, '3', 'back:members:lobby', 'back:alive:lobby', 'back:room:lobby',
    'Anonymous1', '[12:00:00] Anonymous1 quit the lobby', 'back:chan:lobby');
  await a.waitFor('T Anonymous1 quit the lobby', WAIT_MS, { from });
  await a.waitFor(/^T Anonymous1 joined the lobby$/, WAIT_MS, { from });
  await a.waitFor(both, WAIT_MS, { from: a.lines.length - 1 });
  const after = a.lines.slice(from).map((l) => l.replace(/^\[\d\d:\d\d:\d\d\] /, 'T '));
  assert.deepEqual(after, ['T Anonymous1 quit the lobby', 'T Anonymous1 joined the lobby', both]);
  await b.waitFor('T Anonymous1 joined the lobby', WAIT_MS, { from: fromB });
  assert.deepEqual((await redis.command('HKEYS', 'back:members:lobby')).sort(), ['Anonymous', 'Anonymous1']);
  // Once: its heartbeat renews from now on, and joins no more.
  await sleep(3000);
  const joins = a.lines.slice(from).filter((l) => / Anonymous1 joined the lobby$/.test(l));
  assert.equal(joins.length, 1, a.describe());
  assert.equal(await b.close(), 0);
  assert.equal(await a.close(), 0);
});

// A line put in the stream without its announcement (by an older
// chat_server, or by hand) is not lost: the next announcement names the
// line before it, the member sees it missed one, and reads the stream.
chatTest('a line in the stream that nobody announced is read in its place once the next one is', { ownRedis: true }, async (h) => {
  const redis = await onRedis(h, 'gap:');
  const a = await h.join('lobby');
  const b = await h.join('lobby');
  await a.waitFor('T Userlist: Anonymous:Gray,Anonymous1:Gray,');
  await b.waitFor('T Userlist: Anonymous:Gray,Anonymous1:Gray,');
  const from = b.lines.length;
  await redis.command('XADD', 'gap:room:lobby', '*', 'l', '[12:00:00] Old> not announced');
  a.send('announced');
  await b.waitFor('T Anonymous> announced', WAIT_MS, { from });
  const got = b.lines.slice(from).map((l) => l.replace(/^\[\d\d:\d\d:\d\d\] /, 'T '));
  assert.deepEqual(got, ['T Old> not announced', 'T Anonymous> announced']);
  assert.equal(await b.close(), 0);
  assert.equal(await a.close(), 0);
});

chatTest('a storm of joins into one room: every one joins, none is told the room is busy', { ownRedis: true, timeout: 300000 }, async (h) => {
  await onRedis(h, 'storm:');
  const N = SANITIZED ? 60 : 300;
  const clients = Array.from({ length: N }, () => h.spawn('/lobby'));
  const first = await Promise.all(clients.map((c) => c.waitFor(
    (l) => l.startsWith('T Welcome to the chat room') || l.startsWith('T Error: '), 120000)));
  const refused = first.filter((l) => l.startsWith('T Error: '));
  assert.deepEqual(refused, [], `${refused.length} of ${N} refused`);
  const last = clients[N - 1];
  await last.waitFor((l) => l.startsWith('T Userlist: ') && l.split(',').length === N + 1, 120000);
});
