'use strict';
// `chat_server --archive` (src/archive.c, docs/scale-out.md): the per-host
// daemon of TRANSPORT=redis.  The streams, members and alive scores are
// written here straight into a redis-server of our own, as the connections
// of other hosts would write them, and what the archiver makes of them is
// read on disk: the room logs byte for byte, with nothing lost and nothing
// twice however often it is killed; the quit line and user list of a
// member whose alive score is past; users/ mirroring the members.
//
// One redis-server serves the whole file (a free port of 127.0.0.1, saving
// nothing), so that its uptime passes REDIS_REAP_GRACE_S (16 s) by the
// time the reaping test runs; each test uses a key prefix of its own.
const assert = require('node:assert/strict');
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { before, after } = require('node:test');
const { chatTest, BAD_STDERR, SANITIZED, WAIT_MS, sleep, until, tunables } = require('./harness');
const { freePort } = require('./wsd');

const REDIS_GRACE_S = 16; // REDIS_REAP_GRACE_S in include/redis_room.h
const ALIVE_MS = 75000; // REDIS_ALIVE_MS

// ---- a redis-server, and a small RESP client for it -----------------------

/** Starts redis-server on port in dir; resolves once it accepts. */
async function startRedisServer(dir, port) {
  const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1',
    '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no',
    '--loglevel', 'warning'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  proc.stdout.on('data', (d) => { text += d; });
  proc.stderr.on('data', (d) => { text += d; });
  const exited = new Promise((resolve) => {
    proc.on('error', (err) => { text += `${err.message}\n`; resolve(); });
    proc.on('close', resolve);
  });
  const end = Date.now() + 4 * WAIT_MS;
  for (;;) {
    if (proc.exitCode !== null || proc.signalCode !== null) {
      throw new Error(`redis-server exited:\n${text}`);
    }
    const up = await new Promise((resolve) => {
      const s = net.connect({ port, host: '127.0.0.1' });
      s.on('connect', () => { s.destroy(); resolve(true); });
      s.on('error', () => resolve(false));
    });
    if (up) break;
    if (Date.now() > end) throw new Error(`redis-server not listening on ${port}:\n${text}`);
    await sleep(25);
  }
  return {
    port,
    stop: async () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      await exited;
    },
  };
}

/** One connection speaking RESP2: send(...args) resolves with the reply
 * (strings as Buffers, errors as Error objects, arrays, numbers, null). */
class Resp {
  static async connect(port) {
    const r = new Resp();
    r.sock = net.connect({ port, host: '127.0.0.1' });
    await new Promise((resolve, reject) => {
      r.sock.once('connect', resolve);
      r.sock.once('error', reject);
    });
    r.buf = Buffer.alloc(0);
    r.waiting = [];
    r.sock.on('data', (d) => {
      r.buf = Buffer.concat([r.buf, d]);
      for (;;) {
        const got = r.parse(0);
        if (!got) break;
        r.buf = r.buf.subarray(got.end);
        r.waiting.shift()(got.value);
      }
    });
    return r;
  }

  /** The reply at offset i of the buffer, or null while incomplete. */
  parse(i) {
    const nl = this.buf.indexOf('\r\n', i);
    if (nl < 0) return null;
    const head = this.buf.toString('utf8', i + 1, nl);
    const type = String.fromCharCode(this.buf[i]);
    if (type === '+') return { value: head, end: nl + 2 };
    if (type === '-') return { value: new Error(head), end: nl + 2 };
    if (type === ':') return { value: Number(head), end: nl + 2 };
    const n = Number(head);
    if (type === '$') {
      if (n < 0) return { value: null, end: nl + 2 };
      if (this.buf.length < nl + 2 + n + 2) return null;
      return { value: this.buf.subarray(nl + 2, nl + 2 + n), end: nl + 2 + n + 2 };
    }
    if (n < 0) return { value: null, end: nl + 2 };
    const out = [];
    let at = nl + 2;
    for (let k = 0; k < n; k++) {
      const e = this.parse(at);
      if (!e) return null;
      out.push(e.value);
      at = e.end;
    }
    return { value: out, end: at };
  }

