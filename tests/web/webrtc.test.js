'use strict';
// The infrastructure the chat's browser tests stand on: Debian's Chromium
// under playwright-core (browser.js) in a private network namespace
// (netns.js), where two pages can open an RTCDataChannel to each other.
// No chat here: a blank page served by a node http server on the host side
// of the veth pair, and the signalling relayed by this test.
//
//   node tests/run-integration.js tests/web/webrtc.test.js

const assert = require('node:assert/strict');
const http = require('node:http');
const { describe, test, before, after } = require('node:test');
const { launchChromium, chromiumProblem, watchPage, until, disableFeaturesArgs, playwrightSwitches } =
  require('./browser');
const { createNetns, netnsSkipReason } = require('./netns');

const TIMEOUT_MS = 60000;
const skipBrowser = chromiumProblem();
const skipNetns = skipBrowser || netnsSkipReason();

/** A node http server on host:0 serving one blank page; { url, close() }. */
async function blankPageServer(host) {
  const server = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><meta charset="utf-8"><title>webrtc</title><p>blank</p>\n');
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, resolve);
  });
  const { port } = server.address();
  return {
    url: `http://${host}:${port}/`,
    close: () => new Promise((resolve) => {
      server.closeAllConnections?.();
      server.close(() => resolve());
    }),
  };
}

// Runs in a page: a peer connection whose candidates and messages are kept
// on window, without trickle (the descriptions carry the candidates).
function setUpPeer() {
  const pc = new RTCPeerConnection({ iceServers: [] });
  const w = window;
  w.__pc = pc;
  w.__candidates = [];
  w.__received = [];
  pc.addEventListener('icecandidate', (e) => {
    if (e.candidate && e.candidate.candidate) w.__candidates.push(e.candidate.candidate);
  });
  const keep = (dc) => {
    w.__dc = dc;
    dc.addEventListener('message', (e) => w.__received.push(e.data));
  };
  pc.addEventListener('datachannel', (e) => keep(e.channel));
  w.__keep = keep;
  w.__gathered = () => new Promise((resolve) => {
    if (pc.iceGatheringState === 'complete') { resolve(); return; }
    pc.addEventListener('icegatheringstatechange', () => {
      if (pc.iceGatheringState === 'complete') resolve();
    });
  });
}

describe('Chromium in a network namespace', { skip: skipNetns || false }, () => {
  let ns;
  let server;
  let browser;

  before(async () => {
    ns = await createNetns();
    server = await blankPageServer(ns.hostAddr);
    browser = await launchChromium({ netns: ns });
  });

  after(async () => {
    // Each step even when an earlier one failed.
    const errors = [];
    for (const step of [() => browser?.close(), () => server?.close(), () => ns?.close()]) {
      try { await step(); } catch (err) { errors.push(err); }
    }
    if (errors.length) throw errors[0];
  });

  test('the pages reach the host side of the veth pair', { timeout: TIMEOUT_MS }, async () => {
    const page = await browser.newPage();
    const watch = watchPage(page, 'page');
    const res = await page.goto(server.url);
    assert.equal(res.status(), 200);
    assert.equal(await page.textContent('p'), 'blank');
    watch.assertClean();
    await page.close();
  });

  test('two pages open a data channel to each other', { timeout: TIMEOUT_MS }, async (t) => {
    // Two contexts, as two users would be.
    const ctxA = await browser.newContext();
    const ctxB = await browser.newContext();
    try {
      const a = await ctxA.newPage();
      const b = await ctxB.newPage();
      const watchA = watchPage(a, 'A');
      const watchB = watchPage(b, 'B');
      await a.goto(server.url);
      await b.goto(server.url);
      await a.evaluate(setUpPeer);
      await b.evaluate(setUpPeer);

      const offer = await a.evaluate(async () => {
        const pc = window.__pc;
        window.__keep(pc.createDataChannel('test'));
        await pc.setLocalDescription(await pc.createOffer());
        await window.__gathered();
        return pc.localDescription.toJSON();
      });
      const answer = await b.evaluate(async (o) => {
        const pc = window.__pc;
        await pc.setRemoteDescription(o);
        await pc.setLocalDescription(await pc.createAnswer());
        await window.__gathered();
        return pc.localDescription.toJSON();
      }, offer);
      await a.evaluate((o) => window.__pc.setRemoteDescription(o), answer);

      const open = () => window.__dc && window.__dc.readyState === 'open';
      await a.waitForFunction(open, null, { timeout: 20000 });
      await b.waitForFunction(open, null, { timeout: 20000 });
      await a.evaluate(() => window.__dc.send('from A'));
      await b.evaluate(() => window.__dc.send('from B'));
      await b.waitForFunction(() => window.__received.includes('from A'));
      await a.waitForFunction(() => window.__received.includes('from B'));

      // Host candidates are the namespace's address, not mDNS names: the
      // merged --disable-features reached Chromium.
      for (const [label, page] of [['A', a], ['B', b]]) {
        const candidates = await page.evaluate(() => window.__candidates);
        t.diagnostic(`${label}'s candidates: ${candidates.join(' | ')}`);
        assert.ok(candidates.some((c) => c.includes(` ${ns.nsAddr} `) && / typ host/.test(c)),
          `${label} has no host candidate on ${ns.nsAddr}: ${candidates.join(' | ')}`);
        assert.ok(!candidates.some((c) => /\.local /.test(c)),
          `${label} still hides its address behind an mDNS name: ${candidates.join(' | ')}`);
      }
      const state = await a.evaluate(() => window.__pc.connectionState);
      assert.equal(state, 'connected');
      watchA.assertClean();
      watchB.assertClean();
    } finally {
      await ctxA.close();
      await ctxB.close();
    }
  });
});

