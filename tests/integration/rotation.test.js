'use strict';
// Room logs rotated while people chat (docs/operations.md), with the real
// logrotate binary: rename (nocreate), create, and copytruncate, with and
// without chat_server --pause-appends / --resume-appends as prerotate and
// postrotate; the shipped rule (conf/logrotate.d/chat_server); plain
// deletion; and 20 writers of 4 KiB lines at once.  Every connection's
// received lines are compared with the sent ones, and the log files with
// them too: nothing torn, nothing twice, per-writer order kept, nothing lost
// where the mode promises it.  The modes that lose lines by design (create
// and copytruncate without the scripts) are measured and reported: one test
// output line starting with "ROTATION" per mode.
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { chatTest, BIN, SANITIZED, BAD_STDERR, sleep } = require('./harness');

const ROOM = 'lobby';
const WRITERS = 10;
const READERS = 3;
const MESSAGES = SANITIZED ? 300 : 1000; // per writer
const ROTATIONS = 20;
// The writers' messages are spread over about this long, and the rotations
// with them, so that rotations happen while lines are being appended.  A
// rotation with the pause scripts takes about 350 ms.
const pumpMs = (pause) => (SANITIZED || pause ? 12000 : 6000);
const PAD = 80;
const DRAIN_MS = SANITIZED ? 120000 : 60000;

const LOGROTATE = ['/usr/sbin/logrotate', '/sbin/logrotate', '/usr/bin/logrotate']
  .find((p) => fs.existsSync(p));

function padFor(w, seq) {
  return String.fromCharCode(97 + ((w + seq) % 26)).repeat(PAD);
}

const msgText = (w, seq) => `m W${w} ${String(seq).padStart(6, '0')} ${padFor(w, seq)}`;
const endText = (w) => `end W${w}`;

// Every line chat_server writes to the room log in these tests.
const MSG_RE = /^T (W\d+)> m (W\d+) (\d{6}) ([a-z]+)$/;
const OTHER_RE = [
  /^T Welcome to the chat room lobby [WR]\d+!$/,
  /^T [WR]\d+ joined the lobby$/,
  /^T [WR]\d+ quit the lobby$/,
  /^T Userlist: ([WR]\d+:#[0-9a-f]{6},)*$/,
  /^T (W\d+)> end \1$/,
];

/**
 * Classifies lines (normalized): { msgs: ['w:seq', ...] in order, bad: [...] }.
 * A line is bad when it is neither a whole message nor another known line.
 */
function classify(lines) {
  const msgs = [];
  const bad = [];
  for (const l of lines) {
    const m = MSG_RE.exec(l);
    if (m) {
      const w = Number(m[1].slice(1));
      const seq = Number(m[3]);
      if (m[1] !== m[2] || m[4] !== padFor(w, seq)) bad.push(l);
      else msgs.push(`${w}:${seq}`);
    } else if (!OTHER_RE.some((re) => re.test(l))) {
      bad.push(l);
    }
  }
  return { msgs, bad };
}

function counts(keys) {
  const c = new Map();
  for (const k of keys) c.set(k, (c.get(k) || 0) + 1);
  return c;
}

/** Per-writer order: the sequence numbers each writer's lines arrive in. */
function orderErrors(msgs) {
  const last = new Map();
  const errors = [];
  for (const k of msgs) {
    const [w, seq] = k.split(':').map(Number);
    if (last.has(w) && seq <= last.get(w)) errors.push(`W${w} ${seq} after ${last.get(w)}`);
    last.set(w, seq);
  }
  return errors;
}

function sample(list, n = 10) {
  return list.length > n ? `${list.slice(0, n).join(', ')}, … (${list.length})` : list.join(', ');
}

function writeLogrotateConfig(h, mode, pause) {
  const scripts = pause ? [
    '    sharedscripts',
    '    prerotate',
    `        ${BIN} --config ${h.configPath} --pause-appends`,
    '    endscript',
    '    postrotate',
    `        CHAT_SERVER_CONFIG=${h.configPath} ${BIN} --resume-appends`,
    '    endscript',
  ] : [];
  // Numbered copies (no dateext: 20 rotations a day), all of them kept.
  const text = [
    `${h.p('rooms')}/*.log {`,
    `    rotate ${ROTATIONS + 10}`,
    '    missingok',
    '    nocompress',
    `    ${mode}`,
    ...scripts,
    '}', '',
  ].join('\n');
  const conf = path.join(h.root, 'logrotate.conf');
  fs.writeFileSync(conf, text, { mode: 0o644 });
  return conf;
}

// What logrotate's `create` says when a chat_server append has already
// created the new log between its rename and its create (see operations.md).
const CREATE_RACE_RE = /^error: (destination \S+ already exists, renaming to \S+\.backup|error creating output file \S+: File exists)$/;

/**
 * Runs logrotate -f once.  Resolves with the create-race complaints when
 * allowed (createRace), else rejects on any complaint or failure.
 */
function logrotate(h, conf, { createRace = false, env = {} } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(LOGROTATE, ['-f', '-s', path.join(h.root, 'logrotate.state'), conf], {
      cwd: h.cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { out += d; });
    child.on('error', reject);
    child.on('close', (code) => {
      const complaints = out.split('\n').filter((l) => l.trim());
      const races = createRace ? complaints.filter((l) => CREATE_RACE_RE.test(l)) : [];
      const ok = complaints.length === races.length && (code === 0 || races.length > 0);
      if (!ok || BAD_STDERR.some((b) => out.includes(b))) {
        reject(new Error(`logrotate exited ${code}:\n${out}`));
      } else {
        resolve(races);
      }
    });
  });
}

