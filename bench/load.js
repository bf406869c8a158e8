#!/usr/bin/env node
'use strict';
// bench/load.js: the benchmark's load client (issue 6).  One scenario per
// run, against one websocketd (or the broadcast server) on 127.0.0.1,
// measured from the outside: times on this client's clock, CPU and memory
// of the measured processes from /proc.  Prints one JSON object on stdout;
// progress goes to stderr.
//
//   node bench/load.js SCENARIO --port=P --variant=V --wsd=PID [options]
//   node bench/load.js SCENARIO --port=P --variant=broadcast --server=PID [options]
//   node bench/load.js fanout|memory --port=P1,P2 --variant=chat_server_redis2
//        --wsd=PID1,PID2 --extra=redis:PID,archive:PID,archive:PID
//        --redis-socket=PATH [options]
//
// SCENARIO  join | echo | fanout | burst | memory | private | callgrind |
//           scale (broadcast: echo, fanout, burst and memory; callgrind:
//           chat_server only, under bench/callgrind-member.sh; scale:
//           chat_server only; chat_server_redis and chat_server_redis2:
//           fanout and memory)
// V         chat_server | chat_server_json | chat_server_mix | floor | cat |
//           broadcast: how a connection shows it is ready (chat_server's
//           welcome line, floor's and broadcast's "Welcome <room>", the echo
//           of a probe line for cat) and how lines come back.
//           chat_server_json is chat_server with clients of the JSON
//           protocol (issue 11): they connect with "?proto=json", are ready
//           at the {"type":"welcome"} event, send {"type":"message","text":T}
//           and count a line delivered when a {"type":"message"} event with
//           the text sent, from its sender, arrives (every scenario but
//           private).  chat_server_mix (fanout only) puts both kinds of
//           client in one room, half and half, one sender of each kind
//           taking turns, and measures the CPU of each half apart: the
//           JSON / legacy cost of the same lines at the same moments.
//           chat_server_cg (callgrind only) is chat_server under
//           bench/callgrind-member.sh: one legacy and one JSON member of
//           the room run under valgrind's callgrind, which counts their
//           instructions (scenarioCallgrind).  chat_server_redis is
//           chat_server with TRANSPORT=redis (issue 15) under one
//           websocketd (one host); chat_server_redis2 the same on two hosts:
//           two websocketd (--port and --wsd list both), member i on host
//           i % 2, so the sender (member 0) is on the first and the room's
//           members are split half and half.  Their clients are legacy ones.
// --wsd     pid of websocketd: its descendants are the measured tree, and
//           its own CPU is reported apart.
// --server  pid of bench/broadcast.js, which serves every connection in one
//           process: that process alone is measured, with no websocketd
//           (websocketd_cpu_ns is null).
// --extra   processes beside websocketd that serve the connections too,
//           LABEL:PID, comma-separated (redis-server, the archivers): their
//           CPU (fanout) and memory (memory) are reported apart, by label.
// --warden-lock  the files transport's warden lock (RUN_DIR/.warden.lock):
//           the warden it names (its pid) serves the connections too, as
//           an archiver does with Redis; memory measures it as the extra
//           process "warden".
// --redis-socket  the Redis server's unix socket: fanout reports the
//           deltas of its `INFO commandstats` (calls and µs per command)
//           over the sending, read with redis-cli before and after.
// Options (defaults in DEFAULTS): --room --count --present --n --messages
// --interval-ms --senders --idle-s --deadline-s --concurrency --drain-s
// --quiet-ms --json-half (chat_server_mix: odd or even, the member numbers
// of the JSON clients; member 0 and member 1 are the senders)
// --base-messages --callgrind-dir (callgrind: the smaller of the two line
// counts, --messages the larger; the directory bench/callgrind-member.sh
// writes to) --rooms --mem-floor-mib (scale: --rooms rooms of --n members,
// --messages lines per room; joining stops when MemAvailable falls under
// --mem-floor-mib, and the run says so)
//
// Everything is bounded: at most MAX_CONNECTIONS sockets, every wait has a
// timeout, and the whole run ends at --deadline-s (JSON with completed:
// false).  Exit status 0 when the run completed, 1 when it did not, 2 on a
// usage error.

const fs = require('node:fs');
const { spawnSync } = require('node:child_process');
const { performance } = require('node:perf_hooks');
const WebSocket = require('ws');

const HOST = '127.0.0.1'; // loopback only, whatever the arguments say
// The scale scenario holds 10,000 (100 rooms of 100); the others at most
// 2000 in one room.
const MAX_CONNECTIONS = 12000;
const MAX_MESSAGES = 100000;
const MAX_DEADLINE_S = 1800;
const READY_TIMEOUT_MS = 30000;
const TOKEN = '~B';       // "~B<seq>~" marks a measured line
const DEFAULTS = {
  room: '', count: 200, present: 0, n: 10, messages: 100, 'interval-ms': 20,
  senders: 10, 'idle-s': 10, 'deadline-s': 300, concurrency: 16,
  'drain-s': 20, 'quiet-ms': 300, round: 1, wsd: 0, server: 0, 'json-half': 'odd',
  'base-messages': 0, 'callgrind-dir': '', extra: '', 'redis-socket': '', rooms: 1,
  'warden-lock': '',
  'mem-floor-mib': 768,
};
const REDIS_VARIANTS = ['chat_server_redis', 'chat_server_redis2'];

// ---------------------------------------------------------------- arguments

function usage(msg) {
  process.stderr.write(`load.js: ${msg}\nusage: node bench/load.js ` +
    'join|echo|fanout|burst|memory|private|callgrind|scale --port=P[,P2] ' +
    '--variant=chat_server|chat_server_json|chat_server_mix|chat_server_cg|' +
    'chat_server_redis|chat_server_redis2|floor|cat '
    + '--wsd=PID[,PID2] [--key=value ...]\n' +
    '       node bench/load.js echo|fanout|burst|memory ' +
    '--port=P --variant=broadcast --server=PID [--key=value ...]\n');
  process.exit(2);
}

function parseArgs(argv) {
  const o = { ...DEFAULTS };
  const pos = [];
  for (const a of argv) {
    const m = /^--([a-z-]+)=(.*)$/.exec(a);
    if (m) o[m[1]] = m[2];
    else if (a.startsWith('--')) usage(`bad option ${a}`);
    else pos.push(a);
  }
  if (pos.length !== 1) usage('one scenario expected');
  o.scenario = pos[0];
  // Two hosts (chat_server_redis2): --port=P1,P2 --wsd=PID1,PID2.
  const list = (k) => String(o[k] ?? '').split(',').filter((x) => x !== '' && x !== '0').map(Number);
  o.ports = list('port');
  o.wsds = list('wsd');
  if (o.ports.some((x) => !Number.isInteger(x) || x <= 0)
    || o.wsds.some((x) => !Number.isInteger(x) || x <= 0)) usage('--port and --wsd: numbers');
  o.port = o.ports[0] || 0;
  o.wsd = o.wsds[0] || 0;
  o.extras = [];
  for (const e of String(o.extra).split(',').filter(Boolean)) {
    const m = /^([a-z]+):(\d+)$/.exec(e);
    if (!m) usage('--extra: LABEL:PID, comma-separated');
    o.extras.push({ label: m[1], pid: Number(m[2]) });
  }
  for (const k of ['server', 'count', 'present', 'n', 'messages', 'interval-ms',
    'senders', 'idle-s', 'deadline-s', 'concurrency', 'drain-s', 'quiet-ms', 'round',
    'base-messages', 'rooms', 'mem-floor-mib']) {
    o[k] = Number(o[k]);
    if (!Number.isFinite(o[k]) || o[k] < 0) usage(`--${k} must be a number`);
  }
  if (!['join', 'echo', 'fanout', 'burst', 'memory', 'private', 'callgrind', 'scale']
    .includes(o.scenario)) {
    usage(`unknown scenario ${o.scenario}`);
  }
  if (!['chat_server', 'chat_server_json', 'chat_server_mix', 'chat_server_cg', 'floor', 'cat',
    'broadcast', ...REDIS_VARIANTS].includes(o.variant)) {
    usage('bad --variant');
  }
  if (REDIS_VARIANTS.includes(o.variant) && !['fanout', 'memory'].includes(o.scenario)) {
    usage(`${o.variant}: fanout and memory only`);
  }
  // scale: as many websocketd as the descriptor limit asks for (bench/run.sh).
  const maxHosts = o.variant === 'chat_server_redis2' ? 2 : o.scenario === 'scale' ? 16 : 1;
  if (o.wsds.length > o.ports.length || o.ports.length > maxHosts
    || (o.variant === 'chat_server_redis2' && (o.ports.length !== 2 || o.wsds.length !== 2))
    || (o.scenario === 'scale' && o.wsds.length !== o.ports.length)) {
    usage('one --port and --wsd, two of each for chat_server_redis2, as many of each for scale');
  }
  if (o.scenario === 'scale' && (o.variant !== 'chat_server' || o.rooms < 1 || o.n < 2)) {
    usage('scale: chat_server, --rooms of 1 or more, --n of 2 or more');
  }
  if (o.variant === 'chat_server_mix'
    && (o.scenario !== 'fanout' || o.n < 2 || o.n % 2 || !['odd', 'even'].includes(o['json-half']))) {
    usage('chat_server_mix: fanout only, an even --n, --json-half=odd or even');
  }
  if ((o.scenario === 'callgrind') !== (o.variant === 'chat_server_cg')) {
    usage('the callgrind scenario is chat_server_cg\'s, and chat_server_cg has no other');
  }
  if (o.scenario === 'callgrind' && (o.n < 3 || o['base-messages'] >= o.messages
    || !o['callgrind-dir'].startsWith('/'))) {
    usage('callgrind: --n of 3 or more, --base-messages below --messages, '
      + 'an absolute --callgrind-dir');
  }
  // Private routing is legacy whispers; the JSON signal has no run here.
  if (o.variant === 'chat_server_json' && o.scenario === 'private') {
    usage('chat_server_json has no private scenario');
  }
  if (o.variant === 'broadcast') {
    // join counts exited processes and private needs a process per member:
    // neither means anything for one process that serves all.
    if (!o.port || !o.server || o.wsd) usage('broadcast: --port and --server (not --wsd) are required');
    if (['join', 'private'].includes(o.scenario)) usage(`broadcast has no ${o.scenario} scenario`);
  } else if (!o.port || !o.wsd || o.server) {
    usage('--port and --wsd (not --server) are required');
  }
  o['deadline-s'] = Math.min(o['deadline-s'], MAX_DEADLINE_S);
  if (!o.room) o.room = `${o.scenario}-${process.pid}`;
  if (!/^[A-Za-z0-9-]+$/.test(o.room)) usage('bad --room');
  return o;
}

