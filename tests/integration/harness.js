'use strict';
// Test harness: one temp BASE_DIR and config per test, chat_server processes
// started the way websocketd starts them (CGI variables in the environment,
// one line per message on stdin/stdout).
//
//   chatTest('name', async (h) => {
//     const alice = await h.join('lobby', { cookie: h.session('s1', 'Alice:#f00') });
//     alice.send('hi');
//     await alice.waitFor('T Alice> hi');
//   });
//
// After the test body, every process still running gets stdin EOF, and the
// test fails if any stderr shows a sanitizer report or a process exited with
// an unexpected status (0 unless the spawn said otherwise; SIGKILLed ones are
// exempt).

const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const assert = require('node:assert/strict');
const { test } = require('node:test');

const BIN = process.env.CHAT_SERVER_BIN
  || path.resolve(__dirname, '../../build/chat_server');
const SANITIZED = process.env.CHAT_SERVER_SANITIZED === '1';
const WAIT_MS = SANITIZED ? 10000 : 5000;
const TEST_TIMEOUT_MS = SANITIZED ? 240000 : 90000;
const BAD_STDERR = ['AddressSanitizer', 'runtime error:', 'LeakSanitizer', 'ERROR:'];
// CHAT_TEST_REDIS_URL set (tests/run-with-redis.sh): every test whose
// config leaves TRANSPORT out runs with TRANSPORT=redis on that server,
// under a key prefix of its own, with the per-host archiver running.
const REDIS_URL = process.env.CHAT_TEST_REDIS_URL || '';
// Passed through like websocketd's default --passenv, plus sanitizer knobs.
const PASS_ENV = ['PATH', 'LD_LIBRARY_PATH', 'ASAN_OPTIONS', 'UBSAN_OPTIONS',
  'LSAN_OPTIONS'];

// With Redis, rooms/ and users/ are the archiver's copies (the room logs,
// the members): a test that looks at them directly sees them as of the
// stream's last line, as it would see the files transport's at once.  The
// reads that look go through the running test's harness, which waits for
// the archiver first (synchronously, as the reads are).
let running = null;
if (REDIS_URL) {
  for (const name of ['readFileSync', 'existsSync', 'readdirSync', 'statSync', 'lstatSync']) {
    const original = fs[name];
    fs[name] = function watched(p, ...rest) {
      const h = running;
      if (h && typeof p === 'string' && (p.startsWith(path.join(h.base, 'users'))
          || p.startsWith(path.join(h.base, 'rooms')))) {
        h.awaitAllArchived();
      }
      return original.call(fs, p, ...rest);
    };
  }
}

/** "[12:34:56] x" -> "T x" */
function norm(line) {
  return line.replace(/^\[\d\d:\d\d:\d\d\]/, 'T');
}

/** PHP "php" serializer text for one string key (lengths in bytes). */
function phpString(key, value) {
  return `${key}|s:${Buffer.byteLength(value)}:"${value}";`;
}

function matcher(match) {
  if (typeof match === 'string') return (l) => l === match;
  if (match instanceof RegExp) return (l) => match.test(l);
  return match;
}

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Polls fn() (it may be async) until it gives something truthy, and
 * resolves with that; throws once timeoutMs have passed, naming what it
 * waited for (what: a string, or a function that says it then).
 */
async function until(what, fn, timeoutMs = WAIT_MS, everyMs = 20) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) {
      throw new Error(`timeout (${timeoutMs} ms) waiting for ${typeof what === 'function' ? what() : what}`);
    }
    await sleep(everyMs);
  }
}

/**
 * Resolves with the first line of client (client.lines[i], i >= from, as
 * lineOf shows it) that matches; rejects on timeout, or once isOpen() is
 * false with none (`<label> <gone> before a line matching …`).  client
 * calls each of client._waiters' check() when a line comes, and
 * check(true) when it ends.  The one waiting of every kind of client here.
 */
function waitForLine(client, match, timeoutMs, from, { lineOf, isOpen, gone }) {
  const ok = matcher(match);
  return new Promise((resolve, reject) => {
    const w = {
      check: (ended = false) => {
        for (let i = from; i < client.lines.length; i++) {
          const l = lineOf(client.lines[i]);
          if (ok(l)) { done(); resolve(l); return; }
        }
        if (ended || !isOpen()) {
          done();
          reject(new Error(`${client.label} ${gone} before a line matching ` +
            `${match} arrived\n${client.describe()}`));
        }
      },
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`timeout (${timeoutMs} ms) waiting for ${match} on ` +
        `${client.label}\n${client.describe()}`));
    }, timeoutMs);
    const done = () => { clearTimeout(timer); client._waiters.delete(w); };
    client._waiters.add(w);
    w.check();
  });
}

