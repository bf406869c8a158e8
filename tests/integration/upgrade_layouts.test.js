'use strict';
// Upgrading an installation of the old bash program in place (legacy
// contract §10): its two documented layouts, its ini under its old name
// passed with --config as the upgraded websocketd command line does, and no
// other step.  Then the old PHP pages' reads, reproduced in legacy_pages/
// and run with php-cli as www-data, must see what they saw before: the
// members present (and nothing else) in users/, the room logs (and nothing
// else) in rooms/, and every line of a log.
//
// - "installation.txt": BASE_DIR made by root (0755), chat_server run as
//   root (websocketd started by the old start script), the pages as
//   www-data.  chat_server makes rooms/, users/ and log/ itself.
// - "README": BASE_DIR owned by root (0755), sessions/ users/ rooms/ log/
//   owned by www-data, chat_server run as www-data.
//
// The test runs as root (CI does) and needs the www-data user, php-cli and
// logrotate (.ci/install-deps installs both).
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { chatTest, BIN, BAD_STDERR, WAIT_MS, sleep, stopWardens } = require('./harness');

const PAGES = path.join(__dirname, 'legacy_pages');
const ROOM = 'lobby';
const OLD_INI = 'websocketd_with_webrtc_chat.ini';
const BASE_ENTRIES = ['log', 'rooms', 'sessions', 'users'];
const LOGROTATE = ['/usr/sbin/logrotate', '/sbin/logrotate', '/usr/bin/logrotate']
  .find((p) => fs.existsSync(p));
const SHIPPED_RULE = path.resolve(__dirname, '../../conf/logrotate.d/chat_server');
// A member killed with SIGKILL must be gone from users/ within this.
const REAP_MS = 10000;

const USERS = [
  { sid: 'alicesess01', value: 'Alice:#ff0000' },
  { sid: 'bobsess0002', value: 'Bob:#00aa00' },
  { sid: 'carolsess03', value: 'Carol:#0000ff' },
];

/** uid and gid of www-data, the user of the pages (and of one layout). */
function wwwData() {
  const id = (flag) => {
    const r = spawnSync('id', [flag, 'www-data'], { encoding: 'utf8' });
    assert.equal(r.status, 0, `this test needs the www-data user: ${r.stderr}`);
    return Number(r.stdout.trim());
  };
  return { uid: id('-u'), gid: id('-g') };
}

const mode = (p) => fs.statSync(p).mode & 0o7777;
const octal = (m) => `0${m.toString(8)}`;

function assertMode(p, want, owner) {
  const st = fs.statSync(p);
  assert.equal(octal(st.mode & 0o7777), octal(want), `mode of ${p}`);
  if (owner !== undefined) assert.equal(st.uid, owner, `owner of ${p}`);
}

/** mkdir and writeFile with exactly this mode, whatever the umask. */
function mkdirMode(p, m, owner) {
  fs.mkdirSync(p);
  fs.chmodSync(p, m);
  if (owner) fs.chownSync(p, owner.uid, owner.gid);
}

function writeMode(p, text, m) {
  fs.writeFileSync(p, text);
  fs.chmodSync(p, m);
}

/**
 * Records every name that shows up in dir: inotify's create, delete and
 * rename events (so a file that exists for a microsecond is seen too) and
 * a listing every few ms.  The directory need not exist yet; it is watched
 * from when it does.  Change events are not names: a file opened with
 * O_TMPFILE, which has none until it is linked, is reported by the kernel
 * as "#<inode>" while it is written.
 */
class NameWatch {
  constructor(dir, allowed, what) {
    this.dir = dir;
    this.allowed = allowed;
    this.what = what;
    this.seen = new Set();
    this.bad = new Set();
    this.samples = 0;
    this.watcher = null;
    this.timer = setInterval(() => this.sample(), 3);
    this.sample();
  }