/**
 * The live log, every rotated copy (lobby.log.N) and the .backup files of
 * logrotate's create race.
 */
function allLogFiles(h) {
  const dir = h.p('rooms');
  const files = fs.readdirSync(dir).filter((f) => f === `${ROOM}.log` ||
    /^lobby\.log\.\d+$/.test(f) || /^lobby\.log-\d+\.backup$/.test(f));
  return { files: files.map((f) => path.join(dir, f)), rotated: files.filter((f) => /\.\d+$/.test(f)).length };
}

/**
 * Normalized lines of the files; fails on a file that ends mid-line.
 * With tornTails (an array), a rotated copy (lobby.log.N) may end mid-line
 * instead: logrotate's copytruncate copied while a write was landing (the
 * kernel shows a write that spans pages a page at a time), and truncated
 * the rest of it away.  That line is lost, as copytruncate without the
 * pause scripts loses lines; its fragment is left out and its file pushed
 * on tornTails.  The live log must still end with a whole line.
 */
function fileLines(files, tornTails = null) {
  const lines = [];
  for (const f of files) {
    let text = fs.readFileSync(f, 'utf8');
    if (tornTails && /\.\d+$/.test(f) && text !== '' && !text.endsWith('\n')) {
      tornTails.push(path.basename(f));
      text = text.slice(0, text.lastIndexOf('\n') + 1);
    }
    assert.ok(text === '' || text.endsWith('\n'), `${f} ends in a partial line`);
    for (const l of text.split('\n').slice(0, -1)) lines.push(l.replace(/^\[\d\d:\d\d:\d\d\]/, 'T'));
  }
  return lines;
}

async function joinAll(h) {
  const join = (name, i) => h.join(ROOM, {
    cookie: h.session(`s${name}`, `${name}:#${String(i).padStart(6, '0')}`),
    label: name,
    timeout: 60000,
  });
  const writers = [];
  for (let w = 0; w < WRITERS; w++) writers.push(await join(`W${w}`, w));
  const readers = [];
  for (let r = 0; r < READERS; r++) readers.push(await join(`R${r}`, 100 + r));
  return { writers, readers };
}

/**
 * Sends MESSAGES lines from every writer over about PUMP_MS while rotate()
 * runs ROTATIONS times, spaced over the same time.  Returns, per writer, the
 * first sequence number sent after the last rotation had finished.
 */