class Client {
  constructor(label, child, { expectCode = 0 } = {}) {
    this.label = label;
    this.child = child;
    this.pid = child.pid;
    this.lines = [];        // raw stdout lines, without '\n'
    this.stderr = '';
    this.expectCode = expectCode;
    this.sigkilled = false;
    this.running = true;
    this.code = undefined;
    this.signal = undefined;
    this.name = undefined;  // from the welcome line
    this._partial = Buffer.alloc(0);
    this._raw = [];         // every stdout chunk as received (see bytes)
    this._waiters = new Set();

    child.stdin.on('error', () => {}); // EPIPE after the process is gone
    child.stdout.on('data', (d) => this._onData(d));
    child.stderr.on('data', (d) => { this.stderr += d.toString('utf8'); });
    this.exited = new Promise((resolve) => {
      child.on('error', (err) => {
        this.stderr += `\n[harness] spawn error: ${err.message}\n`;
        this._finish(null, null);
        resolve(null);
      });
      child.on('close', (code, signal) => {
        this._finish(code, signal);
        resolve(code);
      });
    });
  }

  _onData(data) {
    this._raw.push(data);
    let buf = Buffer.concat([this._partial, data]);
    let nl;
    while ((nl = buf.indexOf(10)) !== -1) {
      const line = buf.subarray(0, nl).toString('utf8');
      buf = buf.subarray(nl + 1);
      this.lines.push(line);
      for (const w of this._waiters) w.check();
    }
    this._partial = buf;
  }

  _finish(code, signal) {
    if (!this.running) return;
    this.running = false;
    this.code = code;
    this.signal = signal;
    if (this._partial.length) this.lines.push(this._partial.toString('utf8'));
    for (const w of this._waiters) w.check(true);
  }

  /** stdout lines with the time replaced by T. */
  get out() {
    return this.lines.map(norm);
  }

  /** Everything written to stdout so far, as raw bytes. */
  get bytes() {
    return Buffer.concat(this._raw);
  }

  /** Status, the last stdout lines and stderr, for failure messages. */
  describe(maxLines = 12) {
    const shown = this.lines.slice(-maxLines).map((l) => `    ${JSON.stringify(l)}`);
    const skipped = this.lines.length - shown.length;
    return `${this.label} (pid ${this.pid}, ${this.running ? 'running'
      : `exit ${this.code} signal ${this.signal}`})\n` +
      `  stdout${skipped ? ` (last ${shown.length} of ${this.lines.length} lines)` : ''}:\n` +
      `${shown.join('\n')}\n` +
      `  stderr:\n${this.stderr.slice(-4000).replace(/^/gm, '    ')}`;
  }

  /**
   * Resolves with the first normalized stdout line (index >= from) that
   * matches (a string is compared for equality); rejects on timeout or exit.
   */
  waitFor(match, timeoutMs = WAIT_MS, { from = 0 } = {}) {
    return waitForLine(this, match, timeoutMs, from,
      { lineOf: norm, isOpen: () => this.running, gone: 'exited' });
  }

  /** Resolves once stderr matches re (it comes on its own pipe, later). */
  async waitForStderr(re, timeoutMs = WAIT_MS) {
    const end = Date.now() + timeoutMs;
    while (!re.test(this.stderr)) {
      if (Date.now() > end) {
        throw new Error(`timeout waiting for ${re} on ${this.label}'s stderr\n${this.describe()}`);
      }
      await sleep(10);
    }
  }

  send(line) {
    this.child.stdin.write(`${line}\n`);
  }

  /** Writes bytes (a Buffer, any content) and a newline, as one line. */
  sendBytes(bytes) {
    this.child.stdin.write(Buffer.concat([bytes, Buffer.from('\n')]));
  }

  /** A field of /proc/PID/status as a number ("VmHWM" gives kB). */
  procStatus(field) {
    const text = fs.readFileSync(`/proc/${this.pid}/status`, 'utf8');
    const m = text.match(new RegExp(`^${field}:\\s*(\\d+)`, 'm'));
    if (!m) throw new Error(`no ${field} in /proc/${this.pid}/status`);
    return Number(m[1]);
  }