  send(...args) {
    const parts = [Buffer.from(`*${args.length}\r\n`)];
    for (const a of args) {
      const b = Buffer.isBuffer(a) ? a : Buffer.from(String(a));
      parts.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n'));
    }
    return new Promise((resolve, reject) => {
      this.waiting.push((v) => (v instanceof Error ? reject(v) : resolve(v)));
      this.sock.write(Buffer.concat(parts));
    });
  }

  close() {
    this.sock.destroy();
  }
}

let server;
let redis;
let redisDir;

before(async () => {
  redisDir = fs.mkdtempSync(path.join(os.tmpdir(), 'chat-archive-redis-'));
  server = await startRedisServer(redisDir, await freePort());
  redis = await Resp.connect(server.port);
});

after(async () => {
  if (redis) redis.close();
  if (server) await server.stop();
  if (redisDir) fs.rmSync(redisDir, { recursive: true, force: true });
});

// ---- helpers ---------------------------------------------------------------

let prefixes = 0;
/** Sets h's config to TRANSPORT=redis with a key prefix of its own (the
 * port is known once the file runs, not when the tests are declared). */
function useRedis(h) {
  prefixes += 1;
  h.addConfig({
    TRANSPORT: 'redis',
    REDIS_URL: `redis://127.0.0.1:${server.port}/0`,
    REDIS_KEY_PREFIX: `t${prefixes}:`,
  });
}

/** The key prefix of h's config. */
function prefixOf(h) {
  return /^REDIS_KEY_PREFIX=(.*)$/m.exec(fs.readFileSync(h.configPath, 'utf8'))[1];
}

/** Appends line to the room's stream as a connection does; its ID. */
async function xadd(h, room, line) {
  const p = prefixOf(h);
  await redis.send('SADD', `${p}rooms`, room);
  return (await redis.send('XADD', `${p}room:${room}`, '*', 'l', line)).toString();
}

/** The lines of the room's stream, in order. */
async function streamLines(h, room) {
  const entries = await redis.send('XRANGE', `${prefixOf(h)}room:${room}`, '-', '+');
  return entries.map(([, fields]) => {
    for (let i = 0; i < fields.length; i += 2) {
      if (fields[i].toString() === 'l') return fields[i + 1].toString();
    }
    return null;
  });
}

/** Adds a member as redis_room_add does (members hash, alive score). */
async function addMember(h, room, name, { color = '#f00', verified = false, aliveAt } = {}) {
  const p = prefixOf(h);
  const conn = Buffer.from(name.padEnd(8, 'x').slice(0, 8)).toString('hex');
  await redis.send('HSET', `${p}members:${room}`, name, `${conn} ${verified ? 1 : 0} ${color}`);
  const now = await serverMs();
  await redis.send('ZADD', `${p}alive:${room}`, aliveAt ?? now + 3600 * 1000, name);
  await redis.send('SADD', `${p}rooms`, room);
}

async function serverMs() {
  const [s, us] = await redis.send('TIME');
  return Number(s.toString()) * 1000 + Math.floor(Number(us.toString()) / 1000);
}

async function uptime() {
  const info = (await redis.send('INFO', 'server')).toString();
  return Number(/uptime_in_seconds:(\d+)/.exec(info)[1]);
}

function startArchiver(h, label = 'archiver') {
  return h.spawn(undefined, { args: ['--archive'], label });
}

/** SIGTERM, and the exit status 0 it must end with. */
async function stopArchiver(c) {
  c.kill('SIGTERM');
  assert.equal(await c.waitExit(), 0, c.describe());
}

/** The raw bytes of the room's log ('' when there is none). */
function logBytes(h, room) {
  const f = h.p('rooms', `${room}.log`);
  return fs.existsSync(f) ? fs.readFileSync(f) : Buffer.alloc(0);
}

/** users/, as name -> contents; a file the archiver removes between the
 *  listing and its read is left out, as it is gone. */
function users(h) {
  const dir = h.p('users');
  if (!fs.existsSync(dir)) return {};
  const read = (f) => {
    try {
      return fs.readFileSync(path.join(dir, f), 'utf8');
    } catch (e) {
      if (e.code === 'ENOENT') return undefined;
      throw e;
    }
  };
  return Object.fromEntries(fs.readdirSync(dir).sort()
    .map((f) => [f, read(f)]).filter(([, text]) => text !== undefined));
}

// ---- the tests --------------------------------------------------------------

