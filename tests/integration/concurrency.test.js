'use strict';
// Many processes at once, and processes that die without cleanup
// (contract sections 3-4: atomic names, no dead user shown as present).
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { chatTest, WAIT_MS } = require('./harness');

const userlists = (lines) => lines.filter((l) => l.startsWith('T Userlist: '));

/** Fails when a user list has an entry without a colour ("name:,"). */
function assertNoEmptyColour(lines) {
  for (const l of userlists(lines)) {
    const body = l.slice('T Userlist: '.length);
    assert.ok(body === '' || /^([^:,]+:[^:,]+,)+$/.test(body), `malformed user list: ${JSON.stringify(l)}`);
  }
}

function entries(line) {
  const body = line.slice('T Userlist: '.length);
  return body === '' ? [] : body.slice(0, -1).split(',');
}

/** Starts n anonymous clients at the same moment; resolves when all are in. */
async function joinMany(h, n, room) {
  const starts = Array.from({ length: n }, () => h.join(room, { timeout: 6 * WAIT_MS }));
  return Promise.all(starts);
}

async function assertAllJoined(h, clients, room) {
  const n = clients.length;
  const names = clients.map((c) => c.name);
  assert.equal(new Set(names).size, n, `duplicate names: ${names.sort().join(' ')}`);
  // The welcome comes before the joiner's user list (the contract's order):
  // the last joiner may still be appending its list.
  const log = await h.waitForLog(room, (l) => userlists(l).length >= n);
  assertNoEmptyColour(log);
  const lists = userlists(log);
  assert.equal(lists.length, n);
  assert.deepEqual(entries(lists[n - 1]).sort(), names.map((x) => `${x}:Gray`).sort(),
    'the last user list after all joins does not list everybody');
  assert.equal(log.filter((l) => l.endsWith(` joined the ${room}`)).length, n);
}

function assertAllLeft(h, clients, room) {
  const log = h.log(room);
  for (const c of clients) {
    const quits = log.filter((l) => l === `T ${c.name} quit the ${room}`);
    assert.equal(quits.length, 1, `${c.name} has ${quits.length} quit lines`);
  }
  assertNoEmptyColour(log);
  const lists = userlists(log);
  assert.equal(lists[lists.length - 1], 'T Userlist: ', 'the last user list is not empty');
  const left = fs.readdirSync(h.p('users')).filter((f) => f.startsWith(`${room}_`));
  assert.deepEqual(left, [], 'presence files left behind');
}

// Races show up only now and then: each test runs a few rounds, one room each.
const ROUNDS = 3;

for (const n of [20, 50]) {
  chatTest(`${n} anonymous users joining at once get distinct names`, async (h) => {
    for (let r = 1; r <= ROUNDS; r++) {
      const clients = await joinMany(h, n, `crowd${r}`);
      await assertAllJoined(h, clients, `crowd${r}`);
    }
  });
}

/** n users join, leave(clients) makes them go at once; every round checked. */
async function crowdLeaves(h, n, leave) {
  for (let r = 1; r <= ROUNDS; r++) {
    const room = `crowd${r}`;
    const clients = await joinMany(h, n, room);
    leave(clients);
    const codes = await Promise.all(clients.map((c) => c.waitExit(6 * WAIT_MS)));
    assert.deepEqual(codes, clients.map(() => 0));
    assertAllLeft(h, clients, room);
  }
}

for (const n of [20, 50]) {
  chatTest(`${n} users leaving at once (SIGTERM) quit exactly once each`, async (h) => {
    await crowdLeaves(h, n, (clients) => {
      for (const c of clients) c.kill('SIGTERM');
    });
  });
}

chatTest('50 users leaving like websocketd closes them: EOF, then SIGINT and SIGTERM', async (h) => {
  await crowdLeaves(h, 50, (clients) => {
    for (const c of clients) c.child.stdin.end();
    for (const c of clients) c.kill('SIGINT');
    for (const c of clients) c.kill('SIGTERM');
  });
});