const opt = parseArgs(process.argv.slice(2));
// Member i connects to host i % hosts (two hosts: chat_server_redis2).
const urlBase = (idx) => `ws://${HOST}:${opt.ports[idx % opt.ports.length]}/`;
// The JSON protocol of chat_server (issue 11), chosen by the query string:
// every client of chat_server_json, half of those of chat_server_mix.
const CHAT = opt.variant.startsWith('chat_server');
const JSON_CLIENT = opt.variant === 'chat_server_json';
const MIX = opt.variant === 'chat_server_mix';

// ---------------------------------------------------------------- helpers

const now = () => performance.now();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (...a) => process.stderr.write(`[load ${opt.variant} ${opt.scenario}] ${a.join(' ')}\n`);

function percentiles(values) {
  const v = Float64Array.from(values).sort();
  const at = (p) => (v.length ? v[Math.min(v.length - 1, Math.ceil(p * v.length) - 1)] : null);
  const r3 = (x) => (x === null ? null : Math.round(x * 1000) / 1000);
  let sum = 0;
  for (const x of v) sum += x;
  return {
    samples: v.length,
    p50: r3(at(0.5)), p95: r3(at(0.95)), p99: r3(at(0.99)),
    max: r3(v.length ? v[v.length - 1] : null),
    mean: r3(v.length ? sum / v.length : null),
  };
}

/** The samples themselves (ms, to the µs), so that rounds of a run can be
 *  merged (bench/summary.js) into one distribution. */
function raw(values) {
  return Array.from(values, (x) => Math.round(x * 1000) / 1000);
}

/** Waits until pred() is true; false on timeout. */
async function until(pred, timeoutMs, stepMs = 5) {
  const end = now() + timeoutMs;
  while (!pred()) {
    if (now() > end) return false;
    await sleep(stepMs);
  }
  return true;
}

/** Runs fn over items, at most limit at a time. */
async function pool(items, limit, fn) {
  const out = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

// ---------------------------------------------------------------- /proc

function readStat(pid) {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    // f[0] is field 3 (state): ppid is field 4, utime 14 ... cstime 17.
    return { ppid: Number(f[1]), utime: Number(f[11]), stime: Number(f[12]),
      cutime: Number(f[13]), cstime: Number(f[14]) };
  } catch {
    return null;
  }
}

/** Every process below root (not root itself). */
function descendants(root) {
  const kids = new Map();
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    const st = readStat(e);
    if (!st) continue;
    if (!kids.has(st.ppid)) kids.set(st.ppid, []);
    kids.get(st.ppid).push(Number(e));
  }
  const out = [];
  const queue = [root];
  while (queue.length) {
    for (const k of kids.get(queue.shift()) || []) {
      out.push(k);
      queue.push(k);
    }
  }
  return out;
}

/** CPU time of all threads of pid in ns (schedstat), or null if gone. */
function cpuNs(pid) {
  try {
    let ns = 0;
    for (const t of fs.readdirSync(`/proc/${pid}/task`)) {
      ns += Number(fs.readFileSync(`/proc/${pid}/task/${t}/schedstat`, 'latin1').split(' ')[0]);
    }
    return ns;
  } catch {
    return null;
  }
}

function cpuSnapshot(pids) {
  const m = new Map();
  for (const p of pids) m.set(p, cpuNs(p));
  return m;
}

/** CPU ns spent between two snapshots by the pids of the first, split by
 *  a predicate; processes that vanished are counted as lost. */
function cpuDelta(a, b, filter = () => true) {
  let ns = 0;
  let lost = 0;
  for (const [p, v0] of a) {
    if (!filter(p)) continue;
    const v1 = b.get(p);
    if (v0 === null || v1 === null || v1 === undefined) lost++;
    else ns += v1 - v0;
  }
  return { ns, lost };
}

const SMAPS_KEYS = ['Rss', 'Pss', 'Pss_Anon', 'Pss_File', 'Pss_Shmem'];

function rollup(pid) {
  try {
    const text = fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'latin1');
    const r = {};
    for (const k of SMAPS_KEYS) {
      const m = new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(text);
      r[k] = m ? Number(m[1]) : 0;
    }
    return r;
  } catch {
    return null;
  }
}

function childTicks(pid) {
  const st = readStat(pid);
  return st ? st.cutime + st.cstime : null;
}

const TICK_S = 0.01; // USER_HZ is 100 on Linux

/** The measured processes: websocketd's descendants (a process per
 *  connection), or the broadcast server alone. */
function tree() {
  return opt.server ? [opt.server] : opt.wsds.flatMap((w) => descendants(w));
}

/** websocketd's own CPU ns, or null when there is no websocketd. */
function wsdCpuNs() {
  return opt.wsd ? opt.wsds.reduce((a, w) => a + (cpuNs(w) || 0), 0) : null;
}

/** An --extra process and the processes it runs (an archiver runs its
 *  relay, src/archive_relay.c): all of them serve the connections. */
function extraPids(e) {
  return [e.pid, ...descendants(e.pid)];
}

/** CPU ns of the --extra processes (redis-server, archivers), by label. */
function extraCpu() {
  const out = {};
  for (const e of opt.extras) {
    for (const p of extraPids(e)) out[e.label] = (out[e.label] || 0) + (cpuNs(p) || 0);
  }
  return out;
}

function extraDelta(a, b) {
  const out = {};
  for (const k of Object.keys(a)) out[k] = b[k] - a[k];
  return out;
}

/** `INFO commandstats` of the Redis server at --redis-socket: calls and µs
 *  by command, or null without one (or when redis-cli fails). */
function commandStats() {
  if (!opt['redis-socket']) return null;
  const r = spawnSync('redis-cli', ['-s', opt['redis-socket'], 'INFO', 'commandstats'],
    { encoding: 'utf8', timeout: 10000 });
  if (r.error || r.status !== 0) return null;
  const out = {};
  for (const m of r.stdout.matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)) {
    out[m[1]] = { calls: Number(m[2]), usec: Number(m[3]) };
  }
  return out;
}

/** The commands run between two commandStats(), the second INFO left out. */
function commandDelta(a, b) {
  if (!a || !b) return null;
  const out = {};
  for (const [k, v] of Object.entries(b)) {
    const calls = v.calls - (a[k]?.calls || 0) - (k === 'info' ? 1 : 0);
    const usec = v.usec - (a[k]?.usec || 0);
    if (calls > 0) out[k] = { calls, usec };
  }
  return out;
}

/** An idle member of TRANSPORT=redis still wakes up for its heartbeat
 *  (every few seconds, a command or two): waitIdle allows it this much CPU
 *  per member in its quiet window. */
const IDLE_NS_PER_MEMBER = REDIS_VARIANTS.includes(opt.variant) ? 60e3 : 0;