chatTest('--archive refuses to run unless TRANSPORT=redis, creating nothing', { ownRedis: true }, async (h) => {
  const c = await h.run(undefined, { args: ['--archive'], expectCode: 1 });
  assert.match(c.stderr, /^chat_server --archive: TRANSPORT is files; the archiver is for TRANSPORT=redis only/m);
  assert.deepEqual(fs.readdirSync(h.base), []);
});

chatTest('lines go to the room log byte for byte, in stream order; bad entries are skipped with a warning', { ownRedis: true }, async (h) => {
  useRedis(h);
  const lines = [
    '[10:00:00] Ann joined the lobby',
    '[10:00:01] Userlist: Ann:#f00,',
    '[10:00:02] Ann> caf\u00e9 \u{1F600} <b>&amp; "quotes" \\ back\tslash',
    '[10:00:03] Ann> ',
  ];
  for (const l of lines.slice(0, 2)) await xadd(h, 'lobby', l);
  const a = startArchiver(h);
  let want = `${lines.slice(0, 2).join('\n')}\n`;
  await until('the first lines', () => logBytes(h, 'lobby').toString() === want);
  // Bad entries: two lines in one, empty, no field l.
  await xadd(h, 'lobby', 'two\nlines');
  await xadd(h, 'lobby', '');
  await redis.send('XADD', `${prefixOf(h)}room:lobby`, '*', 'x', 'no l');
  for (const l of lines.slice(2)) await xadd(h, 'lobby', l);
  want = `${lines.join('\n')}\n`;
  await until('the later lines', () => logBytes(h, 'lobby').equals(Buffer.from(want)));
  // A second room, found in the rooms set while running.
  await xadd(h, 'other', '[10:00:04] Bob joined the other');
  await until('the second room', () => logBytes(h, 'other').toString() === '[10:00:04] Bob joined the other\n');
  await a.waitForStderr(/entry \d+-\d+ skipped: not one line[^]*entry \d+-\d+ skipped: not one line[^]*entry \d+-\d+ skipped: no field l/);
  // The record: the last ID, the log's inode and size.
  const ids = (await redis.send('XRANGE', `${prefixOf(h)}room:lobby`, '-', '+')).map((e) => e[0].toString());
  const st = fs.statSync(h.p('rooms', 'lobby.log'));
  const record = fs.readFileSync(h.p('run', 'archive', 'lobby'), 'utf8');
  assert.equal(record, `${ids.at(-1)} ${st.ino} ${st.size}\n`);
  assert.equal(st.mode & 0o777, 0o644, 'FILE_MODE');
  await stopArchiver(a);
  // Restarted: nothing written again.
  const b = startArchiver(h, 'archiver again');
  await sleep(1500);
  assert.equal(logBytes(h, 'lobby').toString(), want);
  await stopArchiver(b);
});

// The archiver and its relay live as long as the host: glibc's per-thread
// cache of freed blocks would pin heap pages after every crowd (src/main.c).
// It starts itself again with the cache off, once; a size the operator
// gave the cache is kept.
chatTest('the archiver runs with glibc\'s tcache off, unless the operator sized it', { ownRedis: true }, async (h) => {
  useRedis(h);
  await xadd(h, 'lobby', '[10:00:00] first');
  const a = startArchiver(h);
  await until('the first line', () => logBytes(h, 'lobby').toString() === '[10:00:00] first\n');
  assert.equal(tunables(a.pid), 'glibc.malloc.tcache_count=0');
  await stopArchiver(a);
  const b = h.spawn(undefined, { args: ['--archive'], label: 'archiver, cache sized',
    env: { GLIBC_TUNABLES: 'glibc.malloc.tcache_count=3' } });
  await xadd(h, 'lobby', '[10:00:01] second');
  await until('the second line', () => logBytes(h, 'lobby').toString().endsWith('[10:00:01] second\n'));
  assert.equal(tunables(b.pid), 'glibc.malloc.tcache_count=3');
  await stopArchiver(b);
});

/** How many times Redis ran cmd since its statistics were reset. */
async function calls(cmd) {
  const info = (await redis.send('INFO', 'commandstats')).toString();
  const m = new RegExp(`^cmdstat_${cmd}:calls=(\\d+),`, 'm').exec(info);
  return m ? Number(m[1]) : 0;
}

