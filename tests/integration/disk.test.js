'use strict';
// Disk faults (full, read-only, file size limit), symlinks planted in the
// shared directories, the modes of what chat_server creates, and the cost of
// an idle connection (docs/operations.md).
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { chatTest, SANITIZED, WAIT_MS, sleep, umaskWrap, cpuTicks } = require('./harness');

const ROOM = 'lobby';
const IS_ROOT = process.getuid() === 0;
const STAMP = new Date('2001-02-03T04:05:06Z'); // mtime of planted targets

function run(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.status}\n${r.stderr}`);
  return r.stdout;
}

/**
 * Mounts a tmpfs of size on dir (created if missing) and unmounts it at
 * cleanup, after every process is gone.  Returns false (and skips the test)
 * when that is not possible.
 */
function mountTmpfs(h, t, dir, size) {
  if (!IS_ROOT) {
    t.skip('needs root to mount a tmpfs');
    return false;
  }
  fs.mkdirSync(dir, { recursive: true });
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0750`, 'tmpfs', dir],
    { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    t.skip(`cannot mount a tmpfs here: ${r.error ? r.error.message : r.stderr.trim()}`);
    return false;
  }
  h.defer(() => {
    // Lazily, should anything still hold it; a remount may have left it ro.
    if (spawnSync('umount', [dir]).status !== 0) run('umount', ['-l', dir]);
  });
  return true;
}

/** Writes filler until the filesystem says ENOSPC; returns the bytes written. */
function fillUp(file) {
  const fd = fs.openSync(file, 'w');
  const block = Buffer.alloc(1024, 'f');
  let total = 0;
  try {
    for (;;) {
      try {
        total += fs.writeSync(fd, block);
      } catch (err) {
        if (err.code === 'ENOSPC') return total;
        throw err;
      }
    }
  } finally {
    fs.closeSync(fd);
  }
}

// Every line chat_server writes to the room log in these tests, whole.
const LOG_LINE_RE = [
  /^T \S+ joined the lobby$/,
  /^T \S+ quit the lobby$/,
  /^T Userlist: ([^:,]+:[^:,]+,)*$/,
  /^T (Alice|Bob)> (hello|after|again|m\d+ x+)$/,
];

/**
 * The room log ends with a newline and every line of it is whole: a known
 * line, and for "m<i> xxx" messages, exactly the text that was sent.
 */
function assertWholeLines(h, sentText) {
  const lines = h.log(ROOM); // asserts the file ends with '\n'
  for (const l of lines) {
    assert.ok(LOG_LINE_RE.some((re) => re.test(l)), `torn or unknown line in the log: ${JSON.stringify(l.slice(0, 80))}`);
    const m = /^T \S+> (m(\d+) x+)$/.exec(l);
    if (m) assert.equal(m[1], sentText(Number(m[2])), `a partial message in the log: ${l.slice(0, 40)}…`);
  }
  return lines;
}

/**
 * A client's received log lines: none torn, none twice.  (Its welcome line
 * and the join lines are unique here: every name joins once.)
 */
function assertReceivedWhole(c) {
  const lines = c.out.filter((l) => !l.startsWith('T Welcome to the chat room ') &&
    !l.startsWith('T Error: ') && !l.startsWith('T Userlist: '));
  for (const l of lines) {
    assert.ok(LOG_LINE_RE.some((re) => re.test(l)), `${c.label} received a torn line: ${l.slice(0, 80)}`);
  }
  const twice = [...new Set(lines.filter((l, i) => lines.indexOf(l) !== i))].map((l) => l.slice(0, 30));
  assert.deepEqual(twice, [], `${c.label} received lines twice (the log replayed from its start?)`);
}

/**
 * Sends n messages; resolves with the error lines once each message was
 * either delivered back or refused (an "Error:" line).
 */
