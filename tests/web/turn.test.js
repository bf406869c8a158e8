'use strict';
// WebRTC through a TURN relay, end to end: Debian's coturn with its REST
// API authentication (use-auth-secret), chat_server handing each client a
// time-limited credential in its welcome (TURN_URLS, TURN_SECRET), and two
// people in the chat page (Apache, websocketd, Chromium) whose client is
// told to use the relay only (ICE_TRANSPORT_POLICY=relay).
//
//   node tests/run-integration.js tests/web/turn.test.js
//
// Where coturn listens: Chromium gathers no ICE candidates on loopback, so
// the browsers run in a network namespace of their own (netns.js), and
// coturn cannot sit on 127.0.0.1 where they cannot reach it.  It listens,
// and relays, on the host side of the namespace's veth pair instead (a
// 198.51.100.x address, TEST-NET-2), where the browsers reach Apache too.
// Under the relay policy a browser offers its relayed address only, so a
// data channel that opens went through coturn; the test also reads coturn's
// log for the two allocations and the permissions between them.
//
// Then the chat's secret is made wrong (coturn keeps the right one): coturn
// refuses the credentials (401), no relay, no data channel, no typing
// preview; each page tells its reader that the browser-to-browser
// connection failed, and the chat itself goes on.
//
// coturn is started from a configuration file of the test's, written with
// the lines docs/deployment.md shows ("STUN and TURN with coturn").
//
// Environment: CHAT_SERVER_BIN, CHAT_TEST_REQUIRE_NETNS=1 (no namespace is
// an error, not a skip), CHAT_TEST_KEEP=1 (keep the temporary files).

const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const dgram = require('node:dgram');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const { spawn, spawnSync } = require('node:child_process');
const { test } = require('node:test');
const { Harness, SANITIZED } = require('../integration/harness');
const { startWebsocketd } = require('../integration/wsd');
const { startApache, missing: apacheProblem } = require('./apache');
const { launchChromium, chromiumProblem, watchPage, confineContext, until } = require('./browser');
const { createNetns, netnsSkipReason } = require('./netns');

const WAIT_MS = SANITIZED ? 20000 : 10000;
const SHOTS = path.join(__dirname, 'screenshots');
const TURNSERVER = '/usr/bin/turnserver';
const SECRET = crypto.randomBytes(32).toString('hex');
const REALM = 'chat.test';
const TTL = 600;

function has(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

function coturnProblem() {
  try {
    fs.accessSync(TURNSERVER, fs.constants.X_OK);
    return null;
  } catch {
    return `coturn is not installed (no ${TURNSERVER}; apt-get install coturn, .ci/install-deps test does)`;
  }
}

const skipAll = chromiumProblem() || apacheProblem() || (has('websocketd') ? null : 'websocketd is not installed') ||
  coturnProblem();
// Without a namespace no browser gathers a candidate: nothing to test.
const skipNetns = skipAll ? null : netnsSkipReason();

/** Resolves when port is free on host for both TCP and UDP. */
async function bothFree(host, port) {
  const tcp = () => new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(port, host, () => s.close(resolve));
  });
  const udp = () => new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    s.once('error', reject);
    s.bind(port, host, () => s.close(resolve));
  });
  await tcp();
  await udp();
}

async function freeTurnPort(host) {
  for (let i = 0; i < 50; i++) {
    const port = 20000 + crypto.randomInt(20000);
    try {
      await bothFree(host, port);
      return port;
    } catch {
      // taken: another
    }
  }
  throw new Error(`no port free for TCP and UDP on ${host}`);
}

/**
 * coturn on address:port with the REST API secret, from a config file in
 * dir.  The lines are those of docs/deployment.md, with the test's
 * address, port and secret, and files kept in dir.
 */
