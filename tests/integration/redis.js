'use strict';
// Redis and "hosts" for the tests of TRANSPORT=redis (issue 15,
// docs/scale-out.md): one redis-server per test file (or per test that
// restarts it), and hosts that share it, each with its own BASE_DIR and
// ini, its own websocketd running chat_server, and its own
// `chat_server --archive` (once src/archive.c is in the tree).
//
//   const redis = await RedisServer.start();
//   const a = await startHost(t, redis, { name: 'A', prefix: 'it1:' });
//   const alice = await a.connect('lobby', { cookie: a.session('s1', 'Alice:#f00') });
//   alice.send('hi');
//   await alice.waitFor('T Alice> hi');
//   await redis.command('XRANGE', 'it1:room:lobby', '-', '+');
//
// Commands go to Redis in its own protocol (RESP) over node:net: no
// client library, and no redis-cli process per poll.
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const WebSocket = require('ws');
const {
  BIN, BAD_STDERR, PASS_ENV, WAIT_MS, Harness, norm, sleep, waitForLine,
} = require('./harness');
const { freePort, waitListening } = require('./wsd');

const REDIS_SERVER = 'redis-server';
const ARCHIVE_SRC = path.resolve(__dirname, '../../src/archive.c');

/** Why redis-server cannot run here, or null. */
function redisServerProblem() {
  const r = spawnSync(REDIS_SERVER, ['--version'], { stdio: 'ignore' });
  return r.error ? `${REDIS_SERVER} is not installed (.ci/install-deps test installs it)` : null;
}

/** True once the archiver (chat_server --archive) is in the tree. */
function archiverInTree() {
  return fs.existsSync(ARCHIVE_SRC);
}

// ---- RESP ----------------------------------------------------------------

class RedisError extends Error {}

/** One command as a RESP array of bulk strings. */
function encodeCommand(args) {
  const parts = [Buffer.from(`*${args.length}\r\n`)];
  for (const a of args) {
    const b = Buffer.isBuffer(a) ? a : Buffer.from(String(a));
    parts.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

/**
 * Parses one reply at buf[pos..]: { value, pos } or null when incomplete.
 * Bulk strings are UTF-8 strings (or Buffers with raw), errors RedisError
 * objects (returned, not thrown, so that one inside an array stays there).
 */
function parseReply(buf, pos, raw) {
  const eol = buf.indexOf('\r\n', pos);
  if (eol < 0) return null;
  const type = String.fromCharCode(buf[pos]);
  const head = buf.toString('utf8', pos + 1, eol);
  const next = eol + 2;
  switch (type) {
    case '+': return { value: head, pos: next };
    case '-': return { value: new RedisError(head), pos: next };
    case ':': return { value: Number(head), pos: next };
    case '$': {
      const n = Number(head);
      if (n < 0) return { value: null, pos: next };
      if (buf.length < next + n + 2) return null;
      const b = buf.subarray(next, next + n);
      return { value: raw ? Buffer.from(b) : b.toString('utf8'), pos: next + n + 2 };
    }
    case '*': {
      const n = Number(head);
      if (n < 0) return { value: null, pos: next };
      const out = [];
      let p = next;
      for (let i = 0; i < n; i++) {
        const r = parseReply(buf, p, raw);
        if (!r) return null;
        out.push(r.value);
        p = r.pos;
      }
      return { value: out, pos: p };
    }
    default:
      throw new Error(`unexpected RESP reply type ${JSON.stringify(type)}`);
  }
}

/**
 * Sends one command to address (net.connect options) on a connection of
 * its own and resolves with the reply; rejects on an error reply (unless
 * opts.errors: then it is the value), a closed connection or a timeout.
 */
function respCommand(address, args, { timeoutMs = WAIT_MS, raw = false, errors = false } = {}) {
  return new Promise((resolve, reject) => {
    const s = net.connect(address);
    let buf = Buffer.alloc(0);
    let done = false;
    const finish = (err, value) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      s.destroy();
      if (err) reject(err); else resolve(value);
    };
    const timer = setTimeout(() => finish(new Error(
      `redis did not answer ${args[0]} within ${timeoutMs} ms`)), timeoutMs);
    s.on('connect', () => s.write(encodeCommand(args)));
    s.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      let r;
      try {
        r = parseReply(buf, 0, raw);
      } catch (err) {
        finish(err);
        return;
      }
      if (!r) return;
      if (r.value instanceof RedisError && !errors) {
        finish(new RedisError(`${args.join(' ').slice(0, 200)}: ${r.value.message}`));
      } else {
        finish(null, r.value);
      }
    });
    s.on('error', (err) => finish(err));
    s.on('close', () => finish(new Error(`redis closed the connection during ${args[0]}`)));
  });
}

