'use strict';
// TLS, with a throwaway certificate made by openssl for 127.0.0.1:
//
//   (a) wss:// straight to websocketd --ssl --sslcert --sslkey: two JSON
//       clients (the ws package, trusting that certificate only) chat;
//       a client that does not trust it, or speaks plain ws://, gets nowhere.
//   (b) the pages and the WebSocket through Apache's TLS virtual host
//       (mod_ssl), which proxies /chat/rooms/ to that websocketd over TLS
//       too (wss://, SSLProxyEngine, the certificate checked:
//       conf/apache2/chat_server.conf's CHAT_SERVER_WEBSOCKETD_CA): two
//       people chat in Chromium, and the session cookie is Secure.  An
//       Apache that is given another CA refuses to proxy.
//
//   node tests/run-integration.js tests/web/tls.test.js
//
// The openssl and websocketd commands are those of docs/deployment.md
// ("TLS"), with the test's files and ports.
//
// Environment: CHAT_SERVER_BIN, CHAT_TEST_KEEP=1 (keep the temporary files).

const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const https = require('node:https');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { test } = require('node:test');
const WebSocket = require('ws');
const { Harness, SANITIZED } = require('../integration/harness');
const { startWebsocketd } = require('../integration/wsd');
const { startApache, missing: apacheProblem } = require('./apache');
const { launchChromium, chromiumProblem, enterRoom, until } = require('./browser');

const WAIT_MS = SANITIZED ? 20000 : 10000;

function has(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

const skipWsd = (has('websocketd') ? null : 'websocketd is not installed') ||
  (has('openssl') ? null : 'openssl is not installed');
const skipWeb = skipWsd || apacheProblem() || chromiumProblem();

/**
 * A self-signed certificate for 127.0.0.1 in dir/<name>.pem with its key
 * in dir/<name>.key, valid for a day: { cert, key }.
 */
function makeCertificate(dir, name) {
  const cert = path.join(dir, `${name}.pem`);
  const key = path.join(dir, `${name}.key`);
  const argv = ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-days', '1',
    '-keyout', key, '-out', cert];
  const r = spawnSync('openssl', argv, { encoding: 'utf8' });
  assert.equal(r.status, 0, `openssl ${argv.join(' ')}:\n${r.stderr}`);
  return { cert, key };
}

/** The base64 SHA-256 of a certificate's public key (Chromium's SPKI pin). */
function spkiHash(certFile) {
  const x = new crypto.X509Certificate(fs.readFileSync(certFile));
  const der = x.publicKey.export({ type: 'spki', format: 'der' });
  return crypto.createHash('sha256').update(der).digest('base64');
}

/**
 * A JSON client on url: { ws, events, opened, waitEvent(pred), send(obj), close() };
 * opened rejects with the reason when the connection fails.
 */
function jsonClient(url, opts = {}) {
  const ws = new WebSocket(url, opts);
  const events = [];
  ws.on('message', (data) => {
    for (const line of String(data).split('\n')) if (line) events.push(JSON.parse(line));
  });
  const opened = new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
    ws.once('unexpected-response', (req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
  });
  opened.catch(() => {});
  return {
    ws,
    events,
    opened,
    waitEvent: (pred, what) => until(() => events.find(pred), { timeoutMs: WAIT_MS, what }),
    send: (obj) => ws.send(JSON.stringify(obj)),
    close: () => new Promise((resolve) => {
      if (ws.readyState === WebSocket.CLOSED) { resolve(); return; }
      ws.once('close', resolve);
      ws.close();
    }),
  };
}

/** GET url with the CA; resolves { status, headers, body }. */
function get(url, ca) {
  return new Promise((resolve, reject) => {
    https.get(url, { ca }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body }));
    }).on('error', reject);
  });
}

/** Two JSON clients on url chat: Anonymous and Anonymous1 see each other's message. */
async function twoChat(url, opts, text) {
  const a = jsonClient(url, opts);
  await a.opened;
  await a.waitEvent((e) => e.type === 'history_end', 'the first history_end');
  const b = jsonClient(url, opts);
  await b.opened;
  await b.waitEvent((e) => e.type === 'history_end', 'the second history_end');
  const nameA = a.events[0].name;
  assert.equal(a.events[0].type, 'welcome');
  a.send({ type: 'message', text });
  await b.waitEvent((e) => e.type === 'message' && e.from === nameA && e.text === text, `${text} at the other client`);
  await a.close();
  await b.close();
}