async function chatWhileRotating(writers, rotate, PUMP_MS) {
  const TICKS = 200;
  const sent = writers.map(() => 0);
  const start = Date.now();
  let afterLast = null;
  const pump = (async () => {
    for (let tick = 0; tick < TICKS; tick++) {
      writers.forEach((c, w) => {
        const lines = [];
        for (; sent[w] < Math.floor((MESSAGES * (tick + 1)) / TICKS); sent[w]++) {
          lines.push(msgText(w, sent[w]));
        }
        if (lines.length) c.child.stdin.write(`${lines.join('\n')}\n`);
      });
      const next = start + ((tick + 1) * PUMP_MS) / TICKS;
      await sleep(Math.max(0, next - Date.now()));
    }
  })();
  const rotations = (async () => {
    for (let r = 0; r < ROTATIONS; r++) {
      const at = start + ((r + 0.5) * PUMP_MS) / ROTATIONS;
      await sleep(Math.max(0, at - Date.now()));
      await rotate();
    }
    afterLast = [...sent];
  })();
  await Promise.all([pump, rotations]);
  return { afterLast, elapsed: Date.now() - start };
}

/**
 * Waits until every client has printed every writer's end line.  (Polls,
 * scanning each line once: waitFor per line would rescan thousands.)
 */
async function waitForEnds(clients, writers = WRITERS) {
  const want = new Set(Array.from({ length: writers }, (_, w) => `T W${w}> ${endText(w)}`));
  const state = clients.map(() => ({ at: 0, seen: 0 }));
  const end = Date.now() + DRAIN_MS;
  for (;;) {
    let done = true;
    clients.forEach((c, i) => {
      const st = state[i];
      for (; st.at < c.lines.length; st.at++) {
        if (want.has(c.lines[st.at].replace(/^\[\d\d:\d\d:\d\d\]/, 'T'))) st.seen++;
      }
      if (st.seen < writers) done = false;
    });
    if (done) return;
    const slow = clients.find((c, i) => state[i].seen < writers && !c.running);
    if (slow) throw new Error(`${slow.label} exited before all end lines arrived\n${slow.describe()}`);
    if (Date.now() > end) {
      const c = clients.find((_, i) => state[i].seen < writers);
      throw new Error(`timeout waiting for the end lines\n${c.describe()}`);
    }
    await sleep(25);
  }
}

/**
 * What one connection received, against the expected message keys:
 * { bad, dup, order, lost } (lists; empty is good).
 */
function received(c, expected) {
  const { msgs, bad } = classify(c.out);
  const dup = [...counts(msgs)].filter(([, n]) => n > 1).map(([k, n]) => `${k} x${n}`);
  const got = new Set(msgs);
  bad.push(...msgs.filter((k) => !expected.has(k)).map((k) => `never sent: ${k}`));
  return { bad, dup, order: orderErrors(msgs), lost: [...expected].filter((k) => !got.has(k)) };
}

/** Asserts what every mode must give: nothing torn, twice or reordered. */
function assertIntact(c, r) {
  assert.deepEqual(r.bad, [], `${c.label} received torn or garbled lines`);
  assert.deepEqual(r.dup, [], `${c.label} received lines more than once: ${sample(r.dup)}`);
  assert.deepEqual(r.order, [], `${c.label} received a writer's lines out of order: ${sample(r.order)}`);
}

/** Exactly once, in order. */
function checkReceived(c, expected) {
  const r = received(c, expected);
  assertIntact(c, r);
  return r.lost;
}

function expectedKeys(writers, n) {
  const expected = new Set();
  for (let w = 0; w < writers; w++) for (let s = 0; s < n; s++) expected.add(`${w}:${s}`);
  return expected;
}

/**
 * exactFiles: the log files together must hold every line exactly once;
 * exactLive: every connection must deliver every line.  Otherwise the loss
 * is measured and reported only.
 */
