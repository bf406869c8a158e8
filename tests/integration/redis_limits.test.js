'use strict';
// TRANSPORT=redis (issue 15): MAX_CONNECTIONS_PER_ADDRESS and the flood
// bucket of a client address are counted over every host (limits_redis.h,
// docs/scale-out.md "Limits over all hosts").  Two "hosts" are two configs
// with a BASE_DIR each and the same REDIS_URL and REDIS_KEY_PREFIX; a
// client address comes from REMOTE_ADDR, or from X-Forwarded-For through
// the trusted proxy, as in limits.test.js (which runs the same limits on
// one host with TRANSPORT=files).
const assert = require('node:assert/strict');
const { test, before, after } = require('node:test');
const { Harness, TEST_TIMEOUT_MS, sleep } = require('./harness');
const { RedisServer } = require('./redis');

const ROOM = 'lobby';
const TOO_MANY = 'T Error: too many connections from your address; close one and try again';
const FLOOD_JOIN = 'T Error: too many messages or connections from your address; wait a little and try again';
const SLOW_DOWN = 'T Error: message not sent: too many messages from your address; slow down';
const KICK = 'T Error: disconnected: far too many messages from your address';
// The defaults (docs/configuration.md), and what a join costs (chat.c).
const FLOOD_RATE = 10;
const FLOOD_BURST = 50;
const JOIN_COST = 3;

let redis;
before(async () => { redis = await RedisServer.start(); });
after(async () => { if (redis) await redis.cleanup(); });

let prefixes = 0;
/**
 * A test on two hosts, A and B, sharing the test's Redis and a key
 * prefix of their own: fn(a, b, prefix).
 */
function twoHosts(name, config, fn) {
  test(name, { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const prefix = `lim${process.pid}.${++prefixes}:`;
    const make = () => new Harness(t, {
      config: {
        TRANSPORT: 'redis', REDIS_URL: `"${redis.url(0)}"`, REDIS_KEY_PREFIX: prefix,
        ...config,
      },
    });
    const hosts = [make(), make()];
    let failed = true;
    try {
      await fn(hosts[0], hosts[1], prefix);
      for (const h of hosts) await h.finish();
      failed = false;
    } finally {
      for (const h of hosts) await h.cleanup(failed);
      if (failed) t.diagnostic(redis.log().slice(-2000));
    }
  });
}

/** Joins ROOM on host h as name, from addr; opts.env adds to the env. */
function member(h, name, addr, opts = {}) {
  return h.join(ROOM, {
    cookie: h.session(`s-${name}`, `${name}:Gray`),
    label: name,
    env: { REMOTE_ADDR: addr, ...(opts.env || {}) },
  });
}

/** A connection that must be refused: its one line. */
async function refused(h, name, addr, opts = {}) {
  const c = await h.run(`/${ROOM}`, {
    cookie: h.session(`s-${name}`, `${name}:Gray`),
    label: `${name} (refused)`,
    env: { REMOTE_ADDR: addr, ...(opts.env || {}) },
    expectCode: 1,
  });
  assert.equal(c.code, 1, c.describe());
  assert.equal(c.lines.length, 1, `expected one line\n${c.describe()}`);
  return c.out[0];
}

/** from says n tagged lines; each of to shows them all, in order. */
let tags = 0;
async function conversation(from, to, n = 3) {
  const tag = `chat${++tags}`;
  for (let i = 1; i <= n; i++) from.send(`${tag} ${i}`);
  for (const c of [from, ...to]) await c.waitFor(`T ${from.name}> ${tag} ${n}`);
}

/** The members "<run_id>:<client id>" of the address's connections. */
function connMembers(prefix, addr) {
  return redis.command('ZRANGE', `${prefix}conn:${addr}`, '0', '-1');
}

twoHosts('MAX_CONNECTIONS_PER_ADDRESS counts the connections of every host; a SIGKILLed one frees its slot', {
  MAX_CONNECTIONS_PER_ADDRESS: 2,
}, async (a, b, prefix) => {
  const addr = '198.51.100.90';
  const a1 = await member(a, 'A1', addr);
  const b1 = await member(b, 'B1', addr);
  const bob = await member(b, 'Bob', '198.51.100.91');
  await bob.waitFor('T Userlist: A1:Gray,B1:Gray,Bob:Gray,');
  assert.equal((await connMembers(prefix, addr)).length, 2);
  const ttl = await redis.command('PTTL', `${prefix}conn:${addr}`);
  assert.ok(ttl > 0, `conn key TTL ${ttl}`);

  // A third is refused on either host, through the proxy too.
  assert.equal(await refused(a, 'A3', addr), TOO_MANY);
  assert.equal(await refused(b, 'B3', '127.0.0.1', { env: { HTTP_X_FORWARDED_FOR: addr } }),
    TOO_MANY);
  // Another address is not counted with it.
  const carol = await member(a, 'Carol', '198.51.100.92');
  await conversation(carol, [a1, b1, bob]);

  // SIGKILL on host A: its slot is free at once, on host B.
  a1.kill('SIGKILL');
  await a1.exited;
  const b2 = await member(b, 'B2', addr);
  assert.equal(await refused(a, 'A4', addr), TOO_MANY);
  // One that quits frees its slot too.
  assert.equal(await b1.close(), 0);
  const a5 = await member(a, 'A5', addr);
  await conversation(a5, [b2, bob, carol]);
  assert.equal((await connMembers(prefix, addr)).length, 2);
});