test('wss:// straight to websocketd --ssl', { skip: skipWsd || false, timeout: 120000 }, async (t) => {
  const h = new Harness({ diagnostic: (m) => t.diagnostic(m) });
  let failed = true;
  try {
    const { cert, key } = makeCertificate(h.root, 'chat');
    const wsd = await startWebsocketd(h, { args: ['--ssl', `--sslcert=${cert}`, `--sslkey=${key}`] });
    const url = `wss://127.0.0.1:${wsd.port}/lobby?proto=json`;
    t.diagnostic(`websocketd --ssl on ${url}`);
    const ca = fs.readFileSync(cert);

    await twoChat(url, { ca }, 'hello over wss');

    // Who does not trust the certificate does not connect...
    const untrusted = jsonClient(url);
    await assert.rejects(untrusted.opened, /self[- ]signed|certificate/i);
    // ...another name for the host is refused by the certificate...
    const misnamed = jsonClient(url.replace('127.0.0.1', 'localhost'), { ca });
    await assert.rejects(misnamed.opened, /altnames|not in the cert|does not match|ERR_TLS_CERT_ALTNAME/i);
    // ...and plain ws:// gets no chat.
    const plain = jsonClient(`ws://127.0.0.1:${wsd.port}/lobby?proto=json`);
    await assert.rejects(plain.opened);
    assert.deepEqual(plain.events, []);
    failed = false;
  } finally {
    await h.cleanup(failed);
  }
});

// docs/deployment.md, "Other sites' pages": websocketd's --origin refuses
// the upgrade by host, ALLOWED_ORIGINS refuses by the whole origin.
test('pages of other sites: websocketd --origin and ALLOWED_ORIGINS', { skip: skipWsd || false, timeout: 120000 },
  async (t) => {
    const h = new Harness({ diagnostic: (m) => t.diagnostic(m) },
      { config: { ALLOWED_ORIGINS: 'https://chat.example.org' } });
    let failed = true;
    try {
      const { cert, key } = makeCertificate(h.root, 'chat');
      const wsd = await startWebsocketd(h, {
        args: ['--ssl', `--sslcert=${cert}`, `--sslkey=${key}`, '--origin=chat.example.org'],
      });
      const url = `wss://127.0.0.1:${wsd.port}/lobby?proto=json`;
      const ca = fs.readFileSync(cert);
      const as = (origin) => jsonClient(url, { ca, headers: { Origin: origin } });
      // The chat's own pages.
      const own = as('https://chat.example.org');
      await own.opened;
      await own.waitEvent((e) => e.type === 'history_end', 'history_end');
      await own.close();
      // Another site: websocketd answers 403, chat_server never starts.
      await assert.rejects(as('https://evil.example').opened, /HTTP 403/);
      // The right host without TLS passes websocketd (it compares hosts),
      // and chat_server refuses it.
      const http = as('http://chat.example.org');
      await http.opened;
      const err = await http.waitEvent((e) => e.type === 'error', 'the refusal');
      assert.equal(err.code, 'origin');
      await http.close();
      failed = false;
    } finally {
      await h.cleanup(failed);
    }
  });