  /** How many file descriptors the process has open. */
  fdCount() {
    return fs.readdirSync(`/proc/${this.pid}/fd`).length;
  }

  /** Ends stdin and waits for the exit; returns the exit code. */
  async close(timeoutMs = 2 * WAIT_MS) {
    this.child.stdin.end();
    return this.waitExit(timeoutMs);
  }

  /** Waits for the exit; SIGKILLs and throws if it takes longer. */
  async waitExit(timeoutMs = 2 * WAIT_MS) {
    let timer;
    const slow = new Promise((resolve) => { timer = setTimeout(resolve, timeoutMs, 'slow'); });
    const r = await Promise.race([this.exited, slow]);
    clearTimeout(timer);
    if (r === 'slow' && this.running) {
      this.child.kill('SIGKILL');
      await this.exited;
      throw new Error(`${this.label} did not exit within ${timeoutMs} ms\n${this.describe()}`);
    }
    return this.code;
  }

  kill(signal = 'SIGTERM') {
    if (signal === 'SIGKILL') this.sigkilled = true;
    this.child.kill(signal);
  }
}

class Harness {
  /**
   * config: extra [global] keys; configText: the whole ini instead (use
   * {BASE} for the base dir); transport: 'files' for a test of the files
   * transport itself, ownRedis for one that starts its own Redis: neither
   * is put on the suite's Redis (CHAT_TEST_REDIS_URL).  Files: root/chat.ini, root/base (BASE_DIR,
   * empty), root/cwd (working directory of every process).
   */
  constructor(t, { config = {}, configText, transport, ownRedis } = {}) {
    this.t = t;
    this.root = fs.mkdtempSync(path.join(os.tmpdir(), 'chat-it-'));
    this.base = path.join(this.root, 'base');
    this.cwd = path.join(this.root, 'cwd');
    fs.mkdirSync(this.base);
    fs.mkdirSync(this.cwd);
    this.configPath = path.join(this.root, 'chat.ini');
    const text = configText !== undefined
      ? configText.replaceAll('{BASE}', this.base)
      : ['[global]', `BASE_DIR=${this.base}`,
        // The runtime state, where the tests can look at it (left out, it
        // would be found under /run, /dev/shm or /tmp: see rundir.h).
        ...('RUN_DIR' in config ? [] : [`RUN_DIR=${this.p('run')}`]),
        ...this.redisConfig(config, transport === 'files' || ownRedis),
        ...Object.entries(config).filter(([, v]) => v !== null)
          .map(([k, v]) => `${k}=${v}`), ''].join('\n');
    fs.writeFileSync(this.configPath, text);
    this.clients = [];
    this._deferred = [];
    this.archiver = null;
    this.startArchiver(!('RUN_DIR' in config));
  }

  /**
   * The keys that put a test on Redis (CHAT_TEST_REDIS_URL), or none: not
   * for a test that sets TRANSPORT itself, one about the files transport
   * (option transport: 'files'), or one with a Redis of its own (option
   * ownRedis).
   */
  redisConfig(config, mine) {
    this.redis = Boolean(REDIS_URL) && !mine && !('TRANSPORT' in config);
    if (!this.redis) return [];
    const prefix = `it${process.pid}.${Math.random().toString(36).slice(2, 10)}:`;
    return ['TRANSPORT=redis', `REDIS_URL=${REDIS_URL}`, `REDIS_KEY_PREFIX=${prefix}`];
  }

  /**
   * With Redis, the host's archiver (chat_server --archive) runs from the
   * test's start, as its unit would: it writes the room logs and mirrors
   * users/ that the tests read.  Waits (synchronously) until it has made
   * its directories, so that a test's listing of the tree does not see
   * them come; without the run directory in view, a moment.
   */
  startArchiver(runDirInView) {
    if (!this.redis) return;
    this.archiver = this.spawn(undefined, {
      args: ['--archive'], label: 'archiver', expectCode: 0,
    });
    // Not one of the test's clients (tests count and index those).
    this.clients.pop();
    const ready = () => fs.existsSync(this.p('run', 'archive', '.lock'));
    const pause = new Int32Array(new SharedArrayBuffer(4));
    const end = Date.now() + (runDirInView ? WAIT_MS : 300);
    while (!(runDirInView && ready()) && Date.now() < end) Atomics.wait(pause, 0, 0, 5);
  }