function rotationTest(title, { mode, pause, exactFiles, exactLive }) {
  chatTest(title, { timeout: SANITIZED ? 600000 : 300000 }, async (h, t) => {
    assert.ok(LOGROTATE, 'logrotate is not installed (apt-get install logrotate; .ci/install-deps does)');
    const conf = writeLogrotateConfig(h, mode, pause);
    const { writers, readers } = await joinAll(h);
    const clients = [...writers, ...readers];
    let rotations = 0;
    const races = [];
    const took = []; // ms per logrotate run
    const log = h.p('rooms', `${ROOM}.log`);
    const { afterLast, elapsed } = await chatWhileRotating(writers, async () => {
      // nocreate leaves no log until the next append: rotate a log, always.
      for (const end = Date.now() + DRAIN_MS; !fs.existsSync(log) && Date.now() < end;) await sleep(5);
      const began = Date.now();
      races.push(...await logrotate(h, conf, { createRace: mode === 'create' }));
      took.push(Date.now() - began);
      rotations++;
    }, pumpMs(pause));
    writers.forEach((c, w) => c.send(endText(w)));
    await waitForEnds(clients);

    const expected = expectedKeys(WRITERS, MESSAGES);
    const { files, rotated } = allLogFiles(h);
    // Only copytruncate without the pause scripts copies a log being
    // written to (fileLines).
    const tornTails = mode === 'copytruncate' && !pause ? [] : null;
    const { msgs: inFiles, bad: badInFiles } = classify(fileLines(files, tornTails));
    const fileDup = [...counts(inFiles)].filter(([, n]) => n > 1).map(([k]) => k);
    const fileSet = new Set(inFiles);
    const lostFromFiles = [...expected].filter((k) => !fileSet.has(k));
    const results = clients.map((c) => received(c, expected));

    const total = WRITERS * MESSAGES;
    const lossOf = (rs) => rs.map((r) => r.lost.length).join(' ');
    // Lines missing from the files that a connection delivered all the same.
    const fileLostSet = new Set(lostFromFiles);
    const saved = results.map((r) => lostFromFiles.length -
      r.lost.filter((k) => fileLostSet.has(k)).length);
    const report = `ROTATION ${mode}${pause ? ' + pause scripts' : ''}: ` +
      `${WRITERS}x${MESSAGES} lines, ${rotations} rotations in ${elapsed} ms ` +
      `(one logrotate run: median ${took.sort((a, b) => a - b)[took.length >> 1]} ms, max ${took[took.length - 1]} ms)` +
      `${mode === 'create' ? `, ${races.length} complaints of logrotate's create race` : ''}; ` +
      `missing from the files: ${lostFromFiles.length}/${total}` +
      `${tornTails && tornTails.length ? ` (${tornTails.length} of them cut short at the end of a copy: ${tornTails.join(' ')})` : ''}` +
      `${lostFromFiles.length ? ` (delivered live anyway by ${Math.min(...saved)} to ` +
        `${Math.max(...saved)} of them, depending on the connection)` : ''}; ` +
      `lost live by each writer's connection: ${lossOf(results.slice(0, WRITERS))}; ` +
      `by each reader: ${lossOf(results.slice(WRITERS))}`;
    t.diagnostic(report);

    assert.equal(rotations, ROTATIONS);
    if (mode !== 'create') {
      assert.equal(rotated, rotations, `expected ${rotations} rotated copies: ${files}`);
    }
    // The files: whole lines only, none twice.
    assert.deepEqual(badInFiles, [], 'torn or garbled lines in the log files');
    assert.deepEqual(fileDup, [], `lines twice in the log files: ${sample(fileDup)}`);
    clients.forEach((c, i) => {
      const r = results[i];
      assertIntact(c, r);
      // Lines sent after the last rotation was over are always delivered.
      const late = r.lost.filter((k) => {
        const [w, seq] = k.split(':').map(Number);
        return seq >= afterLast[w];
      });
      assert.deepEqual(late, [], `${c.label} lost lines written after the last rotation: ${sample(late)}`);
    });
    if (exactFiles) {
      assert.deepEqual(lostFromFiles, [], `lines missing from the log files: ${sample(lostFromFiles)}`);
    }
    if (exactLive) {
      clients.forEach((c, i) => {
        const { lost } = results[i];
        assert.deepEqual(lost, [], `${c.label} lost ${lost.length} lines live: ${sample(lost)}`);
      });
    }
  });
}

// Rename modes.  nocreate: chat_server's next append creates the new log.
// create: logrotate creates it, and races chat_server doing the same; the
// pause scripts close that race.
rotationTest('logrotate rename mode (nocreate), 20 rotations: every connection gets every line once, in order',
  { mode: 'nocreate', pause: false, exactFiles: true, exactLive: true });
rotationTest('logrotate create mode, 20 rotations: loss to logrotate\'s create race measured, nothing twice or torn',
  { mode: 'create', pause: false, exactFiles: false, exactLive: false });
rotationTest('logrotate create mode with --pause-appends/--resume-appends: every line once, live and in the files',
  { mode: 'create', pause: true, exactFiles: true, exactLive: true });