  see(name) {
    if (name === null || name === undefined) return;
    const n = String(name);
    this.seen.add(n);
    if (!this.allowed(n)) this.bad.add(n);
  }

  sample() {
    let names;
    try {
      names = fs.readdirSync(this.dir);
    } catch (err) {
      if (err.code === 'ENOENT') return;
      throw err;
    }
    if (!this.watcher) {
      try {
        this.watcher = fs.watch(this.dir, (event, name) => {
          if (event === 'rename') this.see(name);
        });
        this.watcher.on('error', () => {});
      } catch { /* removed meanwhile */ }
    }
    this.samples++;
    names.forEach((n) => this.see(n));
  }

  stop() {
    clearInterval(this.timer);
    if (this.watcher) this.watcher.close();
  }

  check() {
    assert.ok(this.samples > 0, `${this.what} was never looked at`);
    assert.deepEqual([...this.bad], [],
      `${this.what} held other names at some moment (all names seen: ` +
      `${[...this.seen].join(', ')})`);
  }
}

/**
 * Runs one of the pages' reads (legacy_pages/<script>) with php-cli as
 * www-data, with every error shown; fails on any PHP warning or notice.
 */
function page(ctx, script, ...args) {
  const r = spawnSync('php', ['-d', 'display_errors=1', '-d', 'error_reporting=-1',
    '-d', 'log_errors=0', path.join(ctx.pages, script), ...args], {
    encoding: 'utf8', uid: ctx.www.uid, gid: ctx.www.gid, cwd: ctx.pages,
    env: { PATH: process.env.PATH }, timeout: 4 * WAIT_MS,
  });
  if (r.error && r.error.code === 'ENOENT') {
    assert.fail('php is not installed: this test runs the old PHP pages\' reads with ' +
      'php-cli (apt-get install php-cli; .ci/install-deps installs it)');
  }
  assert.ifError(r.error);
  const all = `${r.stdout}${r.stderr}`;
  assert.doesNotMatch(all, /^(PHP )?(Warning|Notice|Deprecated|Fatal error|Parse error|Error)\b/m,
    `${script} ${args.join(' ')} as www-data: PHP complained:\n${all}`);
  return { status: r.status, out: r.stdout, lines: r.stdout.split('\n').filter(Boolean) };
}

/** The pages' view: the room list, the history list, and one history. */
function roomList(ctx) {
  const r = page(ctx, 'room_list.php', ctx.base, ctx.ini);
  assert.equal(r.status, 0, `room_list.php failed:\n${r.out}`);
  return r.lines;
}

function historyList(ctx) {
  const r = page(ctx, 'room_list_historical.php', ctx.base);
  assert.equal(r.status, 0, `room_list_historical.php failed:\n${r.out}`);
  return r.lines.map((l) => {
    const [name, size, mtime] = l.split('\t');
    return { name, size: Number(size), mtime };
  });
}

function history(ctx, file) {
  const r = page(ctx, 'room_history.php', ctx.base, file);
  assert.equal(r.status, 0, `room_history.php ${file} as www-data failed ` +
    `(status ${r.status}):\n${r.out}`);
  return r.lines;
}

/** The old ini: the old keys and [room descriptions], nothing new. */
function oldIni(base) {
  return [
    '; The config of the bash chat server, as it was.',
    '[global]',
    `BASE_DIR=${base}`,
    'LANG=C.UTF-8',
    'ICE_SERVER_DNS=stun.example.org',
    'WEBSOCKETD_SERVER_URL=wss://chat.example.org/chat/rooms/',
    '',
    '[room descriptions]',
    'lobby="Where everybody starts"',
    '',
  ].join('\n');
}