const TCP_HELD = new Set(['01', '03', '08']); // ESTABLISHED, SYN_RECV, CLOSE_WAIT

/** What the server still holds for connections: under websocketd, its
 *  processes; for the broadcast server, which has no process per
 *  connection, its TCP sockets on the port that it has not closed yet
 *  (/proc/net/tcp: it listens on 127.0.0.1 only). */
function held() {
  if (!opt.server) return tree().length;
  const local = `:${opt.port.toString(16).toUpperCase().padStart(4, '0')}`;
  let n = 0;
  for (const line of fs.readFileSync('/proc/net/tcp', 'latin1').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length > 3 && f[1].endsWith(local) && TCP_HELD.has(f[3])) n++;
  }
  return n;
}

// ---------------------------------------------------------------- members

let lastMessageAt = now();
let openSockets = 0;
let totalConnections = 0;
const members = [];
let onLine = null; // scenario handler (member, Buffer)
let stopping = false; // the run is over (deadline or failure): no new sockets
let phase = 'starting'; // what a run that ran out of time was doing

class Member {
  constructor(room, idx, json = JSON_CLIENT) {
    this.idx = idx;
    this.room = room;
    this.json = json; // a client of the JSON protocol
    this.name = null;
    this.pid = null;
    this.ready = false;
    this.lines = 0;
    this.closed = false;
    this.tag = null; // callgrind: bench/callgrind-member.sh counts this one
  }

  /** Opens the socket; resolves with the ms from open call to ready. */
  connect() {
    if (stopping) return Promise.reject(new Error('the run is over'));
    if (totalConnections >= MAX_CONNECTIONS) {
      return Promise.reject(new Error(`more than ${MAX_CONNECTIONS} connections`));
    }
    totalConnections++;
    openSockets++;
    if (!this.listed) { members.push(this); this.listed = true; }
    const t0 = now();
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(urlBase(this.idx) + this.room + (this.json ? '?proto=json' : ''), {
        perMessageDeflate: false,
        headers: { 'X-Forwarded-For': addressOf(this.idx),
          ...(this.tag ? { 'X-Bench-Callgrind': this.tag } : {}) },
      });
      this.ws = ws;
      const timer = setTimeout(() => fail(new Error('not ready in time')), READY_TIMEOUT_MS);
      const fail = (err) => {
        clearTimeout(timer);
        if (!this.ready) reject(new Error(`member ${this.idx}: ${err.message}`));
      };
      ws.on('open', () => {
        if (opt.variant === 'cat') ws.send('ready-probe');
      });
      ws.on('message', (data) => {
        lastMessageAt = now();
        this.lines++;
        if (this.ready) {
          if (onLine) onLine(this, data);
          return;
        }
        const text = data.toString();
        this.firstLine = text.slice(0, 300);
        let m;
        if (CHAT && !this.json
          && (m = /^\[\d\d:\d\d:\d\d\] Welcome to the chat room \S+ (\S+)!$/.exec(text))) {
          this.name = m[1];
        } else if (this.json && (m = welcomeName(text))) {
          this.name = m;
        } else if ((opt.variant === 'floor' || opt.variant === 'broadcast')
          && text.startsWith('Welcome ')) {
          this.name = `m${this.idx}`;
        } else if (opt.variant === 'cat' && text === 'ready-probe') {
          this.name = `m${this.idx}`;
        } else {
          fail(new Error(`unexpected first line ${JSON.stringify(text.slice(0, 200))}`));
          return;
        }
        this.ready = true;
        clearTimeout(timer);
        resolve(now() - t0);
      });
      ws.on('error', (err) => fail(err));
      ws.on('close', (code, reason) => {
        if (!this.closed) { this.closed = true; openSockets--; }
        fail(new Error(`closed before ready (code ${code}${reason.length ? ` ${reason}` : ''}${
          this.firstLine ? `, after ${JSON.stringify(this.firstLine)}` : ''})`));
      });
    });
  }

  close() {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => { this.ws.terminate(); resolve(); }, 5000);
      this.ws.once('close', () => { clearTimeout(timer); resolve(); });
      this.ws.close();
    });
  }
}

/** As behind the proxy: every member has an address of its own
 *  (198.18.0.0/15 is set aside for benchmarks), which chat_server takes
 *  from X-Forwarded-For and charges each message to.  websocketd passes it
 *  to the member's process as HTTP_X_FORWARDED_FOR, which is how
 *  chat_server_mix tells whose process is whose. */
function addressOf(idx) {
  return `198.18.${(idx >> 8) & 255}.${idx & 255}`;
}

/** The name a JSON welcome gives the member, or null when text is not
 *  one: {"type":"welcome",...,"name":N,...}. */
function welcomeName(text) {
  let ev;
  try { ev = JSON.parse(text); } catch { return null; }
  return ev !== null && typeof ev === 'object' && ev.type === 'welcome'
    && typeof ev.name === 'string' && ev.name !== '' ? ev.name : null;
}

// TRANSPORT=redis refuses a join whose room lock it could not take within
// PRESENCE_LOCK_WAIT_MS ("the room is busy; try again in a moment", JSON
// code busy); the page (htdocs/js/connection.js) then tries again after
// about a second.  The clients of the Redis variants do the same, at most
// BUSY_RETRIES times, and every refusal is counted and reported
// (busy_refusals); those of the file transport do not retry: a refusal
// there fails the run, as it always did.
const RETRY_BUSY = REDIS_VARIANTS.includes(opt.variant);
const BUSY_RETRIES = 5;
let busyRefusals = 0;
const busyReport = () => (RETRY_BUSY ? { busy_refusals: busyRefusals } : {});

/** m.connect(), and again after a refusal as busy (RETRY_BUSY). */
async function joinOne(m) {
  for (let attempt = 0; ; attempt++) {
    try {
      return await m.connect();
    } catch (err) {
      if (!RETRY_BUSY || attempt >= BUSY_RETRIES
        || !/the room is busy|"code":"busy"/.test(err.message)) throw err;
      busyRefusals++;
      // The refused socket closes first, so that its events are over.
      if (!(await until(() => m.closed, 5000, 20))) m.ws.terminate();
      await until(() => m.closed, 1000, 20);
      await sleep(500 + Math.random() * 500);
      m.closed = false;
      m.ready = false;
      m.name = null;
    }
  }
}

/** n members join room, concurrency at a time; each gets its pid when
 *  withPids (found by diffing websocketd's children, so one at a time).
 *  json(i) tells whether the i-th is a client of the JSON protocol. */
async function joinAll(n, room = opt.room,
  { withPids = false, first = members.length, json = () => JSON_CLIENT } = {}) {
  const list = Array.from({ length: n }, (_, i) => new Member(room, first + i, json(i)));
  if (withPids) {
    for (const m of list) {
      const before = new Set(descendants(opt.wsd));
      await m.connect();
      const fresh = descendants(opt.wsd).filter((p) => !before.has(p));
      m.pid = fresh.length ? fresh[0] : null;
    }
  } else {
    await pool(list, Math.max(1, opt.concurrency), (m) => joinOne(m));
  }
  return list;
}

/** Waits until no line arrived and the tree used (almost) no CPU for
 *  quietMs.  Returns the ms waited, or null on timeout. */
async function waitIdle(quietMs = opt['quiet-ms'], maxMs = 120000) {
  const t0 = now();
  for (;;) {
    const pids = tree();
    const a = cpuSnapshot(pids);
    const linesBefore = lastMessageAt;
    await sleep(quietMs);
    const d = cpuDelta(a, cpuSnapshot(pids));
    if (linesBefore === lastMessageAt && now() - lastMessageAt >= quietMs
      && d.ns < 1e6 + IDLE_NS_PER_MEMBER * pids.length) {
      return Math.round(now() - t0);
    }
    if (now() - t0 > maxMs) return null;
  }
}

async function closeAll() {
  await Promise.all(members.map((m) => m.close()));
  // The next run starts with an empty tree (broadcast: with no connection
  // left open).  Quits of a big room take their time: each one lists the
  // room under its lock.
  const gone = await until(() => held() === 0, Math.max(30000, members.length * 100), 50);
  return gone ? 0 : held();
}

/** Parses "~B<seq>~" out of a line; -1 when absent. */
function tokenOf(data) {
  const i = data.indexOf(TOKEN);
  if (i < 0) return -1;
  let seq = 0;
  for (let j = i + 2; j < data.length; j++) {
    const c = data[j];
    if (c === 0x7e) return seq;
    if (c < 0x30 || c > 0x39) return -1;
    seq = seq * 10 + (c - 0x30);
  }
  return -1;
}

const PAD = 'hello everyone, this is a benchmark line';
const chatText = (seq) => `${PAD} ${TOKEN}${seq}~`;