// copytruncate: the files lose what is appended between logrotate's copy
// and its truncate unless appends are paused; a live connection loses what
// it had not read yet when the file was truncated.  Measured and reported.
rotationTest('logrotate copytruncate, 20 rotations, no pause scripts: loss measured, nothing twice or torn',
  { mode: 'copytruncate', pause: false, exactFiles: false, exactLive: false });
rotationTest('logrotate copytruncate with --pause-appends/--resume-appends: the files keep every line once; live loss measured',
  { mode: 'copytruncate', pause: true, exactFiles: true, exactLive: false });

chatTest('the shipped rule (conf/logrotate.d/chat_server) rotates a busy room: dated copy, every line once', async (h) => {
  assert.ok(LOGROTATE, 'logrotate is not installed (apt-get install logrotate; .ci/install-deps does)');
  const rule = fs.readFileSync(path.resolve(__dirname, '../../conf/logrotate.d/chat_server'), 'utf8');
  // Our temp dirs, our binary; root instead of www-data, who owns them here.
  const text = rule.replace('/var/lib/chat_server/rooms/*.log', `${h.p('rooms')}/*.log`)
    .replace(/^(\s*)su www-data www-data$/m, '$1su root root')
    .replaceAll('/usr/bin/chat_server', BIN);
  assert.ok(text.includes(`${h.p('rooms')}/*.log {`) && text.includes('su root root') &&
    text.split(`${BIN} --`).length === 3, `the shipped rule changed shape:\n${rule}`);
  assert.match(text, /^\s*copytruncate$/m);
  const conf = path.join(h.root, 'shipped.conf');
  fs.writeFileSync(conf, text, { mode: 0o644 });

  const N = SANITIZED ? 200 : 500;
  const CHUNKS = 10;
  const ws = [];
  for (let w = 0; w < 3; w++) {
    ws.push(await h.join(ROOM, { cookie: h.session(`d${w}`, `W${w}:#00000${w}`), label: `W${w}` }));
  }
  const reader = await h.join(ROOM, { cookie: h.session('r', 'R0:#000100'), label: 'R0' });
  let rotation;
  for (let k = 0; k < CHUNKS; k++) {
    ws.forEach((c, w) => {
      const lines = [];
      for (let s = (k * N) / CHUNKS; s < ((k + 1) * N) / CHUNKS; s++) lines.push(msgText(w, s));
      c.child.stdin.write(`${lines.join('\n')}\n`);
    });
    // The config reaches the scripts through the environment logrotate passes on.
    if (k === CHUNKS / 2) rotation = logrotate(h, conf, { env: { CHAT_SERVER_CONFIG: h.configPath } });
    await sleep(SANITIZED ? 200 : 100);
  }
  await rotation;
  ws.forEach((c, w) => c.send(endText(w)));
  const clients = [...ws, reader];
  await waitForEnds(clients, ws.length);

  const rooms = fs.readdirSync(h.p('rooms')).sort();
  assert.equal(rooms.length, 2, `rooms/: ${rooms}`);
  assert.equal(rooms[0], `${ROOM}.log`);
  assert.match(rooms[1], /^lobby\.log-\d{8}$/, 'dateext: <room>.log-YYYYMMDD, as the history pages expect');
  const expected = expectedKeys(ws.length, N);
  const { msgs, bad } = classify(fileLines(rooms.map((f) => h.p('rooms', f))));
  assert.deepEqual(bad, []);
  assert.deepEqual([...counts(msgs)].filter(([, n]) => n > 1), [], 'lines twice in the files');
  assert.deepEqual([...expected].filter((k) => !msgs.includes(k)), [], 'lines missing from the files');
  for (const c of clients) {
    const lost = checkReceived(c, expected);
    assert.deepEqual(lost, [], `${c.label} lost ${lost.length} lines: ${sample(lost)}`);
  }
});