async function startCoturn({ address, secret, dir }) {
  const port = await freeTurnPort(address);
  const conf = path.join(dir, 'turnserver.conf');
  fs.writeFileSync(conf, [
    `listening-ip=${address}`,
    `relay-ip=${address}`,
    `listening-port=${port}`,
    'use-auth-secret',
    `static-auth-secret=${secret}`,
    `realm=${REALM}`,
    'fingerprint',
    'no-tls',
    'no-dtls',
    'no-cli',
    'no-multicast-peers',
    'denied-peer-ip=10.0.0.0-10.255.255.255',
    'denied-peer-ip=172.16.0.0-172.31.255.255',
    'denied-peer-ip=192.168.0.0-192.168.255.255',
    // The test's own: a log on stdout, state in its directory, and the
    // allocations and refusals logged, which the test reads.
    'log-file=stdout',
    'simple-log',
    'verbose',
    `pidfile=${path.join(dir, 'turnserver.pid')}`,
    `userdb=${path.join(dir, 'turndb')}`,
    '',
  ].join('\n'), { mode: 0o600 });
  const proc = spawn(TURNSERVER, ['-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  proc.stdout.on('data', (d) => { text += d; });
  proc.stderr.on('data', (d) => { text += d; });
  const exited = new Promise((resolve) => proc.on('close', resolve));
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
    const slow = setTimeout(() => proc.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(slow);
  };
  // Up when its TCP listener answers (it opens UDP and TCP together).
  try {
    await until(async () => {
      if (proc.exitCode !== null) throw new Error(`turnserver exited (${proc.exitCode}):\n${text}`);
      return new Promise((resolve) => {
        const s = net.connect(port, address);
        s.on('connect', () => { s.destroy(); resolve(true); });
        s.on('error', () => resolve(false));
      });
    }, { timeoutMs: 15000, what: `turnserver on ${address}:${port}` });
  } catch (err) {
    await stop();
    throw err;
  }
  return { port, conf, proc, log: () => text, stop };
}

/** The chat's config: the TURN keys with secret. */
function chatConfig(h, turnUrl, secret) {
  return [
    '[global]', `BASE_DIR=${h.base}`, `RUN_DIR=${h.base}/run`,
    `TURN_URLS=${turnUrl}`,
    `TURN_SECRET=${secret}`,
    `TURN_TTL=${TTL}`,
    'ICE_TRANSPORT_POLICY=relay', '',
  ].join('\n');
}

test('live typing through a TURN relay (coturn, use-auth-secret)', {
  skip: skipAll || skipNetns || false, timeout: 10 * 60000,
}, async (t) => {
  const h = new Harness({ diagnostic: (m) => t.diagnostic(m) }, { configText: '[global]\nBASE_DIR={BASE}\n' });
  let failed = true;
  let ns = null;
  let turn = null;
  let web = null;
  let browser = null;
  try {
    ns = await createNetns();
    turn = await startCoturn({ address: ns.hostAddr, secret: SECRET, dir: h.root });
    const turnUrl = `turn:${ns.hostAddr}:${turn.port}?transport=udp`;
    t.diagnostic(`coturn on ${ns.hostAddr}:${turn.port} (the host side of the browsers' veth pair), ` +
      `browsers in a namespace at ${ns.nsAddr}`);
    fs.writeFileSync(h.configPath, chatConfig(h, turnUrl, SECRET));
    const wsd = await startWebsocketd(h);
    web = await startApache({
      base: h.base, config: h.configPath, wsPort: wsd.port, listen: ['127.0.0.1', ns.hostAddr],
    });
    const site = web.urls[1];
    const origin = new URL(site).origin;
    const url = (p) => new URL(p, site).href;
    browser = await launchChromium({ netns: ns });

    const users = [];
    const newUser = async (name, color) => {
      const context = await browser.newContext();
      context.setDefaultTimeout(WAIT_MS);
      await confineContext(context, [origin]);
      const page = await context.newPage();
      const user = { name, context, page, watch: watchPage(page, name), welcomes: [] };
      page.on('websocket', (ws) => ws.on('framereceived', (f) => {
        const s = String(f.payload);
        if (s.startsWith('{"type":"welcome"')) user.welcomes.push(JSON.parse(s));
      }));
      await page.goto(url('userconfig.php'));
      await page.getByRole('textbox', { name: 'Name', exact: true }).fill(name);
      await page.getByRole('textbox', { name: 'Color', exact: true })
        .or(page.getByRole('combobox', { name: 'Color', exact: true })).fill(color);
      await Promise.all([page.waitForURL(/saved=1/), page.getByRole('button', { name: 'Save' }).click()]);
      users.push(user);
      return user;
    };
    const enter = async (user) => {
      const n = user.welcomes.length;
      await user.page.goto(url('index.php?room=lobby'));
      await until(async () => (await user.page.locator('#connection-state').textContent()) === 'Connected' &&
        user.welcomes.length > n, { timeoutMs: WAIT_MS, what: `${user.name} connected` });
      await user.page.locator('#messages > li.history-end').first().waitFor();
    };
    const waitUsers = (user, names) => until(async () => {
      const now = await user.page.locator('#users > li').evaluateAll((lis) => lis.map((li) => li.dataset.name));
      return JSON.stringify(now.sort()) === JSON.stringify([...names].sort());
    }, { timeoutMs: WAIT_MS, what: `users ${names} on ${user.name}'s page` });
    const typingOf = (user, from) => user.page.locator(`#typing li[data-peer="${from}"]`);
    const peerFailed = (user) => user.page.locator('#messages > li[data-code="peer_failed"]');
    const message = (user, from, text) => user.page.locator(`#messages > li[data-type="message"][data-from="${from}"]`)
      .filter({ hasText: text });

    const alice = await newUser('Alice', '#c00');
    const bob = await newUser('Bob', 'blue');

    await t.test('each welcome has a TURN credential that coturn computes too', async () => {
      for (const u of [alice, bob]) await enter(u);
      for (const u of [alice, bob]) await waitUsers(u, ['Alice', 'Bob']);
      for (const u of [alice, bob]) {
        const w = u.welcomes.at(-1);
        assert.equal(w.ice_transport_policy, 'relay');
        assert.equal(w.ice_servers.length, 1, JSON.stringify(w.ice_servers));
        const s = w.ice_servers[0];
        assert.deepEqual(s.urls, [turnUrl]);
        const [expiry, name] = s.username.split(':');
        assert.equal(name, u.name);
        const now = Date.now() / 1000;
        assert.ok(Number(expiry) > now + TTL - 60 && Number(expiry) <= now + TTL + 1, s.username);
        assert.equal(s.credential, crypto.createHmac('sha1', SECRET).update(s.username).digest('base64'));
      }
    });

    await t.test('the typing preview arrives through the relay', async () => {
      const draft = 'typed through the TURN relay 7';
      await alice.page.getByRole('textbox', { name: 'Message', exact: true }).pressSequentially(draft);
      await until(async () => (await typingOf(bob, 'Alice').textContent().catch(() => null)) ===
        `Alice is writing: ${draft}`, { timeoutMs: 30000, what: 'Bob to see Alice typing' });
      // And back.
      await bob.page.getByRole('textbox', { name: 'Message', exact: true }).pressSequentially('and back');
      await until(async () => (await typingOf(alice, 'Bob').textContent().catch(() => null)) ===
        'Bob is writing: and back', { timeoutMs: 30000, what: 'Alice to see Bob typing' });
      // coturn gave each of them a relay, under the credential of their
      // welcome, and let them send to each other.
      const log = turn.log();
      for (const u of [alice, bob]) {
        const user = u.welcomes.at(-1).ice_servers[0].username;
        const ok = (what) => new RegExp(`user <${user}>: incoming packet ${what} processed, success`).test(log);
        assert.ok(ok('ALLOCATE'), `no allocation for ${user} in coturn's log:\n${log}`);
        assert.ok(ok('CREATE_PERMISSION') || ok('CHANNEL_BIND'), `no permission for ${user}:\n${log}`);
      }
      for (const u of [alice, bob]) {
        assert.equal(await peerFailed(u).count(), 0, `${u.name}'s page says the connection failed`);
        u.watch.assertClean();
      }
      t.diagnostic(`coturn: ${log.split('\n').filter((l) => /ALLOCATE processed, success/.test(l)).join(' | ')}`);
    });

    await t.test('with a wrong secret the relay refuses, the page says so, and the chat goes on', async () => {
      // The chat's config changes, coturn's does not; the next connections
      // get credentials coturn refuses.
      fs.writeFileSync(h.configPath, chatConfig(h, turnUrl, `not-${SECRET}`));
      for (const u of [alice, bob]) await enter(u);
      for (const u of [alice, bob]) await waitUsers(u, ['Alice', 'Bob']);
      for (const [u, other] of [[alice, 'Bob'], [bob, 'Alice']]) {
        const notice = peerFailed(u);
        await notice.first().waitFor({ timeout: 30000 });
        assert.match(await notice.first().textContent(), new RegExp(`${other}.*failed`));
      }
      // Typing shows nowhere: there is no channel to carry it.
      await alice.page.getByRole('textbox', { name: 'Message', exact: true }).pressSequentially('nobody sees this draft');
      await new Promise((r) => setTimeout(r, 3000));
      assert.equal(await typingOf(bob, 'Alice').count(), 0, 'a typing preview without a relay');
      fs.mkdirSync(SHOTS, { recursive: true });
      const shot = path.join(SHOTS, 'turn-refused.png');
      await bob.page.screenshot({ path: shot });
      t.diagnostic(`screenshot of Bob's page: ${shot}`);
      // coturn refused the credentials of these welcomes.
      const log = turn.log();
      for (const u of [alice, bob]) {
        const user = u.welcomes.at(-1).ice_servers[0].username;
        assert.ok(new RegExp(`user <${user}>: incoming packet message processed, error 401`).test(log),
          `coturn did not refuse ${user}:\n${log}`);
        assert.ok(!new RegExp(`user <${user}>: incoming packet ALLOCATE processed, success`).test(log),
          `coturn gave ${user} a relay`);
      }
      // The chat itself works.
      await alice.page.getByRole('textbox', { name: 'Message', exact: true }).fill('the chat still works');
      await alice.page.getByRole('button', { name: 'Send', exact: true }).click();
      for (const u of [alice, bob]) await message(u, 'Alice', 'the chat still works').waitFor();
      for (const u of [alice, bob]) u.watch.assertClean();
    });
    failed = false;
  } finally {
    const errors = [];
    for (const step of [() => browser?.close(), () => web?.stop(), () => h.cleanup(failed),
      () => turn?.stop(), () => ns?.close()]) {
      try { await step(); } catch (err) { errors.push(err); }
    }
    if (failed && turn) t.diagnostic(`coturn's log:\n${turn.log()}`);
    if (errors.length) throw errors[0];
  }
});