// ---- redis-server ----------------------------------------------------------

/**
 * A redis-server of our own: a free port of 127.0.0.1 and a Unix socket in
 * a temporary directory that is also its --dir, with the append-only file
 * on and fsynced at every write, no RDB snapshots.  restart() starts it
 * again on the same port, socket and directory, so it reloads the AOF.
 */
class RedisServer {
  constructor(dir, port, ownsDir) {
    this.dir = dir;
    this.port = port;
    this.socket = path.join(dir, 'redis.sock');
    this.ownsDir = ownsDir;
    this.proc = null;
    this.text = '';   // everything every run printed
    this.exited = Promise.resolve();
  }

  /**
   * Starts a server and waits until it answers on both addresses.  dir: a
   * directory to make its own directory in (default: the system's temp).
   */
  static async start({ dir } = {}) {
    const r = spawnSync(REDIS_SERVER, ['--version'], { encoding: 'utf8' });
    if (r.error) {
      throw new Error(`${REDIS_SERVER} is not installed (.ci/install-deps test installs ` +
        `redis-server); the TRANSPORT=redis tests need it: ${r.error.message}`);
    }
    const own = fs.mkdtempSync(path.join(dir || os.tmpdir(), 'chat-redis-'));
    const server = new RedisServer(own, await freePort(), !dir);
    try {
      await server._run();
    } catch (err) {
      await server.cleanup();
      throw err;
    }
    return server;
  }

  get args() {
    return ['--port', String(this.port), '--bind', '127.0.0.1',
      '--unixsocket', this.socket, '--unixsocketperm', '700',
      '--dir', this.dir, '--appendonly', 'yes', '--appendfsync', 'always', '--save', ''];
  }

  /** redis://127.0.0.1:PORT/DB */
  url(db = 0) {
    return `redis://127.0.0.1:${this.port}/${db}`;
  }

  /** unix://SOCKET?db=DB */
  unixUrl(db = 0) {
    return `unix://${this.socket}?db=${db}`;
  }