/** Says measured line seq in the room, as the member's client does: the
 *  text itself, or for JSON clients {"type":"message","text":...}. */
function sendChat(member, seq) {
  const text = chatText(seq);
  member.ws.send(member.json ? JSON.stringify({ type: 'message', text }) : text);
}

let mismatched = 0; // JSON: events that carry a token but are not its message

/** The measured line a message received by member is: its sequence
 *  number, or -1.  Legacy lines (and floor's, cat's and broadcast's): the
 *  "~B<seq>~" token anywhere in the line.  JSON: a {"type":"message"}
 *  event whose text is exactly the text sent with that token and whose
 *  "from" is the name of senderOf(seq); an event that carries a token and
 *  is not that is counted in mismatched, and not as a delivery. */
function seqOf(member, data, senderOf) {
  const seq = tokenOf(data);
  if (!member.json || seq < 0) return seq;
  const sender = senderOf(seq);
  let ev = null;
  try { ev = JSON.parse(data.toString()); } catch { /* counted below */ }
  if (!sender || ev === null || typeof ev !== 'object' || ev.type !== 'message'
    || ev.text !== chatText(seq) || ev.from !== sender.name) {
    mismatched++;
    return -1;
  }
  return seq;
}

/** What seqOf found wrong, for the result of a run that sent lines. */
const mismatchReport = () => (JSON_CLIENT || MIX || opt.scenario === 'callgrind'
  ? { mismatched } : {});

/** Per (member, message) receipt times; counts duplicates and strays. */
class Receipts {
  constructor(nMembers, nMessages) {
    this.m = nMessages;
    this.at = new Float64Array(nMembers * nMessages).fill(NaN);
    this.sentAt = new Float64Array(nMessages).fill(NaN);
    this.count = 0;
    this.dups = 0;
    this.strays = 0;
    this.last = 0;
  }

  record(memberSlot, seq) {
    if (seq < 0 || seq >= this.m || memberSlot < 0) { this.strays++; return; }
    const k = memberSlot * this.m + seq;
    if (Number.isNaN(this.at[k])) {
      const t = now();
      this.at[k] = t;
      this.last = t;
      this.count++;
    } else {
      this.dups++;
    }
  }

  latencies() {
    const out = [];
    for (let k = 0; k < this.at.length; k++) {
      const s = this.sentAt[k % this.m];
      if (!Number.isNaN(this.at[k]) && !Number.isNaN(s)) out.push(this.at[k] - s);
    }
    return out;
  }
}

function cpuReport(deltaNs, { messages, delivered }) {
  return {
    cpu_ms: Math.round(deltaNs / 1e3) / 1e3,
    cpu_us_per_message: messages ? Math.round(deltaNs / messages) / 1e3 : null,
    cpu_us_per_delivered: delivered ? Math.round(deltaNs / delivered) / 1e3 : null,
  };
}

// ---------------------------------------------------------------- scenarios

/** Serial connects into a room (with `present` idle members in it). */
async function scenarioJoin() {
  const present = await joinAll(opt.present);
  if (present.length) await waitIdle();
  const pids = descendants(opt.wsd);
  const cpu0 = cpuSnapshot(pids);
  const ticks0 = childTicks(opt.wsd);
  const wsd0 = cpuNs(opt.wsd);
  const times = [];
  for (let i = 0; i < opt.count; i++) {
    const m = new Member(opt.room, members.length);
    times.push(await m.connect());
    await m.close();
  }
  // Every joined process has quit and been reaped: its CPU is in cutime.
  const reaped = await until(() => descendants(opt.wsd).length === pids.length, 30000, 20);
  if (present.length) await waitIdle();
  const live = cpuDelta(cpu0, cpuSnapshot(pids)).ns;
  const childNs = (childTicks(opt.wsd) - ticks0) * TICK_S * 1e9;
  return {
    completed: reaped && times.length === opt.count,
    joins: times.length,
    present: opt.present,
    join_ms: percentiles(times),
    join_samples: raw(times),
    cpu_ns: Math.round(childNs + live),
    websocketd_cpu_ns: cpuNs(opt.wsd) - wsd0,
    cpu_ms_per_join: Math.round((childNs + live) / times.length / 1e3) / 1e3,
    cpu_note: 'exited processes from websocketd cutime+cstime (10 ms ticks, summed)',
    websocketd_cpu_ms_per_join: Math.round((cpuNs(opt.wsd) - wsd0) / times.length / 1e3) / 1e3,
  };
}

/** One member, messages in series: send, wait for the line back. */
async function scenarioEcho() {
  const [m] = await joinAll(1);
  await waitIdle();
  const r = new Receipts(1, opt.messages);
  onLine = (mem, data) => r.record(0, seqOf(mem, data, () => m));
  const times = [];
  for (let seq = 0; seq < opt.messages; seq++) {
    const t0 = now();
    r.sentAt[seq] = t0;
    sendChat(m, seq);
    if (!(await until(() => !Number.isNaN(r.at[seq]), 10000, 0))) break;
    times.push(r.at[seq] - t0);
  }
  return {
    completed: r.count === opt.messages,
    messages: opt.messages,
    delivered: r.count,
    delivery_ratio: r.count / opt.messages,
    ...mismatchReport(),
    echo_ms: percentiles(times),
    echo_samples: raw(times),
  };
}

/** Sends msgs[i] at t0 + i * interval from the given members. */
async function steadySend(count, intervalMs, sendOne) {
  const t0 = now();
  for (let seq = 0; seq < count; seq++) {
    const due = t0 + seq * intervalMs;
    const wait = due - now();
    if (wait > 1) await sleep(wait - 1);
    while (now() < due) { /* the last millisecond, spun */ }
    sendOne(seq);
  }
}

/** n members; one sends at a steady rate; latency at every member. */
async function scenarioFanout() {
  const tJoin = now();
  phase = 'joining';
  const list = await joinAll(opt.n);
  const joinS = (now() - tJoin) / 1000;
  phase = `all joined after ${Math.round(joinS)} s, waiting for the room to go quiet`;
  const idleMs = await waitIdle(opt['quiet-ms'], opt['deadline-s'] * 500);
  phase = `quiet after ${Math.round((now() - tJoin) / 1000)} s, sending`;
  const pids = tree();
  const r = new Receipts(opt.n, opt.messages);
  const sender = list[0];
  onLine = (mem, data) => r.record(mem.idx, seqOf(mem, data, () => sender));
  const cmd0 = commandStats();
  const cpu0 = cpuSnapshot(pids);
  const wsd0 = wsdCpuNs();
  const extra0 = extraCpu();
  await steadySend(opt.messages, opt['interval-ms'], (seq) => {
    r.sentAt[seq] = now();
    sendChat(sender, seq);
  });
  const expected = opt.n * opt.messages;
  phase = `sent after ${Math.round((now() - tJoin) / 1000)} s, waiting for deliveries`;
  await until(() => r.count === expected, opt['drain-s'] * 1000, 10);
  const cpu1 = cpuSnapshot(pids);
  const extra = extraDelta(extra0, extraCpu());
  const d = cpuDelta(cpu0, cpu1);
  const wsdNs = opt.wsd ? wsdCpuNs() - wsd0 : null;
  const commands = commandDelta(cmd0, commandStats());
  // Two hosts: the latencies at the members of each, apart.
  const hosts = opt.ports.length > 1 ? opt.ports.map((_, h) => raw(latenciesOf(r,
    list.filter((m) => m.idx % opt.ports.length === h).map((m) => m.idx)))) : null;
  return {
    completed: r.count === expected,
    n: opt.n,
    messages: opt.messages,
    interval_ms: opt['interval-ms'],
    setup_s: Math.round(joinS * 10) / 10,
    settle_ms: idleMs,
    processes: pids.length,
    expected,
    delivered: r.count,
    duplicates: r.dups,
    delivery_ratio: r.count / expected,
    ...mismatchReport(),
    latency_ms: percentiles(r.latencies()),
    latency_samples: raw(r.latencies()),
    cpu_ns: d.ns,
    websocketd_cpu_ns: wsdNs,
    ...cpuReport(d.ns, { messages: opt.messages, delivered: r.count }),
    lost_processes: d.lost,
    websocketd_cpu_us_per_delivered: r.count && wsdNs !== null
      ? Math.round(wsdNs / r.count) / 1e3 : null,
    ...(opt.extras.length ? { extra_cpu_ns: extra } : {}),
    ...busyReport(),
    ...(commands ? { redis_commands: commands } : {}),
    ...(hosts ? { hosts: opt.ports.length, latency_samples_by_host: hosts,
      members_by_host: opt.ports.map((_, h) => list.filter((m) => m.idx % opt.ports.length === h).length) }
      : {}),
  };
}

