'use strict';
// TRANSPORT=redis (issue 15): `chat_server --check` reaches the Redis
// server of REDIS_URL, as a connection will, and reports its version and
// the round trip of a PING, or why it cannot; a connection while Redis
// cannot be reached is refused with a clear error and creates nothing,
// and is served once it can; with TRANSPORT=files nothing of it shows,
// hiredis not even loaded.
//
// Each test that needs a server starts its own redis-server, on a free
// port of 127.0.0.1 and a Unix socket in the test's directory, saving
// nothing, and kills it at the test's cleanup, whatever happened.
const assert = require('node:assert/strict');
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const { chatTest, BAD_STDERR, WAIT_MS, sleep } = require('./harness');
const { freePort, startWebsocketd } = require('./wsd');

const REDIS_SERVER = 'redis-server';

/** The version `redis-server --version` prints ("7.0.15"). */
function redisVersion() {
  const r = spawnSync(REDIS_SERVER, ['--version'], { encoding: 'utf8' });
  assert.ok(!r.error, `${REDIS_SERVER} is not installed (.ci/install-deps test ` +
    `installs redis-server): ${r.error && r.error.message}`);
  const m = /\bv=(\d+\.\d+\.\d+)/.exec(r.stdout);
  assert.ok(m, `no version in: ${r.stdout}`);
  return m[1];
}

/** Resolves true once something accepts a connection at address. */
function accepts(address) {
  return new Promise((resolve) => {
    const s = net.connect(address);
    s.on('connect', () => { s.destroy(); resolve(true); });
    s.on('error', () => resolve(false));
  });
}

/**
 * Starts redis-server for harness h: a free port of 127.0.0.1 and a Unix
 * socket under h.root, no persistence; with password, requirepass.  It is
 * killed at the test's cleanup (h.defer), passed or failed.  Returns
 * { port, socket, log() }.
 */
async function startRedis(h, { password } = {}) {
  const dir = fs.mkdtempSync(path.join(h.root, 'redis-'));
  const port = await freePort();
  const socket = path.join(dir, 'redis.sock');
  const args = ['--port', String(port), '--bind', '127.0.0.1',
    '--unixsocket', socket, '--unixsocketperm', '700',
    '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no',
    '--loglevel', 'warning'];
  if (password) args.push('--requirepass', password);
  const proc = spawn(REDIS_SERVER, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  proc.stdout.on('data', (d) => { text += d; });
  proc.stderr.on('data', (d) => { text += d; });
  const exited = new Promise((resolve) => {
    proc.on('error', (err) => { text += `\n[test] ${err.message}\n`; resolve(); });
    proc.on('close', resolve);
  });
  h.defer(async () => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    await exited;
  });
  const end = Date.now() + 4 * WAIT_MS;
  for (;;) {
    if (proc.exitCode !== null || proc.signalCode !== null) {
      throw new Error(`redis-server exited (${proc.exitCode ?? proc.signalCode}):\n${text}`);
    }
    if (await accepts({ port, host: '127.0.0.1' }) && await accepts({ path: socket })) break;
    if (Date.now() > end) throw new Error(`redis-server is not listening on ${port}:\n${text}`);
    await sleep(25);
  }
  return { port, socket, log: () => text };
}

/** Runs `chat_server --check` with the harness's config; the client. */
function check(h, expectCode = [0, 1]) {
  return h.run(undefined, { args: ['--check'], expectCode, label: 'chat_server --check' });
}

/** The --check lines about the transport. */
function transportLines(c) {
  return c.lines.filter((l) => /TRANSPORT=/.test(l));
}

/** s as a regular expression that matches s alone. */
const literal = (s) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** The one ok line of a reachable server: its version, where and round trip. */
function expectReached(c, where, prefix = 'chat:') {
  const lines = transportLines(c);
  const re = new RegExp(`^ok {6}TRANSPORT=redis: Redis (\\d+\\.\\d+\\.\\d+) at ${
    literal(where)}, PING round trip (\\d+) us, keys prefixed ${literal(prefix)}$`);
  const m = lines.map((l) => re.exec(l)).find(Boolean);
  assert.ok(m, `no ok line for ${where}:\n${c.describe(30)}`);
  assert.equal(m[1], redisVersion());
  const us = Number(m[2]);
  assert.ok(us >= 0 && us < 2000000, `round trip ${us} us`);
  assert.ok(!lines.some((l) => /^warning TRANSPORT=redis/.test(l)), c.describe(30));
  assert.equal(c.stderr, '', c.describe(30));
  return lines;
}

