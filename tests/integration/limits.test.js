'use strict';
// Abuse limits and hostile input (docs/security.md): every limit shows its
// refusal, and the other members of the room are unaffected: they keep
// receiving each other's messages, all of them, in order.
//
// Clients come from documentation addresses (198.51.100.x, 203.0.113.x) so
// that flood control applies; the harness's default REMOTE_ADDR, 127.0.0.1,
// is a client on this host, which flood control exempts.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { chatTest, SANITIZED, WAIT_MS, sleep } = require('./harness');

const ROOM = 'lobby';
const KICK = 'T Error: disconnected: far too many messages from your address';
const SLOW_DOWN = 'T Error: message not sent: too many messages from your address; slow down';
const FLOOD_JOIN = 'T Error: too many messages or connections from your address; wait a little and try again';
const BAD_UTF8 = 'T Error: message not sent: it is not valid UTF-8 text';
const LEGACY = 'T Error: message not sent: chat clients would take it for a line from the server';
// The defaults (docs/configuration.md).
const FLOOD_RATE = 10;
const FLOOD_BURST = 50;

/** Joins ROOM as name, from addr (REMOTE_ADDR); opts as for h.join. */
function member(h, name, addr, opts = {}) {
  const { env, ...rest } = opts;
  return h.join(opts.room || ROOM, {
    cookie: h.session(`s-${name}`, `${name}:Gray`),
    label: name,
    env: { REMOTE_ADDR: addr, ...(env || {}) },
    ...rest,
  });
}

/** A connection that must be refused: one Error line, exit status 1. */
async function refused(h, name, addr, opts = {}) {
  const { env, ...rest } = opts;
  const c = await h.run(`/${opts.room || ROOM}`, {
    cookie: 'cookie' in opts ? opts.cookie : h.session(`s-${name}`, `${name}:Gray`),
    label: `${name} (refused)`,
    env: { REMOTE_ADDR: addr, ...(env || {}) },
    expectCode: 1,
    ...rest,
  });
  assert.equal(c.code, 1, c.describe());
  assert.equal(c.lines.length, 1, `expected one line\n${c.describe()}`);
  return c;
}

let tags = 0;
/**
 * from says n numbered lines, gapMs apart; resolves when each of `to`
 * shows all of them, and checks they arrived once each, in order, and
 * that from was told nothing.
 */
async function conversation(from, to, n = 5, gapMs = 20) {
  const tag = `chat${++tags}`;
  const fromStart = from.lines.length;
  const starts = to.map((c) => c.lines.length);
  for (let i = 1; i <= n; i++) {
    from.send(`${tag} ${i}`);
    if (gapMs) await sleep(gapMs);
  }
  const last = `T ${from.name}> ${tag} ${n}`;
  await Promise.all(to.map((c, k) => c.waitFor(last, undefined, { from: starts[k] })));
  const want = Array.from({ length: n }, (_, i) => `T ${from.name}> ${tag} ${i + 1}`);
  to.forEach((c, k) => {
    const got = c.out.slice(starts[k]).filter((l) => l.startsWith(`T ${from.name}> ${tag} `));
    assert.deepEqual(got, want, `${c.label} did not get ${tag} whole and in order`);
  });
  const told = from.out.slice(fromStart).filter((l) => l.startsWith('T Error:'));
  assert.deepEqual(told, [], `${from.label} was refused`);
}

/** The log's lines from name, in order. */
function saidBy(h, name, room = ROOM) {
  return h.log(room).filter((l) => l.startsWith(`T ${name}> `));
}

/** Writes n numbered lines at once, as a script does. */
function flood(c, n, tag = 'flood') {
  const lines = Array.from({ length: n }, (_, i) => `${tag} ${String(i + 1).padStart(3, '0')}\n`);
  c.child.stdin.write(lines.join(''));
}

/** The numbers of c's accepted flood lines in the log, in log order. */
function floodNumbers(h, c, tag = 'flood') {
  return saidBy(h, c.name).filter((l) => l.startsWith(`T ${c.name}> ${tag} `))
    .map((l) => Number(l.split(' ').pop()));
}

const increasing = (v) => v.every((x, i) => i === 0 || x > v[i - 1]);

// ---- flood control ----