async function sendAll(c, n, text) {
  const from = c.lines.length;
  for (let i = 0; i < n; i++) c.send(text(i));
  const end = Date.now() + 4 * WAIT_MS;
  for (;;) {
    const out = c.out.slice(from);
    const errors = out.filter((l) => l.startsWith('T Error: '));
    const delivered = out.filter((l) => l.startsWith(`T ${c.name}> m`));
    if (errors.length + delivered.length >= n) return { errors, delivered };
    assert.ok(c.running, `${c.label} exited\n${c.describe()}`);
    assert.ok(Date.now() < end, `no answer to every message\n${c.describe()}`);
    await sleep(25);
  }
}

async function aliceAndBob(h) {
  const alice = await h.join(ROOM, { cookie: h.session('a', 'Alice:#ff0000'), label: 'Alice' });
  const bob = await h.join(ROOM, { cookie: h.session('b', 'Bob:#0000ff'), label: 'Bob' });
  await alice.waitFor('T Userlist: Alice:#ff0000,Bob:#0000ff,');
  return { alice, bob };
}

const text1k = (i) => `m${i} ${'x'.repeat(1000)}`;

// ---- disk full ----------------------------------------------------------

chatTest('disk full (ENOSPC): the sender gets an error, no partial line is left, chat goes on when space returns', async (h, t) => {
  if (!mountTmpfs(h, t, h.p('rooms'), '256k')) return;
  const { alice, bob } = await aliceAndBob(h);
  // Full to the last KiB.  The log's last page still has room: the first
  // lines fit, then one is written only in part (a short write), which
  // chat_server must cut back, and the rest fail outright.
  const filler = h.p('rooms', 'filler');
  fillUp(filler);
  const { errors } = await sendAll(alice, 30, text1k);
  t.diagnostic(`disk full: ${errors.length} of 30 messages refused; first: ${errors[0]}`);
  assert.ok(errors.length > 0, 'no message was refused on a full disk');
  for (const e of errors) assert.match(e, NOT_STORED);
  await alice.waitForStderr(/No space left on device/);
  assert.ok(alice.running && bob.running, 'a process ended on a full disk');
  assertWholeLines(h, text1k);
  // Nobody has seen a refused message; what was delivered, was delivered once.
  assertReceivedWhole(alice);
  assertReceivedWhole(bob);

  fs.rmSync(filler);
  alice.send('after');
  await bob.waitFor('T Alice> after');
  await alice.waitFor('T Alice> after');
  assertWholeLines(h, text1k);
});

chatTest('read-only filesystem: the sender gets an error and stays; after remounting rw chat goes on', async (h, t) => {
  if (!mountTmpfs(h, t, h.p('rooms'), '1m')) return;
  const { alice, bob } = await aliceAndBob(h);
  alice.send('hello');
  await bob.waitFor('T Alice> hello');
  run('mount', ['-o', 'remount,ro', h.p('rooms')]);
  let remounted = false;
  try {
    const { errors } = await sendAll(alice, 3, text1k);
    t.diagnostic(`read-only: ${errors[0]}`);
    assert.equal(errors.length, 3);
    for (const e of errors) assert.match(e, NOT_STORED);
    await alice.waitForStderr(/Read-only file system/);
    assert.ok(alice.running && bob.running);
    run('mount', ['-o', 'remount,rw', h.p('rooms')]);
    remounted = true;
  } finally {
    if (!remounted) spawnSync('mount', ['-o', 'remount,rw', h.p('rooms')]);
  }
  alice.send('again');
  await bob.waitFor('T Alice> again');
  assertWholeLines(h, text1k);
  assertReceivedWhole(bob);
});