describe('browser.js', { skip: skipBrowser || false }, () => {
  test('one --disable-features switch, with Playwright\'s features and ours', () => {
    const { ignore, arg } = disableFeaturesArgs(['WebRtcHideLocalIpsWithMdns', 'Foo']);
    const own = playwrightSwitches().filter((s) => s.startsWith('--disable-features='));
    assert.deepEqual(ignore, own);
    assert.equal(own.length, 1, 'Playwright passes one --disable-features switch');
    const features = arg.replace(/^--disable-features=/, '').split(',');
    for (const f of own[0].replace(/^--disable-features=/, '').split(',')) {
      assert.ok(features.includes(f), `${f} is lost`);
    }
    assert.ok(features.includes('WebRtcHideLocalIpsWithMdns'));
    assert.ok(features.includes('Foo'));
    assert.equal(new Set(features).size, features.length, 'no feature twice');
  });

  test('Chromium starts without the namespace, and a page reports its errors', { timeout: TIMEOUT_MS },
    async () => {
      const browser = await launchChromium();
      try {
        const page = await browser.newPage();
        const watch = watchPage(page, 'page');
        await page.setContent('<p>x</p>');
        assert.deepEqual(watch.problems, []);
        // The watcher must be able to fail: an uncaught exception and a
        // console error are reported.
        await page.evaluate(() => {
          console.error('deliberate');
          setTimeout(() => { throw new Error('deliberate throw'); });
        });
        await until(() => watch.problems.length >= 2, { what: () => `two problems, have ${watch.problems}` });
        assert.equal(watch.problems.length, 2, watch.problems.join('\n'));
        assert.match(watch.problems.join('\n'), /console error: deliberate/);
        assert.match(watch.problems.join('\n'), /uncaught exception: .*deliberate throw/);
        assert.throws(() => watch.assertClean());

        // A CSP violation is reported too.
        const csp = await browser.newPage();
        const watchCsp = watchPage(csp, 'csp');
        await csp.route('http://csp.invalid/', (route) => route.fulfill({
          status: 200,
          headers: { 'content-type': 'text/html', 'content-security-policy': "script-src 'none'" },
          body: '<!doctype html><p>csp</p><script>window.ran = 1</script>',
        }));
        await csp.goto('http://csp.invalid/');
        await until(() => watchCsp.problems.some((p) => /CSP violation: script-src/.test(p)),
          { what: () => `a CSP violation, have ${watchCsp.problems}` });
        assert.equal(await csp.evaluate(() => window.ran), undefined);
      } finally {
        await browser.close();
      }
    });
});