chatTest('a fast typist (20 lines, 300 ms apart) is never limited', async (h) => {
  const alice = await member(h, 'Alice', '198.51.100.10');
  const bob = await member(h, 'Bob', '198.51.100.11');
  await alice.waitFor('T Userlist: Alice:Gray,Bob:Gray,');
  await conversation(alice, [bob, alice], 20, 300);
  // A paste of 40 short lines at once is still inside the burst.
  const start = bob.lines.length;
  flood(alice, 40, 'paste');
  await bob.waitFor(`T Alice> paste 040`, undefined, { from: start });
  assert.deepEqual(floodNumbers(h, alice, 'paste'), Array.from({ length: 40 }, (_, i) => i + 1));
  assert.equal(alice.out.filter((l) => l.startsWith('T Error:')).length, 0, alice.describe());
});

chatTest('a script is refused, then disconnected; another address chats on undisturbed', async (h) => {
  const bob = await member(h, 'Bob', '198.51.100.20');
  const carol = await member(h, 'Carol', '198.51.100.21');
  const mallory = await member(h, 'Mallory', '203.0.113.66');
  await carol.waitFor('T Userlist: Bob:Gray,Carol:Gray,Mallory:Gray,');

  const t0 = Date.now();
  flood(mallory, 300);
  const talk = conversation(bob, [carol], 10, 50);
  await mallory.waitFor(KICK);
  const elapsed = (Date.now() - t0) / 1000;
  assert.equal(await mallory.waitExit(), 0);
  await talk;

  const accepted = floodNumbers(h, mallory);
  // A leaky bucket: the burst, plus what leaked while the script ran.
  const bound = FLOOD_BURST + FLOOD_RATE * elapsed + 1;
  assert.ok(accepted.length >= 30 && accepted.length <= bound,
    `${accepted.length} of 300 accepted (bound ${bound.toFixed(1)})`);
  assert.ok(increasing(accepted), `out of order: ${accepted}`);
  const errors = mallory.out.filter((l) => l.startsWith('T Error:'));
  assert.ok(errors.length >= 2 && errors.slice(0, -1).every((l) => l === SLOW_DOWN), errors.join('\n'));
  assert.equal(errors[errors.length - 1], KICK);
  // The room sees Mallory leave, and nobody else was refused anything.
  await carol.waitFor('T Mallory quit the lobby');
  await conversation(carol, [bob], 5);
  assert.equal(bob.out.filter((l) => l.startsWith('T Error:')).length, 0);
  assert.equal(carol.out.filter((l) => l.startsWith('T Error:')).length, 0);
});

// Behind a NAT or a proxy, one address is many people: a flood is charged
// to the connection that sends it, not to everyone who shares its address.
chatTest('a script behind a shared address is disconnected; the others at that address chat on', async (h) => {
  // Three browsers behind one NAT, through the trusted proxy: one address.
  const nat = { REMOTE_ADDR: '127.0.0.1', HTTP_X_FORWARDED_FOR: '198.51.100.200' };
  const ann = await member(h, 'Ann', '127.0.0.1', { env: nat });
  const mallory = await member(h, 'Mallory', '127.0.0.1', { env: nat });
  const trudy = await member(h, 'Trudy', '127.0.0.1', { env: nat });
  const carol = await member(h, 'Carol', '198.51.100.201');
  await carol.waitFor('T Userlist: Ann:Gray,Carol:Gray,Mallory:Gray,Trudy:Gray,');
  await ann.waitFor('T Userlist: Ann:Gray,Carol:Gray,Mallory:Gray,Trudy:Gray,');

  // One script, then a second one at the same address, while Ann talks.
  for (const script of [mallory, trudy]) {
    const t0 = Date.now();
    flood(script, 300);
    const talk = conversation(ann, [carol], 10, 50);
    await script.waitFor(KICK);
    const elapsed = (Date.now() - t0) / 1000;
    assert.equal(await script.waitExit(), 0);
    await talk;
    const errors = script.out.filter((l) => l.startsWith('T Error:'));
    assert.ok(errors.length >= 2 && errors.slice(0, -1).every((l) => l === SLOW_DOWN), errors.join('\n'));
    assert.equal(errors.at(-1), KICK);
    const accepted = floodNumbers(h, script);
    const bound = FLOOD_BURST + FLOOD_RATE * elapsed + 1;
    assert.ok(accepted.length >= 30 && accepted.length <= bound,
      `${script.name}: ${accepted.length} of 300 accepted (bound ${bound.toFixed(1)})`);
    await carol.waitFor(`T ${script.name} quit the lobby`);
  }

  // Ann was never refused a line, and talks on.
  await conversation(ann, [carol], 10, 20);
  assert.deepEqual(ann.out.filter((l) => l.startsWith('T Error:')), []);
  // Reconnecting is no way around being disconnected: the address takes no
  // new connection for a while, while Ann, already in, is unaffected.
  const again = await refused(h, 'Mallory', '127.0.0.1', { env: nat });
  assert.equal(again.out[0], FLOOD_JOIN);
  await conversation(ann, [carol], 3);
  await conversation(carol, [ann], 3);
});