  /**
   * Runs fn at cleanup, after every process has exited and before the temp
   * dir is removed (last registered first): unmounting, for instance.
   */
  defer(fn) {
    this._deferred.push(fn);
  }

  /**
   * Appends keys to the [global] section of the generated config, for values
   * only known once the test runs (a port).  Not for a configText config.
   */
  addConfig(keys) {
    fs.appendFileSync(this.configPath,
      Object.entries(keys).map(([k, v]) => `${k}=${v}\n`).join(''));
  }

  /** A path under BASE_DIR. */
  p(...parts) {
    return path.join(this.base, ...parts);
  }

  /**
   * Keeps a dead member from being found by whoever looks for the dead on
   * their own (the warden with files, the archiver's reaping with Redis),
   * so that a test sees what happens while it is still listed: the next
   * listing of a member finds it instead.  With Redis the archiver is
   * stopped (SIGSTOP) until the test reads what it writes (the room logs,
   * users/) or ends: not for a test that takes longer than the host's
   * word lasts (REDIS_HOST_ALIVE_MS, 20 s).
   */
  async holdReaper() {
    if (!this.redis) return this.holdWardenLock();
    if (!this.archiver || !this.archiver.running) throw new Error('no archiver to hold');
    this.archiver.child.kill('SIGSTOP');
    this.archiverHeld = true;
  }

  /** The archiver that holdReaper stopped, running again. */
  releaseReaper() {
    if (!this.archiverHeld) return;
    this.archiverHeld = false;
    this.archiver.child.kill('SIGCONT');
  }

  /**
   * Holds room's lock from outside, as a member that never lets go would:
   * with files its lock file (flock(1), util-linux), with Redis its key.
   * Returns the function that lets it go.
   */
  async holdRoomLock(room) {
    if (this.redis) {
      const key = `${this.redisPrefix()}lock:${room}`;
      assert.equal(this.redisCli('SET', key, 'held-by-the-test', 'NX', 'PX', '600000'), 'OK');
      return async () => { this.redisCli('DEL', key); };
    }
    return this.holdFileLock(this.p('run', `${room}.lock`));
  }

  /**
   * Holds an exclusive flock(1) on file until the function returned is
   * called (any number of times; it resolves once the lock is let go).
   */
  async holdFileLock(file) {
    const holder = spawn('flock', ['-x', file, 'sh', '-c', 'echo locked; read x'],
      { stdio: ['pipe', 'pipe', 'inherit'] });
    const held = new Promise((resolve, reject) => {
      holder.on('error', reject);
      holder.stdout.once('data', resolve);
    });
    const released = new Promise((resolve) => holder.on('close', resolve));
    const release = async () => { holder.stdin.end(); await released; };
    try {
      await held;
    } catch (err) {
      await release();
      throw err;
    }
    return release;
  }

  /**
   * Keeps the warden (src/warden.h) from starting, by holding its lock
   * from outside: for tests of what happens while a dead member's files
   * are still there, which the warden would remove within milliseconds.
   */
  async holdWardenLock() {
    const run = this.p('run');
    fs.mkdirSync(run, { recursive: true, mode: 0o700 });
    const lock = path.join(run, '.warden.lock');
    const holder = spawn('flock', ['-x', lock, 'sleep', '3600'], { stdio: 'ignore' });
    const gone = new Promise((resolve) => holder.on('close', resolve));
    this.defer(async () => { holder.kill('SIGKILL'); await gone; });
    const end = Date.now() + WAIT_MS;
    while (spawnSync('flock', ['-n', lock, 'true']).status === 0) {
      if (Date.now() > end) throw new Error('could not hold the warden lock');
      await sleep(10);
    }
  }

  /** The pids of wardens started for this harness's config. */
  wardens() {
    return wardensOf(this.configPath);
  }

  /** Ends this harness's wardens (they outlive members by design). */
  async stopWardens() {
    await stopWardens(this.configPath);
  }

  /** Writes sessions/sess_<id> with the given raw content; returns the cookie. */
  writeSession(id, content) {
    fs.mkdirSync(this.p('sessions'), { recursive: true });
    fs.writeFileSync(this.p('sessions', `sess_${id}`), content);
    return `PHPSESSID=${id}`;
  }

  /** A PHP session holding username=value; returns the cookie. */
  session(id, value) {
    return this.writeSession(id, phpString('username', value));
  }

