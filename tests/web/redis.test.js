'use strict';
// The chat on TRANSPORT=redis (issue 15) in Chromium, through Apache and
// websocketd as deployed: Redis goes away under two people in a room, and
// comes back.  Their pages say that the room is unavailable (an error
// line), then that it is available again (a notice, the one error code
// that is good news: htdocs/js/render.js), without the WebSocket ever
// closing, and the chat goes on.  As in chat.test.js, the browsers run in
// a network namespace of their own where there is one (netns.js), so that
// their WebRTC peers connect before the outage, as people's do: a page
// whose peers never connect keeps signalling, and a signal that meets the
// outage is refused, as it should be, but shown.
//
//   node tests/run-integration.js tests/web/redis.test.js
//
// Environment: CHAT_SERVER_BIN, CHAT_TEST_KEEP=1 (keep the temporary files).

const assert = require('node:assert/strict');
const { test } = require('node:test');
const { Harness, SANITIZED } = require('../integration/harness');
const { RedisServer, redisServerProblem } = require('../integration/redis');
const { startWebsocketd, websocketdProblem } = require('../integration/wsd');
const { startApache, missing: apacheProblem } = require('./apache');
const { launchChromium, chromiumProblem, enterRoom, until } = require('./browser');
const { createNetns, netnsSkipReason } = require('./netns');

const WAIT_MS = SANITIZED ? 20000 : 10000;

const skip = websocketdProblem() || redisServerProblem() || apacheProblem() || chromiumProblem();
const skipNetns = skip ? null : netnsSkipReason();

/** The <li> of #messages with this type and error code. */
const coded = (page, type, code) => page.locator(`#messages > li[data-type="${type}"][data-code="${code}"]`);

test('Redis restarted under a room: the page says the room is unavailable, then available again, and the chat goes on', {
  skip: skip || false, timeout: 5 * 60000,
}, async (t) => {
  const redis = await RedisServer.start();
  const h = new Harness({ diagnostic: (m) => t.diagnostic(m) }, {
    config: { TRANSPORT: 'redis', REDIS_URL: `"${redis.unixUrl(0)}"`, REDIS_KEY_PREFIX: 'web:' },
  });
  let failed = true;
  let web = null;
  let browser = null;
  let ns = null;
  try {
    if (!skipNetns) ns = await createNetns();
    const wsd = await startWebsocketd(h);
    web = await startApache({
      base: h.base, config: h.configPath, wsPort: wsd.port,
      listen: ns ? ['127.0.0.1', ns.hostAddr] : ['127.0.0.1'],
    });
    const site = ns ? web.urls[1] : web.url;
    t.diagnostic(ns ? `browsers in a network namespace (${ns.nsAddr})` : `no namespace: ${skipNetns}`);
    browser = await launchChromium({ netns: ns });
    const users = {};
    for (const [name, color] of [['Alice', '#c00'], ['Bob', 'blue']]) {
      users[name] = await enterRoom(browser, site, { name, color, waitMs: WAIT_MS });
    }
    const { Alice: alice, Bob: bob } = users;
    const field = (u) => u.page.getByRole('textbox', { name: 'Message', exact: true });
    const say = async (u, text) => {
      await field(u).fill(text);
      await u.page.getByRole('button', { name: 'Send', exact: true }).click();
    };
    if (ns) {
      // Their peers are connected: Alice's draft reaches Bob over the
      // data channel, which needs no signalling any more.
      await field(alice).pressSequentially('a draft');
      await until(async () => (await bob.page.locator('#typing li[data-peer="Alice"]').textContent()
        .catch(() => null)) === 'Alice is writing: a draft', { timeoutMs: 2 * WAIT_MS, what: 'the peers connected' });
    }
    const sees = (u, from, text) => u.page.locator(`#messages > li[data-type="message"][data-from="${from}"]`)
      .filter({ hasText: text }).waitFor();

    await say(alice, 'before the outage');
    await sees(bob, 'Alice', 'before the outage');

    await redis.kill();
    for (const u of [alice, bob]) {
      const down = coded(u.page, 'error', 'unavailable');
      await down.waitFor();
      assert.match(await down.textContent(), /the room is unavailable; your messages are not delivered until it is back/);
    }

    await redis.start();
    for (const u of [alice, bob]) {
      const back = coded(u.page, 'notice', 'available');
      await back.waitFor({ timeout: 4 * WAIT_MS });
      assert.match(await back.textContent(), /the room is available again/);
      // One line each way, in that order.
      assert.equal(await coded(u.page, 'error', 'unavailable').count(), 1);
      assert.equal(await coded(u.page, 'notice', 'available').count(), 1);
      const codes = await u.page.locator('#messages > li[data-code]').evaluateAll((lis) => lis.map((li) => li.dataset.code));
      assert.deepEqual(codes, ['unavailable', 'available']);
    }

    await say(alice, 'after the outage');
    await sees(bob, 'Alice', 'after the outage');
    await say(bob, 'welcome back');
    await sees(alice, 'Bob', 'welcome back');
    for (const [name, u] of Object.entries(users)) {
      assert.equal(await u.page.locator('#connection-state').textContent(), 'Connected', name);
      // The WebSocket stayed open throughout: no reconnection.
      assert.equal(u.sockets.length, 1, `${name} opened ${u.sockets.length} WebSockets`);
      assert.equal(u.sockets[0].isClosed(), false, `${name}'s WebSocket closed`);
      u.watch.assertClean();
    }
    const alog = web.errorLog();
    assert.ok(!/PHP (Warning|Fatal|Notice|Deprecated|Parse)|AH01961/.test(alog), `Apache's error log:\n${alog}`);
    failed = false;
  } finally {
    const errors = [];
    for (const step of [() => browser?.close(), () => web?.stop(), () => ns?.close(), () => h.cleanup(failed),
      () => redis.cleanup()]) {
      try { await step(); } catch (err) { errors.push(err); }
    }
    if (errors.length) throw errors[0];
  }
});