chatTest('file size limit (RLIMIT_FSIZE): a write that crosses it is refused and cut back, the process stays', async (h, t) => {
  const LIMIT = 8192;
  const alice = await h.join(ROOM, {
    cookie: h.session('a', 'Alice:#ff0000'), label: 'Alice', wrap: ['prlimit', `--fsize=${LIMIT}`],
  });
  const bob = await h.join(ROOM, { cookie: h.session('b', 'Bob:#0000ff'), label: 'Bob' });
  await alice.waitFor('T Userlist: Alice:#ff0000,Bob:#0000ff,');
  const log = h.p('rooms', `${ROOM}.log`);
  const { errors, delivered } = await sendAll(alice, 10, text1k);
  t.diagnostic(`RLIMIT_FSIZE=${LIMIT}: ${delivered.length} of 10 messages appended, then: ${errors[0]}`);
  assert.ok(delivered.length > 0 && errors.length > 0, `expected some messages appended, then refusals\n${alice.describe()}`);
  // Everything Alice got into the log ends at or before the limit.
  assert.ok(fs.statSync(log).size <= LIMIT, `the log is ${fs.statSync(log).size} bytes`);
  for (const e of errors) assert.match(e, /^T Error: message not sent: /);
  assert.ok(alice.running, 'the process ended at the file size limit');
  assertWholeLines(h, text1k);
  // Bob has no limit, and Alice still reads.
  bob.send('hello');
  await alice.waitFor('T Bob> hello');
  // A rotated (renamed) log gives Alice room again.
  fs.renameSync(log, `${log}.1`);
  alice.send('after');
  await bob.waitFor('T Alice> after');
  assertReceivedWhole(bob);
});

// ---- symlinks -----------------------------------------------------------

/** A file outside BASE_DIR with a known content and an old mtime. */
function plantTarget(h, name = 'outside.txt') {
  const target = path.join(h.root, name);
  fs.writeFileSync(target, 'do not touch\n');
  fs.utimesSync(target, STAMP, STAMP);
  return target;
}

function assertUntouched(target) {
  assert.equal(fs.readFileSync(target, 'utf8'), 'do not touch\n', `${target} was written`);
  assert.equal(fs.statSync(target).mtimeMs, STAMP.getTime(), `${target} was modified`);
}

/**
 * Joining fails with one Error line on stdout and exit status 1: the
 * browser is told what failed (reason), the server log why (detail).
 */
async function assertRefused(h, cookie, reason, detail) {
  const c = h.spawn(`/${ROOM}`, { cookie, expectCode: 1, label: 'refused' });
  c.child.stdin.end();
  assert.equal(await c.waitExit(), 1, c.describe());
  const errors = c.out.filter((l) => l.startsWith('T Error: '));
  assert.equal(errors.length, 1, c.describe());
  assert.match(errors[0], reason);
  assertNoDetails(errors[0], h);
  if (detail) await c.waitForStderr(detail);
  return c;
}

/** No internal error text (strerror, a path) reaches the browser. */
function assertNoDetails(line, h) {
  assert.doesNotMatch(line, /symbolic links|No space|Read-only|Permission|No such file|too large/i);
  assert.ok(!line.includes(h.root), `a path reached the browser: ${line}`);
}

/** A storage failure: the sender gets the generic line, stderr the cause. */
const NOT_STORED = /^T Error: message not sent: the server could not store it; try again later$/;

chatTest('symlink planted as the room log: never followed, joining is refused with an error', async (h) => {
  const target = plantTarget(h);
  fs.mkdirSync(h.p('rooms'));
  fs.symlinkSync(target, h.p('rooms', `${ROOM}.log`));
  await assertRefused(h, h.session('a', 'Alice:#ff0000'), /^T Error: cannot read the room log$/,
    /room log.*symbolic links/);
  assertUntouched(target);
  assert.ok(fs.lstatSync(h.p('rooms', `${ROOM}.log`)).isSymbolicLink());
});

