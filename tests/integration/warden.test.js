'use strict';
// Members that die without leaving (SIGKILL, the OOM killer, websocketd's
// escalation in a storm of disconnects) are noticed by the warden
// (src/warden.h) within seconds, with no activity in the room and no
// polling: one quit line each, a fresh user list, users/ clean.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const WebSocket = require('ws');
const { chatTest, SANITIZED, WAIT_MS, sleep, cpuTicks, tunables } = require('./harness');
const { startWebsocketd } = require('./wsd');

const ROOM = 'lobby';
const TEN_SECONDS = 10000;

function count(lines, line) {
  return lines.filter((l) => l === line).length;
}

async function waitFor(what, pred, timeoutMs) {
  const end = Date.now() + timeoutMs;
  while (!(await pred())) {
    if (Date.now() > end) throw new Error(`timeout (${timeoutMs} ms) waiting for ${what}`);
    await sleep(20);
  }
}

async function aliceAndBob(h) {
  const alice = await h.join(ROOM, { cookie: h.session('a', 'Alice:#f00'), label: 'Alice' });
  const bob = await h.join(ROOM, { cookie: h.session('b', 'Bob:#00f'), label: 'Bob' });
  await alice.waitFor('T Userlist: Alice:#f00,Bob:#00f,');
  return { alice, bob };
}

/** Bob is SIGKILLed in a silent room: Alice hears of it within 10 s. */
async function expectReaped(h, alice, bob) {
  const from = alice.lines.length;
  bob.kill('SIGKILL');
  await bob.exited;
  const t0 = Date.now();
  await alice.waitFor('T Bob quit the lobby', TEN_SECONDS, { from });
  await alice.waitFor('T Userlist: Alice:#f00,', TEN_SECONDS, { from });
  const took = Date.now() - t0;
  await waitFor('users/ to hold Alice alone',
    () => fs.readdirSync(h.p('users')).join() === `${ROOM}_Alice`, TEN_SECONDS - took);
  const log = h.log(ROOM);
  assert.equal(count(log, 'T Bob quit the lobby'), 1, log.join('\n'));
  const quit = log.indexOf('T Bob quit the lobby');
  assert.equal(log.slice(quit + 1).find((l) => l.startsWith('T Userlist: ')),
    'T Userlist: Alice:#f00,', log.join('\n'));
  return took;
}

chatTest('a member killed in a silent room is gone within 10 s: one quit line, a new user list', async (h, t) => {
  const { alice, bob } = await aliceAndBob(h);
  const took = await expectReaped(h, alice, bob);
  t.diagnostic(`Bob's quit reached Alice ${took} ms after his death`);
  assert.match(fs.readFileSync(h.p('log', 'warden.log'), 'utf8'),
    /lobby: 1 member whose process had died removed/);
  // Nothing else happens: no second quit, no more lines.
  const lines = alice.lines.length;
  await sleep(500);
  assert.equal(alice.lines.length, lines, alice.describe());
});

chatTest('an idle room costs nothing, the warden included (0 clock ticks in 5 s)', async (h, t) => {
  const { alice, bob } = await aliceAndBob(h);
  // The first member starts the warden after its welcome, by a double fork.
  await waitFor('the warden', () => h.wardens().length > 0, WAIT_MS);
  const [warden] = h.wardens();
  await sleep(500);
  const pids = [alice.pid, bob.pid, warden];
  const before = pids.map(cpuTicks);
  await sleep(5000);
  const used = pids.map((p, i) => cpuTicks(p) - before[i]);
  t.diagnostic(`clock ticks in 5 s: Alice ${used[0]}, Bob ${used[1]}, warden ${used[2]}`);
  assert.deepEqual(used, [0, 0, 0]);
});

// The warden lives as long as the host: it runs without glibc's per-thread
// cache of freed blocks, whose blocks pin heap pages (src/main.c); the
// members, started once per connection, do not pay a second exec for it.
chatTest('the warden runs with glibc\'s tcache off, the members as they were started', async (h) => {
  const { alice } = await aliceAndBob(h);
  await waitFor('the warden', () => h.wardens().length > 0, WAIT_MS);
  const [warden] = h.wardens();
  assert.equal(tunables(warden), 'glibc.malloc.tcache_count=0');
  assert.equal(tunables(alice.pid), undefined);
});