/** chat_server --config <old ini> with one of the admin options. */
function admin(ctx, option) {
  const r = spawnSync(ctx.bin, ['--config', ctx.ini, option], {
    encoding: 'utf8', cwd: ctx.root, env: { PATH: process.env.PATH },
    timeout: 4 * WAIT_MS, ...(ctx.chatUser || {}),
  });
  assert.ifError(r.error);
  for (const bad of BAD_STDERR) {
    assert.ok(!r.stderr.includes(bad), `chat_server ${option}: stderr has "${bad}":\n${r.stderr}`);
  }
  return r;
}

/** logrotate with the shipped rule, pointed at this BASE_DIR and old ini. */
function rotate(ctx) {
  assert.ok(LOGROTATE, 'logrotate is not installed (apt-get install logrotate; .ci/install-deps does)');
  let rule = fs.readFileSync(SHIPPED_RULE, 'utf8')
    .replace('/var/lib/chat_server/rooms/*.log', `${path.join(ctx.base, 'rooms')}/*.log`)
    .replaceAll('/usr/bin/chat_server', `${ctx.bin} --config ${ctx.ini}`);
  // The rule's su names the owner of rooms/: root in the installation.txt
  // layout, where chat_server runs as root.
  if (!ctx.chatUser) rule = rule.replace(/^\s*su www-data www-data\n/m, '');
  assert.ok(rule.includes(`${ctx.bin} --config ${ctx.ini} --pause-appends`), `the shipped rule changed:\n${rule}`);
  const conf = path.join(ctx.root, 'logrotate.conf');
  writeMode(conf, rule, 0o644);
  const r = spawnSync(LOGROTATE, ['-f', '-s', path.join(ctx.root, 'logrotate.state'), conf], {
    encoding: 'utf8', cwd: ctx.root, timeout: 6 * WAIT_MS,
  });
  assert.ifError(r.error);
  assert.equal(r.status, 0, `logrotate failed:\n${r.stdout}${r.stderr}`);
  assert.equal(`${r.stdout}${r.stderr}`.trim(), '', 'logrotate complained');
}

/**
 * Sets up one layout in h's temp dir.  Returns the context every helper
 * above takes.
 */
function setUp(h, layout) {
  assert.equal(process.getuid(), 0,
    'this test builds root-owned installations and runs processes as www-data: run it as root');
  const www = wwwData();
  const asWww = layout === 'README';
  // mkdtemp made the root 0700: www-data must get through it.
  fs.chmodSync(h.root, 0o755);
  fs.chmodSync(h.cwd, 0o755);
  fs.chmodSync(h.base, 0o755);
  const base = h.base;
  // sessions/ belongs to the pages (PHP's session.save_path); the session
  // files are PHP's: www-data's, 0600.
  mkdirMode(path.join(base, 'sessions'), 0o755, www);
  if (asWww) {
    for (const d of ['users', 'rooms', 'log']) mkdirMode(path.join(base, d), 0o755, www);
  }
  // The old ini under its old name, readable by www-data.  BASE_DIR is
  // written as installation.txt wrote it, with a trailing slash.
  const ini = path.join(h.root, OLD_INI);
  writeMode(ini, oldIni(asWww ? base : `${base}/`), 0o644);
  // What runs as www-data must be reachable by www-data, wherever the
  // checkout is: a copy of the binary and of the pages in the temp dir.
  let bin = BIN;
  if (asWww) {
    mkdirMode(path.join(h.root, 'bin'), 0o755);
    bin = path.join(h.root, 'bin', 'chat_server');
    fs.copyFileSync(BIN, bin);
    fs.chmodSync(bin, 0o755);
  }
  const pages = path.join(h.root, 'pages');
  mkdirMode(pages, 0o755);
  for (const f of fs.readdirSync(PAGES)) {
    fs.copyFileSync(path.join(PAGES, f), path.join(pages, f));
    fs.chmodSync(path.join(pages, f), 0o644);
  }
  const ctx = {
    h, layout, www, base, ini, bin, pages, root: h.root,
    chatUser: asWww ? { uid: www.uid, gid: www.gid } : null,
    chatUid: asWww ? www.uid : 0,
    runDir: null, // the run directory, once --check has told it
  };
  // The wardens members started outlive them by design; then the run
  // directory they all used, outside the temp dir, goes too.
  h.defer(async () => {
    await stopWardens(ini);
    if (ctx.runDir) fs.rmSync(ctx.runDir, { recursive: true, force: true });
  });
  return ctx;
}