// The rooms set is read once a second (and on news of a new room), not
// once per line: a busy chat with many rooms would have the archiver read
// all their names at every line.
chatTest('a busy room: the archiver reads the rooms set once a second, not at every line', { ownRedis: true }, async (h) => {
  useRedis(h);
  await xadd(h, 'busy', '[10:00:00] first');
  const a = startArchiver(h);
  await until('the first line', () => logBytes(h, 'busy').toString() === '[10:00:00] first\n');
  await redis.send('CONFIG', 'RESETSTAT');
  const started = Date.now();
  const N = 150;
  let want = '[10:00:00] first\n';
  for (let i = 0; i < N; i++) {
    await redis.send('XADD', `${prefixOf(h)}room:busy`, '*', 'l', `[10:00:01] line ${i}`);
    want += `[10:00:01] line ${i}\n`;
    await sleep(10);
  }
  await until('every line', () => logBytes(h, 'busy').toString() === want);
  const seconds = Math.ceil((Date.now() - started) / 1000);
  const reads = await calls('xread');
  const sets = await calls('smembers');
  // The archiver woke for the lines many times (else the test shows
  // nothing), and read the set at most about once a second.
  assert.ok(reads >= 20, `${reads} XREADs for ${N} lines`);
  assert.ok(sets <= seconds + 2, `${sets} SMEMBERS in ${seconds} s (${reads} XREADs)`);
  await stopArchiver(a);
});

chatTest('killed with SIGKILL again and again while lines stream in: every line exactly once, in order', { ownRedis: true }, async (h) => {
  useRedis(h);
  const total = 400;
  const want = [];
  let stop = false;
  const producer = (async () => {
    for (let i = 0; i < total; i++) {
      const line = `[11:00:00] Ann> message ${i} ${'x'.repeat(i % 50)}`;
      want.push(line);
      await xadd(h, 'lobby', line);
      if (i % 7 === 0) await sleep(3);
    }
  })();
  let kills = 0;
  const killer = (async () => {
    while (!stop) {
      const a = startArchiver(h, `archiver ${kills}`);
      await sleep(20 + Math.floor(Math.random() * 120));
      a.kill('SIGKILL');
      await a.exited;
      kills += 1;
    }
  })();
  await producer;
  await until('a few kills after the last line', () => kills >= 30, 30000);
  stop = true;
  await killer;
  const last = startArchiver(h, 'the last archiver');
  const text = await until('every line', () => {
    const t = logBytes(h, 'lobby').toString();
    return t.split('\n').length - 1 >= total ? t : null;
  }, 3 * WAIT_MS);
  await sleep(300);
  assert.equal(logBytes(h, 'lobby').toString(), text, 'nothing after the last line');
  const got = text.split('\n').slice(0, -1);
  assert.equal(got.length, total, `${got.length} lines for ${total} entries after ${kills} kills`);
  assert.deepEqual(got, want);
  await stopArchiver(last);
  assert.ok(kills >= 30);
});

chatTest('restart after a kill between a write and its record, after another writer, after copytruncate, without a record: nothing twice, nothing lost', { ownRedis: true }, async (h) => {
  useRedis(h);
  const line = (i) => `[11:30:00] Ann> line ${i}`;
  const lines = (from, to) => Array.from({ length: to - from + 1 }, (_, i) => `${line(from + i)}\n`).join('');
  const log = h.p('rooms', 'lobby.log');
  /** Starts an archiver, waits until the log is want, and a little more,
   * then stops it. */
  const archiveUntil = async (label, want) => {
    const c = startArchiver(h, label);
    await until(label, () => logBytes(h, 'lobby').length >= want.length);
    await sleep(300);
    assert.equal(logBytes(h, 'lobby').toString(), want, label);
    await stopArchiver(c);
  };
  for (let i = 1; i <= 5; i++) await xadd(h, 'lobby', line(i));
  let want = lines(1, 5);
  await archiveUntil('lines 1 to 5', want);
  // Lines 6 and 7 written, the record not: what a SIGKILL between the
  // two leaves; the record still says line 5.  Then a line of another
  // writer (chat_server --reap, say, logging the quit of a mirrored file a
  // killed archiver left), which is no entry.
  const foreign = '[11:30:01] Zed quit the lobby';
  for (let i = 6; i <= 10; i++) await xadd(h, 'lobby', line(i));
  fs.appendFileSync(log, `${lines(6, 7)}${foreign}\n`);
  want += `${lines(6, 7)}${foreign}\n${lines(8, 10)}`;
  await archiveUntil('after the kill', want);
  // Only another writer's line past the record: taken for no entry.
  await xadd(h, 'lobby', line(11));
  fs.appendFileSync(log, `${foreign}\n`);
  want += `${foreign}\n${lines(11, 11)}`;
  await archiveUntil('after another writer', want);
  // logrotate's copytruncate while it is down: the log is shorter than
  // recorded, and gets the lines after the record.
  fs.truncateSync(log, 0);
  await xadd(h, 'lobby', line(12));
  want = lines(12, 12);
  await archiveUntil('after copytruncate', want);
  // No record at all (the run directory is a tmpfs, and the host
  // rebooted): the log's last line is found in the stream, and the rest
  // comes after it.
  fs.rmSync(h.p('run', 'archive', 'lobby'));
  await xadd(h, 'lobby', line(13));
  want = lines(12, 13);
  await archiveUntil('without a record', want);
});