  get running() {
    return this.proc !== null && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  log() {
    return this.text;
  }

  async _run() {
    if (this.running) throw new Error('redis-server is running already');
    const proc = spawn(REDIS_SERVER, this.args, { cwd: this.dir, stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = proc;
    this.text += `\n[test] redis-server ${this.args.join(' ')}\n`;
    proc.stdout.on('data', (d) => { this.text += d; });
    proc.stderr.on('data', (d) => { this.text += d; });
    this.exited = new Promise((resolve) => {
      proc.on('error', (err) => { this.text += `\n[test] ${err.message}\n`; resolve(); });
      proc.on('close', resolve);
    });
    const end = Date.now() + 4 * WAIT_MS;
    for (;;) {
      if (!this.running) {
        throw new Error(`redis-server exited (${proc.exitCode ?? proc.signalCode}):\n${this.text.slice(-3000)}`);
      }
      if (await this._answers({ port: this.port, host: '127.0.0.1' })
        && await this._answers({ path: this.socket })) return;
      if (Date.now() > end) {
        throw new Error(`redis-server does not answer on ${this.port} and ${this.socket}:\n` +
          `${this.text.slice(-3000)}`);
      }
      await sleep(25);
    }
  }

  /** True when PING gets PONG there (not while it loads its AOF). */
  async _answers(address) {
    try {
      return await respCommand(address, ['PING'], { timeoutMs: 1000 }) === 'PONG';
    } catch {
      return false;
    }
  }

  async _signal(sig, timeoutMs) {
    if (!this.running) { await this.exited; return; }
    this.proc.kill(sig);
    let timer;
    const slow = new Promise((resolve) => { timer = setTimeout(resolve, timeoutMs, 'slow'); });
    const r = await Promise.race([this.exited, slow]);
    clearTimeout(timer);
    if (r === 'slow') {
      this.proc.kill('SIGKILL');
      await this.exited;
      throw new Error(`redis-server did not exit on ${sig} within ${timeoutMs} ms`);
    }
  }

  /** SIGTERM, and waits for the exit (it syncs its AOF first). */
  stop() {
    return this._signal('SIGTERM', 6 * WAIT_MS);
  }

  /** SIGKILL, and waits for the exit. */
  kill() {
    return this._signal('SIGKILL', 2 * WAIT_MS);
  }

  /** Starts it again, same port, socket and directory (AOF kept). */
  async restart() {
    await this.stop();
    await this._run();
  }

  /** Starts it again after stop() or kill(). */
  start() {
    return this._run();
  }

  /** Runs one command over TCP; see respCommand for opts. */
  command(...args) {
    return this.commandOpts({}, ...args);
  }

  commandOpts(opts, ...args) {
    return respCommand({ port: this.port, host: '127.0.0.1' }, args, opts);
  }

  /** Its uptime_in_seconds (INFO server). */
  async uptime() {
    const info = await this.command('INFO', 'server');
    const m = /uptime_in_seconds:(\d+)/.exec(info);
    if (!m) throw new Error(`no uptime in INFO:\n${info}`);
    return Number(m[1]);
  }

  /**
   * Waits until the server has been up s seconds: the members' alive
   * scores are not trusted for REDIS_REAP_GRACE_S after a start
   * (redis_room.h), so bounds on noticing the dead hold from then on.
   */
  async waitUptime(s) {
    const end = Date.now() + (s + 10) * 1000;
    for (;;) {
      const up = await this.uptime();
      if (up >= s) return up;
      if (Date.now() > end) throw new Error(`redis-server stays at ${up} s of uptime`);
      await sleep(Math.min(1000, (s - up) * 1000));
    }
  }

  /** A stream's entries as [{ id, fields: { l: ... } }] (XRANGE - +). */
  async xrange(key) {
    const entries = await this.command('XRANGE', key, '-', '+');
    return entries.map(([id, kv]) => {
      const fields = {};
      for (let i = 0; i + 1 < kv.length; i += 2) fields[kv[i]] = kv[i + 1];
      return { id, fields };
    });
  }

  /** The "l" fields of a stream, in stream order. */
  async streamLines(key) {
    return (await this.xrange(key)).map((e) => e.fields.l);
  }

  /** Kills it if running and removes its directory (when it made it). */
  async cleanup() {
    if (this.running) this.proc.kill('SIGKILL');
    await this.exited;
    if (this.ownsDir && !process.env.CHAT_TEST_KEEP) {
      fs.rmSync(this.dir, { recursive: true, force: true });
    }
  }
}

// ---- WebSocket clients ---------------------------------------------------------

/**
 * A browser's end of one connection: every message as a line (lines, raw;
 * out, with the clock as T), for a JSON connection parsed too (events).
 */
class WsClient {
  constructor(label, ws, { json = false } = {}) {
    this.label = label;
    this.ws = ws;
    this.json = json;
    this.lines = [];
    this.name = undefined;
    this.pid = undefined;     // its chat_server process, when found
    this.open = true;
    this._waiters = new Set();
    ws.on('message', (m) => {
      this.lines.push(String(m));
      for (const w of this._waiters) w.check();
    });
    this.closed = new Promise((resolve) => {
      ws.on('close', () => {
        this.open = false;
        for (const w of this._waiters) w.check(true);
        resolve();
      });
    });
    this.errors = [];
    ws.on('error', (err) => { this.errors.push(err.message); });
  }

  get out() {
    return this.lines.map(norm);
  }

  /** The lines of a JSON connection as objects (undefined for non-JSON). */
  events(from = 0) {
    return this.lines.slice(from).map((l) => {
      try { return JSON.parse(l); } catch { return undefined; }
    });
  }

  describe(maxLines = 12) {
    const shown = this.lines.slice(-maxLines).map((l) => `    ${JSON.stringify(l.slice(0, 400))}`);
    const skipped = this.lines.length - shown.length;
    return `${this.label} (${this.name || '?'}, pid ${this.pid}, ${this.open ? 'open' : 'closed'}` +
      `${this.errors.length ? `, errors: ${this.errors.join('; ')}` : ''})\n` +
      `  received${skipped ? ` (last ${shown.length} of ${this.lines.length})` : ''}:\n${shown.join('\n')}`;
  }

  /**
   * Resolves with the first line (index >= from; normalized for a legacy
   * connection, raw for JSON) that matches; rejects on timeout or close.
   */
  waitFor(match, timeoutMs = WAIT_MS, { from = 0 } = {}) {
    return waitForLine(this, match, timeoutMs, from, {
      lineOf: (l) => (this.json ? l : norm(l)), isOpen: () => this.open, gone: 'was closed',
    });
  }

  /** Resolves with the first event (index >= from) for which pred is true. */
  async waitEvent(pred, timeoutMs = WAIT_MS, { from = 0 } = {}) {
    const m = (l) => {
      let ev;
      try { ev = JSON.parse(l); } catch { return false; }
      return ev !== null && typeof ev === 'object' && pred(ev);
    };
    m.toString = () => pred.toString();
    return JSON.parse(await this.waitFor(m, timeoutMs, { from }));
  }

  /** Sends a line (a legacy line, or an object for JSON). */
  send(line) {
    this.ws.send(typeof line === 'string' ? line : JSON.stringify(line));
  }

  /** Closes the WebSocket and waits for it to be closed. */
  async close(timeoutMs = 2 * WAIT_MS) {
    if (this.open) this.ws.close();
    let timer;
    const slow = new Promise((resolve) => { timer = setTimeout(resolve, timeoutMs, 'slow'); });
    const r = await Promise.race([this.closed, slow]);
    clearTimeout(timer);
    if (r === 'slow') {
      this.ws.terminate();
      await this.closed;
    }
  }

  terminate() {
    if (this.open) this.ws.terminate();
  }
}

// ---- processes -------------------------------------------------------------------

/** The pids whose parent is ppid (from /proc/PID/stat). */
function childrenOf(ppid) {
  const out = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat;
    try { stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8'); } catch { continue; }
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(f[1]) === ppid && f[0] !== 'Z') out.push(Number(name));
  }
  return out;
}

/** One variable of /proc/PID/environ, or undefined. */
function environOf(pid, key) {
  let text;
  try { text = fs.readFileSync(`/proc/${pid}/environ`, 'utf8'); } catch { return undefined; }
  const kv = text.split('\0').find((e) => e.startsWith(`${key}=`));
  return kv === undefined ? undefined : kv.slice(key.length + 1);
}

/** True while pid runs (a zombie does not). */
function alive(pid) {
  try {
    return !/^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

// ---- hosts -------------------------------------------------------------------------

/**
 * One host: a Harness (its own temp root, BASE_DIR, RUN_DIR and ini with
 * TRANSPORT=redis), a websocketd on a free port running chat_server, and,
 * when the archiver is in the tree, `chat_server --archive`.
 */
class Host {
  constructor(t, redis, { name = 'A', prefix, config = {}, unix = false } = {}) {
    if (!prefix) throw new Error('a host needs a REDIS_KEY_PREFIX of its test');
    this.t = t;
    this.redis = redis;
    this.name = name;
    this.prefix = prefix;
    this.h = new Harness(t, {
      config: {
        TRANSPORT: 'redis',
        REDIS_URL: `"${unix ? redis.unixUrl(0) : redis.url(0)}"`,
        REDIS_KEY_PREFIX: prefix,
        ...config,
      },
    });
    this.wsd = null;
    this.wsdText = '';
    this.archive = null;
    this.archiveText = '';
    this.archives = 0; // archivers started
    this.clients = [];
    this.killed = false;
  }

  get configPath() {
    return this.h.configPath;
  }

  /** A path under BASE_DIR. */
  p(...parts) {
    return this.h.p(...parts);
  }

  /** A PHP session of this host holding username=value: the cookie. */
  session(id, value) {
    return this.h.session(id, value);
  }

  log(room) {
    return this.h.log(room);
  }

  /** The room log's bytes ('' when there is none). */
  logText(room) {
    const f = this.p('rooms', `${room}.log`);
    return fs.existsSync(f) ? fs.readFileSync(f, 'utf8') : '';
  }

  async start({ archive = archiverInTree() } = {}) {
    await this.startWebsocketd();
    if (archive) await this.startArchive();
    return this;
  }

  /** websocketd in a process group of its own, so that kill() hits all at once. */
  async startWebsocketd() {
    const port = await freePort();
    const passenv = [...PASS_ENV, 'CHAT_SERVER_CONFIG'].join(',');
    const proc = spawn('websocketd', ['--address=127.0.0.1', `--port=${port}`,
      `--passenv=${passenv}`, BIN], {
      env: { ...process.env, CHAT_SERVER_CONFIG: this.configPath },
      cwd: this.h.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    proc.stdout.on('data', (d) => { this.wsdText += d; });
    proc.stderr.on('data', (d) => { this.wsdText += d; });
    const exited = new Promise((resolve) => {
      proc.on('error', (err) => { this.wsdText += `\n[test] ${err.message}\n`; resolve(); });
      proc.on('close', resolve);
    });
    this.wsd = { port, proc, exited };
    try {
      await waitListening(port, proc, 4 * WAIT_MS);
    } catch (err) {
      await this.stopWebsocketd();
      throw new Error(`host ${this.name}: ${err.message}\n${this.wsdText}`);
    }
    return this.wsd;
  }

  /** The chat_server processes websocketd runs now. */
  connectionPids() {
    return this.wsd ? childrenOf(this.wsd.proc.pid) : [];
  }

  /** Ends websocketd (SIGTERM), which ends its connections; waits. */
  async stopWebsocketd() {
    if (!this.wsd) return;
    const { proc, exited } = this.wsd;
    const children = childrenOf(proc.pid);
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
    await exited;
    await this._reap(children);
  }

  /** Waits until pids are gone; SIGKILLs those still there after a while. */
  async _reap(pids, timeoutMs = 2 * WAIT_MS) {
    const end = Date.now() + timeoutMs;
    while (pids.some(alive) && Date.now() < end) await sleep(20);
    for (const pid of pids.filter(alive)) {
      try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    }
    const end2 = Date.now() + timeoutMs;
    while (pids.some(alive) && Date.now() < end2) await sleep(20);
  }

  /** Starts `chat_server --archive --config <ini>`. */
  async startArchive() {
    if (this.archive && this.archive.running()) throw new Error('the archiver runs already');
    const env = {};
    for (const k of PASS_ENV) if (process.env[k] !== undefined) env[k] = process.env[k];
    const proc = spawn(BIN, ['--archive', '--config', this.configPath], {
      env, cwd: this.h.cwd, stdio: ['ignore', 'pipe', 'pipe'],
    });
    const n = ++this.archives;
    this.archiveText += `\n[test] archiver #${n}, pid ${proc.pid}\n`;
    proc.stdout.on('data', (d) => { this.archiveText += d; });
    proc.stderr.on('data', (d) => { this.archiveText += d; });
    const exited = new Promise((resolve) => {
      proc.on('error', (err) => { this.archiveText += `\n[test] ${err.message}\n`; resolve(); });
      proc.on('close', (code, sig) => {
        this.archiveText += `\n[test] archiver #${n} exited: ${code ?? sig}\n`;
        resolve();
      });
    });
    this.archive = {
      proc, exited, running: () => proc.exitCode === null && proc.signalCode === null,
    };
    // It must not die on its own right away (a config it refuses, say).
    await sleep(100);
    if (!this.archive.running()) {
      await exited;
      throw new Error(`host ${this.name}: chat_server --archive exited at once:\n${this.archiveText}`);
    }
    return this.archive;
  }

  /** Ends the archiver with sig (SIGTERM: as systemd stops it) and waits. */
  async stopArchive(sig = 'SIGTERM') {
    if (!this.archive) return;
    if (this.archive.running()) this.archive.proc.kill(sig);
    let timer;
    const slow = new Promise((resolve) => { timer = setTimeout(resolve, 2 * WAIT_MS, 'slow'); });
    const r = await Promise.race([this.archive.exited, slow]);
    clearTimeout(timer);
    if (r === 'slow') {
      this.archive.proc.kill('SIGKILL');
      await this.archive.exited;
      throw new Error(`host ${this.name}: the archiver did not exit on ${sig}\n${this.archiveText}`);
    }
  }

  killArchive() {
    return this.stopArchive('SIGKILL');
  }

  /**
   * Opens a WebSocket to room and waits for the welcome.  opts: cookie,
   * json (?proto=json), headers, label.  client.name is the final name;
   * client.pid the chat_server process serving it.
   */
  async connect(room, opts = {}) {
    if (!this.wsd) throw new Error(`host ${this.name} has no websocketd`);
    const headers = { ...(opts.headers || {}) };
    if (opts.cookie) headers.Cookie = opts.cookie;
    const url = `ws://127.0.0.1:${this.wsd.port}/${encodeURIComponent(room)}${opts.json ? '?proto=json' : ''}`;
    const ws = new WebSocket(url, { headers });
    const label = opts.label || `${this.name}#${this.clients.length}`;
    const c = new WsClient(`${label}@${this.name}`, ws, { json: !!opts.json });
    c.host = this;
    this.clients.push(c);
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
      ws.once('close', () => reject(new Error(`${c.label}: closed before it opened`)));
    });
    const localPort = ws._socket && ws._socket.localPort;
    const timeout = opts.timeout || 4 * WAIT_MS;
    if (c.json) {
      const w = await c.waitEvent((ev) => ev.type === 'welcome' || ev.type === 'error', timeout);
      if (w.type !== 'welcome') throw new Error(`${c.label}: refused: ${JSON.stringify(w)}\n${this.tail()}`);
      c.name = w.name;
    } else {
      const w = await c.waitFor((l) => l.startsWith('T Welcome to the chat room ') || l.startsWith('T Error: '), timeout);
      if (!w.startsWith('T Welcome')) throw new Error(`${c.label}: refused: ${w}\n${this.tail()}`);
      c.name = w.split(' ').pop().replace(/!$/, '');
    }
    // websocketd gives the process the browser's port as REMOTE_PORT.
    c.pid = this.connectionPids().find((pid) => environOf(pid, 'REMOTE_PORT') === String(localPort));
    return c;
  }

  /**
   * The whole host dies at once: SIGKILL to websocketd's process group
   * (websocketd and every chat_server it runs), to each of its children by
   * pid (one that left the group), and to the archiver.
   */
  async kill() {
    this.killed = true;
    const pids = this.connectionPids();
    if (this.wsd) {
      try { process.kill(-this.wsd.proc.pid, 'SIGKILL'); } catch { /* gone */ }
    }
    for (const pid of pids) {
      try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    }
    if (this.archive && this.archive.running()) this.archive.proc.kill('SIGKILL');
    if (this.wsd) await this.wsd.exited;
    if (this.archive) await this.archive.exited;
    await this._reap(pids);
    for (const c of this.clients) c.terminate();
  }

  /** The last of websocketd's and the archiver's output, for failures. */
  tail(n = 3000) {
    return `--- host ${this.name} websocketd:\n${this.wsdText.slice(-n)}\n` +
      `--- host ${this.name} archiver:\n${this.archiveText.slice(-n)}`;
  }

  /**
   * After a passed test: closes the connections, stops the archiver and
   * websocketd, and fails when chat_server or the archiver wrote a
   * sanitizer report or an error of that kind.
   */
  async finish() {
    await Promise.all(this.clients.map((c) => c.close()));
    await this.stopArchive();
    await this.stopWebsocketd();
    // Stopped as its unit stops it (SIGTERM), the archiver exits with 0.
    if (this.archive && this.archive.proc.exitCode !== 0) {
      throw new Error(`host ${this.name}: the archiver ended with ${this.archive.proc.exitCode ?? this.archive.proc.signalCode} ` +
        `on SIGTERM\n${this.archiveText.slice(-3000)}`);
    }
    const ours = this.wsdText.split('\n').filter((l) => l.includes('| stderr ')).join('\n');
    for (const bad of BAD_STDERR) {
      if (ours.includes(bad)) throw new Error(`host ${this.name}: chat_server stderr contains "${bad}":\n${ours.slice(-4000)}`);
      if (this.archiveText.includes(bad)) {
        throw new Error(`host ${this.name}: the archiver's stderr contains "${bad}":\n${this.archiveText.slice(-4000)}`);
      }
    }
  }

  /** Whatever happened: everything ends, the temp dir goes. */
  async cleanup(failed) {
    if (failed) {
      this.t.diagnostic(this.tail());
      for (const c of this.clients.slice(0, 8)) this.t.diagnostic(c.describe(25));
    }
    for (const c of this.clients) c.terminate();
    const pids = this.connectionPids();
    if (this.archive && this.archive.running()) this.archive.proc.kill('SIGKILL');
    if (this.wsd && this.wsd.proc.exitCode === null && this.wsd.proc.signalCode === null) {
      try { process.kill(-this.wsd.proc.pid, 'SIGKILL'); } catch { /* gone */ }
      this.wsd.proc.kill('SIGKILL');
    }
    for (const pid of pids) {
      try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    }
    if (this.wsd) await this.wsd.exited;
    if (this.archive) await this.archive.exited;
    await this._reap(pids);
    await this.h.cleanup(failed);
  }
}

/** Makes a host (see Host) and starts it. */
async function startHost(t, redis, opts = {}) {
  const host = new Host(t, redis, opts);
  try {
    await host.start(opts);
  } catch (err) {
    await host.cleanup(true);
    throw err;
  }
  return host;
}

module.exports = {
  RedisServer, RedisError, Host, WsClient, startHost, archiverInTree, respCommand, redisServerProblem,
  encodeCommand, parseReply, childrenOf, environOf, alive, ARCHIVE_SRC,
};