/** A member joins: websocketd's environment, the old ini on the command line. */
function join(ctx, user) {
  return ctx.h.join(ROOM, {
    cookie: `PHPSESSID=${user.sid}`,
    config: false,
    args: ['--config', ctx.ini],
    bin: ctx.bin,
    spawn: ctx.chatUser || {},
    label: `${user.value.split(':')[0]}(${ctx.layout})`,
  });
}

/** Writes the session files as PHP does: name:color, www-data's, 0600. */
function writeSessions(ctx) {
  for (const u of USERS) {
    ctx.h.session(u.sid, u.value);
    const f = path.join(ctx.base, 'sessions', `sess_${u.sid}`);
    fs.chownSync(f, ctx.www.uid, ctx.www.gid);
    fs.chmodSync(f, 0o600);
  }
}

const userlist = (...names) => `T Userlist: ${names.join('')}`;

async function upgradeScenario(h, layout) {
  const ctx = setUp(h, layout);
  const { base } = ctx;
  writeSessions(ctx);

  // What the directories may hold, at every moment.
  const presence = /^lobby_(Alice|Bob|Carol)$/;
  const watches = [
    new NameWatch(base, (n) => BASE_ENTRIES.includes(n),
      'BASE_DIR (only sessions/ users/ rooms/ log/)'),
    new NameWatch(path.join(base, 'users'), (n) => presence.test(n),
      'users/ (only presence files <room>_<name>)'),
    new NameWatch(path.join(base, 'rooms'),
      (n) => /^lobby\.log(-\d{8})?$/.test(n) || n === '.rotating',
      'rooms/ (only <room>.log, its rotated copies and the marker .rotating)'),
    new NameWatch(path.join(base, 'log'),
      (n) => n === 'authentization.log' || n === 'warden.log',
      'log/ (only authentization.log and warden.log)'),
  ];
  h.defer(() => watches.forEach((w) => w.stop()));

  // Three members join and chat.
  const alice = await join(ctx, USERS[0]);
  const bob = await join(ctx, USERS[1]);
  const carol = await join(ctx, USERS[2]);
  assert.deepEqual([alice.name, bob.name, carol.name], ['Alice', 'Bob', 'Carol']);
  await alice.waitFor(userlist('Alice:#ff0000,', 'Bob:#00aa00,', 'Carol:#0000ff,'));
  alice.send('hello from alice');
  await carol.waitFor('T Alice> hello from alice');
  bob.send('hi alice');
  await alice.waitFor('T Bob> hi alice');

  // The history page, as www-data, reads the log (created 0640 by root,
  // it could not).
  assert.ok(history(ctx, `${ROOM}.log`).some((l) => l.endsWith('] Alice> hello from alice')),
    'room_history.php does not show the chat');

  // The files the pages read are readable by everyone: 0644.
  const fileMode = 0o644;
  assertMode(path.join(base, 'rooms', `${ROOM}.log`), fileMode, ctx.chatUid);
  for (const n of ['Alice', 'Bob', 'Carol']) {
    assertMode(path.join(base, 'users', `${ROOM}_${n}`), fileMode, ctx.chatUid);
  }
  assertMode(path.join(base, 'log', 'authentization.log'), fileMode, ctx.chatUid);
  if (layout === 'installation.txt') {
    // Made by chat_server (as root): 0755, so that www-data lists them.
    for (const d of ['rooms', 'users', 'log']) assertMode(path.join(base, d), 0o755, 0);
  } else {
    for (const d of ['rooms', 'users', 'log']) assertMode(path.join(base, d), 0o755, ctx.www.uid);
  }

  // /color: the presence file gets the colour, then the user list, then
  // the result line (so that the old client shows it in the new colour).
  bob.send('/color #123456');
  await alice.waitFor('T Bob>  Changed color to #123456');
  assert.equal(fs.readFileSync(path.join(base, 'users', `${ROOM}_Bob`), 'utf8'), '#123456\n');
  {
    const log = h.log(ROOM);
    const changed = log.indexOf('T Bob>  Changed color to #123456');
    const list = log.indexOf(userlist('Alice:#ff0000,', 'Bob:#123456,', 'Carol:#0000ff,'));
    assert.ok(list >= 0 && list < changed,
      `the user list with the new colour must come before the result line:\n${log.join('\n')}`);
  }

  // The room list page sees the three, and the stable room of the ini.
  assert.deepEqual(roomList(ctx).sort(), [
    'lobby\tAlice', 'lobby\tBob', 'lobby\tCarol', 'stable\tlobby\tWhere everybody starts',
  ]);

  // Carol leaves; Bob is killed.
  await carol.close();
  await alice.waitFor(userlist('Alice:#ff0000,', 'Bob:#123456,'));
  const beforeKill = alice.lines.length;
  bob.kill('SIGKILL');
  await bob.exited;
  const bobFile = path.join(base, 'users', `${ROOM}_Bob`);
  const killedAt = Date.now();
  while (fs.existsSync(bobFile)) {
    assert.ok(Date.now() - killedAt < REAP_MS,
      `the presence file of a member killed with SIGKILL is still there after ${REAP_MS} ms`);
    await sleep(20);
  }
  // Nobody is shown present who is not.
  await alice.waitFor(userlist('Alice:#ff0000,'), REAP_MS, { from: beforeKill });

  // The pages, as www-data.
  assert.deepEqual(roomList(ctx), ['lobby\tAlice', 'stable\tlobby\tWhere everybody starts']);
  let histories = historyList(ctx);
  assert.deepEqual(histories.map((x) => x.name), [`${ROOM}.log`]);
  assert.equal(histories[0].size, fs.statSync(path.join(base, 'rooms', `${ROOM}.log`)).size);
  assert.match(histories[0].mtime, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
  let lines = history(ctx, `${ROOM}.log`);
  for (const want of ['T Alice> hello from alice', 'T Bob> hi alice',
    'T Bob>  Changed color to #123456', 'T Carol quit the lobby']) {
    assert.ok(lines.some((l) => l.replace(/^\[\d\d:\d\d:\d\d\]/, 'T') === want),
      `room_history.php as www-data does not show ${JSON.stringify(want)}:\n${lines.join('\n')}`);
  }

  // --check as the chat's user: the directories are fine, and the runtime
  // state is somewhere else than BASE_DIR.
  const check = admin(ctx, '--check');
  const checkOut = `${check.stdout}${check.stderr}`;
  for (const what of ['rooms directory', 'users directory', 'log directory',
    'sessions directory', 'run directory']) {
    const line = checkOut.split('\n').find((l) => l.includes(what));
    assert.ok(line && /^ok\b/.test(line), `chat_server --check on ${what}:\n${checkOut}`);
  }
  const run = /run directory (\/\S+): mode 0700, owner uid (\d+)/.exec(checkOut);
  assert.ok(run, `chat_server --check names no run directory:\n${checkOut}`);
  assert.ok(!run[1].startsWith(`${base}/`) && !run[1].startsWith(`${h.root}/`),
    `the run directory ${run[1]} is inside the installation`);
  assert.equal(Number(run[2]), ctx.chatUid);
  assertMode(run[1], 0o700, ctx.chatUid);
  if (/^\/(run|dev\/shm|tmp)\/chat_server[^/]*\/[0-9a-f]+-[0-9a-f]+$/.test(run[1])) {
    ctx.runDir = run[1];
  }

  // --reap as the chat's user leaves a live member alone.
  const reap = admin(ctx, '--reap');
  assert.equal(reap.status, 0, `chat_server --reap:\n${reap.stdout}${reap.stderr}`);
  assert.ok(fs.existsSync(path.join(base, 'users', `${ROOM}_Alice`)), '--reap removed a live member');

  // The recommended logrotate rule; the rotated copy is a history too.
  rotate(ctx);
  assert.ok(!fs.existsSync(path.join(base, 'rooms', '.rotating')), 'the rotation left its marker');
  alice.send('after the rotation');
  await alice.waitFor('T Alice> after the rotation');
  const copies = fs.readdirSync(path.join(base, 'rooms')).filter((n) => /^lobby\.log-\d{8}$/.test(n));
  assert.equal(copies.length, 1, `rotated copies: ${copies.join(', ')}`);
  assertMode(path.join(base, 'rooms', copies[0]), fileMode);
  histories = historyList(ctx);
  assert.deepEqual(histories.map((x) => x.name).sort(), [`${ROOM}.log`, copies[0]].sort());
  lines = history(ctx, copies[0]);
  assert.ok(lines.some((l) => l.endsWith('] Alice> hello from alice')), lines.join('\n'));
  lines = history(ctx, `${ROOM}.log`);
  assert.ok(lines.some((l) => l.endsWith('] Alice> after the rotation')), lines.join('\n'));

  // Alice leaves: nobody is left, and the pages say so.
  await alice.close();
  await h.waitForLog(ROOM, (l) => l.at(-1) === 'T Userlist: ');
  assert.deepEqual(roomList(ctx), ['stable\tlobby\tWhere everybody starts']);

  // BASE_DIR got nothing but its four directories (no run/), and every
  // directory held only what it may, at every moment it was looked at.
  await sleep(50);
  watches.forEach((w) => w.stop());
  watches.forEach((w) => w.check());
  assert.deepEqual(fs.readdirSync(base).sort(), BASE_ENTRIES);
  assertMode(base, 0o755, 0);
}

chatTest('upgrade in place, installation.txt layout: root-owned BASE_DIR, chat as root, pages as www-data',
  async (h) => {
    await upgradeScenario(h, 'installation.txt');
  });

chatTest('upgrade in place, README layout: root-owned BASE_DIR, chat and pages as www-data',
  async (h) => {
    await upgradeScenario(h, 'README');
  });

// The reproduced room list is as strict as the old page: a stray file in
// users/ shows up as a room, with PHP's warning.  So the tests above would
// see a lock or temporary file if chat_server left one there.
chatTest('the reproduced room list page shows a stray file in users/, and PHP warns', async (h) => {
  const ctx = setUp(h, 'installation.txt');
  mkdirMode(path.join(ctx.base, 'users'), 0o755);
  writeMode(path.join(ctx.base, 'users', `${ROOM}_Alice`), '#ff0000\n', 0o644);
  writeMode(path.join(ctx.base, 'users', `.${ROOM}.lock`), '', 0o644);
  assert.throws(() => roomList(ctx), /Undefined array key 1/);
  fs.rmSync(path.join(ctx.base, 'users', `.${ROOM}.lock`));
  assert.deepEqual(roomList(ctx).sort(), ['lobby\tAlice', 'stable\tlobby\tWhere everybody starts']);
  // And a log the pages may not read fails the history page.
  mkdirMode(path.join(ctx.base, 'rooms'), 0o755);
  writeMode(path.join(ctx.base, 'rooms', `${ROOM}.log`), '[12:00:00] Alice> hi\n', 0o640);
  assert.throws(() => history(ctx, `${ROOM}.log`), /Permission denied/);
  assert.equal(mode(path.join(ctx.base, 'rooms', `${ROOM}.log`)), 0o640);
});