chatTest('log deleted while people chat: readers drain the old file, then follow the new one', async (h) => {
  const N = SANITIZED ? 200 : 500;
  const DELETES = 10;
  const ws = [];
  for (let w = 0; w < 3; w++) {
    ws.push(await h.join(ROOM, { cookie: h.session(`d${w}`, `W${w}:#00000${w}`), label: `W${w}` }));
  }
  const reader = await h.join(ROOM, { cookie: h.session('r', 'R0:#000100'), label: 'R0' });
  const log = h.p('rooms', `${ROOM}.log`);
  const chunk = N / DELETES;
  for (let d = 0; d < DELETES; d++) {
    ws.forEach((c, w) => {
      const lines = [];
      for (let s = d * chunk; s < (d + 1) * chunk; s++) lines.push(msgText(w, s));
      c.child.stdin.write(`${lines.join('\n')}\n`);
    });
    // Not before every connection has moved to the new file (one that has
    // not yet would never see it): each has read a line of this chunk,
    // which only the new file holds, and most of the chunk is still to
    // be read when the file goes.
    await Promise.all([...ws, reader].map((c) => c.waitFor(`T W0> ${msgText(0, d * chunk)}`, DRAIN_MS)));
    fs.rmSync(log, { force: true });
  }
  ws.forEach((c, w) => c.send(endText(w)));
  const clients = [...ws, reader];
  await waitForEnds(clients, ws.length);
  const expected = expectedKeys(ws.length, N);
  for (const c of clients) {
    const lost = checkReceived(c, expected);
    assert.deepEqual(lost, [], `${c.label} lost ${lost.length} lines: ${sample(lost)}`);
  }
});

chatTest('a truncated log that grew past the reader\'s offset again is read from its start', async (h) => {
  // The trap of copytruncate: comparing sizes alone would resume mid-line.
  const w = await h.join(ROOM, { cookie: h.session('w', 'W0:#000000'), label: 'W0' });
  const r = await h.join(ROOM, { cookie: h.session('r', 'R0:#000100'), label: 'R0' });
  const log = h.p('rooms', `${ROOM}.log`);
  w.send(msgText(0, 0));
  await r.waitFor(`T W0> ${msgText(0, 0)}`);
  // Stop the reader, truncate, let the file grow past the old size, resume.
  r.kill('SIGSTOP');
  try {
    const before = fs.statSync(log).size;
    fs.truncateSync(log, 0);
    let s = 1;
    while (fs.statSync(log).size <= before + 200) {
      w.send(msgText(0, s++));
      await w.waitFor(`T W0> ${msgText(0, s - 1)}`);
    }
    r.kill('SIGCONT');
    await r.waitFor(`T W0> ${msgText(0, s - 1)}`);
    const expected = new Set(Array.from({ length: s }, (_, i) => `0:${i}`));
    for (const c of [w, r]) {
      const lost = checkReceived(c, expected);
      assert.deepEqual(lost, [], `${c.label} lost ${sample(lost)}`);
    }
  } finally {
    r.kill('SIGCONT');
  }
});

/** Runs `chat_server --config <h.configPath> <arg>`; resolves when it exits 0. */
function rotationCommand(h, arg) {
  return new Promise((resolve, reject) => {
    const child = spawn(BIN, ['--config', h.configPath, arg], {
      cwd: h.cwd, env: process.env, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { out += d; });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0 && !BAD_STDERR.some((b) => out.includes(b))) resolve(out);
      else reject(new Error(`chat_server ${arg} exited ${code}:\n${out}`));
    });
  });
}

chatTest('copytruncate under the pause: a connection whose own append waits out the pause still gets the lines before it', async (h) => {
  // What logrotate does with the recommended rule, step by step, with Alice
  // not having read Bob's last line yet when her own append starts to wait.
  const alice = await h.join(ROOM, { cookie: h.session('a', 'Alice:#ff0000'), label: 'Alice' });
  const bob = await h.join(ROOM, { cookie: h.session('b', 'Bob:#0000ff'), label: 'Bob' });
  await alice.waitFor('T Userlist: Alice:#ff0000,Bob:#0000ff,');
  const log = h.p('rooms', `${ROOM}.log`);
  alice.kill('SIGSTOP');
  try {
    bob.send('before the rotation');
    await bob.waitFor('T Bob> before the rotation');
    h.awaitArchived(ROOM); // with Redis, in the log once the archiver wrote it
    await rotationCommand(h, '--pause-appends');            // prerotate
    alice.send('during the rotation');
    alice.kill('SIGCONT');
    await sleep(SANITIZED ? 1500 : 500); // Alice is now waiting out the pause
    fs.copyFileSync(log, `${log}.1`);                      // logrotate's copy
    fs.truncateSync(log, 0);                               // and truncate
    await rotationCommand(h, '--resume-appends');          // postrotate
  } finally {
    alice.kill('SIGCONT');
  }
  await alice.waitFor('T Alice> during the rotation');
  await bob.waitFor('T Alice> during the rotation');
  const copy = fs.readFileSync(`${log}.1`, 'utf8');
  assert.ok(copy.includes('Bob> before the rotation\n'), copy);
  assert.ok(!copy.includes('during the rotation'), 'Alice\'s line was appended during the pause');
  assert.deepEqual(h.log(ROOM).map((l) => l.replace(/^T /, '')), ['Alice> during the rotation']);
  // The line Alice had not read when her append began to wait: it was in
  // the file until the truncation, and nothing else was appended meanwhile.
  assert.ok(alice.out.includes('T Bob> before the rotation'),
    `Alice never got Bob's line written before the pause:\n${alice.describe()}`);
});