  /**
   * Starts chat_server.  pathInfo undefined leaves PATH_INFO unset.
   * opts: cookie, xff, env (extra), args, expectCode, label, spawn (extra
   * spawn options such as uid/gid), config (false: no CHAT_SERVER_CONFIG),
   * wrap (argv prefix that execs the server: see umaskWrap), bin (another
   * chat_server binary than BIN).
   */
  spawn(pathInfo, opts = {}) {
    const env = {};
    for (const k of PASS_ENV) if (process.env[k] !== undefined) env[k] = process.env[k];
    if (opts.config !== false) env.CHAT_SERVER_CONFIG = this.configPath;
    if (pathInfo !== undefined) env.PATH_INFO = pathInfo;
    if (opts.cookie !== undefined) env.HTTP_COOKIE = opts.cookie;
    if (opts.xff !== undefined) env.HTTP_X_FORWARDED_FOR = opts.xff;
    env.REMOTE_ADDR = '127.0.0.1';
    Object.assign(env, opts.env || {});
    if (!fs.existsSync(BIN)) {
      throw new Error(`chat_server binary not found at ${BIN} (set CHAT_SERVER_BIN or run make)`);
    }
    // wrap: a command that runs chat_server, e.g. ['prlimit', '--fsize=4096'];
    // it must exec BIN (its last argument) so the pid stays the server's.
    const argv = [...(opts.wrap || []), opts.bin || BIN, ...(opts.args || [])];
    const child = spawn(argv[0], argv.slice(1), {
      env, cwd: this.cwd, stdio: ['pipe', 'pipe', 'pipe'], ...(opts.spawn || {}),
    });
    const label = opts.label || `chat_server#${this.clients.length}(${JSON.stringify(pathInfo)})`;
    const c = new Client(label, child, { expectCode: opts.expectCode ?? 0 });
    this.clients.push(c);
    return c;
  }

  /** spawn('/' + room) and wait for the welcome line; client.name is set. */
  async join(room, opts = {}) {
    const c = this.spawn(`/${room}`, opts);
    const w = await c.waitFor(/^T Welcome to the chat room /, opts.timeout);
    c.name = w.split(' ').pop().replace(/!$/, '');
    return c;
  }

  /** Runs to completion (for refusals and --check); returns the client. */
  async run(pathInfo, opts = {}) {
    const c = this.spawn(pathInfo, opts);
    c.child.stdin.end();
    await c.waitExit();
    return c;
  }

  /**
   * With Redis, the room's log is the archiver's copy of the stream: waits
   * (at most WAIT_MS, synchronously, as log() is) until its record in
   * RUN_DIR/archive says it holds the stream's last line.
   */
  awaitArchived(room) {
    if (!this.redis || !this.archiver) return;
    this.releaseReaper();
    const last = this.redisCli('XREVRANGE', `${this.redisPrefix()}room:${room}`, '+', '-', 'COUNT', '1');
    const id = last.split('\n')[0];
    if (!/^\d+-\d+$/.test(id)) return; // no stream: nothing to wait for
    const record = this.p('run', 'archive', room);
    const end = Date.now() + WAIT_MS;
    const pause = new Int32Array(new SharedArrayBuffer(4));
    for (;;) {
      let have = '';
      try { have = fs.readFileSync(record, 'utf8').split(' ')[0]; } catch { /* not yet */ }
      const [a, b] = [have, id].map((x) => x.split('-').map(BigInt));
      if (have && (a[0] > b[0] || (a[0] === b[0] && a[1] >= b[1]))) return;
      if (Date.now() > end) throw new Error(`the archiver did not write ${id} of ${room} within ${WAIT_MS} ms`);
      Atomics.wait(pause, 0, 0, 5);
    }
  }