chatTest('the stream trimmed past what was archived: what is there is archived, and one warning', { ownRedis: true }, async (h) => {
  useRedis(h);
  const a = startArchiver(h);
  await xadd(h, 'lobby', '[11:40:00] one');
  await until('line one', () => logBytes(h, 'lobby').toString() === '[11:40:00] one\n');
  await stopArchiver(a);
  const key = `${prefixOf(h)}room:lobby`;
  await xadd(h, 'lobby', '[11:40:01] lost');
  await xadd(h, 'lobby', '[11:40:02] kept');
  await redis.send('XTRIM', key, 'MAXLEN', '1');
  const b = startArchiver(h, 'archiver after the trim');
  await until('the kept line', () => logBytes(h, 'lobby').toString().includes('kept'));
  assert.equal(logBytes(h, 'lobby').toString(), '[11:40:00] one\n[11:40:02] kept\n');
  await b.waitForStderr(/lobby: the stream no longer holds lines that were never archived/);
  await stopArchiver(b);
  assert.equal(b.stderr.match(/no longer holds/g).length, 1, b.stderr);
});

chatTest('users/ mirrors the members: contents as the file transport writes them, flocked, rewritten, removed; SIGTERM cleans up', { ownRedis: true }, async (h) => {
  useRedis(h);
  // Left by an archiver that was killed: a member that is gone, and one
  // still there (its file is replaced).
  fs.mkdirSync(h.p('users'), { recursive: true });
  fs.writeFileSync(h.p('users', 'lobby_Gone'), '#000\n');
  fs.writeFileSync(h.p('users', 'lobby_Ann'), 'old\n');
  await addMember(h, 'lobby', 'Ann', { color: '#f00', verified: true });
  await addMember(h, 'lobby', 'Bob', { color: 'Blue' });
  await xadd(h, 'lobby', '[12:00:00] Bob joined the lobby');
  const a = startArchiver(h);
  await until('the mirror', () => JSON.stringify(users(h)) === JSON.stringify({
    lobby_Ann: '#f00\nverified\n', lobby_Bob: 'Blue\n',
  }));
  // Held, as a living member's file is (flock -n fails on each), and
  // --reap, which with Redis leaves users/ to the archiver, removes none.
  for (const f of ['lobby_Ann', 'lobby_Bob']) {
    assert.equal(spawnSync('flock', ['-n', h.p('users', f), 'true']).status, 1, `${f} is not locked`);
  }
  const reap = await h.run(undefined, { args: ['--reap'], label: 'chat_server --reap' });
  assert.match(reap.lines.join('\n'), /TRANSPORT=redis: members are reaped in Redis/, reap.describe());
  assert.deepEqual(Object.keys(users(h)), ['lobby_Ann', 'lobby_Bob']);
  // A colour change, a newcomer, a member who left.
  const seen = new Set();
  const watch = setInterval(() => {
    for (const f of fs.existsSync(h.p('users')) ? fs.readdirSync(h.p('users')) : []) seen.add(f);
  }, 2);
  await addMember(h, 'lobby', 'Bob', { color: '#0f0' });
  await addMember(h, 'other', 'Cy', { color: 'Red' });
  await redis.send('HDEL', `${prefixOf(h)}members:lobby`, 'Ann');
  await until('the changes', () => JSON.stringify(users(h)) === JSON.stringify({
    lobby_Bob: '#0f0\n', other_Cy: 'Red\n',
  }));
  clearInterval(watch);
  for (const f of seen) assert.match(f, /^(lobby|other)_[A-Za-z]+$/, 'only presence files in users/');
  await stopArchiver(a);
  assert.deepEqual(users(h), {}, 'SIGTERM removed the mirrored files');
  assert.ok(!/Redis unreachable/.test(a.stderr), a.stderr);
});