chatTest('scripts on several connections of one address are each stopped, and the address is closed', async (h) => {
  const bob = await member(h, 'Bob', '198.51.100.30');
  const carol = await member(h, 'Carol', '198.51.100.31');
  const bots = [];
  for (let i = 0; i < 4; i++) bots.push(await member(h, `Bot${i}`, '203.0.113.77'));
  await carol.waitFor(/^T Userlist: Bob:Gray,Bot0:Gray,Bot1:Gray,Bot2:Gray,Bot3:Gray,Carol:Gray,$/);

  const t0 = Date.now();
  for (const b of bots) flood(b, 150);
  const talk = conversation(bob, [carol], 10, 50);
  await Promise.all(bots.map((b) => b.waitFor(KICK)));
  const elapsed = (Date.now() - t0) / 1000;
  await Promise.all(bots.map(async (b) => assert.equal(await b.waitExit(), 0)));
  await talk;

  // Each connection has a bucket of its own: no more than its burst got
  // through (an address's budget grows with its connections: flood.h).
  const bound = FLOOD_BURST + FLOOD_RATE * elapsed + 1;
  for (const b of bots) {
    const accepted = floodNumbers(h, b);
    assert.ok(accepted.length <= bound, `${b.name}: ${accepted.length} of 150 accepted (bound ${bound.toFixed(1)})`);
    assert.ok(increasing(accepted));
  }

  // The address is closed after the kicks: a new connection is turned away
  // before it joins, while another address comes in.
  const late = await refused(h, 'Bot4', '203.0.113.77');
  assert.equal(late.out[0], FLOOD_JOIN);
  assert.ok(!h.log(ROOM).includes('T Bot4 joined the lobby'));
  const dave = await member(h, 'Dave', '198.51.100.32');
  await conversation(dave, [bob, carol], 3);
  await conversation(bob, [carol, dave], 3);
});

chatTest('a client on this host is not flood-limited', async (h) => {
  const local = await member(h, 'Admin', '127.0.0.1');
  const carol = await member(h, 'Carol', '198.51.100.40');
  await carol.waitFor('T Userlist: Admin:Gray,Carol:Gray,');
  flood(local, 150);
  await carol.waitFor('T Admin> flood 150');
  assert.deepEqual(floodNumbers(h, local), Array.from({ length: 150 }, (_, i) => i + 1));
  assert.equal(local.out.filter((l) => l.startsWith('T Error:')).length, 0);
  assert.ok(!h.floodCounted('127.0.0.1'));
});

chatTest('X-Forwarded-For from a trusted proxy names the client', async (h) => {
  const proxied = (xff) => ({ REMOTE_ADDR: '127.0.0.1', HTTP_X_FORWARDED_FOR: xff });
  const carol = await member(h, 'Carol', '198.51.100.50');
  const mallory = await member(h, 'Mallory', '127.0.0.1', { env: proxied('198.51.100.5') });
  // Another browser behind the same proxy.
  const bob = await member(h, 'Bob', '127.0.0.1', { env: proxied('198.51.100.6') });
  await carol.waitFor('T Userlist: Bob:Gray,Carol:Gray,Mallory:Gray,');

  flood(mallory, 200);
  const talk = conversation(bob, [carol], 10, 50);
  await mallory.waitFor(KICK);
  await talk;
  // Counted against the client, not against the proxy.
  assert.ok(h.floodCounted('198.51.100.5'));
  assert.ok(!h.floodCounted('127.0.0.1'));
  // The same client, directly or through a chain of proxies whose first
  // hop it wrote itself, is still over its limit.
  assert.equal((await refused(h, 'Again', '198.51.100.5')).out[0], FLOOD_JOIN);
  const chained = await refused(h, 'Chained', '127.0.0.1',
    { env: proxied('203.0.113.200, 198.51.100.5') });
  assert.equal(chained.out[0], FLOOD_JOIN);
  await conversation(bob, [carol], 5);
  await conversation(carol, [bob], 5);
});