/** `senders` members, each sending `messages` lines as fast as it can. */
async function scenarioBurst() {
  const n = opt.senders;
  const list = await joinAll(n);
  await waitIdle();
  const pids = tree();
  const total = n * opt.messages;
  const r = new Receipts(n, total);
  onLine = (mem, data) => r.record(mem.idx,
    seqOf(mem, data, (seq) => list[Math.floor(seq / opt.messages)]));
  const cpu0 = cpuSnapshot(pids);
  const t0 = now();
  // Round robin over the senders: all of them at once, no pause.
  for (let i = 0; i < opt.messages; i++) {
    for (let s = 0; s < n; s++) {
      const seq = s * opt.messages + i;
      r.sentAt[seq] = now();
      sendChat(list[s], seq);
    }
  }
  const expected = n * total;
  await until(() => r.count === expected, opt['drain-s'] * 1000, 5);
  const cpu1 = cpuSnapshot(pids);
  const d = cpuDelta(cpu0, cpu1);
  const secs = (r.last - t0) / 1000;
  return {
    completed: r.count === expected,
    senders: n,
    messages_per_sender: opt.messages,
    expected,
    delivered: r.count,
    duplicates: r.dups,
    delivery_ratio: r.count / expected,
    ...mismatchReport(),
    seconds: Math.round(secs * 1000) / 1000,
    delivered_per_s: secs > 0 ? Math.round(r.count / secs) : null,
    messages_per_s: secs > 0 ? Math.round(total / secs) : null,
    latency_ms: percentiles(r.latencies()),
    cpu_ns: d.ns,
    ...cpuReport(d.ns, { messages: total, delivered: r.count }),
    lost_processes: d.lost,
  };
}

/** `INFO memory`'s used_memory of the Redis server at --redis-socket (bytes),
 *  or null. */
function redisUsedMemory() {
  if (!opt['redis-socket']) return null;
  const r = spawnSync('redis-cli', ['-s', opt['redis-socket'], 'INFO', 'memory'],
    { encoding: 'utf8', timeout: 10000 });
  const m = r.error || r.status !== 0 ? null : /^used_memory:(\d+)/m.exec(r.stdout);
  return m ? Number(m[1]) : null;
}

/** Where one process's memory is: Pss and Anonymous (KiB) of /proc/PID/smaps
 *  by mapping: [heap], [stack], anonymous, and each file by its base name
 *  (a client address's file, chat_server's flood bucket, as "<address>"). */
function smapsByMapping(pid) {
  let text;
  try { text = fs.readFileSync(`/proc/${pid}/smaps`, 'latin1'); } catch { return null; }
  const out = {};
  let cur = null;
  for (const line of text.split('\n')) {
    const h = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (h) {
      let name = h[1] ? (h[1].startsWith('[') ? h[1] : h[1].split('/').pop()) : 'anonymous';
      if (/^[0-9a-f.:]+$/i.test(name) && /[.:]/.test(name)) name = '<address>';
      cur = out[name] || (out[name] = { Pss: 0, Anonymous: 0 });
      continue;
    }
    const m = /^(Pss|Anonymous):\s+(\d+) kB/.exec(line);
    if (m && cur) cur[m[1]] += Number(m[2]);
  }
  return out;
}

/** The files transport's warden, from its lock file (its pid), or 0. */
function wardenPid() {
  if (!opt['warden-lock']) return 0;
  let text = '';
  try {
    text = fs.readFileSync(opt['warden-lock'], 'utf8');
  } catch {
    return 0;
  }
  const pid = Number.parseInt(text, 10);
  return Number.isInteger(pid) && pid > 0 ? pid : 0;
}

/** The memory of the tree now: PSS and the rest per connection (KiB), the
 *  --extra processes' by label, and Redis's used_memory. */
function memoryNow(pids) {
  const sum = Object.fromEntries(SMAPS_KEYS.map((k) => [k, 0]));
  let measured = 0;
  for (const p of pids) {
    const r = rollup(p);
    if (!r) continue;
    measured++;
    for (const k of SMAPS_KEYS) sum[k] += r[k];
  }
  const per = Object.fromEntries(SMAPS_KEYS.map((k) => [k, Math.round(sum[k] / opt.n * 10) / 10]));
  // redis-server and the archivers, by label: their PSS and RSS (KiB).
  const extraMem = {};
  for (const e of opt.extras) {
    for (const p of extraPids(e)) {
      const x = rollup(p) || { Pss: null, Rss: null };
      const o = extraMem[e.label] || (extraMem[e.label] = { Pss: 0, Rss: 0, processes: 0 });
      o.Pss += x.Pss;
      o.Rss += x.Rss;
      o.processes++;
    }
  }
  const warden = wardenPid();
  const w = warden ? rollup(warden) : null;
  if (w) extraMem.warden = { Pss: w.Pss, Rss: w.Rss, processes: 1 };
  return { measured, per, extraMem, used: redisUsedMemory() };
}

/** n idle members: PSS of the tree, then its CPU over idle-s seconds, and
 *  its memory again at the end of them.  Right after a join, Redis holds
 *  each client's buffers at their peak (a 16 KiB query buffer until the
 *  client has been idle 2 s, the reply buffer until its peak is reset
 *  every 5 s); the second look is what an idle room keeps. */
async function scenarioMemory() {
  const used0 = redisUsedMemory();
  await joinAll(opt.n);
  const settle = await waitIdle(opt['quiet-ms'], opt['deadline-s'] * 500);
  const pids = tree();
  const m = memoryNow(pids);
  // One member, mapping by mapping (the members are alike): the last in
  // the process list.
  const sample = pids.length ? smapsByMapping(pids[pids.length - 1]) : null;
  const wsdMem = opt.wsd ? rollup(opt.wsd) : null;
  const cpu0 = cpuSnapshot(pids);
  const extra0 = extraCpu();
  const lines0 = members.reduce((a, x) => a + x.lines, 0);
  await sleep(opt['idle-s'] * 1000);
  const d = cpuDelta(cpu0, cpuSnapshot(pids));
  const idleExtra = extraDelta(extra0, extraCpu());
  const lines1 = members.reduce((a, x) => a + x.lines, 0);
  const late = memoryNow(pids);
  const redisUsed = (u) => (used0 !== null && u !== null ? [used0, u] : null);
  return {
    completed: settle !== null && m.measured === pids.length && late.measured === pids.length && d.lost === 0,
    n: opt.n,
    settle_ms: settle,
    processes: pids.length,
    processes_per_connection: pids.length / opt.n,
    kib_per_connection: m.per,
    websocketd_pss_kib: wsdMem ? wsdMem.Pss : null,
    ...(Object.keys(m.extraMem).length ? { extra_kib: m.extraMem } : {}),
    ...(redisUsed(m.used) ? { redis_used_memory: redisUsed(m.used) } : {}),
    idle_end: {
      kib_per_connection: late.per,
      ...(Object.keys(late.extraMem).length ? { extra_kib: late.extraMem } : {}),
      ...(redisUsed(late.used) ? { redis_used_memory: redisUsed(late.used) } : {}),
    },
    ...(sample ? { member_smaps_kib: sample } : {}),
    ...busyReport(),
    ...(opt.ports.length > 1 ? { hosts: opt.ports.length } : {}),
    idle_s: opt['idle-s'],
    idle_cpu_ms: Math.round(d.ns / 1e3) / 1e3,
    ...(opt.extras.length ? { idle_extra_cpu_ms: Object.fromEntries(Object.entries(idleExtra)
      .map(([k, v]) => [k, Math.round(v / 1e3) / 1e3])) } : {}),
    idle_lines: lines1 - lines0,
  };
}