chatTest('symlink planted as the room log while people chat: never written; every connection is told', async (h, t) => {
  const target = plantTarget(h);
  const { alice, bob } = await aliceAndBob(h);
  const log = h.p('rooms', `${ROOM}.log`);
  // Put in place atomically, the way an attacker would.
  fs.symlinkSync(target, `${log}.tmp`);
  fs.renameSync(`${log}.tmp`, log);
  await sleep(SANITIZED ? 1500 : 500);
  t.diagnostic(`planted while chatting: Alice ${alice.running ? 'still connected' : `exited ${alice.code}`}, ` +
    `Bob ${bob.running ? 'still connected' : `exited ${bob.code}`}`);
  for (const c of [alice, bob]) {
    if (c.running) {
      // Still here: a message is refused with a reason.
      const from = c.lines.length;
      c.send('hello');
      const answer = await c.waitFor((l) => l.startsWith('T Error: ') || l.endsWith('> hello'),
        WAIT_MS, { from });
      assert.match(answer, NOT_STORED);
      await c.waitForStderr(/symbolic links/);
    } else {
      // Gone: not without a word to the browser.
      assert.ok(c.out.some((l) => l.startsWith('T Error: ')),
        `${c.label} was disconnected without an error line\n${c.describe()}`);
    }
  }
  assertUntouched(target);
  assert.ok(fs.lstatSync(log).isSymbolicLink());
});

chatTest('symlink planted as a presence file: never written, the joiner gets another name', async (h, t) => {
  const target = plantTarget(h);
  fs.mkdirSync(h.p('users'));
  fs.symlinkSync(target, h.p('users', `${ROOM}_Alice`));
  const bob = await h.join(ROOM, { cookie: h.session('b', 'Bob:#0000ff'), label: 'Bob' });
  const alice = h.spawn(`/${ROOM}`, { cookie: h.session('a', 'Alice:#ff0000'), label: 'Alice' });
  const first = await alice.waitFor(/^T (Welcome|Error)/);
  t.diagnostic(`presence symlink: the joiner got ${JSON.stringify(first)}`);
  if (first.startsWith('T Error: ')) {
    alice.expectCode = 1;
    assert.equal(await alice.waitExit(), 1);
  } else {
    // The symlink is nobody's presence: Alice is in under another name.
    assert.match(first, /^T Welcome to the chat room lobby Alice\d+!$/);
    const name = first.split(' ').pop().replace(/!$/, '');
    await bob.waitFor(`T Userlist: ${name}:#ff0000,Bob:#0000ff,`);
    alice.send('/color #00ff00');
    await bob.waitFor(`T Userlist: ${name}:#00ff00,Bob:#0000ff,`);
    await alice.close();
  }
  await bob.close();
  assertUntouched(target);
  assert.ok(fs.lstatSync(h.p('users', `${ROOM}_Alice`)).isSymbolicLink());
});

chatTest('symlink planted as the room lock or the auth log: never written', async (h) => {
  const lockTarget = plantTarget(h, 'lock-target');
  const authTarget = plantTarget(h, 'auth-target');
  fs.mkdirSync(h.p('run'), { mode: 0o700 });
  fs.mkdirSync(h.p('log'));
  fs.symlinkSync(lockTarget, h.p('run', `${ROOM}.lock`));
  fs.symlinkSync(authTarget, h.p('log', 'authentization.log'));
  await assertRefused(h, h.session('a', 'Alice:#ff0000'), /^T Error: cannot lock the room$/,
    /symbolic links/);
  assertUntouched(lockTarget);
  fs.unlinkSync(h.p('run', `${ROOM}.lock`));
  // The auth log is not worth refusing a connection for; it is just not written.
  const alice = await h.join(ROOM, { cookie: h.session('a', 'Alice:#ff0000'), label: 'Alice' });
  alice.send('hello');
  await alice.waitFor('T Alice> hello');
  await alice.close();
  assertUntouched(authTarget);
  assert.match(alice.stderr, /auth log/);
});

for (const dir of ['rooms', 'users']) {
  chatTest(`${dir}/ planted as a symlink to a directory elsewhere: refused, nothing written there`, async (h) => {
    const elsewhere = path.join(h.root, 'elsewhere');
    fs.mkdirSync(elsewhere);
    fs.symlinkSync(elsewhere, h.p(dir));
    // O_DIRECTORY | O_NOFOLLOW on a symlink: ENOTDIR ("Not a directory").
    await assertRefused(h, h.session('a', 'Alice:#ff0000'),
      new RegExp(`^T Error: cannot open the ${dir} directory$`),
      new RegExp(`cannot open the ${dir} directory: `));
    assert.deepEqual(fs.readdirSync(elsewhere), []);
  });
}