chatTest('the warden killed too: the members start another, which reaps', async (h) => {
  const { alice, bob } = await aliceAndBob(h);
  await waitFor('the warden', () => h.wardens().length > 0, WAIT_MS);
  const [first] = h.wardens();
  process.kill(first, 'SIGKILL');
  await waitFor('a new warden', () => h.wardens().some((p) => p !== first), WAIT_MS);
  assert.equal(h.wardens().filter((p) => p !== first).length, 1, 'more than one warden');
  await expectReaped(h, alice, bob);
});

// Room locks are "<room>.lock" in the run directory; the warden's own lock
// must be a name no room can have.
chatTest('a room named like the warden works, and its dead are reaped too', async (h) => {
  const alice = await h.join('warden', { cookie: h.session('a', 'Alice:#f00'), label: 'Alice' });
  const bob = await h.join('warden', { cookie: h.session('b', 'Bob:#00f'), label: 'Bob' });
  await alice.waitFor('T Userlist: Alice:#f00,Bob:#00f,');
  const from = alice.lines.length;
  bob.kill('SIGKILL');
  await bob.exited;
  await alice.waitFor('T Bob quit the warden', TEN_SECONDS, { from });
  await alice.waitFor('T Userlist: Alice:#f00,', TEN_SECONDS, { from });
  assert.equal(await alice.close(), 0);
  assert.equal(count(h.log('warden'), 'T Alice quit the warden'), 1);
});

chatTest('one warden for many joins, and it ends once everybody left', async (h) => {
  const members = [];
  for (let i = 0; i < 6; i++) {
    members.push(await h.join(i % 2 ? ROOM : 'other', { label: `m${i}` }));
  }
  await waitFor('the warden', () => h.wardens().length > 0, WAIT_MS);
  assert.equal(h.wardens().length, 1);
  await Promise.all(members.map((m) => m.close()));
  // It lingers a little (WARDEN_LINGER_MS), then ends by itself.
  await waitFor('the warden to end', () => h.wardens().length === 0, 5000 + 4 * WAIT_MS);
});

chatTest('chat_server --reap removes dead members, logging each quit once', async (h) => {
  await h.holdWardenLock(); // the files stay until --reap
  const { alice, bob } = await aliceAndBob(h);
  const carol = await h.join('other', { cookie: h.session('c', 'Carol:#0f0'), label: 'Carol' });
  for (const c of [bob, carol]) {
    c.kill('SIGKILL');
    await c.exited;
  }
  assert.deepEqual(fs.readdirSync(h.p('users')).sort(), ['lobby_Alice', 'lobby_Bob', 'other_Carol']);
  const reap = h.spawn(undefined, { args: ['--reap'], label: 'reap' });
  assert.equal(await reap.waitExit(), 0, reap.describe());
  assert.deepEqual(reap.lines, ['chat_server --reap: 2 dead members removed']);
  assert.deepEqual(fs.readdirSync(h.p('users')), ['lobby_Alice']);
  await alice.waitFor('T Bob quit the lobby');
  await alice.waitFor('T Userlist: Alice:#f00,');
  assert.deepEqual(h.log('other').slice(-2), ['T Carol quit the other', 'T Userlist: ']);
  const again = h.spawn(undefined, { args: ['--reap'], label: 'reap again' });
  assert.equal(await again.waitExit(), 0, again.describe());
  assert.deepEqual(again.lines, ['chat_server --reap: 0 dead members removed']);
  assert.equal(count(h.log(ROOM), 'T Bob quit the lobby'), 1);
});

chatTest('runtime files nobody uses are collected; those in use stay', async (h) => {
  const alice = await h.join(ROOM, { cookie: h.session('a', 'Alice:#f00'), label: 'Alice' });
  const run = h.p('run');
  const hourAgo = new Date(Date.now() - 3600 * 1000);
  fs.writeFileSync(path.join(run, 'gone-room.lock'), '');
  fs.mkdirSync(path.join(run, 'conn'), { recursive: true, mode: 0o700 });
  const slot = path.join(run, 'conn', '198.51.100.7.0');
  fs.writeFileSync(slot, '');
  fs.utimesSync(slot, hourAgo, hourAgo);
  const fresh = path.join(run, 'conn', '198.51.100.8.0');
  fs.writeFileSync(fresh, '');
  const reap = h.spawn(undefined, { args: ['--reap'], label: 'reap' });
  assert.equal(await reap.waitExit(), 0, reap.describe());
  const left = fs.readdirSync(run);
  assert.ok(!left.includes('gone-room.lock'), left.join());
  assert.ok(left.some((n) => n.startsWith('inbox-')), `Alice's inbox went: ${left}`);
  assert.ok(left.includes('.warden.lock'), left.join());
  assert.deepEqual(fs.readdirSync(path.join(run, 'conn')), ['198.51.100.8.0']);
  alice.send('still here');
  await alice.waitFor('T Alice> still here');
});

