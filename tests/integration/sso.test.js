'use strict';
// The OpenSSO login (contract section 3): AUTHENTIZATION_WEBSERVICE_URL and
// AUTHENTIZATION_COOKIENAME, against a fake OpenSSO identity/attributes
// service started by each test.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const http = require('node:http');
const { chatTest } = require('./harness');

const COOKIE = 'iPlanetDirectoryPro';
const PATH = '/opensso/identity/attributes';
// A real-looking token, with the characters that need URL-encoding.
const TOKEN = 'AQIC5wM2LY4SfcxvdvHOXjtC_eWSs2RB54tgvgeaQEf1Sb0.*AAJTSQACMDE.*+/=@#~';
const ANSWER = [
  `userdetails.token.id=${TOKEN}`,
  'userdetails.attribute.name=uid',
  'userdetails.attribute.value=jdoe',
  'userdetails.attribute.name=mail',
  'userdetails.attribute.value=john.doe@example.org',
  'userdetails.attribute.name=givenName',
  'userdetails.attribute.value=John',
  'userdetails.attribute.name=sn',
  'userdetails.attribute.value=Doe',
  'userdetails.attribute.name=objectclass',
  'userdetails.attribute.value=top',
  'userdetails.attribute.value=person',
  'userdetails.role=id=staff,ou=group,dc=example,dc=org',
  '',
].join('\n');

/**
 * Answers like OpenSSO: ANSWER for TOKEN (as subjectid and as the cookie),
 * 401 for anything else.  mode 'hang' never answers; 'big' and
 * 'big-chunked' answer TOKEN with more than 64 KiB (with a Content-Length,
 * chunked); 'redirect' sends every request elsewhere.
 */
function handler(mode, requests) {
  return (req, res) => {
    requests.push({ method: req.method, url: req.url, headers: req.headers });
    if (mode === 'hang') return;
    const u = new URL(req.url, 'http://sso');
    if (mode === 'redirect' && u.pathname === PATH) {
      res.writeHead(302, { Location: `/elsewhere${u.search}` });
      res.end();
      return;
    }
    const known = u.searchParams.get('subjectid') === TOKEN &&
      req.headers.cookie === `${COOKIE}=${TOKEN}`;
    if (!known) {
      res.writeHead(401, { 'Content-Type': 'text/plain' });
      res.end('exception.name=com.sun.identity.idsvcs.TokenExpired Invalid session ID.\n');
      return;
    }
    res.writeHead(200, { 'Content-Type': 'text/plain;charset=UTF-8' });
    if (mode !== 'big' && mode !== 'big-chunked') {
      res.end(ANSWER);
      return;
    }
    const big = ANSWER.repeat(1 + (100 * 1024) / ANSWER.length);
    if (mode === 'big') {
      res.end(big); // with a Content-Length
      return;
    }
    // Chunked: the size shows only while reading.
    for (let i = 0; i < big.length; i += 4096) res.write(big.slice(i, i + 4096));
    res.end();
  };
}