/** Two members exchange signalling among n; CPU of the bystanders. */
async function scenarioPrivate() {
  const [a, b] = await joinAll(2, opt.room, { withPids: true });
  await joinAll(opt.n - 2);
  await waitIdle();
  const pids = descendants(opt.wsd);
  const r = new Receipts(1, opt.messages);
  let bystanderLines = 0;
  let wrongLines = 0;
  onLine = (mem, data) => {
    const seq = tokenOf(data);
    if (seq < 0) return;
    const target = seq % 2 === 0 ? b : a;
    if (mem === target) r.record(0, seq);
    else if (mem === a || mem === b) wrongLines++; // an echo to the sender
    else bystanderLines++;
  };
  const candidate = (seq) => JSON.stringify({
    candidate: 'candidate:842163049 1 udp 1677729535 192.0.2.7 46154 typ srflx '
      + 'raddr 10.0.0.7 rport 46154 generation 0',
    sdpMid: '0', sdpMLineIndex: 0, usernameFragment: `${TOKEN}${seq}~`,
  });
  const cpu0 = cpuSnapshot(pids);
  await steadySend(opt.messages, opt['interval-ms'], (seq) => {
    const [from, to] = seq % 2 === 0 ? [a, b] : [b, a];
    r.sentAt[seq] = now();
    from.ws.send(`${to.name}: ${candidate(seq)}`);
  });
  await until(() => r.count === opt.messages, opt['drain-s'] * 1000, 10);
  await sleep(200); // stragglers to bystanders, if any, are counted too
  const cpu1 = cpuSnapshot(pids);
  const pair = new Set([a.pid, b.pid]);
  const by = cpuDelta(cpu0, cpu1, (p) => !pair.has(p));
  const two = cpuDelta(cpu0, cpu1, (p) => pair.has(p));
  const bystanders = pids.length - pair.size;
  return {
    completed: r.count === opt.messages && a.pid !== null && b.pid !== null,
    n: opt.n,
    messages: opt.messages,
    delivered: r.count,
    delivery_ratio: r.count / opt.messages,
    bystander_lines: bystanderLines,
    sender_echo_lines: wrongLines,
    latency_ms: percentiles(r.latencies()),
    bystanders,
    bystander_cpu_ms: Math.round(by.ns / 1e3) / 1e3,
    bystander_cpu_us_per_message: Math.round(by.ns / opt.messages / 1e3 * 1000) / 1000,
    pair_cpu_us_per_message: Math.round(two.ns / opt.messages / 1e3 * 1000) / 1000,
    lost_processes: by.lost + two.lost,
  };
}

/** The member whose process pid is: websocketd hands each its client's
 *  X-Forwarded-For (addressOf), and /proc/PID/environ keeps it.  null when
 *  it is none of ours or cannot be read. */
function memberOfPid(pid, byAddress) {
  try {
    const env = fs.readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0');
    const v = env.find((e) => e.startsWith('HTTP_X_FORWARDED_FOR='));
    return (v && byAddress.get(v.slice('HTTP_X_FORWARDED_FOR='.length))) || null;
  } catch {
    return null;
  }
}

/** The receipts of the given member slots for seq in [from, to). */
function receiptsOf(r, slots, from, to) {
  let n = 0;
  for (const m of slots) {
    for (let seq = from; seq < to; seq++) if (!Number.isNaN(r.at[m * r.m + seq])) n++;
  }
  return n;
}

function latenciesOf(r, slots) {
  const out = [];
  for (const m of slots) {
    for (let seq = 0; seq < r.m; seq++) {
      const t = r.at[m * r.m + seq];
      if (!Number.isNaN(t) && !Number.isNaN(r.sentAt[seq])) out.push(t - r.sentAt[seq]);
    }
  }
  return out;
}

/** chat_server_mix: n members in one room, legacy and JSON clients taking
 *  turns (n / 2 each; --json-half says whether the odd or the even member
 *  numbers are JSON clients); member 0 and member 1, one of each kind,
 *  send in turn.  Each half's processes, its sender included, are
 *  measured apart: both get the same lines at the same moments, so what
 *  the machine does besides falls on both alike.  What is left differs
 *  from process to process (a process keeps its CPU, its place in the
 *  order the kernel wakes them), which is why bench/run.sh runs rounds of
 *  fresh rooms, the halves swapping numbers from round to round. */
async function scenarioFanoutMix() {
  const tJoin = now();
  phase = 'joining';
  const jsonParity = opt['json-half'] === 'odd' ? 1 : 0;
  const list = await joinAll(opt.n, opt.room, { json: (i) => i % 2 === jsonParity });
  const joinS = (now() - tJoin) / 1000;
  phase = `all joined after ${Math.round(joinS)} s, waiting for the room to go quiet`;
  const idleMs = await waitIdle(opt['quiet-ms'], opt['deadline-s'] * 500);
  phase = `quiet after ${Math.round((now() - tJoin) / 1000)} s, sending`;
  const byAddress = new Map(list.map((m) => [addressOf(m.idx), m]));
  const pids = tree();
  const owner = new Map(pids.map((p) => [p, memberOfPid(p, byAddress)]));
  const unmapped = pids.filter((p) => !owner.get(p)).length;
  const inHalf = (json) => (p) => owner.get(p) !== null && owner.get(p).json === json;
  const slots = (json) => list.filter((m) => m.json === json).map((m) => m.idx);
  const r = new Receipts(opt.n, opt.messages);
  const senderOf = (seq) => list[seq % 2];
  onLine = (mem, data) => r.record(mem.idx, seqOf(mem, data, senderOf));
  const cpu0 = cpuSnapshot(pids);
  const wsd0 = wsdCpuNs();
  await steadySend(opt.messages, opt['interval-ms'], (seq) => {
    r.sentAt[seq] = now();
    sendChat(senderOf(seq), seq);
  });
  const expected = opt.n * opt.messages;
  phase = `sent after ${Math.round((now() - tJoin) / 1000)} s, waiting for deliveries`;
  await until(() => r.count === expected, opt['drain-s'] * 1000, 10);
  const cpu1 = cpuSnapshot(pids);
  const half = (json) => {
    const d = cpuDelta(cpu0, cpu1, inHalf(json));
    const delivered = receiptsOf(r, slots(json), 0, opt.messages);
    return { d, delivered, perLine: delivered ? Math.round(d.ns / delivered) / 1e3 : null };
  };
  const legacy = half(false);
  const json = half(true);
  const lost = legacy.d.lost + json.d.lost;
  return {
    completed: r.count === expected && unmapped === 0 && lost === 0,
    ...(unmapped ? { error: `${unmapped} processes under websocketd are no member's` } : {}),
    n: opt.n,
    json_half: opt['json-half'],
    members_legacy: slots(false).length,
    members_json: slots(true).length,
    messages: opt.messages,
    interval_ms: opt['interval-ms'],
    setup_s: Math.round(joinS * 10) / 10,
    settle_ms: idleMs,
    processes: pids.length,
    expected,
    delivered: r.count,
    duplicates: r.dups,
    delivery_ratio: r.count / expected,
    ...mismatchReport(),
    latency_ms: percentiles(r.latencies()),
    latency_samples_legacy: raw(latenciesOf(r, slots(false))),
    latency_samples_json: raw(latenciesOf(r, slots(true))),
    cpu_ns_legacy: legacy.d.ns,
    cpu_ns_json: json.d.ns,
    delivered_legacy: legacy.delivered,
    delivered_json: json.delivered,
    cpu_us_per_delivered_legacy: legacy.perLine,
    cpu_us_per_delivered_json: json.perLine,
    websocketd_cpu_ns: wsdCpuNs() - wsd0,
    lost_processes: lost,
  };
}

// ---------------------------------------------------------------- callgrind

/** The state letter of a process ('Z': it has exited, not yet reaped),
 *  or null when it is gone. */
function procState(pid) {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
    return s[s.lastIndexOf(')') + 2] || null;
  } catch {
    return null;
  }
}

/** The pid bench/callgrind-member.sh wrote for tag, or null. */
function taggedPid(tag) {
  try {
    const t = fs.readFileSync(`${opt['callgrind-dir']}/${tag}.pid`, 'latin1').trim();
    return /^\d+$/.test(t) ? Number(t) : null;
  } catch {
    return null;
  }
}

/** The instructions callgrind counted in process pid of tag, from the
 *  first to the last (the "summary:" or "totals:" line of its file), or
 *  null when there is no such file yet. */