chatTest('a member whose alive score is past: one quit line and a user list, in the stream and the log', { ownRedis: true }, async (h) => {
  useRedis(h);
  // The grace after a Redis start: nobody is dead before it.
  const up = await uptime();
  if (up < REDIS_GRACE_S + 1) await sleep((REDIS_GRACE_S + 1 - up) * 1000);
  await addMember(h, 'lobby', 'Ann', { color: '#f00' });
  await xadd(h, 'lobby', '[13:00:00] Ann joined the lobby');
  const a = startArchiver(h);
  await until('Ann in users/', () => users(h).lobby_Ann === '#f00\n');
  // Dave's process was killed: its last heartbeat said now + ALIVE_MS,
  // and that is past.
  const dieAt = await serverMs();
  await addMember(h, 'lobby', 'Dave', { color: 'Blue', aliveAt: dieAt });
  const started = Date.now();
  const norm = (l) => l.replace(/^\[\d\d:\d\d:\d\d\]/, 'T');
  await until('the quit line in the log', () => {
    const lines = logBytes(h, 'lobby').toString().split('\n').map(norm);
    return lines.includes('T Userlist: Ann:#f00,');
  }, ALIVE_MS + 3000);
  assert.ok(Date.now() - started < (SANITIZED ? 4000 : 2500), `reaped after ${Date.now() - started} ms`);
  await sleep(2500); // more rounds: still one quit
  const stream = (await streamLines(h, 'lobby')).map(norm);
  assert.deepEqual(stream, ['T Ann joined the lobby', 'T Dave quit the lobby',
    'T Userlist: Ann:#f00,']);
  const log = logBytes(h, 'lobby').toString().split('\n').slice(0, -1).map(norm);
  assert.deepEqual(log, stream);
  assert.deepEqual(Object.keys(users(h)), ['lobby_Ann'], 'Dave is gone from users/');
  assert.equal(await redis.send('HEXISTS', `${prefixOf(h)}members:lobby`, 'Dave'), 0);
  await stopArchiver(a);
  assert.match(a.stderr, /lobby: 1 member whose process had died removed/);
});

chatTest('Redis unreachable: one line per outage, and the archiver carries on when it is back', { ownRedis: true }, async (h) => {
  const port = await freePort();
  h.addConfig({ TRANSPORT: 'redis', REDIS_URL: `redis://127.0.0.1:${port}/0`, REDIS_KEY_PREFIX: 'down:' });
  const a = startArchiver(h);
  await a.waitForStderr(/Redis unreachable/);
  await sleep(3000);
  // One line from the archiver, and one from its relay (archive_relay.h).
  assert.equal(a.stderr.match(/^chat_server --archive: Redis unreachable/gm).length, 1, a.stderr);
  assert.equal(a.stderr.match(/^chat_server --archive: relay: Redis unreachable/gm).length, 1, a.stderr);
  const dir = fs.mkdtempSync(path.join(h.root, 'redis-'));
  const second = await startRedisServer(dir, port);
  h.defer(() => second.stop());
  const r2 = await Resp.connect(port);
  h.defer(() => r2.close());
  await r2.send('SADD', 'down:rooms', 'lobby');
  await r2.send('XADD', 'down:room:lobby', '*', 'l', '[14:00:00] back');
  await until('the line after the outage', () => logBytes(h, 'lobby').toString() === '[14:00:00] back\n', 4 * WAIT_MS);
  assert.match(a.stderr, /reachable again/);
  await stopArchiver(a);
  for (const bad of BAD_STDERR) assert.ok(!a.stderr.includes(bad), a.stderr);
});
