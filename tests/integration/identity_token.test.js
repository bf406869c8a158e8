'use strict';
// Identities a site vouches for (docs/identity.md): the signed token of
// AUTH_TOKEN_COOKIE, minted here with chat_server --mint-token; the age of
// PHP sessions (SESSION_MAX_AGE); the order of the sources
// (IDENTITY_SOURCES); verified names reserved against PHP sessions and
// marked in the JSON users event; the source in the auth log.
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { chatTest, BIN } = require('./harness');

const SECRET = 'k3ep-th1s-s3cret-0ff-the-w3b-r00t';
const COOKIE = 'chat_token';
const JSON_ENV = { QUERY_STRING: 'proto=json' };

/** Writes the secret file (mode 0600 unless told) and its config keys. */
function tokenConfig(h, { mode = 0o600, extra = {} } = {}) {
  const file = path.join(h.root, 'token.secret');
  fs.writeFileSync(file, `${SECRET}\n`, { mode });
  fs.chmodSync(file, mode);
  h.addConfig({ AUTH_TOKEN_COOKIE: COOKIE, AUTH_TOKEN_SECRET_FILE: file, ...extra });
  return file;
}

/** chat_server --mint-token NAME ...args for h's config: the cookie value. */
function mint(h, name, ...args) {
  const r = spawnSync(BIN, ['--config', h.configPath, '--mint-token', name, ...args],
    { encoding: 'utf8' });
  assert.equal(r.status, 0, `--mint-token failed: ${r.stderr}`);
  assert.equal(r.stderr, '');
  const token = r.stdout.trim();
  assert.match(token, /^v1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
  return token;
}

/** A token signed here, in JavaScript, as any web application would. */
function sign(payload, secret = SECRET) {
  const b64 = (b) => Buffer.from(b).toString('base64url');
  const text = `v1.${b64(JSON.stringify(payload))}`;
  return `${text}.${crypto.createHmac('sha256', secret).update(text).digest('base64url')}`;
}

/** The auth log's lines. */
function authLog(h) {
  const f = h.p('log', 'authentization.log');
  return fs.existsSync(f) ? fs.readFileSync(f, 'utf8').split('\n').slice(0, -1) : [];
}

/** Joins with the JSON protocol; resolves with the client, name set. */
async function joinJson(h, room, opts = {}) {
  const c = h.spawn(`/${room}`, { ...opts, env: { ...JSON_ENV, ...(opts.env || {}) } });
  const w = await c.waitFor((l) => l.startsWith('{"type":"welcome"'));
  c.name = JSON.parse(w).name;
  return c;
}

/** Waits for a JSON users event whose names are names; returns its users. */
async function usersEvent(c, names) {
  const line = await c.waitFor((l) => {
    if (!l.startsWith('{"type":"users"')) return false;
    return JSON.parse(l).users.map((u) => u.name).sort().join() === [...names].sort().join();
  });
  return JSON.parse(line).users;
}

chatTest('a minted token is a verified name, in the users event and the auth log', async (h) => {
  tokenConfig(h);
  const token = mint(h, 'Alice', '--color', '#1e90ff', '--role', 'moderator');
  const a = await joinJson(h, 'lobby', { cookie: `${COOKIE}=${token}`, xff: '203.0.113.7' });
  assert.equal(a.name, 'Alice');
  const users = await usersEvent(a, ['Alice']);
  assert.deepEqual(users, [{ name: 'Alice', color: '#1e90ff', verified: true }]);
  assert.equal(fs.readFileSync(h.p('users', 'lobby_Alice'), 'utf8'), '#1e90ff\nverified\n');
  // /color rewrites the colour and keeps the mark.
  a.send(JSON.stringify({ type: 'command', text: '/color #123' }));
  await a.waitFor((l) => l.startsWith('{"type":"users"') &&
    l.includes('{"name":"Alice","color":"#123","verified":true}'));
  assert.equal(fs.readFileSync(h.p('users', 'lobby_Alice'), 'utf8'), '#123\nverified\n');
  // An unverified member has no "verified" at all.
  const b = await joinJson(h, 'lobby', { cookie: h.session('bob', 'Bob:#00f') });
  const both = await usersEvent(b, ['Alice', 'Bob']);
  assert.deepEqual(both.find((u) => u.name === 'Bob'), { name: 'Bob', color: '#00f' });
  assert.deepEqual(both.find((u) => u.name === 'Alice'), { name: 'Alice', color: '#123', verified: true });
  assert.deepEqual((await usersEvent(a, ['Alice', 'Bob'])).find((u) => u.name === 'Bob'),
    { name: 'Bob', color: '#00f' });
  // The fourth field says which source decided; the first three are as ever.
  await a.close();
  await b.close();
  const log = authLog(h);
  assert.match(log[0], /^\d{4}-\d\d-\d\d_\d\d:\d\d:\d\d 203\.0\.113\.7 Alice token$/);
  assert.match(log[1], /^\d{4}-\d\d-\d\d_\d\d:\d\d:\d\d {2}Bob php$/);
  // A token signed elsewhere, the same way, is as good.
  const c = await joinJson(h, 'other', { cookie: `${COOKIE}=${sign({ name: 'Carol', exp: Math.floor(Date.now() / 1000) + 60 })}` });
  assert.equal(c.name, 'Carol');
  assert.deepEqual(await usersEvent(c, ['Carol']), [{ name: 'Carol', color: 'Gray', verified: true }]);
});

chatTest('a name held by a token cannot be taken through a PHP session', async (h) => {
  tokenConfig(h);
  const alice = await h.join('lobby', { cookie: `${COOKIE}=${mint(h, 'Alice')}` });
  assert.equal(alice.name, 'Alice');
  const fake = await h.join('lobby', { cookie: h.session('fake', 'Alice:#f00') });
  assert.equal(fake.name, 'Alice1');
  // A verified Alice1 reserves Alice1, and keeps "Alice" plus a number from
  // the unverified: the next PHP Alice is numbered past it.
  const alice2 = await h.join('lobby', { cookie: `${COOKIE}=${mint(h, 'Alice')}` });
  assert.equal(alice2.name, 'Alice2');
  await alice.close();
  await h.waitForLog('lobby', (l) => l.includes('T Alice quit the lobby'));
  const fake2 = await h.join('lobby', { cookie: h.session('fake2', 'Alice:#f00') });
  assert.equal(fake2.name, 'Alice3', 'a verified Alice2 is present: no plain Alice');
  await Promise.all([fake, alice2, fake2].map((c) => c.close()));
  const log = authLog(h).map((l) => l.split(' ').slice(2).join(' '));
  assert.deepEqual(log, ['Alice token', 'Alice1 php', 'Alice2 token', 'Alice3 php']);
});

chatTest('an unverified member who came first keeps the name; the verified joiner is marked', async (h) => {
  tokenConfig(h);
  const fake = await joinJson(h, 'lobby', { cookie: h.session('fake', 'Alice:#f00') });
  assert.equal(fake.name, 'Alice');
  const real = await joinJson(h, 'lobby', { cookie: `${COOKIE}=${mint(h, 'Alice')}` });
  assert.equal(real.name, 'Alice1');
  const users = await usersEvent(fake, ['Alice', 'Alice1']);
  assert.deepEqual(users.find((u) => u.name === 'Alice'), { name: 'Alice', color: '#f00' });
  assert.equal(users.find((u) => u.name === 'Alice1').verified, true);
});

chatTest('expired, forged and malformed tokens are no identity: the next source is tried', async (h) => {
  tokenConfig(h);
  const now = Math.floor(Date.now() / 1000);
  const php = h.session('s1', 'Paula:#123');
  const cases = [
    ['expired', sign({ name: 'Eve', exp: now - 1 })],
    ['forged', sign({ name: 'Eve', exp: now + 60 }, 'another secret')],
    ['malformed', 'v1.not base64.x'],
    ['unclean name', sign({ name: 'Eve Smith', exp: now + 60 })],
  ];
  for (const [what, token] of cases) {
    const c = await h.join('lobby', { cookie: `${COOKIE}=${token}; ${php}` });
    assert.equal(c.name, 'Paula', what);
    await c.close();
    if (what !== 'expired') await c.waitForStderr(/token refused/);
    else assert.doesNotMatch(c.stderr, /token refused/);
  }
  const anon = await h.join('lobby', { cookie: `${COOKIE}=${cases[1][1]}` });
  assert.equal(anon.name, 'Anonymous');
  await anon.close();
  assert.equal(authLog(h).pop().split(' ').pop(), 'anonymous');
});

chatTest('a PHP session older than SESSION_MAX_AGE gives Anonymous', async (h) => {
  h.addConfig({ SESSION_MAX_AGE: 600 });
  const cookie = h.session('old', 'Olga:#123');
  const fresh = await h.join('lobby', { cookie });
  assert.equal(fresh.name, 'Olga');
  await fresh.close();
  const old = new Date(Date.now() - 601 * 1000);
  fs.utimesSync(h.p('sessions', 'sess_old'), old, old);
  const stale = await h.join('lobby', { cookie });
  assert.equal(stale.name, 'Anonymous');
  await stale.close();
  assert.deepEqual(authLog(h).map((l) => l.split(' ').slice(2).join(' ')),
    ['Olga php', 'Anonymous anonymous']);
});

chatTest('SESSION_MAX_AGE defaults to 1440 s and 0 keeps sessions forever', async (h) => {
  const cookie = h.session('old', 'Olga:#123');
  const old = new Date(Date.now() - 1500 * 1000);
  fs.utimesSync(h.p('sessions', 'sess_old'), old, old);
  assert.equal((await h.join('lobby', { cookie })).name, 'Anonymous');
  h.addConfig({ SESSION_MAX_AGE: 0 });
  assert.equal((await h.join('lobby', { cookie })).name, 'Olga');
});

chatTest('IDENTITY_SOURCES sets the order of the sources', async (h) => {
  tokenConfig(h);
  const token = mint(h, 'Tina');
  const cookie = `${COOKIE}=${token}; ${h.session('p', 'Paul:#123')}`;
  assert.equal((await h.join('r1', { cookie })).name, 'Tina'); // token, php, sso
  for (const [sources, want] of [['php, token', 'Paul'], ['php', 'Paul'],
    ['token', 'Tina'], ['sso', 'Anonymous'], ['token sso php', 'Tina']]) {
    fs.writeFileSync(h.configPath, fs.readFileSync(h.configPath, 'utf8')
      .replace(/^IDENTITY_SOURCES=.*\n/m, '') + `IDENTITY_SOURCES=${sources}\n`);
    const c = await h.join('r1', { cookie });
    assert.equal(c.name.replace(/\d+$/, ''), want, sources);
  }
});

chatTest('an unknown IDENTITY_SOURCES word is a config error', async (h) => {
  h.addConfig({ IDENTITY_SOURCES: 'token, ldap' });
  const c = await h.run('/lobby', { expectCode: 1 });
  assert.match(c.stderr, /IDENTITY_SOURCES: "ldap" is no source/);
});

chatTest('a token secret file others may read is a config error, and --check says so', async (h) => {
  const file = tokenConfig(h, { mode: 0o644 });
  const c = await h.run('/lobby', { expectCode: 1 });
  assert.match(c.stderr, /AUTH_TOKEN_SECRET_FILE: .*token\.secret: readable or writable by others than its owner/);
  const check = await h.run(undefined, { args: ['--check'], expectCode: 1 });
  assert.match(check.stderr, /readable or writable by others than its owner/);
  const r = spawnSync(BIN, ['--config', h.configPath, '--mint-token', 'Alice'], { encoding: 'utf8' });
  assert.equal(r.status, 1);
  assert.equal(r.stdout, '');
  fs.chmodSync(file, 0o640);
  assert.equal((await h.run('/lobby', { expectCode: 1 })).code, 1);
  fs.chmodSync(file, 0o400);
  const ok = await h.join('lobby', { cookie: `${COOKIE}=${mint(h, 'Alice')}` });
  assert.equal(ok.name, 'Alice');
  const good = await h.run(undefined, { args: ['--check'] });
  good.expectCode = good.code; // the limits of this machine are not ours
  assert.match(good.lines.join('\n'), /^ok {6}identity sources: token, php, sso; PHP sessions count for 1440 s/m);
  assert.match(good.lines.join('\n'), /^ok {6}signed tokens in cookie chat_token, secret from .*token\.secret \(mode 0400/m);
});

chatTest('the secret is never read from the config itself', async (h) => {
  tokenConfig(h, { extra: { AUTH_TOKEN_SECRET: 'inline' } });
  const c = await h.run('/lobby', { expectCode: 1 });
  assert.match(c.stderr, /AUTH_TOKEN_SECRET: the secret is never read from the config/);
});

chatTest('--mint-token refuses what no token may hold', async (h) => {
  tokenConfig(h);
  const run = (...args) => spawnSync(BIN, ['--config', h.configPath, ...args], { encoding: 'utf8' });
  assert.equal(run('--mint-token', 'Ann Lee').status, 2);
  assert.equal(run('--mint-token', 'Ann', '--color', 'no;colour').status, 2);
  assert.equal(run('--mint-token', 'Ann', '--role', 'admin').status, 2);
  assert.equal(run('--mint-token', 'Ann', '--ttl', '0').status, 2);
  assert.equal(run('--color', 'Red').status, 2);
  // A short --ttl: valid now, expired once it has passed.  Expiry is in
  // whole seconds, so a token of --ttl 5 is good for 4 s at least: time
  // for the join on a loaded machine (one of 1 s was not, under load).
  const token = mint(h, 'Tim', '--ttl', '5');
  const minted = Date.now();
  assert.equal((await h.join('lobby', { cookie: `${COOKIE}=${token}` })).name, 'Tim');
  await new Promise((r) => setTimeout(r, Math.max(0, minted + 6100 - Date.now())));
  assert.equal((await h.join('lobby', { cookie: `${COOKIE}=${token}` })).name, 'Anonymous');
});

chatTest('htdocs/lib/token.php mints the token chat_server verifies', async (h) => {
  tokenConfig(h);
  const lib = path.join(__dirname, '..', '..', 'htdocs', 'lib', 'token.php');
  const code = `require ${JSON.stringify(lib)};
    echo chat_token_mint(chat_token_secret(['AUTH_TOKEN_COOKIE' => 'x',
      'AUTH_TOKEN_SECRET_FILE' => $argv[1]]), 'Zoë', '#c0ffee', time() + 60, ['moderator']);`;
  const r = spawnSync('php', ['-r', code, path.join(h.root, 'token.secret')], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const z = await joinJson(h, 'lobby', { cookie: `${COOKIE}=${r.stdout}` });
  assert.equal(z.name, 'Zoë');
  assert.deepEqual(await usersEvent(z, ['Zoë']), [{ name: 'Zoë', color: '#c0ffee', verified: true }]);
  // The documented example, byte for byte.
  const doc = fs.readFileSync(path.join(__dirname, '..', '..', 'docs', 'identity.md'), 'utf8');
  const example = /^ {4}(v1\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43})$/m.exec(doc)[1];
  const php = spawnSync('php', ['-r', `require ${JSON.stringify(lib)};
    echo chat_token_mint('${SECRET}', 'Alice', '#1e90ff', 1893456000, ['moderator']);`],
  { encoding: 'utf8' });
  assert.equal(php.stdout, example);
});