function instructionsOf(tag, pid) {
  try {
    const text = fs.readFileSync(`${opt['callgrind-dir']}/${tag}.${pid}.out`, 'latin1');
    const m = /^(?:summary|totals):\s*(\d+)/m.exec(text);
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

const sum = (xs, k) => xs.reduce((a, x) => a + (x[k] || 0), 0);

/** The instructions of each function in a callgrind file, its own
 *  (inclusive false) or with all it calls, by callgrind_annotate: chat_server's
 *  functions as "src/FILE:FUNCTION", the libraries' by name.  null when
 *  callgrind_annotate did not run. */
function functionsOf(file, inclusive) {
  const r = spawnSync('callgrind_annotate',
    ['--threshold=100', `--inclusive=${inclusive ? 'yes' : 'no'}`, file],
    { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.error || r.status !== 0) return null;
  const out = {};
  for (const line of r.stdout.split('\n')) {
    const m = /^\s*([\d,]+)\s+(?:\([^)]*\)\s+)?(?:\*\s+)?(\S.*?):(\S+) \[/.exec(line);
    if (!m) continue;
    const src = /(?:^|\/)(src\/[^/]+)$/.exec(m[2]);
    const name = src ? `${src[1]}:${m[3]}` : m[3];
    out[name] = (out[name] || 0) + Number(m[1].replace(/,/g, ''));
  }
  return out;
}

/** One room of the callgrind scenario: k lines, taken in lockstep.
 *  Returns the instructions of the counted legacy and JSON members. */
async function callgrindRoom(room, k) {
  const t0 = now();
  const nSenders = Math.min(2, opt.n - 2);
  // The senders first, one at a time, so that they have the same names in
  // every room (Anonymous, Anonymous1); then the other plain members.
  phase = `room ${room}: joining`;
  const senders = [];
  for (let i = 0; i < nSenders; i++) senders.push(...await joinAll(1, room, { first: i }));
  await joinAll(opt.n - 2 - nSenders, room, { first: nSenders });
  await waitIdle(opt['quiet-ms'], opt['deadline-s'] * 250);
  // The two counted members last, legacy then JSON, one at a time: each
  // joins a full room, and what the one sees of the other (the JSON member
  // the legacy member's join line and user list) is the same in every room.
  const counted = [];
  for (const json of [false, true]) {
    const m = new Member(room, opt.n - 2 + counted.length, json);
    m.tag = `${room}-${json ? 'json' : 'legacy'}`;
    await m.connect();
    m.pid = taggedPid(m.tag);
    if (m.pid === null) throw new Error(`no pid from bench/callgrind-member.sh for ${m.tag}`);
    counted.push(m);
  }
  await waitIdle(opt['quiet-ms'], opt['deadline-s'] * 250);
  const [legacy, json] = counted;
  const r = new Receipts(opt.n, k);
  const senderOf = (seq) => senders[seq % nSenders];
  onLine = (mem, data) => r.record(mem.idx, seqOf(mem, data, senderOf));
  const got = (m, seq) => !Number.isNaN(r.at[m.idx * k + seq]);
  // Lockstep: the next line is sent once both counted members have
  // delivered this one, so that each of them wakes up for every line and
  // reads it alone, as in a room where people talk at a human pace.
  phase = `room ${room}: sending ${k} lines`;
  const tSend = now();
  for (let seq = 0; seq < k; seq++) {
    r.sentAt[seq] = now();
    sendChat(senderOf(seq), seq);
    if (!(await until(() => got(legacy, seq) && got(json, seq), READY_TIMEOUT_MS, 1))) {
      throw new Error(`line ${seq} of room ${room} did not reach both counted members in time`);
    }
  }
  const sendS = (now() - tSend) / 1000;
  const expected = opt.n * k;
  await until(() => r.count === expected, opt['drain-s'] * 1000, 10);
  onLine = null;
  // Out one at a time, legacy first; the JSON member takes in its quit
  // (the room goes quiet) before it goes.
  phase = `room ${room}: closing`;
  const exited = (m) => () => ['Z', null].includes(procState(m.pid));
  await legacy.close();
  if (!(await until(exited(legacy), 60000, 20))) throw new Error(`${legacy.tag} did not exit`);
  await waitIdle(opt['quiet-ms'], 60000);
  await json.close();
  if (!(await until(exited(json), 60000, 20))) throw new Error(`${json.tag} did not exit`);
  const ir = {};
  for (const m of counted) {
    let n = null;
    await until(() => (n = instructionsOf(m.tag, m.pid)) !== null, 10000, 20);
    if (n === null) throw new Error(`no callgrind count for ${m.tag} (pid ${m.pid})`);
    ir[m.json ? 'json' : 'legacy'] = n;
  }
  const fns = {};
  for (const m of counted) {
    const file = `${opt['callgrind-dir']}/${m.tag}.${m.pid}.out`;
    fns[m.json ? 'json' : 'legacy'] = { own: functionsOf(file, false), all: functionsOf(file, true) };
  }
  // System calls valgrind does not know fail in the counted members
  // (ENOSYS) where they would not otherwise: the page says which.
  const unhandled = new Set();
  for (const m of counted) {
    try {
      const log = fs.readFileSync(`${opt['callgrind-dir']}/${m.tag}.${m.pid}.log`, 'latin1');
      for (const u of log.matchAll(/unhandled \S+ syscall: (\d+)/g)) unhandled.add(Number(u[1]));
    } catch { /* no log: nothing to say */ }
  }
  for (const m of members) if (m.room === room) await m.close();
  if (!(await until(() => held() === 0, Math.max(30000, opt.n * 100), 50))) {
    throw new Error(`room ${room}: ${held()} processes left after the close`);
  }
  return { ir, fns, expected, delivered: r.count, duplicates: r.dups, unhandled: [...unhandled],
    seconds: Math.round((now() - t0) / 100) / 10, send_s: Math.round(sendS * 10) / 10 };
}

/** Instructions per delivered line, counted by valgrind's callgrind (a
 *  figure the load of the machine does not move): in a room of n, one
 *  legacy and one JSON member run chat_server under callgrind
 *  (bench/callgrind-member.sh), the others as they are; two of the others
 *  send --base-messages lines in one room and --messages in another, and
 *  each counted member's instructions per line are the difference over
 *  the difference of the counts: what joining, the history, quitting and
 *  starting cost is the same in both rooms and drops out. */
async function scenarioCallgrind() {
  const ks = [opt['base-messages'], opt.messages];
  const rooms = [];
  for (const [i, k] of ks.entries()) {
    rooms.push(await callgrindRoom(`${opt.room}-${'ab'[i]}`, k));
  }
  const dk = ks[1] - ks[0];
  const per = (kind) => (rooms[1].ir[kind] - rooms[0].ir[kind]) / dk;
  const perLegacy = per('legacy');
  const perJson = per('json');
  const expected = sum(rooms, 'expected');
  const delivered = sum(rooms, 'delivered');
  // Per delivered line, function by function (the same difference):
  // each function's own instructions, those of at least one per line.
  const perFunction = (kind, which) => {
    const a = rooms[0].fns[kind][which];
    const b = rooms[1].fns[kind][which];
    if (!a || !b) return null;
    const out = {};
    for (const f of new Set([...Object.keys(a), ...Object.keys(b)])) {
      const d = ((b[f] || 0) - (a[f] || 0)) / dk;
      if (Math.abs(d) >= 1) out[f] = Math.round(d * 10) / 10;
    }
    return out;
  };
  const encoder = (kind) => perFunction(kind, 'all')?.['src/encode.c:encode_line'] ?? null;
  return {
    completed: delivered === expected && rooms.every((x) => !x.duplicates),
    n: opt.n,
    senders: Math.min(2, opt.n - 2),
    messages: ks,
    instructions_legacy: rooms.map((x) => x.ir.legacy),
    instructions_json: rooms.map((x) => x.ir.json),
    ir_per_line_legacy: Math.round(perLegacy),
    ir_per_line_json: Math.round(perJson),
    ratio: Math.round(perJson / perLegacy * 10000) / 10000,
    // What the rest of a counted member's life cost: start, join, history,
    // the other's join or quit, its own quit.
    // The encoder, src/encode.c's encode_line and all it calls, per line.
    ir_encoder_per_line_legacy: encoder('legacy'),
    ir_encoder_per_line_json: encoder('json'),
    functions_per_line_legacy: perFunction('legacy', 'own'),
    functions_per_line_json: perFunction('json', 'own'),
    ir_fixed_legacy: Math.round(rooms[0].ir.legacy - ks[0] * perLegacy),
    ir_fixed_json: Math.round(rooms[0].ir.json - ks[0] * perJson),
    expected,
    delivered,
    duplicates: sum(rooms, 'duplicates'),
    delivery_ratio: delivered / expected,
    ...mismatchReport(),
    unhandled_syscalls: [...new Set(rooms.flatMap((x) => x.unhandled))],
    room_s: rooms.map((x) => x.seconds),
    send_s: rooms.map((x) => x.send_s),
  };
}


// ---------------------------------------------------------------- scale

/** MemAvailable of /proc/meminfo, in MiB. */
function memAvailableMiB() {
  const m = /^MemAvailable:\s+(\d+) kB/m.exec(fs.readFileSync('/proc/meminfo', 'latin1'));
  return m ? Math.round(Number(m[1]) / 1024) : null;
}

/** The file transport at its own scale (issue 15): --rooms rooms of --n
 *  members, filled together (member k joins room k % rooms, --concurrency
 *  joins at a time), so each join is timed while the rooms fill.  Joining
 *  stops, and the run says so, when a join fails or MemAvailable falls
 *  under --mem-floor-mib: the largest size reached is reported, never a
 *  smaller one passed off as the target.  Then, with everyone in: the
 *  memory of the tree per connection, and a fan-out in every room (its
 *  first member sends, the rooms taking turns, one line every
 *  --interval-ms in all, --messages lines per room). */
async function scenarioScale() {
  const R = opt.rooms;
  const target = R * opt.n;
  const roomOf = (k) => `${opt.room}-${k % R}`;
  const mem0 = memAvailableMiB();
  let minMem = mem0;
  let stopReason = null;
  const joinMs = new Array(target).fill(NaN);
  const ready = [];
  phase = 'filling the rooms';
  const tFill = now();
  let next = 0;
  const worker = async () => {
    while (next < target && !stopReason) {
      const k = next++;
      const avail = memAvailableMiB();
      if (avail !== null) minMem = Math.min(minMem, avail);
      if (avail !== null && avail < opt['mem-floor-mib']) {
        stopReason = stopReason || `MemAvailable fell to ${avail} MiB (the floor is ` +
          `${opt['mem-floor-mib']} MiB) after ${ready.length} connections: this machine ` +
          `cannot hold ${target}`;
        return;
      }
      const m = new Member(roomOf(k), k);
      try {
        joinMs[k] = await m.connect();
        ready.push(m);
      } catch (err) {
        stopReason = stopReason || `join ${k + 1} of ${target} failed after ${ready.length} ` +
          `connections: ${err.message}`;
        return;
      }
      if (ready.length % 1000 === 0) {
        log(`${ready.length} connections, ${Math.round((now() - tFill) / 1000)} s, ` +
          `MemAvailable ${memAvailableMiB()} MiB`);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, opt.concurrency) }, worker));
  const fillS = (now() - tFill) / 1000;
  const reached = ready.length;
  // Join times by how full the rooms were: tenths of the target, in the
  // order the joins were started.
  const tenths = [];
  for (let t = 0; t < 10; t++) {
    const from = Math.floor(target * t / 10);
    const to = Math.floor(target * (t + 1) / 10);
    const xs = joinMs.slice(from, to).filter((x) => !Number.isNaN(x));
    tenths.push(xs.length ? percentiles(xs) : null);
  }
  const joins = joinMs.filter((x) => !Number.isNaN(x));
  phase = `${reached} joined after ${Math.round(fillS)} s, waiting for the rooms to go quiet`;
  const settle = await waitIdle(opt['quiet-ms'], opt['deadline-s'] * 250);
  const memFull = memAvailableMiB();
  // Memory: the tree's smaps_rollup over every process, per connection.
  phase = 'reading the memory of every process';
  const pids = tree();
  const sumMem = Object.fromEntries(SMAPS_KEYS.map((k) => [k, 0]));
  let measured = 0;
  for (const p of pids) {
    const x = rollup(p);
    if (!x) continue;
    measured++;
    for (const k of SMAPS_KEYS) sumMem[k] += x[k];
  }
  const per = Object.fromEntries(SMAPS_KEYS.map((k) => [k,
    reached ? Math.round(sumMem[k] / reached * 10) / 10 : null]));
  const wsdMems = opt.wsds.map((w) => rollup(w));
  const wsdMem = wsdMems.every(Boolean) ? { Pss: sum(wsdMems, 'Pss'), Rss: sum(wsdMems, 'Rss') } : null;
  // Fan-out: one sender per room (member r is the first of room r).
  phase = 'sending';
  const senders = new Map();
  const present = new Map();
  for (const m of ready) {
    const r = m.idx % R;
    present.set(r, (present.get(r) || 0) + 1);
    if (!senders.has(r) || m.idx < senders.get(r).idx) senders.set(r, m);
  }
  const rooms = [...senders.keys()].sort((a, b) => a - b);
  const total = rooms.length * opt.messages;
  const rc = new Receipts(target, Math.max(1, total));
  const senderOf = (seq) => senders.get(rooms[seq % rooms.length]);
  onLine = (mem, data) => rc.record(mem.idx, seqOf(mem, data, senderOf));
  const cpu0 = cpuSnapshot(pids);
  const wsd0 = wsdCpuNs();
  await steadySend(total, opt['interval-ms'], (seq) => {
    rc.sentAt[seq] = now();
    sendChat(senderOf(seq), seq);
  });
  let expected = 0;
  for (const r of rooms) expected += present.get(r) * opt.messages;
  phase = `sent, waiting for deliveries (${rc.count} of ${expected})`;
  await until(() => rc.count === expected, opt['drain-s'] * 1000, 20);
  const d = cpuDelta(cpu0, cpuSnapshot(pids));
  const wsdNs = wsdCpuNs() - wsd0;
  onLine = null;
  const lat = rc.latencies();
  return {
    completed: reached === target && !stopReason && settle !== null && rc.count === expected
      && measured === pids.length,
    ...(stopReason ? { error: stopReason } : settle === null ? { error: 'the rooms did not go quiet' } : {}),
    rooms: R,
    n: opt.n,
    target_connections: target,
    reached,
    stop_reason: stopReason,
    fill_s: Math.round(fillS * 10) / 10,
    concurrency: opt.concurrency,
    websocketd_instances: opt.wsds.length,
    join_ms: percentiles(joins),
    join_ms_by_tenth: tenths,
    settle_ms: settle,
    processes: pids.length,
    kib_per_connection: per,
    websocketd_pss_kib: wsdMem ? wsdMem.Pss : null,
    websocketd_rss_kib: wsdMem ? wsdMem.Rss : null,
    mem_available_mib: { before: mem0, full: memFull, lowest: minMem },
    // What the whole machine gave up per connection: kernel memory (page
    // tables, pipes, sockets, inotify) and this client included.
    mem_available_kib_per_connection: reached && mem0 !== null && memFull !== null
      ? Math.round((mem0 - memFull) * 1024 / reached * 10) / 10 : null,
    messages_per_room: opt.messages,
    interval_ms: opt['interval-ms'],
    sending_rooms: rooms.length,
    messages: total,
    expected,
    delivered: rc.count,
    duplicates: rc.dups,
    delivery_ratio: expected ? rc.count / expected : 0,
    latency_ms: percentiles(lat),
    cpu_ns: d.ns,
    websocketd_cpu_ns: wsdNs,
    ...cpuReport(d.ns, { messages: total, delivered: rc.count }),
    websocketd_cpu_us_per_delivered: rc.count ? Math.round(wsdNs / rc.count) / 1e3 : null,
    lost_processes: d.lost,
  };
}

const SCENARIOS = {
  join: scenarioJoin, echo: scenarioEcho, fanout: MIX ? scenarioFanoutMix : scenarioFanout,
  burst: scenarioBurst, memory: scenarioMemory, private: scenarioPrivate,
  callgrind: scenarioCallgrind, scale: scenarioScale,
};

// ---------------------------------------------------------------- main

async function main() {
  for (const k of ['n', 'count', 'present', 'senders']) {
    if (opt[k] > MAX_CONNECTIONS) usage(`--${k} is more than ${MAX_CONNECTIONS}`);
  }
  if (opt.scenario === 'scale' && opt.rooms * opt.n > MAX_CONNECTIONS) {
    usage(`--rooms × --n is more than ${MAX_CONNECTIONS}`);
  }
  if (opt.messages > MAX_MESSAGES || opt.senders * opt.senders * opt.messages > 20e6) {
    usage('too many messages');
  }
  const head = {
    variant: opt.variant, scenario: opt.scenario, room: opt.room, round: opt.round,
    started: new Date().toISOString(),
    // The rounds of a run share their options (bench/summary.js pools
    // them): what changes from round to round is left out.
    options: process.argv.slice(3)
      .filter((a) => !/^--(port|wsd|server|variant|round|json-half|callgrind-dir|extra|redis-socket|warden-lock)=/
        .test(a)).join(' '),
  };
  const t0 = now();
  let result;
  let finished = false;
  const deadline = new Promise((resolve) => {
    setTimeout(() => resolve({
      completed: false,
      error: `deadline of ${opt['deadline-s']} s (${members.filter((m) => m.ready).length} ` +
        `members had joined by then; ${phase})`,
    }), opt['deadline-s'] * 1000).unref();
  });
  try {
    result = await Promise.race([SCENARIOS[opt.scenario](), deadline]);
  } catch (err) {
    result = { completed: false,
      error: `${err.message} (${members.filter((m) => m.ready).length} members had joined by then)`,
      ...busyReport() };
  }
  finished = true;
  stopping = true; // a scenario still running after its deadline adds no one
  onLine = null;
  const left = await Promise.race([closeAll(),
    sleep(Math.max(40000, members.length * 100 + 10000)).then(() => -1)]);
  const out = { ...head, ...result, wall_s: Math.round((now() - t0) / 100) / 10,
    connections: totalConnections, leftover_processes: left };
  if (left !== 0) out.completed = false;
  process.stdout.write(`${JSON.stringify(out)}\n`);
  log(out.completed ? 'done' : `NOT COMPLETED: ${out.error || 'see JSON'}`, `${out.wall_s} s`);
  for (const m of members) if (!m.closed) m.ws.terminate();
  process.exitCode = out.completed && finished ? 0 : 1;
  setTimeout(() => process.exit(process.exitCode), 100).unref();
}

main();