  /**
   * Puts lines (strings or Buffers, without their newlines) in room
   * before anyone joins, as an older run of the chat left them: the room
   * log with files, the room's stream with Redis (whose archiver then
   * writes them to the log as it would any line).
   */
  seedRoom(room, lines) {
    const bytes = lines.map((l) => Buffer.from(l));
    if (this.redis) {
      // The line as stdin (-x): bytes that are not UTF-8 stay as they are.
      const sock = REDIS_URL.replace(/^unix:\/\//, '');
      for (const b of bytes) {
        const r = spawnSync('redis-cli', ['-s', sock, '-x', 'XADD',
          `${this.redisPrefix()}room:${room}`, '*', 'l'], { input: b });
        if (r.status !== 0 || !/^\d+-\d+/.test(String(r.stdout))) throw new Error(`cannot seed ${room}: ${r.stderr}`);
      }
      return;
    }
    fs.mkdirSync(this.p('rooms'), { recursive: true });
    fs.writeFileSync(this.p('rooms', `${room}.log`),
      Buffer.concat(bytes.flatMap((b) => [b, Buffer.from('\n')])));
  }

  /** A redis-cli command on the suite's Redis, its --raw output. */
  redisCli(...args) {
    const sock = REDIS_URL.replace(/^unix:\/\//, '');
    const r = spawnSync('redis-cli', ['-s', sock, '--raw', ...args], { encoding: 'utf8' });
    return (r.stdout || '').trim();
  }

  /** The key prefix of the test's chat in Redis. */
  redisPrefix() {
    return /REDIS_KEY_PREFIX=(.*)/.exec(fs.readFileSync(this.configPath, 'utf8'))[1];
  }

  /**
   * Whether the address has a flood bucket: RUN_DIR/flood/<address> with
   * files, the key flood:<address> with Redis (over every host).
   */
  floodCounted(address) {
    return this.redis ? this.redisCli('EXISTS', `${this.redisPrefix()}flood:${address}`) === '1'
      : fs.existsSync(this.p('run', 'flood', address));
  }

  /**
   * The stored moderation state of room, its text ('' when none): the
   * file MODERATION_DIR/<room>.json with files, the key mod:<room> with
   * Redis (every host's).
   */
  moderationText(room) {
    if (this.redis) return this.redisCli('GET', `${this.redisPrefix()}mod:${room}`);
    const f = this.p('moderation', `${room}.json`);
    return fs.existsSync(f) ? fs.readFileSync(f, 'utf8') : '';
  }

  /** Stores text as the moderation state of room (see moderationText). */
  storeModeration(room, text) {
    if (this.redis) {
      this.redisCli('SET', `${this.redisPrefix()}mod:${room}`, text);
      return;
    }
    fs.mkdirSync(this.p('moderation'), { recursive: true });
    fs.writeFileSync(this.p('moderation', `${room}.json`), text);
  }

  /** awaitArchived for every room the test's chat has in Redis. */
  awaitAllArchived() {
    if (!this.redis || !this.archiver) return;
    const rooms = this.redisCli('SMEMBERS', `${this.redisPrefix()}rooms`);
    for (const room of rooms.split('\n').filter(Boolean)) this.awaitArchived(room);
  }

  /** The room log's lines, normalized ([] when it does not exist). */
  log(room) {
    this.awaitArchived(room);
    const f = this.p('rooms', `${room}.log`);
    if (!fs.existsSync(f)) return [];
    const text = fs.readFileSync(f, 'utf8');
    assert.ok(text === '' || text.endsWith('\n'), `${f} ends in a partial line`);
    return text.split('\n').slice(0, -1).map(norm);
  }

  /** Polls the room log until pred(lines) is true. */
  async waitForLog(room, pred, timeoutMs = WAIT_MS) {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const lines = this.log(room);
      if (pred(lines)) return lines;
      if (Date.now() > end) {
        throw new Error(`timeout waiting for the log of ${room}:\n${lines.join('\n')}`);
      }
      await sleep(25);
    }
  }

  /** Every path under root (relative), sorted: to prove nothing was created. */
  listing(dir = this.root) {
    const out = [];
    const walk = (d) => {
      for (const e of fs.readdirSync(d, { withFileTypes: true })) {
        const full = path.join(d, e.name);
        out.push(path.relative(dir, full));
        if (e.isDirectory()) walk(full);
      }
    };
    walk(dir);
    return out.sort();
  }

  /** Closes what still runs, then checks stderr and exit codes of all. */
  async finish() {
    const members = this.clients.filter((c) => c.running && c !== this.archiver);
    await Promise.all(members.map((c) => c.close()));
    if (this.archiver) {
      this.releaseReaper();
      if (this.archiver.running) this.archiver.kill('SIGTERM');
      await this.archiver.waitExit();
      this.clients.push(this.archiver); // its stderr and status checked too
    }
    // The warden (warden.h) writes its stderr there.
    const wardenLog = this.p('log', 'warden.log');
    if (fs.existsSync(wardenLog)) {
      const text = fs.readFileSync(wardenLog, 'utf8');
      for (const bad of BAD_STDERR) {
        assert.ok(!text.includes(bad), `the warden's log contains "${bad}":\n${text}`);
      }
    }
    for (const c of this.clients) {
      for (const bad of BAD_STDERR) {
        assert.ok(!c.stderr.includes(bad), `${c.label}: stderr contains "${bad}"\n${c.describe()}`);
      }
      // expectCode [0, 1]: either, as for --check, whose status also
      // depends on the machine's limits.
      const expected = [].concat(c.expectCode);
      if (!c.sigkilled && !expected.includes(c.code)) {
        assert.equal(c.code, expected[0],
          `${c.label}: exit code ${c.code} (signal ${c.signal}), expected ${c.expectCode}\n${c.describe()}`);
      }
    }
  }

  /** Kills what still runs (SIGKILL), waits for it, removes the temp dir. */
  async cleanup(failed) {
    if (failed) {
      // The first few clients, and any with something on stderr.
      this.clients.filter((c, i) => i < 4 || c.stderr).slice(0, 12)
        .forEach((c) => this.t.diagnostic(c.describe()));
    }
    const all = this.archiver && !this.clients.includes(this.archiver)
      ? [...this.clients, this.archiver] : this.clients;
    for (const c of all) {
      if (c.running) { c.sigkilled = true; c.child.kill('SIGKILL'); }
    }
    await Promise.all(all.map((c) => c.exited));
    await this.stopWardens();
    while (this._deferred.length) {
      const fn = this._deferred.pop();
      try {
        await fn();
      } catch (err) {
        this.t.diagnostic(`cleanup step failed: ${err.stack || err}`);
      }
    }
    if (process.env.CHAT_TEST_KEEP) {
      this.t.diagnostic(`kept ${this.root}`);
    } else {
      // A warden started in the last moment may still make its log file
      // while the tree goes: retried, as it then finds users/ gone and ends.
      fs.rmSync(this.root, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
      await this.stopWardens();
    }
  }
}

/** The pids of the wardens (src/warden.h) started for the config at ini. */
function wardensOf(ini) {
  let want = path.resolve(ini);
  try { want = fs.realpathSync(ini); } catch { /* removed already */ }
  const pids = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let cmd;
    try {
      cmd = fs.readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    if (cmd.includes('--warden') && cmd.includes(want)) pids.push(Number(name));
  }
  return pids;
}

/** Kills the wardens of the config at ini and waits until they are gone. */
async function stopWardens(ini) {
  const pids = wardensOf(ini);
  for (const pid of pids) {
    try { process.kill(pid, 'SIGKILL'); } catch { /* gone already */ }
  }
  // A killed warden is gone, or a zombie of whoever adopted it.
  const alive = (pid) => {
    try {
      return !/^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
    } catch {
      return false;
    }
  };
  const end = Date.now() + WAIT_MS;
  while (pids.some(alive) && Date.now() < end) await sleep(10);
}

/** utime + stime of a process, in clock ticks (/proc/PID/stat 14 and 15). */
function cpuTicks(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

/** GLIBC_TUNABLES as process pid was started with (/proc/PID/environ). */
function tunables(pid) {
  const env = fs.readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
  const t = env.find((v) => v.startsWith('GLIBC_TUNABLES='));
  return t === undefined ? undefined : t.slice('GLIBC_TUNABLES='.length);
}

/** wrap for Harness.spawn: runs chat_server under `umask mask` (a string). */
function umaskWrap(mask) {
  return ['sh', '-c', `umask ${mask} && exec "$0" "$@"`];
}

/** A node:test test with a fresh Harness and the end-of-test checks. */
function chatTest(name, opts, fn) {
  if (typeof opts === 'function') { fn = opts; opts = {}; }
  const { timeout = TEST_TIMEOUT_MS, ...hopts } = opts;
  test(name, { timeout }, async (t) => {
    const h = new Harness(t, hopts);
    running = h;
    let failed = true;
    try {
      await fn(h, t);
      await h.finish();
      failed = false;
    } finally {
      running = null;
      await h.cleanup(failed);
    }
  });
}

module.exports = {
  BIN, SANITIZED, WAIT_MS, TEST_TIMEOUT_MS, BAD_STDERR, PASS_ENV,
  Harness, Client, chatTest, norm, phpString, sleep, until, umaskWrap, cpuTicks,
  tunables, waitForLine,
  wardensOf, stopWardens,
};