// Many writers: lines of about 4000 bytes, every tenth at the default
// maximum message size (MAX_MESSAGE_BYTES, 4096), from 20 processes at once
// never interleave or tear, in the file or live.
const TORN_WRITERS = 20;
const TORN_LINES = SANITIZED ? 30 : 60; // per writer
const tornSize = (seq) => (seq % 10 === 9 ? 4096 : 4000);
const tornText = (w, seq) => {
  const head = `t W${w} ${String(seq).padStart(4, '0')} `;
  return head + String.fromCharCode(97 + (w % 26)).repeat(tornSize(seq) - head.length);
};
const TORN_RE = /^T (W\d+)> t (W\d+) (\d{4}) ([a-z]+)$/;

/** Keys of whole torn-test lines; anything else in a message line is bad. */
function tornClassify(lines) {
  const msgs = [];
  const bad = [];
  for (const l of lines) {
    const m = TORN_RE.exec(l);
    if (m) {
      const w = Number(m[1].slice(1));
      const seq = Number(m[3]);
      if (m[1] === m[2] && `${m[1]}> ${tornText(w, seq)}` === l.slice(2)) msgs.push(`${w}:${seq}`);
      else bad.push(l.slice(0, 60));
    } else if (!OTHER_RE.some((re) => re.test(l))) {
      bad.push(`${l.slice(0, 60)}… (${l.length} bytes)`);
    }
  }
  return { msgs, bad };
}

chatTest(`${TORN_WRITERS} writers of 4 KiB lines at once: every log line is one whole line of one writer`, async (h) => {
  const writers = [];
  for (let w = 0; w < TORN_WRITERS; w++) {
    writers.push(await h.join(ROOM, {
      cookie: h.session(`t${w}`, `W${w}:#${String(w).padStart(6, '0')}`), label: `W${w}`,
    }));
  }
  const reader = await h.join(ROOM, { cookie: h.session('r', 'R0:#000100'), label: 'R0' });
  // Each writer gets all of its lines in one go, so all of them append at once.
  writers.forEach((c, w) => {
    const lines = Array.from({ length: TORN_LINES }, (_, seq) => tornText(w, seq));
    c.child.stdin.write(`${lines.join('\n')}\n`);
  });
  writers.forEach((c, w) => c.send(endText(w)));
  const clients = [...writers, reader];
  await waitForEnds(clients, TORN_WRITERS);

  const expected = expectedKeys(TORN_WRITERS, TORN_LINES);
  const check = (what, lines) => {
    const { msgs, bad } = tornClassify(lines);
    assert.deepEqual(bad, [], `${what}: torn or interleaved lines`);
    const dup = [...counts(msgs)].filter(([, n]) => n > 1).map(([k]) => k);
    assert.deepEqual(dup, [], `${what}: lines twice`);
    assert.deepEqual(orderErrors(msgs), [], `${what}: a writer's lines out of order`);
    const got = new Set(msgs);
    const lost = [...expected].filter((k) => !got.has(k));
    assert.deepEqual(lost, [], `${what}: lines missing`);
  };
  h.awaitArchived(ROOM);
  check('the room log', fileLines([h.p('rooms', `${ROOM}.log`)]));
  for (const c of clients) check(c.label, c.out);
});