test('the chat through Apache\'s TLS virtual host, proxied to websocketd over TLS', {
  skip: skipWeb || false, timeout: 5 * 60000,
}, async (t) => {
  const h = new Harness({ diagnostic: (m) => t.diagnostic(m) });
  let failed = true;
  let web = null;
  let wrong = null;
  let browser = null;
  try {
    const { cert, key } = makeCertificate(h.root, 'chat');
    const ca = fs.readFileSync(cert);
    const wsd = await startWebsocketd(h, { args: ['--ssl', `--sslcert=${cert}`, `--sslkey=${key}`] });
    web = await startApache({
      base: h.base, config: h.configPath, wsPort: wsd.port, tls: { cert, key }, wsTls: { ca: cert },
    });
    assert.match(web.url, /^https:\/\/127\.0\.0\.1:\d+\/chat\/$/);
    t.diagnostic(`Apache on ${web.url}, proxying /chat/rooms/ to wss://127.0.0.1:${wsd.port}/`);

    await t.test('the pages over HTTPS set a Secure session cookie', async () => {
      const r = await get(`${web.url}userconfig.php`, ca);
      assert.equal(r.status, 200, r.body);
      const cookies = [].concat(r.headers['set-cookie'] || []);
      const session = cookies.find((c) => c.startsWith('PHPSESSID='));
      assert.ok(session, `no session cookie: ${cookies}`);
      assert.match(session, /;\s*secure(;|$)/i, session);
      assert.match(session, /;\s*HttpOnly(;|$)/i, session);
      assert.match(session, /;\s*SameSite=Lax(;|$)/i, session);
    });

    await t.test('JSON clients chat through the proxy', async () => {
      await twoChat(`${web.url.replace(/^https/, 'wss')}rooms/lobby?proto=json`, { ca }, 'hello through Apache');
    });

    await t.test('two people chat in Chromium over https and wss', async () => {
      // Chromium trusts this certificate's key and nothing else unknown
      // (an SPKI pin: certificate errors of any other key still count).
      browser = await launchChromium({ args: [`--ignore-certificate-errors-spki-list=${spkiHash(cert)}`] });
      const users = {};
      for (const [name, color] of [['Alice', '#c00'], ['Bob', 'blue']]) {
        users[name] = await enterRoom(browser, web.url, { name, color, waitMs: WAIT_MS });
      }
      const { Alice: alice, Bob: bob } = users;
      await alice.page.getByRole('textbox', { name: 'Message', exact: true }).fill('hello from Alice over TLS');
      await alice.page.getByRole('button', { name: 'Send', exact: true }).click();
      await bob.page.locator('#messages > li[data-type="message"][data-from="Alice"]')
        .filter({ hasText: 'hello from Alice over TLS' }).waitFor();
      for (const [name, u] of Object.entries(users)) {
        const sockets = u.sockets.map((ws) => ws.url());
        assert.ok(sockets.length > 0 && sockets.every((s) => s.startsWith(`wss://127.0.0.1:${web.port}/chat/rooms/lobby`)),
          `${name}'s WebSockets: ${sockets}`);
        const cookie = (await u.context.cookies()).find((c) => c.name === 'PHPSESSID');
        assert.equal(cookie?.secure, true, `${name}'s session cookie: ${JSON.stringify(cookie)}`);
        u.watch.assertClean();
      }
      // The names came from the sessions, which the cookie carried over wss.
      const list = await bob.page.locator('#users > li').evaluateAll((lis) => lis.map((li) => li.dataset.name));
      assert.deepEqual(list.sort(), ['Alice', 'Bob']);
    });

    await t.test('an Apache that trusts another certificate does not proxy', async () => {
      const other = makeCertificate(h.root, 'other');
      wrong = await startApache({
        base: h.base, config: h.configPath, wsPort: wsd.port, tls: { cert, key }, wsTls: { ca: other.cert },
        sessions: false,
      });
      const c = jsonClient(`${wrong.url.replace(/^https/, 'wss')}rooms/lobby?proto=json`, { ca });
      await assert.rejects(c.opened, /HTTP 5\d\d/);
      const line = await until(() => wrong.errorLog().split('\n').find((l) => /AH02039: Certificate Verification: Error/.test(l)),
        { what: () => `the refusal in Apache's error log:\n${wrong.errorLog()}` });
      t.diagnostic(`Apache: ${line}`);
    });

    const alog = web.errorLog();
    assert.ok(!/PHP (Warning|Fatal|Notice|Deprecated|Parse)|AH01961|AH02039/.test(alog), `Apache's error log:\n${alog}`);
    failed = false;
  } finally {
    const errors = [];
    for (const step of [() => browser?.close(), () => web?.stop(), () => wrong?.stop(), () => h.cleanup(failed)]) {
      try { await step(); } catch (err) { errors.push(err); }
    }
    if (errors.length) throw errors[0];
  }
});