twoHosts('a script that reconnects on both hosts gets one address budget of joins', {}, async (a, b, prefix) => {
  const addr = '203.0.113.50';
  const t0 = Date.now();
  let joined = 0;
  const refusedOn = new Set();
  // Connect, join, leave, again and again, alternating hosts: the address
  // pays JOIN_COST a join from FLOOD_BURST points, wherever it joins.
  for (let i = 0; i < 40; i++) {
    const h = i % 2 ? b : a;
    const c = await h.run(`/${ROOM}`, {
      cookie: h.session(`s-r${i}`, `R${i}:Gray`), label: `R${i}`,
      env: { REMOTE_ADDR: addr }, expectCode: [0, 1],
    });
    if (c.code === 0) {
      joined++;
    } else {
      assert.equal(c.out[0], FLOOD_JOIN, c.describe());
      refusedOn.add(h);
    }
  }
  const elapsed = (Date.now() - t0) / 1000;
  // With one bucket per host, each would let FLOOD_BURST / JOIN_COST in.
  const bound = Math.floor((FLOOD_BURST + FLOOD_RATE * elapsed) / JOIN_COST) + 1;
  assert.ok(joined >= 10 && joined <= bound,
    `${joined} of 40 joined in ${elapsed.toFixed(1)} s (bound ${bound})`);
  assert.equal(refusedOn.size, 2, 'both hosts refused joins');
  const ttl = await redis.command('PTTL', `${prefix}flood:${addr}`);
  assert.ok(ttl > 0 && ttl <= 15001, `flood key TTL ${ttl}`);

  // Another address joins on both at once.
  const dave = await member(a, 'Dave', '203.0.113.51');
  const erin = await member(b, 'Erin', '203.0.113.52');
  await conversation(dave, [erin]);
});

twoHosts('a flood on one host closes the address on every host; its other connections and other addresses talk on', {}, async (a, b) => {
  const addr = '198.51.100.200';
  const ann = await member(b, 'Ann', addr);
  const mallory = await member(a, 'Mallory', addr);
  const carol = await member(b, 'Carol', '198.51.100.201');
  await carol.waitFor('T Userlist: Ann:Gray,Carol:Gray,Mallory:Gray,');

  for (let i = 1; i <= 300; i++) mallory.send(`flood ${i}`);
  await mallory.waitFor(KICK);
  assert.equal(await mallory.waitExit(), 0);
  const errors = mallory.out.filter((l) => l.startsWith('T Error:'));
  assert.ok(errors.length >= 2 && errors.slice(0, -1).every((l) => l === SLOW_DOWN), errors.join('\n'));
  await carol.waitFor('T Mallory quit the lobby');

  // Reconnecting on the other host is no way around it ...
  assert.equal(await refused(b, 'Mallory', addr), FLOOD_JOIN);
  assert.equal(await refused(a, 'Mallory', addr), FLOOD_JOIN);
  // ... while Ann, already in, talks on, and another address comes in.
  await conversation(ann, [carol]);
  const dave = await member(a, 'Dave', '198.51.100.202');
  await conversation(dave, [ann, carol]);
  // Closed about FLOOD_BURST / FLOOD_RATE seconds (5 s): then open again.
  await sleep(6500);
  const back = await member(a, 'Mallory', addr);
  await conversation(back, [ann, carol]);
});

twoHosts('scripts on two hosts from one address are each stopped within their own burst', {}, async (a, b) => {
  const addr = '203.0.113.77';
  const bots = [await member(a, 'BotA', addr), await member(b, 'BotB', addr)];
  const carol = await member(b, 'Carol', '203.0.113.78');
  await carol.waitFor('T Userlist: BotA:Gray,BotB:Gray,Carol:Gray,');
  const t0 = Date.now();
  for (const bot of bots) for (let i = 1; i <= 150; i++) bot.send(`flood ${i}`);
  await Promise.all(bots.map((bot) => bot.waitFor(KICK)));
  const elapsed = (Date.now() - t0) / 1000;
  const bound = FLOOD_BURST + FLOOD_RATE * elapsed + 1;
  for (const bot of bots) {
    assert.equal(await bot.waitExit(), 0);
    // Its quit comes after every line of its that was let through.
    await carol.waitFor(`T ${bot.name} quit the lobby`);
    const seen = carol.out.filter((l) => l.startsWith(`T ${bot.name}> flood `)).length;
    assert.ok(seen >= 20 && seen <= bound, `${bot.name}: ${seen} of 150 delivered (bound ${bound.toFixed(1)})`);
  }
  assert.equal(await refused(a, 'BotC', addr), FLOOD_JOIN);
  const dave = await member(a, 'Dave', '203.0.113.79');
  await conversation(dave, [carol]);
});