/** Starts the service, configures h for it, runs fn(requests), stops it. */
async function withSso(h, mode, fn) {
  const requests = [];
  const server = http.createServer(handler(mode, requests));
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  h.addConfig({
    AUTHENTIZATION_WEBSERVICE_URL: `http://127.0.0.1:${server.address().port}${PATH}`,
    AUTHENTIZATION_COOKIENAME: COOKIE,
  });
  try {
    await fn(requests);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

chatTest('a known SSO token logs in as GivenNameSurname', async (h) => {
  await withSso(h, 'normal', async (requests) => {
    const a = await h.join('lobby', { cookie: `theme=dark; ${COOKIE}=${TOKEN}` });
    assert.equal(a.name, 'JohnDoe');
    await a.waitFor('T Welcome to the chat room lobby JohnDoe!');
    // "#jdoe" is no CSS colour: Gray.
    await a.waitFor('T Userlist: JohnDoe:Gray,');
    assert.equal(requests.length, 1);
    const r = requests[0];
    assert.equal(r.method, 'GET');
    const u = new URL(r.url, 'http://sso');
    assert.equal(u.pathname, PATH);
    assert.equal(u.searchParams.get('subjectid'), TOKEN);
    assert.equal(r.headers.cookie, `${COOKIE}=${TOKEN}`);

    // The same person twice is numbered like any name.
    const b = await h.join('lobby', { cookie: `${COOKIE}=${TOKEN}` });
    assert.equal(b.name, 'JohnDoe1');
    const auth = fs.readFileSync(h.p('log', 'authentization.log'), 'utf8');
    assert.match(auth, / JohnDoe sso\n/);
    assert.ok(!a.stderr.includes('OpenSSO'), a.stderr);
  });
});

chatTest('an unknown SSO token is Anonymous, quietly', async (h) => {
  await withSso(h, 'normal', async (requests) => {
    const a = await h.join('lobby', { cookie: `${COOKIE}=AQIC5wM2LY4SfczUnknown.*AAJTSQACMDE.*` });
    assert.equal(a.name, 'Anonymous');
    assert.equal(requests.length, 1);
    // A 401 is an expired login, not a problem worth a warning.
    assert.ok(!a.stderr.includes('OpenSSO'), a.stderr);
  });
});

chatTest('a service that never answers gives Anonymous after the timeout', async (h) => {
  await withSso(h, 'hang', async (requests) => {
    const a = await h.join('lobby', { cookie: `${COOKIE}=${TOKEN}` });
    assert.equal(a.name, 'Anonymous');
    assert.equal(requests.length, 1);
    assert.match(a.stderr, /chat_server: warning: OpenSSO: /);
  });
});

chatTest('a service that cannot be reached gives Anonymous', async (h) => {
  // A port that was just free: connection refused.
  const server = http.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  h.addConfig({
    AUTHENTIZATION_WEBSERVICE_URL: `http://127.0.0.1:${port}${PATH}`,
    AUTHENTIZATION_COOKIENAME: COOKIE,
  });
  const a = await h.join('lobby', { cookie: `${COOKIE}=${TOKEN}` });
  assert.equal(a.name, 'Anonymous');
  assert.match(a.stderr, /chat_server: warning: OpenSSO: /);
});

for (const mode of ['big', 'big-chunked']) {
  chatTest(`an answer over 64 KiB is refused (${mode})`, async (h) => {
    await withSso(h, mode, async (requests) => {
      const a = await h.join('lobby', { cookie: `${COOKIE}=${TOKEN}` });
      assert.equal(a.name, 'Anonymous');
      assert.equal(requests.length, 1);
      assert.match(a.stderr, /OpenSSO: the answer is larger than 64 KiB/);
    });
  });
}

chatTest('redirects are not followed', async (h) => {
  await withSso(h, 'redirect', async (requests) => {
    const a = await h.join('lobby', { cookie: `${COOKIE}=${TOKEN}` });
    assert.equal(a.name, 'Anonymous');
    assert.equal(requests.length, 1);
    assert.match(a.stderr, /OpenSSO: the service answered HTTP 302/);
  });
});

chatTest('a token that could inject anything never reaches the service', async (h) => {
  await withSso(h, 'normal', async (requests) => {
    const bad = [
      `${COOKIE}=${TOKEN}\r\nX-Injected: 1`,
      `${COOKIE}=${TOKEN}\nX-Injected: 1`,
      `${COOKIE}="${TOKEN};${COOKIE}=x"`,
      `${COOKIE}=${TOKEN},x`,
      `${COOKIE}=a b`,
      `${COOKIE}=${TOKEN}%0d%0aX-Injected:%201`,
      `${COOKIE}=${'A'.repeat(1025)}`,
      `${COOKIE}=`,
    ];
    for (const cookie of bad) {
      const c = await h.join('lobby', { cookie });
      assert.match(c.name, /^Anonymous\d*$/, JSON.stringify(cookie));
    }
    assert.deepEqual(requests, []);
  });
});

chatTest('a PHP session takes precedence over SSO', async (h) => {
  await withSso(h, 'normal', async (requests) => {
    const sess = h.session('s1', 'Alice:#f00');
    const a = await h.join('lobby', { cookie: `${sess}; ${COOKIE}=${TOKEN}` });
    assert.equal(a.name, 'Alice');
    assert.deepEqual(requests, []);
    // A session id without a usable session falls through to SSO.
    const b = await h.join('lobby', { cookie: `PHPSESSID=nosuchsession; ${COOKIE}=${TOKEN}` });
    assert.equal(b.name, 'JohnDoe');
    assert.equal(requests.length, 1);
  });
});

chatTest('SSO needs both keys', async (h) => {
  const requests = [];
  const server = http.createServer(handler('normal', requests));
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    // The URL alone: no cookie name, no request.
    h.addConfig({
      AUTHENTIZATION_WEBSERVICE_URL: `http://127.0.0.1:${server.address().port}${PATH}`,
    });
    const a = await h.join('lobby', { cookie: `${COOKIE}=${TOKEN}` });
    assert.equal(a.name, 'Anonymous');
    assert.deepEqual(requests, []);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

chatTest('an OpenSSO uid listed in MODERATORS moderates; others may not', async (h) => {
  await withSso(h, 'normal', async () => {
    // jdoe's login (the service's answer) is verified; moderator only
    // while its uid is listed.
    h.addConfig({ MODERATORS: 'root, jdoe' });
    const mod = await h.join('lobby', { cookie: `${COOKIE}=${TOKEN}` });
    assert.equal(mod.name, 'JohnDoe');
    mod.send('/topic Chosen by the directory');
    await mod.waitFor('T JohnDoe>  Set the topic: Chosen by the directory');
    const audit = fs.readFileSync(h.p('log', 'moderation.log'), 'utf8');
    assert.match(audit, /\tJohnDoe\ttopic\t/);
    await mod.close();

    h.addConfig({ MODERATORS: 'root' });
    const plain = await h.join('lobby', { cookie: `${COOKIE}=${TOKEN}` });
    plain.send('/topic Not mine to set');
    await plain.waitFor('T Error: not done: only moderators may use /topic');
    assert.ok(!h.log('lobby').some((l) => l.includes('Not mine to set')));
  });
});