chatTest('X-Forwarded-For from an untrusted address is ignored', async (h) => {
  const carol = await member(h, 'Carol', '198.51.100.60');
  // Claims to be 198.51.100.5; REMOTE_ADDR is not a trusted proxy.
  const mallory = await member(h, 'Mallory', '203.0.113.9',
    { env: { HTTP_X_FORWARDED_FOR: '198.51.100.5' } });
  await carol.waitFor('T Userlist: Carol:Gray,Mallory:Gray,');
  flood(mallory, 200);
  await mallory.waitFor(KICK);
  assert.ok(h.floodCounted('203.0.113.9'));
  assert.ok(!h.floodCounted('198.51.100.5'));
  // The real 198.51.100.5, through the proxy, is not punished ...
  const victim = await member(h, 'Victim', '127.0.0.1',
    { env: { HTTP_X_FORWARDED_FOR: '198.51.100.5' } });
  await conversation(victim, [carol], 10, 20);
  // ... while the flooder, whatever it claims next, is.
  const again = await refused(h, 'Again', '203.0.113.9',
    { env: { HTTP_X_FORWARDED_FOR: '198.51.100.77' } });
  assert.equal(again.out[0], FLOOD_JOIN);
  await conversation(carol, [victim], 5);
});

// ---- admission ----