/** The PROBLEM line of a server not reached, and exit status 1. */
function expectProblem(c, re) {
  const lines = transportLines(c);
  assert.equal(lines.length, 1, c.describe(30));
  assert.match(lines[0], /^PROBLEM TRANSPORT=redis: /, c.describe(30));
  assert.match(lines[0], re, c.describe(30));
  assert.equal(c.code, 1);
  assert.equal(c.lines.at(-1), 'some checks failed');
  assert.equal(c.stderr, '', c.describe(30));
  return lines[0];
}

chatTest('--check over TCP: the server\'s version and the PING round trip', {
  config: { TRANSPORT: 'redis' },
}, async (h) => {
  const redis = await startRedis(h);
  h.addConfig({ REDIS_URL: `"redis://127.0.0.1:${redis.port}/3"` });
  const c = await check(h);
  expectReached(c, `127.0.0.1:${redis.port} db 3`);
});

chatTest('--check over a Unix socket, with ?db= and a key prefix of its own', {
  config: { TRANSPORT: 'Redis', REDIS_KEY_PREFIX: '{site-a}chat:' },
}, async (h) => {
  const redis = await startRedis(h);
  h.addConfig({ REDIS_URL: `"unix://${redis.socket}?db=2"` });
  const c = await check(h);
  expectReached(c, `unix:${redis.socket} db 2`, '{site-a}chat:');
});

// A password with '@', ' ' and '%' in it, percent-encoded in the URL.
const PASSWORD = 'p@ss w%rd';
const ENCODED = 'p%40ss%20w%25rd';

chatTest('--check with the password of requirepass, over TCP and the socket', {
  config: { TRANSPORT: 'redis' },
}, async (h) => {
  const redis = await startRedis(h, { password: PASSWORD });
  h.addConfig({ REDIS_URL: `"redis://:${ENCODED}@127.0.0.1:${redis.port}/1"` });
  let c = await check(h);
  for (const l of expectReached(c, `127.0.0.1:${redis.port} db 1`)) {
    assert.ok(!l.includes('ss w') && !l.includes(ENCODED), `the password shows: ${l}`);
  }
  h.addConfig({ REDIS_URL: `"unix://:${ENCODED}@${redis.socket}?db=15"` });
  c = await check(h);
  expectReached(c, `unix:${redis.socket} db 15`);
});

chatTest('--check with a wrong password, or none, fails and says which', {
  config: { TRANSPORT: 'redis' },
}, async (h) => {
  const redis = await startRedis(h, { password: PASSWORD });
  h.addConfig({ REDIS_URL: `"redis://:Wrong42@127.0.0.1:${redis.port}"` });
  let line = expectProblem(await check(h, 1),
    /redis 127\.0\.0\.1:\d+ db 0 refused the password of REDIS_URL: WRONGPASS/);
  assert.ok(!line.includes('Wrong42'), line);
  h.addConfig({ REDIS_URL: `"redis://127.0.0.1:${redis.port}"` });
  line = expectProblem(await check(h, 1),
    /redis 127\.0\.0\.1:\d+ db 0 wants a password \(its requirepass\): give it in REDIS_URL/);
  // A database the server does not have is refused by SELECT.
  h.addConfig({ REDIS_URL: `"redis://:${ENCODED}@127.0.0.1:${redis.port}/99"` });
  expectProblem(await check(h, 1), /db 99 refused SELECT .*: ERR DB index is out of range/);
});

chatTest('--check with nothing listening fails with the reason', {
  config: { TRANSPORT: 'redis' },
}, async (h) => {
  const port = await freePort(); // free: nobody listens there
  h.addConfig({ REDIS_URL: `"redis://127.0.0.1:${port}/0"` });
  expectProblem(await check(h, 1),
    new RegExp(`cannot connect to redis 127\\.0\\.0\\.1:${port} db 0: Connection refused$`));
  const socket = path.join(h.root, 'no-redis.sock');
  h.addConfig({ REDIS_URL: `"unix://${socket}"` });
  expectProblem(await check(h, 1), /cannot connect to redis unix:\S+no-redis\.sock db 0: No such file or directory$/);
});