// ---- modes --------------------------------------------------------------

/** Mode bits of everything under dir (relative path -> octal string). */
function modes(dir) {
  const out = {};
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, e.name);
      const st = fs.lstatSync(full);
      const rel = path.relative(dir, full);
      if (st.isDirectory()) {
        out[`${rel}/`] = (st.mode & 0o7777).toString(8).padStart(4, '0');
        walk(full);
      } else if (st.isFile()) {
        out[rel] = (st.mode & 0o7777).toString(8).padStart(4, '0');
      }
    }
  };
  walk(dir);
  return out;
}

// The defaults are what the old program's umask gave: the PHP pages read
// the files whichever user runs websocketd.
const MODE_CASES = [
  { umask: '000', keys: {}, fileMode: '0644', dirMode: '0755' },
  { umask: '077', keys: {}, fileMode: '0644', dirMode: '0755' },
  { umask: '022', keys: { FILE_MODE: '0640', DIR_MODE: '0750' }, fileMode: '0640', dirMode: '0750' },
  { umask: '022', keys: { FILE_MODE: '0600', DIR_MODE: '0700' }, fileMode: '0600', dirMode: '0700' },
  { umask: '077', keys: { FILE_MODE: '0664', DIR_MODE: '0775' }, fileMode: '0664', dirMode: '0775' },
];

for (const { umask, keys, fileMode, dirMode } of MODE_CASES) {
  const keyText = Object.entries(keys).map(([k, v]) => `${k}=${v}`).join(' ') || 'default modes';
  chatTest(`${keyText}, umask ${umask}: missing directories are created ${dirMode}, files ${fileMode}`, {
    // The rooms directory is three levels down a path that does not exist.
    configText: ['[global]', 'BASE_DIR={BASE}', 'ROOMS_DIR={BASE}/deep/er/rooms',
      ...Object.entries(keys).map(([k, v]) => `${k}=${v}`), ''].join('\n'),
  }, async (h) => {
    const alice = await h.join(ROOM, {
      cookie: h.session('a', 'Alice:#ff0000'), label: 'Alice', wrap: umaskWrap(umask),
    });
    alice.send('hello');
    await alice.waitFor('T Alice> hello');
    const seen = modes(h.base);
    await alice.close();
    delete seen['sessions/']; // the harness made it
    delete seen['sessions/sess_a'];
    // Made when the warden starts, which may be a little later.
    if (seen['log/warden.log']) assert.equal(seen['log/warden.log'], fileMode);
    delete seen['log/warden.log'];
    // No RUN_DIR in this config: the runtime state is elsewhere, private.
    assert.deepEqual(seen, {
      'deep/': dirMode,
      'deep/er/': dirMode,
      'deep/er/rooms/': dirMode,
      'deep/er/rooms/lobby.log': fileMode,
      'log/': dirMode,
      'log/authentization.log': fileMode,
      'users/': dirMode,
      'users/lobby_Alice': fileMode,
    });
  });
}

// ---- idle cost ----------------------------------------------------------

chatTest('a connection in an idle room uses no CPU (0 clock ticks in 10 s)', async (h, t) => {
  const alice = await h.join('idle', { cookie: h.session('a', 'Alice:#ff0000'), label: 'Alice' });
  await alice.waitFor('T Userlist: Alice:#ff0000,');
  await sleep(1000); // the first wakeups after the join are over
  const before = cpuTicks(alice.pid);
  await sleep(10000);
  const after = cpuTicks(alice.pid);
  t.diagnostic(`idle connection: ${after - before} clock ticks of CPU in 10 s (${before} before)`);
  assert.equal(after - before, 0, 'an idle connection did work');
  assert.ok(alice.running);
});