/** Raises fs.inotify.max_user_instances for the test when it can. */
function raiseInotify(h, need) {
  const file = '/proc/sys/fs/inotify/max_user_instances';
  const old = Number(fs.readFileSync(file, 'utf8'));
  if (old >= need) return;
  try {
    fs.writeFileSync(file, String(need));
    h.defer(() => fs.writeFileSync(file, String(old)));
  } catch {
    // Past the limit members poll: slower, still correct.
  }
}

/** Opens n WebSockets, a few at a time; resolves once every welcome came. */
async function openAll(url, n, rooms) {
  const sockets = [];
  let next = 0;
  const one = async () => {
    while (next < n) {
      const i = next++;
      const ws = new WebSocket(`${url}/room${i % rooms}`);
      sockets.push(ws);
      await new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`socket ${i}: no welcome`)), 60000);
        ws.on('message', (m) => {
          if (String(m).includes('Welcome to the chat room')) { clearTimeout(timer); resolve(); }
        });
        ws.on('error', (err) => { clearTimeout(timer); reject(err); });
      });
    }
  };
  await Promise.all(Array.from({ length: 16 }, one));
  return sockets;
}

const STORM = SANITIZED ? 300 : 3000;
const STORM_ROOMS = STORM / 100;

chatTest(`${STORM} connections through websocketd dropped at once: one quit line each, users/ empty within 10 s`, {
  timeout: 15 * 60 * 1000,
}, async (h, t) => {
  raiseInotify(h, STORM + 256);
  // Each connection costs websocketd a socket and three pipes.
  const wsd = await startWebsocketd(h, { wrap: ['prlimit', `--nofile=${4 * STORM + 1024}`] });
  const t0 = Date.now();
  const sockets = await openAll(`ws://127.0.0.1:${wsd.port}`, STORM, STORM_ROOMS);
  t.diagnostic(`${STORM} joined in ${Date.now() - t0} ms`);
  const joined = () => fs.readdirSync(h.p('users')).length;
  await waitFor('every presence file', () => joined() === STORM, 4 * WAIT_MS);
  // The client machine dies: no close frames, the TCP connections just end.
  const dropped = Date.now();
  for (const ws of sockets) ws.terminate();
  const settled = () => {
    if (fs.readdirSync(h.p('users')).length) return false;
    for (let r = 0; r < STORM_ROOMS; r++) {
      const log = h.log(`room${r}`);
      const joins = log.filter((l) => / joined the room\d+$/.test(l)).length;
      const quits = log.filter((l) => / quit the room\d+$/.test(l)).length;
      if (joins !== quits) return false;
    }
    return true;
  };
  const limit = SANITIZED ? 3 * TEN_SECONDS : TEN_SECONDS;
  try {
    await waitFor('every quit line and an empty users/', settled, limit);
  } finally {
    const missing = [];
    for (let r = 0; r < STORM_ROOMS; r++) {
      const log = h.log(`room${r}`);
      const joins = log.filter((l) => / joined the room\d+$/.test(l)).length;
      const quits = log.filter((l) => / quit the room\d+$/.test(l)).length;
      if (joins !== quits) missing.push(`room${r}: ${joins} joins, ${quits} quits`);
    }
    t.diagnostic(`after ${Date.now() - dropped} ms: ${fs.readdirSync(h.p('users')).length} ` +
      `presence files left; ${missing.join('; ') || 'every quit logged'}`);
    if (missing.length) {
      t.diagnostic(wsd.log().split('\n').filter((l) => l.includes('| stderr ')).slice(0, 20).join('\n'));
    }
  }
  // Exactly one quit for every join, name by name.
  for (let r = 0; r < STORM_ROOMS; r++) {
    const log = h.log(`room${r}`);
    const names = (re) => log.map((l) => l.match(re)).filter(Boolean).map((m) => m[1]).sort();
    const joins = names(new RegExp(`^T (\\S+) joined the room${r}$`));
    assert.equal(joins.length, 100);
    assert.deepEqual(names(new RegExp(`^T (\\S+) quit the room${r}$`)), joins);
    assert.equal(log.filter((l) => l.startsWith('T Userlist: ')).at(-1), 'T Userlist: ');
  }
  await wsd.stop();
  const ours = wsd.log().split('\n').filter((l) => l.includes('| stderr '));
  for (const bad of ['AddressSanitizer', 'runtime error:']) {
    assert.ok(!ours.some((l) => l.includes(bad)), ours.join('\n'));
  }
});