chatTest('--check against a server that accepts and never answers gives up after 2 s', {
  config: { TRANSPORT: 'redis' },
}, async (h) => {
  const sockets = [];
  const silent = net.createServer((s) => sockets.push(s));
  await new Promise((resolve) => silent.listen(0, '127.0.0.1', resolve));
  h.defer(() => new Promise((resolve) => {
    for (const s of sockets) s.destroy();
    silent.close(resolve);
  }));
  h.addConfig({ REDIS_URL: `"redis://127.0.0.1:${silent.address().port}"` });
  const started = Date.now();
  expectProblem(await check(h, 1), /did not answer SELECT within 2000 ms$/);
  const took = Date.now() - started;
  assert.ok(took >= 1900 && took < 2000 + 4 * WAIT_MS, `took ${took} ms`);
});

/**
 * A server that speaks RESP as Redis 6.2 does, enough for a connection to
 * greet it and ask its version: +OK to SELECT, its INFO server, +PONG,
 * an id to CLIENT ID; an error to anything else.
 */
async function oldRedis(h) {
  const info = ['# Server', 'redis_version:6.2.14', `run_id:${'a'.repeat(40)}`, 'uptime_in_seconds:100',
    `server_time_usec:${Date.now() * 1000}`, ''].join('\r\n');
  const answer = (args) => {
    const cmd = args.join(' ').toUpperCase();
    if (cmd.startsWith('SELECT')) return '+OK\r\n';
    if (cmd === 'INFO SERVER') return `$${Buffer.byteLength(info)}\r\n${info}\r\n`;
    if (cmd === 'PING') return '+PONG\r\n';
    if (cmd === 'CLIENT ID') return ':5\r\n';
    return '-ERR unknown command\r\n';
  };
  const sockets = [];
  const server = net.createServer((s) => {
    sockets.push(s);
    let buf = '';
    s.on('data', (d) => {
      buf += d.toString('latin1');
      // Whole commands only: *<n>, then n times $<len> and the bytes.
      for (;;) {
        const m = /^\*(\d+)\r\n/.exec(buf);
        if (!m) return;
        let at = m[0].length;
        const args = [];
        for (let i = 0; i < Number(m[1]); i++) {
          const b = /^\$(\d+)\r\n/.exec(buf.slice(at));
          if (!b || buf.length < at + b[0].length + Number(b[1]) + 2) return;
          at += b[0].length;
          args.push(buf.slice(at, at + Number(b[1])));
          at += Number(b[1]) + 2;
        }
        buf = buf.slice(at);
        s.write(answer(args));
      }
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  h.defer(() => new Promise((resolve) => {
    for (const s of sockets) s.destroy();
    server.close(resolve);
  }));
  return server.address().port;
}

chatTest('Redis older than 7: --check and every connection say that chat_server needs Redis 7', {
  config: { TRANSPORT: 'redis' },
}, async (h) => {
  const port = await oldRedis(h);
  h.addConfig({ REDIS_URL: `"redis://127.0.0.1:${port}"` });
  expectProblem(await check(h, 1), /is Redis 6\.2\.14: chat_server needs Redis 7 or later$/);
  const before = h.listing();
  const c = await h.run('/lobby', { expectCode: 1 });
  assert.equal(c.out[0], `T Error: ${SENTENCE}`, c.describe());
  assert.match(c.stderr, /is Redis 6\.2\.14: chat_server needs Redis 7 or later/, c.describe());
  assert.deepEqual(h.listing(), before, 'files were created');
});

chatTest('TRANSPORT=files: --check has no transport line, and a connection loads no hiredis', {
  config: { REDIS_URL: '"redis://127.0.0.1:1/0"' }, transport: 'files',
}, async (h) => {
  const c = await check(h);
  assert.deepEqual(transportLines(c), [], c.describe(30));
  assert.ok(!c.lines.some((l) => /redis/i.test(l)), c.describe(30));
  const a = await h.join('lobby');
  await a.waitFor('T Userlist: Anonymous:Gray,');
  const maps = fs.readFileSync(`/proc/${a.pid}/maps`, 'utf8');
  assert.ok(!/hiredis/.test(maps), 'a connection of TRANSPORT=files mapped hiredis');
});

/** A connection refused while Redis cannot be reached: the client. */
async function expectRefused(h, port, opts = {}) {
  const before = h.listing();
  const c = await h.run('/lobby', { expectCode: 1, ...opts });
  assert.equal(c.code, 1, c.describe());
  assert.equal(c.lines.length, 1, `expected one stdout line\n${c.describe()}`);
  assert.match(c.stderr, new RegExp(`^chat_server: cannot reach the room's Redis: cannot connect to redis 127\\.0\\.0\\.1:${port} db 0: Connection refused\n`),
    c.describe());
  assert.deepEqual(h.listing(), before, 'files were created');
  return c;
}

const SENTENCE = 'the room is unavailable; try again later';

chatTest('TRANSPORT=redis, Redis unreachable: a connection is refused with a clear error, creates nothing, and is served once Redis is there', {
  config: { TRANSPORT: 'redis' },
}, async (h) => {
  const port = await freePort(); // free: nobody listens there
  h.addConfig({ REDIS_URL: `"redis://127.0.0.1:${port}/0"` });
  let c = await expectRefused(h, port);
  assert.equal(c.out[0], `T Error: ${SENTENCE}`);
  c = await expectRefused(h, port, { env: { QUERY_STRING: 'proto=json' } });
  const e = JSON.parse(c.lines[0]);
  assert.deepEqual([e.type, e.code, e.message], ['error', 'unavailable', SENTENCE]);
  // With a server there, the same config serves the room.
  const redis = await startRedis(h);
  h.addConfig({ REDIS_URL: `"redis://127.0.0.1:${redis.port}/0"` });
  const a = await h.join('lobby');
  await a.waitFor('T Userlist: Anonymous:Gray,');
  a.send('hello');
  await a.waitFor('T Anonymous> hello');
});

chatTest('TRANSPORT=redis through websocketd, Redis unreachable: the browser gets the error, the socket closes', {
  config: { TRANSPORT: 'redis' },
}, async (h) => {
  h.addConfig({ REDIS_URL: `"redis://127.0.0.1:${await freePort()}/0"` });
  const which = spawnSync('websocketd', ['--version']);
  assert.ok(!which.error, `websocketd is not installed (needed by this test): ${which.error && which.error.message}`);
  const WebSocket = require('ws');
  const wsd = await startWebsocketd(h);
  const before = h.listing();
  const ws = new WebSocket(`ws://127.0.0.1:${wsd.port}/lobby`);
  const msgs = [];
  ws.on('message', (m) => msgs.push(String(m)));
  const closed = new Promise((resolve, reject) => {
    ws.on('close', resolve);
    ws.on('error', reject);
  });
  let timer;
  const slow = new Promise((resolve) => { timer = setTimeout(resolve, 4 * WAIT_MS, 'slow'); });
  const r = await Promise.race([closed, slow]);
  clearTimeout(timer);
  if (r === 'slow') ws.terminate();
  assert.notEqual(r, 'slow', `the socket stayed open; got:\n${msgs.join('\n')}`);
  assert.equal(msgs.length, 1, msgs.join('\n'));
  assert.match(msgs[0], new RegExp(`^\\[\\d\\d:\\d\\d:\\d\\d\\] Error: ${literal(SENTENCE)}$`));
  assert.deepEqual(h.listing(), before, 'files were created');
  // chat_server's stderr (checked whole by the test before) reaches
  // websocketd's log only when websocketd reads it before the pipe
  // closes: a process that ends at once may lose it there.  Whatever
  // reached the log must not be one of the bad lines.
  const ours = wsd.log().split('\n').filter((l) => l.includes('| stderr ')).join('\n');
  for (const bad of BAD_STDERR) assert.ok(!ours.includes(bad), `chat_server stderr contains "${bad}":\n${ours}`);
});

chatTest('TRANSPORT=redis: --reap leaves users/ (the archiver\'s mirror) alone and says why', {
  config: { TRANSPORT: 'redis' },
}, async (h) => {
  // An unlocked file there would be a dead member to the files transport.
  fs.mkdirSync(h.p('users'));
  fs.writeFileSync(h.p('users', 'lobby_Ghost'), '#f00\n');
  const before = h.listing();
  const c = await h.run(undefined, { args: ['--reap'], expectCode: 0 });
  assert.equal(c.code, 0, c.describe());
  assert.match(c.lines.join('\n'), /^chat_server --reap: TRANSPORT=redis: members are reaped in Redis/);
  assert.deepEqual(h.listing(), before, 'files were changed');
  assert.equal(h.log('lobby').length, 0);
});