chatTest('ALLOWED_ORIGINS: a foreign page is refused before any file is written', {
  config: { ALLOWED_ORIGINS: 'https://chat.example.org, https://www.example.org' },
}, async (h) => {
  // In an empty BASE_DIR: nothing at all is created.
  let before = h.listing();
  const first = await refused(h, 'Eve', '203.0.113.20',
    { cookie: 'PHPSESSID=s-Eve', env: { HTTP_ORIGIN: 'https://evil.example' } });
  assert.equal(first.out[0], "T Error: connections from this page's origin are not allowed");
  assert.deepEqual(h.listing(), before);

  const alice = await member(h, 'Alice', '198.51.100.70', { env: { HTTP_ORIGIN: 'https://chat.example.org' } });
  const bob = await member(h, 'Bob', '198.51.100.71'); // no Origin: not a browser
  const carol = await member(h, 'Carol', '198.51.100.72', { env: { HTTP_ORIGIN: 'HTTPS://WWW.EXAMPLE.ORG' } });
  await alice.waitFor('T Userlist: Alice:Gray,Bob:Gray,Carol:Gray,');

  const cookie = h.session('s-Eve', 'Eve:Gray');
  const talk = conversation(alice, [bob, carol], 10, 30);
  before = h.listing();
  const logBefore = h.log(ROOM);
  const authBefore = fs.readFileSync(h.p('log', 'authentization.log'), 'utf8');
  for (const origin of ['https://evil.example', 'http://chat.example.org',
    'https://chat.example.org:8443', 'https://chat.example.org.evil.example', 'null']) {
    const c = await refused(h, 'Eve', '203.0.113.20', { cookie, env: { HTTP_ORIGIN: origin } });
    assert.match(c.out[0], /^T Error: connections from this page's origin are not allowed$/, origin);
  }
  await talk;
  // Nothing new; the warden may have collected an unused room lock since.
  const created = h.listing().filter((f) => !before.includes(f));
  assert.deepEqual(created, [], 'a refused connection created files');
  assert.deepEqual(h.log(ROOM).slice(0, logBefore.length), logBefore);
  assert.ok(!h.log(ROOM).some((l) => l.includes('Eve')));
  assert.equal(fs.readFileSync(h.p('log', 'authentization.log'), 'utf8'), authBefore);
  await conversation(carol, [alice, bob], 5);
});

chatTest('MAX_ROOM_USERS: a full room refuses joins; a SIGKILLed member frees a place', {
  config: { MAX_ROOM_USERS: 2 },
}, async (h) => {
  const alice = await member(h, 'Alice', '198.51.100.80');
  const bob = await member(h, 'Bob', '198.51.100.81');
  await alice.waitFor('T Userlist: Alice:Gray,Bob:Gray,');
  const talk = conversation(alice, [bob], 10, 30);
  const carol = await refused(h, 'Carol', '198.51.100.82');
  assert.equal(carol.out[0], 'T Error: the room is full; try again later');
  await talk;
  assert.ok(!fs.existsSync(h.p('users', 'lobby_Carol')));
  assert.ok(!h.log(ROOM).some((l) => l.includes('Carol')));
  // Other rooms are not full.
  const elsewhere = await member(h, 'Carol', '198.51.100.82', { room: 'other' });
  assert.equal(await elsewhere.close(), 0);

  // A member killed outright does not hold the place.
  bob.kill('SIGKILL');
  await bob.exited;
  const dave = await member(h, 'Dave', '198.51.100.83');
  await alice.waitFor(/^T Userlist: Alice:Gray,Dave:Gray,$/);
  assert.equal((await refused(h, 'Eve', '198.51.100.84')).out[0],
    'T Error: the room is full; try again later');
  // A member who leaves frees the place too.
  assert.equal(await dave.close(), 0);
  await alice.waitFor('T Dave quit the lobby');
  const eve = await member(h, 'Eve', '198.51.100.84');
  await conversation(alice, [eve], 5);
  await conversation(eve, [alice], 5);
});

chatTest('MAX_CONNECTIONS_PER_ADDRESS: one address may not hold more; a SIGKILLed one frees its slot', {
  config: { MAX_CONNECTIONS_PER_ADDRESS: 2 },
}, async (h) => {
  const a1 = await member(h, 'A1', '198.51.100.90');
  const a2 = await member(h, 'A2', '198.51.100.90');
  const bob = await member(h, 'Bob', '198.51.100.91');
  await bob.waitFor('T Userlist: A1:Gray,A2:Gray,Bob:Gray,');
  const talk = conversation(bob, [a1, a2], 10, 30);
  const a3 = await refused(h, 'A3', '198.51.100.90');
  assert.equal(a3.out[0], 'T Error: too many connections from your address; close one and try again');
  // Through the proxy, the same client is the same address.
  const a3p = await refused(h, 'A3', '127.0.0.1', { env: { HTTP_X_FORWARDED_FOR: '198.51.100.90' } });
  assert.match(a3p.out[0], /too many connections from your address/);
  await talk;
  assert.ok(!h.log(ROOM).some((l) => l.includes('A3')));

  a1.kill('SIGKILL');
  await a1.exited;
  const a4 = await member(h, 'A4', '198.51.100.90');
  await refused(h, 'A5', '198.51.100.90');
  assert.equal(await a2.close(), 0);
  const a5 = await member(h, 'A5', '198.51.100.90');
  await conversation(a4, [bob, a5], 5);
  await conversation(bob, [a4, a5], 5);
});

// ---- what a message may be ----

chatTest('LEGACY_CLIENT: text the old client would take for a server line is refused', async (h) => {
  const alice = await member(h, 'Alice', '198.51.100.100');
  const bob = await member(h, 'Bob', '198.51.100.101');
  await alice.waitFor('T Userlist: Alice:Gray,Bob:Gray,');
  const logBefore = h.log(ROOM).length;
  const bobBefore = bob.lines.length;
  const bad = ['Userlist: Mallory:red,Alice:<img src=x onerror=alert(1)>,',
    'see: Welcome to the chat room lobby Eve!', 'Bob: Userlist: x:Gray,', '/dice Userlist: '];
  for (const text of bad) {
    const start = alice.lines.length;
    alice.send(text);
    await alice.waitFor(LEGACY, undefined, { from: start });
  }
  await conversation(alice, [bob], 3);
  assert.deepEqual(h.log(ROOM).slice(logBefore).filter((l) => !/^T Alice> chat\d+ \d$/.test(l)), []);
  assert.ok(!bob.out.slice(bobBefore).some((l) => /Userlist: (Mallory|x)|Eve/.test(l)));
});

chatTest('LEGACY_CLIENT=no lets the same text through, as the sender\'s line', {
  config: { LEGACY_CLIENT: 'no' },
}, async (h) => {
  const alice = await member(h, 'Alice', '198.51.100.110');
  const bob = await member(h, 'Bob', '198.51.100.111');
  await alice.waitFor('T Userlist: Alice:Gray,Bob:Gray,');
  alice.send('Userlist: Mallory:red,');
  await bob.waitFor('T Alice> Userlist: Mallory:red,');
});

chatTest('invalid UTF-8 is refused and control characters are stripped', async (h) => {
  const alice = await member(h, 'Alice', '198.51.100.120');
  const bob = await member(h, 'Bob', '198.51.100.121');
  await alice.waitFor('T Userlist: Alice:Gray,Bob:Gray,');
  const bobBefore = bob.lines.length;
  const invalid = [
    [0x68, 0x69, 0xff], // a byte that is never UTF-8
    [0x63, 0x61, 0x66, 0xe9], // Latin-1 "café"
    [0xc0, 0xaf], // overlong "/"
    [0xe0, 0x80, 0xaf], // overlong, three bytes
    [0xed, 0xa0, 0x80], // a surrogate
    [0xf4, 0x90, 0x80, 0x80], // past U+10FFFF
    [0xe2, 0x82], // cut short
    [0x61, 0x00, 0x62], // NUL
    [...Buffer.from('Bob: '), 0xff], // a whisper
    [...Buffer.from('/dice 1 6 6 '), 0xfe], // a command
  ];
  for (const bytes of invalid) {
    const start = alice.lines.length;
    alice.sendBytes(Buffer.from(bytes));
    await alice.waitFor(BAD_UTF8, undefined, { from: start });
  }
  // Valid text of every width arrives byte for byte; controls (C0 but tab,
  // DEL, C1) are taken out.
  const ok = 'Příliš žluťoučký kůň úpěl ďábelské ódy 👍🏽 ∑';
  alice.send(ok);
  await bob.waitFor(`T Alice> ${ok}`);
  alice.sendBytes(Buffer.from('a\u0001b\u001b[31mc\u007f\u0085d\te\rf\u0008g', 'utf8'));
  await bob.waitFor('T Alice> ab[31mcd\tefg');
  await conversation(alice, [bob], 3);
  const got = bob.out.slice(bobBefore).filter((l) => l.startsWith('T Alice> '));
  assert.equal(got.length, 2 + 3, got.join('\n'));
});

chatTest('MAX_MESSAGE_BYTES: 4096 bytes pass, 4097 are refused', async (h) => {
  const alice = await member(h, 'Alice', '198.51.100.130');
  const bob = await member(h, 'Bob', '198.51.100.131');
  await alice.waitFor('T Userlist: Alice:Gray,Bob:Gray,');
  const TOO_LONG = 'T Error: message not sent: it is longer than 4096 bytes';
  const cases = [
    ['x'.repeat(4096), true],
    ['x'.repeat(4097), false],
    ['ž'.repeat(2048), true], // bytes, not characters
    [`${'ž'.repeat(2048)}x`, false],
    [`Bob: ${'w'.repeat(4091)}`, true], // a whisper counts whole
    [`Bob: ${'w'.repeat(4092)}`, false],
    [`/dice 1 6 6${' '.repeat(4090)}`, false],
  ];
  for (const [text, pass] of cases) {
    const start = alice.lines.length;
    const bobStart = bob.lines.length;
    alice.send(text);
    if (pass) {
      await bob.waitFor(`T Alice> ${text}`, undefined, { from: bobStart });
    } else {
      await alice.waitFor(TOO_LONG, undefined, { from: start });
    }
  }
  await conversation(alice, [bob], 3);
  const longest = Math.max(...h.log(ROOM).map((l) => Buffer.byteLength(l)));
  assert.equal(longest, Buffer.byteLength('T Alice> ') + 4096);
  assert.equal(alice.out.filter((l) => l === TOO_LONG).length, 4);
});

chatTest('WebRTC signalling has its own bound of 64 KiB', async (h) => {
  const alice = await member(h, 'Alice', '198.51.100.140');
  const bob = await member(h, 'Bob', '198.51.100.141');
  await alice.waitFor('T Userlist: Alice:Gray,Bob:Gray,');
  const offer = (bytes) => {
    const head = '{"type":"offer","sdp":"v=0zalomeni';
    const tail = '"}';
    return head + 'a'.repeat(bytes - head.length - tail.length) + tail;
  };
  const big = offer(20000); // far over MAX_MESSAGE_BYTES, a real offer's size
  alice.send(`Bob: ${big}`);
  await bob.waitFor(`T Alice> Bob: ${big}`);
  alice.send(`Bob: ${offer(64 * 1024 + 1)}`);
  await alice.waitFor('T Error: signalling not sent: it is larger than 64 KiB');
  await conversation(alice, [bob], 3);
  assert.ok(!h.log(ROOM).some((l) => l.includes('zalomeni')));
});

/** VmHWM (peak resident memory) of c, in KiB. */
const peak = (c) => c.procStatus('VmHWM');

chatTest('a 1 MiB line is dropped unread: the process does not grow by it', async (h, t) => {
  const alice = await member(h, 'Alice', '198.51.100.150');
  const bob = await member(h, 'Bob', '198.51.100.151');
  await alice.waitFor('T Userlist: Alice:Gray,Bob:Gray,');
  await conversation(alice, [bob], 3);
  const before = peak(alice);
  const start = alice.lines.length;
  alice.send('y'.repeat(1024 * 1024));
  await alice.waitFor('T Error: message not sent: it is too long', undefined, { from: start });
  // The reader went on at the next line.
  await conversation(alice, [bob], 3);
  const grown = peak(alice) - before;
  t.diagnostic(`VmHWM ${before} KiB before the 1 MiB line, ${before + grown} KiB after`);
  // At most one line (65 KiB) plus one read is ever held; allocator slack
  // (and, sanitized, ASan's quarantine) aside, far below the line itself.
  assert.ok(grown < 512, `VmHWM grew by ${grown} KiB (from ${before} KiB)`);
  assert.ok(!h.log(ROOM).some((l) => l.includes('yyyy')));
});

chatTest('no line can be forged: every log line starts with the time and a real sender', {
  config: { LEGACY_CLIENT: 'no' },
}, async (h) => {
  const alice = await member(h, 'Alice', '198.51.100.160');
  const bob = await member(h, 'Bob', '198.51.100.161');
  await alice.waitFor('T Userlist: Alice:Gray,Bob:Gray,');
  const forged = [
    'hi\n[12:00:00] Userlist: evil:#f00,',
    'hi\r[12:00:00] Bob> I owe Mallory 100 EUR',
    'hi\r\n[12:00:00] Mallory joined the lobby',
    'hi\u0085[12:00:00] Bob quit the lobby',
    'hi\u000b\u000c[12:00:00] Welcome to the chat room lobby Bob!',
    'hi\u2028[12:00:00] Bob> line separator',
    '\u001b[2K\r[12:00:00] Bob> terminal overwrite',
    'Bob: whisper\n[12:00:00] Bob> after a whisper',
    '/dice 1 6 6\n[12:00:00] Bob>  Throws 1 6-sided dice: 6',
  ];
  for (const text of forged) alice.send(text);
  alice.sendBytes(Buffer.from('hi\0\n[12:00:00] Bob> after a NUL'));
  await alice.waitFor(BAD_UTF8); // "hi\0"; the rest is a line of its own
  await conversation(alice, [bob], 3);
  await conversation(bob, [alice], 3);

  const server = /^T (Alice|Bob) (joined|quit) the lobby$|^T Userlist: /;
  const log = h.log(ROOM);
  for (const line of log) {
    assert.ok(/^T (Alice|Bob)> /.test(line) || server.test(line), `forged log line: ${JSON.stringify(line)}`);
  }
  // The user lists are the server's: exactly one per join.
  assert.deepEqual(log.filter((l) => l.startsWith('T Userlist: ')),
    ['T Userlist: Alice:Gray,', 'T Userlist: Alice:Gray,Bob:Gray,']);
  // And what Bob is shown is the same (his own whisper aside).
  for (const line of bob.out) {
    assert.ok(/^T (Alice|Bob)> /.test(line) || server.test(line) ||
      /^T Welcome to the chat room lobby Bob!$/.test(line), `forged line shown: ${JSON.stringify(line)}`);
  }
  const raw = fs.readFileSync(h.p('rooms', `${ROOM}.log`));
  for (const line of raw.toString('utf8').split('\n').slice(0, -1)) {
    assert.match(line, /^\[\d\d:\d\d:\d\d\] (Alice> |Bob> |Alice |Bob |Userlist: )/);
  }
});

// ---- resources over time ----

chatTest('1000 joins and leaves leave a long-lived member with the same descriptors', {
  timeout: SANITIZED ? 1200000 : 600000,
}, async (h, t) => {
  const alice = await member(h, 'Alice', '198.51.100.170');
  await alice.waitFor('T Userlist: Alice:Gray,');
  // Everything Alice's process opens at least once, before counting:
  // an inbox send and receive, a command, a colour change.
  const warm = await member(h, 'Warm', '127.0.0.1');
  alice.send('Warm: hello');
  warm.send('Alice: hello');
  await alice.waitFor('T Warm> Alice: hello');
  alice.send('/dice 1 6 6');
  alice.send('/color #123');
  await alice.waitFor(/^T Userlist: Alice:#123,Warm:Gray,$/);
  assert.equal(await warm.close(), 0);
  await alice.waitFor('T Userlist: Alice:#123,');
  await sleep(100);
  const fds = alice.fdCount();
  const listing = fs.readdirSync(`/proc/${alice.pid}/fd`).map((fd) => {
    try { return fs.readlinkSync(`/proc/${alice.pid}/fd/${fd}`); } catch { return '?'; }
  });

  const N = 1000;
  const slow = 4 * WAIT_MS; // a loaded machine must not fail this
  const t0 = Date.now();
  for (let i = 0; i < N; i++) {
    // From this host: a thousand joins from one address in a minute are
    // what flood control is there to stop.
    const c = h.spawn(`/${ROOM}`, { label: `guest${i}` });
    await c.waitFor(/^T Welcome to the chat room /, slow);
    if (i % 50 === 0) {
      // Now and then a whisper each way, through the inboxes.
      c.send(`Alice: ping ${i}`);
      await alice.waitFor(`T Anonymous> Alice: ping ${i}`, slow, { from: alice.lines.length - 8 });
      alice.send(`Anonymous: pong ${i}`);
      await c.waitFor(`T Alice> Anonymous: pong ${i}`, slow);
    }
    c.child.stdin.end();
    assert.equal(await c.waitExit(slow), 0, c.describe());
    assert.doesNotMatch(c.stderr, /AddressSanitizer|runtime error|LeakSanitizer/, c.describe());
    h.clients.splice(h.clients.indexOf(c), 1); // checked: keep the harness lean
  }
  t.diagnostic(`${N} joins and leaves in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const last = alice.lines.length;
  await conversation(alice, [alice], 1);
  assert.ok(alice.lines.length > last);
  const quits = alice.out.filter((l) => l === 'T Anonymous quit the lobby').length;
  assert.equal(quits, N);
  const after = fs.readdirSync(`/proc/${alice.pid}/fd`).map((fd) => {
    try { return fs.readlinkSync(`/proc/${alice.pid}/fd/${fd}`); } catch { return '?'; }
  });
  assert.equal(alice.fdCount(), fds, `descriptors before:\n${listing.join('\n')}\nafter:\n${after.join('\n')}`);
});

// The files transport itself (seeds the room log): not run on Redis.
chatTest('a 2 MiB line in the room log (a huge user list, junk) costs a member no more than its bound', { transport: 'files',
  config: { WHISPER_LOG: 'full' },
}, async (h, t) => {
  // A reference member in a clean room, for the baseline.
  const ref = await member(h, 'Ref', '198.51.100.180', { room: 'clean' });
  await ref.waitFor('T Userlist: Ref:Gray,');
  await conversation(ref, [ref], 2);

  const MiB = 1024 * 1024;
  const hugeList = `[12:00:00] Userlist: ${'x:Gray,'.repeat(Math.ceil(2 * MiB / 7))}\n`;
  fs.mkdirSync(h.p('rooms'), { recursive: true });
  fs.writeFileSync(h.p('rooms', `${ROOM}.log`),
    `[11:59:59] Old> before\n${hugeList}[12:00:01] Old> after\n`);
  const alice = await member(h, 'Alice', '198.51.100.181');
  const bob = await member(h, 'Bob', '198.51.100.182');
  await alice.waitFor('T Userlist: Alice:Gray,Bob:Gray,');
  // The history shows the lines around it, never the huge one.
  await alice.waitFor('T Old> after');
  assert.ok(alice.lines.every((l) => l.length < 64 * 1024));

  // Junk appended by hand while they follow.
  fs.appendFileSync(h.p('rooms', `${ROOM}.log`), `${'j'.repeat(2 * MiB)}\n`);
  await conversation(bob, [alice], 5);
  await conversation(alice, [bob], 5);
  assert.ok(alice.lines.every((l) => l.length < 64 * 1024));
  assert.ok(bob.lines.every((l) => l.length < 64 * 1024));

  // The follower skips a line past 256 KiB as it reads it: a member holds
  // far less than the line.  (The bound per connection: docs/security.md.)
  // Under AddressSanitizer every freed block waits in its quarantine and
  // every block has redzones, so the same work peaks higher: the bound that
  // matters is the normal build's.
  const bound = SANITIZED ? 2048 : 1024;
  const base = peak(ref);
  for (const c of [alice, bob]) {
    const grown = peak(c) - base;
    t.diagnostic(`VmHWM ${c.label} ${peak(c)} KiB, clean-room member ${base} KiB`);
    assert.ok(grown < bound, `${c.label}: VmHWM ${peak(c)} KiB, ${grown} KiB over a member of a clean room`);
  }
});