chatTest('a SIGKILLed user is not listed and its presence file goes', async (h) => {
  const alice = await h.join('lobby', { cookie: h.session('a', 'Alice:#ff0000') });
  const bob = await h.join('lobby', { cookie: h.session('b', 'Bob:#00f') });
  await bob.waitFor('T Userlist: Alice:#ff0000,Bob:#00f,');
  bob.kill('SIGKILL');
  await bob.exited;

  const carol = await h.join('lobby', { cookie: h.session('c', 'Carol:#0a0') });
  await carol.waitFor('T Userlist: Alice:#ff0000,Carol:#0a0,');
  const log = h.log('lobby');
  const i = log.indexOf('T Carol joined the lobby');
  assert.ok(i >= 0);
  const next = log.slice(i + 1).find((l) => l.startsWith('T Userlist: '));
  assert.equal(next, 'T Userlist: Alice:#ff0000,Carol:#0a0,');
  assert.equal(fs.existsSync(h.p('users', 'lobby_Bob')), false);
  await alice.waitFor('T Userlist: Alice:#ff0000,Carol:#0a0,');

  // The name is free again.
  const bob2 = await h.join('lobby', { cookie: h.session('b', 'Bob:#00f') });
  assert.equal(bob2.name, 'Bob');
});

// The files transport itself (inbox sockets): not run on Redis.
chatTest("a SIGKILLed user's inbox socket goes with its presence file", { transport: 'files' }, async (h) => {
  await h.holdWardenLock(); // the next join, not the warden, finds Bob dead
  const inboxes = () => fs.readdirSync(h.p('run')).filter((n) => n.startsWith('inbox-')).sort();
  const alice = await h.join('lobby', { cookie: h.session('a', 'Alice:#ff0000') });
  const before = inboxes();
  const bob = await h.join('lobby', { cookie: h.session('b', 'Bob:#00f') });
  await alice.waitFor('T Userlist: Alice:#ff0000,Bob:#00f,');
  const bobs = inboxes().filter((n) => !before.includes(n));
  assert.equal(bobs.length, 1, `Bob's inbox among ${inboxes()}`);
  bob.kill('SIGKILL');
  await bob.exited;
  assert.ok(inboxes().includes(bobs[0]), 'a killed process cannot remove its socket');
  const carol = await h.join('lobby', { cookie: h.session('c', 'Carol:#0a0') });
  await carol.waitFor('T Userlist: Alice:#ff0000,Carol:#0a0,');
  // Alice's and Carol's (Carol's may even reuse the number of Bob's freed
  // inode, and so his socket's name): Bob's is gone.
  assert.equal(inboxes().length, 2, `left behind: ${inboxes()}`);
});

// A browser that stops reading (a laptop lid closed) while the room carries
// megabytes of long lines: its connection stops taking them in once its
// queue is full, and when the browser reads again it catches up with what
// it missed, as fast as the browser takes it, and never holds more than
// its queue's bound.  Every line arrives, once, in order, and the
// connection stays.
chatTest('a member who stops reading during megabytes of long lines gets all of them when it reads again',
  { config: { MAX_MESSAGE_BYTES: 65536, FLOOD_RATE: 0 } }, async (h) => {
    const talker = await h.join('long');
    const sleeper = await h.join('long');
    await talker.waitFor(`T Userlist: ${talker.name}:Gray,${sleeper.name}:Gray,`);
    await sleeper.waitFor(`T Userlist: ${talker.name}:Gray,${sleeper.name}:Gray,`);
    sleeper.child.stdout.pause();
    const LINES = 100;
    const pad = 'x'.repeat(60000);
    const line = (i) => `T ${talker.name}> ${i} ${pad}`;
    const from = sleeper.lines.length;
    // 6 MB: past the pipe, the connection's queue and its transport's
    // own (a Redis member queues 32 announced lines, then reads the
    // stream in pages).
    talker.child.stdin.write(Array.from({ length: LINES }, (_, i) => `${i} ${pad}\n`).join(''));
    await talker.waitFor(line(LINES - 1), 6 * WAIT_MS);
    sleeper.child.stdout.resume();
    await sleeper.waitFor((l) => l === line(LINES - 1) || l.startsWith('T Error: '), 6 * WAIT_MS, { from });
    const got = sleeper.out.slice(from).filter((l) => l.startsWith(`T ${talker.name}> `) || l.startsWith('T Error: '));
    assert.equal(got.length, LINES, `${got.length} lines: ${got.filter((l) => l.startsWith('T Error: ')).join(' | ')}`);
    got.forEach((l, i) => assert.ok(l === line(i), `line ${i} is not the ${i}th sent: ${l.slice(0, 60)}`));
    const afterFrom = sleeper.lines.length;
    talker.send('still there?');
    await sleeper.waitFor(`T ${talker.name}> still there?`, WAIT_MS, { from: afterFrom });
  });
