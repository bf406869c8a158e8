'use strict';
// The PHP pages (htdocs/) through a real Apache with mod_php, configured by
// the deployed snippet (tests/web/apache.js), with websocketd and
// chat_server behind /chat/rooms/ where a test needs the chat itself.
//
//   node tests/run-integration.js tests/web/pages.test.js
//
// Needs apache2 and libapache2-mod-php (.ci/install-deps test installs
// them); without them every test fails, saying so.  Run as root (as CI
// does), Apache's children are www-data, as on a server.
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const zlib = require('node:zlib');
const WebSocket = require('ws');
const { chatTest, phpString, norm, sleep, WAIT_MS } = require('../integration/harness');
const { startWebsocketd } = require('../integration/wsd');
const { startApache } = require('./apache');

const PAGES = ['index.php?room=lobby', 'userconfig.php', 'set_username.php', 'room_create.php',
  'room_list.php', 'room_list_historical.php', 'room_history.php?file=lobby.log'];

const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' http: https: data:; "
  + "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

/**
 * A test with a Harness (BASE_DIR, config), websocketd running chat_server
 * and Apache in front of both.  fn({ h, t, web, wsd }).  Afterwards PHP
 * must not have complained in Apache's error log.
 */
function webTest(name, opts, fn) {
  if (typeof opts === 'function') { fn = opts; opts = {}; }
  const { apache = {}, ...hopts } = opts;
  chatTest(name, hopts, async (h, t) => {
    const wsd = await startWebsocketd(h);
    const web = await startApache({ base: h.base, config: h.configPath, wsPort: wsd.port, ...apache });
    h.defer(web.stop);
    try {
      await fn({ h, t, web, wsd });
    } catch (err) {
      t.diagnostic(`Apache's error log:\n${web.errorLog()}`);
      throw err;
    }
    assertPhpQuiet(web);
  });
}

function assertPhpQuiet(web) {
  const complaints = web.errorLog().split('\n')
    .filter((l) => /PHP (Warning|Notice|Deprecated|Fatal error|Parse error)|PHP Stack/.test(l));
  assert.deepEqual(complaints, [], 'PHP complained in the error log');
}

/** GET (or another request) without following redirects; text included. */
async function get(web, page, init = {}) {
  const res = await fetch(new URL(page, web.url), { redirect: 'manual', ...init });
  const body = Buffer.from(await res.arrayBuffer());
  return { res, status: res.status, body, text: body.toString('utf8'), headers: res.headers };
}

/** "PHPSESSID=abc; expires=...; HttpOnly" -> "PHPSESSID=abc" */
function cookieOf(res) {
  const set = res.headers.get('set-cookie');
  assert.ok(set, 'no Set-Cookie in the answer');
  return set.split(';')[0];
}

function sessionFile(h, cookie) {
  return h.p('sessions', `sess_${cookie.split('=')[1]}`);
}

/** The form's CSRF token (its hidden field). */
function tokenIn(html) {
  const m = /<input type="hidden" name="csrf_token" value="([0-9a-f]{64})">/.exec(html);
  assert.ok(m, `no CSRF token in the form:\n${html}`);
  return m[1];
}

/** GETs the username form: { cookie, token }. */
async function openForm(web, page = 'userconfig.php', cookie) {
  const r = await get(web, page, cookie ? { headers: { cookie } } : {});
  assert.equal(r.status, 200, r.text);
  return { cookie: cookie || cookieOf(r.res), token: tokenIn(r.text) };
}

/** POSTs a form body (a string, already URL-encoded, or an object). */
function post(web, page, body, cookie, headers = {}) {
  const text = typeof body === 'string' ? body : new URLSearchParams(body).toString();
  return get(web, page, {
    method: 'POST',
    body: text,
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(cookie ? { cookie } : {}), ...headers },
  });
}

/** Saves name:color through the form; returns the session's cookie. */
async function saveName(web, name, color) {
  const form = await openForm(web);
  const r = await post(web, 'userconfig.php', { csrf_token: form.token, name, color }, form.cookie);
  assert.equal(r.status, 303, `saving ${name}:${color} gave ${r.status}:\n${r.text}`);
  return cookieOf(r.res);
}

/** A WebSocket through Apache's /chat/rooms/ to websocketd and chat_server. */
function chatSocket(web, room, cookie) {
  const headers = cookie ? { cookie } : {};
  const ws = new WebSocket(`ws://127.0.0.1:${web.port}/chat/rooms/${encodeURIComponent(room)}`, { headers });
  ws.lines = [];
  ws.on('message', (m) => ws.lines.push(norm(m.toString())));
  ws.on('error', () => {});
  ws.waitFor = async (re, ms = WAIT_MS) => {
    const end = Date.now() + ms;
    for (;;) {
      const hit = ws.lines.find((l) => re.test(l));
      if (hit) return hit;
      if (Date.now() > end) throw new Error(`no line matching ${re}; got:\n${ws.lines.join('\n')}`);
      await sleep(20);
    }
  };
  ws.end = () => new Promise((resolve) => {
    if (ws.readyState === WebSocket.CLOSED) { resolve(); return; }
    ws.on('close', resolve);
    ws.close();
  });
  return ws;
}

/** The forbidden markup: inline scripts, style attributes or elements, event handlers. */
function assertNoInlineCode(html, what) {
  assert.doesNotMatch(html, /<script(?![^>]*\ssrc=)[^>]*>/i, `${what}: a <script> without src`);
  assert.doesNotMatch(html, /<[^>]+\sstyle\s*=/i, `${what}: a style= attribute`);
  assert.doesNotMatch(html, /<style[\s>]/i, `${what}: a <style> element`);
  assert.doesNotMatch(html, /<[^>]+\son[a-z]+\s*=/i, `${what}: an event handler attribute`);
  assert.doesNotMatch(html, /javascript:/i, `${what}: a javascript: URL`);
}

function writeLog(h, name, text, mtimeSec) {
  fs.mkdirSync(h.p('rooms'), { recursive: true });
  const f = h.p('rooms', name);
  fs.writeFileSync(f, text);
  if (mtimeSec !== undefined) fs.utimesSync(f, mtimeSec, mtimeSec);
  return f;
}

// ---- Every page ----

webTest('every page answers 200 with its content, the headers and no inline code', {
  config: { LANG: 'C.UTF-8' },
}, async ({ h, web }) => {
  writeLog(h, 'lobby.log', '[10:00:00] Alice joined the lobby\n');
  const want = {
    'index.php?room=lobby': /<main id="chat"[^>]*data-room="lobby"/,
    'userconfig.php': /<h1>Your name<\/h1>/,
    'set_username.php': /<h1>Your name<\/h1>/,
    'room_create.php': /<h1>Create a room<\/h1>/,
    'room_list.php': /<h1>Chat rooms<\/h1>/,
    'room_list_historical.php': /<h1>History<\/h1>[\s\S]*lobby\.log/,
    'room_history.php?file=lobby.log': /<h1>History of lobby<\/h1>[\s\S]*Alice joined the lobby/,
  };
  for (const page of PAGES) {
    const r = await get(web, page);
    assert.equal(r.status, 200, `${page}: ${r.status}\n${r.text}`);
    assert.equal(r.headers.get('content-type'), 'text/html; charset=utf-8', page);
    assert.equal(r.headers.get('content-security-policy'), CSP, `${page}: CSP`);
    assert.equal(r.headers.get('x-content-type-options'), 'nosniff', page);
    assert.equal(r.headers.get('referrer-policy'), 'same-origin', page);
    assert.equal(r.headers.get('x-powered-by'), null, page);
    assert.match(r.text, want[page], page);
    assert.match(r.text, /<nav aria-label="Menu">[\s\S]*Chat rooms[\s\S]*Create room[\s\S]*History[\s\S]*Your name/, page);
    assert.match(r.text, /<meta name="viewport" content="width=device-width, initial-scale=1">/, page);
    assertNoInlineCode(r.text, page);
  }
  const css = await get(web, 'theme.css');
  assert.equal(css.status, 200);
  assert.match(css.headers.get('content-type'), /^text\/css/);
  assert.equal(css.headers.get('x-content-type-options'), 'nosniff');
  assert.match(css.headers.get('content-security-policy') || '', /default-src 'none'/,
    'static files get the snippet\'s CSP');
  // lib/ is code to include, not to request.
  const lib = await get(web, 'lib/config.php');
  assert.equal(lib.status, 403);
  const root = await get(web, '/');
  assert.equal(root.status, 302);
  assert.equal(new URL(root.headers.get('location'), web.url).pathname, '/chat/');
  const dir = await get(web, './');
  assert.equal(dir.status, 302, 'the chat\'s address without a room leads to the room list');
  assert.equal(dir.headers.get('location'), 'room_list.php');
});

webTest('CSP: connect-src names the origin of WEBSOCKETD_SERVER_URL', {
  config: { WEBSOCKETD_SERVER_URL: 'wss://chat.example.org:8443/chat/rooms/' },
}, async ({ web }) => {
  for (const page of PAGES) {
    const r = await get(web, page);
    assert.match(r.headers.get('content-security-policy'),
      /; connect-src 'self' wss:\/\/chat\.example\.org:8443; /, page);
  }
});

// ---- The username form ----

webTest('username form: GET shows it with a CSRF token, labels Name and Color', async ({ h, web }) => {
  for (const page of ['userconfig.php', 'set_username.php']) {
    const r = await get(web, page);
    assert.equal(r.status, 200);
    tokenIn(r.text);
    assert.match(r.text, /<form method="post" action="[a-z_]+\.php"/);
    assert.match(r.text, new RegExp(`action="${page}"`));
    assert.match(r.text, /<label for="name">Name<\/label>\s*<input type="text" id="name" name="name"/);
    assert.match(r.text, /<label for="color">Color<\/label>\s*<input type="text" id="color" name="color"/);
    // The token lives in the session file chat_server would read.
    const file = sessionFile(h, cookieOf(r.res));
    assert.match(fs.readFileSync(file, 'utf8'), new RegExp(`csrf_token\\|s:64:"${tokenIn(r.text)}";`));
  }
});

webTest('username form: saved as name:color, and chat_server welcomes that name', async ({ h, web }) => {
  const form = await openForm(web);
  const r = await post(web, 'userconfig.php',
    { csrf_token: form.token, name: 'Žofie', color: '#ff0000', room: 'lobby' }, form.cookie);
  assert.equal(r.status, 303, r.text);
  assert.equal(r.headers.get('location'), 'userconfig.php?saved=1&room=lobby');
  const cookie = cookieOf(r.res);
  assert.notEqual(cookie, form.cookie, 'the session id is renewed when the name is saved');
  assert.ok(!fs.existsSync(sessionFile(h, form.cookie)), 'the old session file is gone');
  const stored = fs.readFileSync(sessionFile(h, cookie), 'utf8');
  assert.ok(stored.includes(phpString('username', 'Žofie:#ff0000')),
    `the session holds ${JSON.stringify(stored)}`);
  if (process.getuid() === 0) {
    const st = fs.statSync(path.dirname(sessionFile(h, cookie)));
    assert.equal(st.mode & 0o777, 0o700, 'sessions/ is private');
  }

  // The page after the redirect says so, and shows the name in the form.
  const after = await get(web, r.headers.get('location'), { headers: { cookie } });
  assert.equal(after.status, 200);
  assert.match(after.text, /Saved\. You are <strong>Žofie<\/strong>\. <a href="index\.php\?room=lobby">Back to lobby<\/a>/);
  assert.match(after.text, /id="name" name="name" value="Žofie"/);
  assert.match(after.text, /id="color" name="color" value="#ff0000"/);

  // chat_server reads the session the pages wrote, through Apache.
  const ws = chatSocket(web, 'lobby', cookie);
  await ws.waitFor(/^T Welcome to the chat room lobby Žofie!$/);
  await ws.waitFor(/^T Userlist: Žofie:#ff0000,$/);
  await ws.end();
});

webTest('username form: a POST without or with a wrong token is 403 and changes nothing', async ({ h, web }) => {
  const cookie = await saveName(web, 'Alice', 'red');
  const file = sessionFile(h, cookie);
  const before = fs.readFileSync(file);
  const { token } = await openForm(web, 'userconfig.php', cookie);
  const attempts = [
    { name: 'Mallory', color: 'black' },
    { csrf_token: '', name: 'Mallory', color: 'black' },
    { csrf_token: 'f'.repeat(64), name: 'Mallory', color: 'black' },
    { csrf_token: token.slice(0, 63), name: 'Mallory', color: 'black' },
    'csrf_token[]=x&name=Mallory&color=black',
  ];
  for (const body of attempts) {
    for (const page of ['userconfig.php', 'set_username.php']) {
      const r = await post(web, page, body, cookie);
      assert.equal(r.status, 403, `${page} ${JSON.stringify(body)}: ${r.status}`);
      assert.doesNotMatch(r.text, /Mallory/);
      assert.deepEqual(fs.readFileSync(file), before, 'the session changed');
    }
  }
  // No session at all: nothing to compare the token with.
  const r = await post(web, 'userconfig.php', { csrf_token: token, name: 'Mallory', color: 'black' });
  assert.equal(r.status, 403);
  // A token of another session does not do either.
  const other = await openForm(web);
  const cross = await post(web, 'userconfig.php', { csrf_token: other.token, name: 'Mallory', color: 'black' }, cookie);
  assert.equal(cross.status, 403);
  assert.deepEqual(fs.readFileSync(file), before);
  const ws = chatSocket(web, 'lobby', cookie);
  await ws.waitFor(/^T Welcome to the chat room lobby Alice!$/);
  await ws.end();
});

// Every class of character chat_server refuses in a name, and too long.
const BAD_NAMES = [
  ['empty', ''], ['only spaces', '   '], ['space', 'a b'], ['tab', 'a\tb'], ['newline', 'a\nb'],
  ['carriage return', 'a\rb'], ['NUL', 'a\0b'], ['DEL', 'a\x7fb'], ['C1 control', 'a\u0085b'],
  ['no-break space', 'a\u00a0b'], ['slash', 'a/b'], ['underscore', 'a_b'], ['colon', 'a:b'],
  ['comma', 'a,b'], ['greater than', 'a>b'], ['less than', 'a<b'], ['double quote', 'a"b'],
  ['single quote', "a'b"], ['backslash', 'a\\b'], ['65 bytes', 'x'.repeat(65)],
  ['33 two-byte letters', 'é'.repeat(33)], ['script', '<script>alert(1)</script>'],
];
const BAD_COLORS = [
  ['empty', ''], ['short hex', '#ff00'], ['long hex', '#ff00000'], ['not hex', '#gggggg'],
  ['transparent', 'transparent'], ['currentcolor', 'currentcolor'], ['CSS injection', 'red;background:url(x)'],
  ['script', '"><script>alert(1)</script>'], ['function', 'rgb(1,2,3)'], ['too long', `#${'a'.repeat(40)}`],
];

webTest('username form: invalid names and colours give the form with an error, nothing saved', async ({ h, web }) => {
  const cookie = await saveName(web, 'Alice', '#00f');
  const file = sessionFile(h, cookie);
  const before = fs.readFileSync(file);
  const { token } = await openForm(web, 'userconfig.php', cookie);
  const tryOne = async (what, name, color, field) => {
    const r = await post(web, 'userconfig.php', { csrf_token: token, name, color }, cookie);
    assert.equal(r.status, 400, `${what}: ${r.status}`);
    assert.match(r.text, /<div class="error" role="alert"><p>Nothing was saved:<\/p>/, what);
    assert.match(r.text, new RegExp(`id="${field}-error"`), `${what}: the error is on ${field}`);
    assert.match(r.text, new RegExp(`id="${field}" name="${field}" value="[^"]*"[^>]*aria-invalid="true"`), what);
    assert.doesNotMatch(r.text, /<script>/, `${what}: unescaped`);
    assertNoInlineCode(r.text, what);
    tokenIn(r.text); // the form again, ready to be sent
    assert.deepEqual(fs.readFileSync(file), before, `${what}: the session changed`);
  };
  for (const [what, name] of BAD_NAMES) await tryOne(`name: ${what}`, name, 'red', 'name');
  for (const [what, color] of BAD_COLORS) await tryOne(`colour: ${what}`, 'Bob', color, 'color');
  // Bytes that are no UTF-8 at all.
  const raw = await post(web, 'userconfig.php', `csrf_token=${token}&name=a%C3%28b&color=red`, cookie);
  assert.equal(raw.status, 400);
  assert.match(raw.text, /not valid UTF-8/);
  assert.deepEqual(fs.readFileSync(file), before);
  // A name, escaped, is shown back for correction.
  const shown = await post(web, 'userconfig.php', { csrf_token: token, name: '"><b>x', color: 'red' }, cookie);
  assert.match(shown.text, /value="&quot;&gt;&lt;b&gt;x"/);
});

webTest('username form: what it accepts is exactly what chat_server keeps', async ({ h, web }) => {
  // Candidates on both sides of every rule; the form decides, then
  // chat_server is given the same name:color in a session of its own.
  const names = [
    'Alice', 'Žofie', '日本語', 'a&b', 'a;b', 'a=b', 'a.b-c', 'x'.repeat(64), 'é'.repeat(32), '😀',
    'a\u2003b', 'a\u00a1b', 'a\u0080b', 'a\u00a0b', 'a\u009fb', '#hash', 'a%20b',
    ...BAD_NAMES.filter(([w]) => !['empty', 'only spaces'].includes(w)).map(([, n]) => n),
  ];
  const colors = ['red', 'RED', 'RebeccaPurple', 'grey', '#abc', '#ABCDEF', '#abcd', '#ab', 'transparent',
    '#12345g', 'x'.repeat(40), 'lightgoldenrodyellow', 'notacolor'];
  let { cookie } = await openForm(web);
  const { token } = await openForm(web, 'userconfig.php', cookie);
  const accepts = async (name, color) => {
    const r = await post(web, 'userconfig.php', { csrf_token: token, name, color }, cookie);
    assert.ok([303, 400].includes(r.status), `${JSON.stringify(name)}: ${r.status}`);
    if (r.status === 303) cookie = cookieOf(r.res); // renewed, with the same token
    return r.status === 303;
  };
  let i = 0;
  for (const name of names) {
    const room = `agree${i++}`;
    const pages = await accepts(name, 'red');
    const c = await h.join(room, { cookie: h.session(`agree${i}`, `${name}:red`) });
    assert.equal(c.name === name, pages,
      `${JSON.stringify(name)}: the form ${pages ? 'accepts' : 'refuses'} it, chat_server makes it ${JSON.stringify(c.name)}`);
    await c.close();
  }
  for (const color of colors) {
    const room = `agree${i++}`;
    const pages = await accepts('Carol', color);
    const c = await h.join(room, { cookie: h.session(`agree${i}`, `Carol:${color}`) });
    const list = await c.waitFor(/^T Userlist: /);
    assert.equal(list === `T Userlist: Carol:${color},`, pages,
      `colour ${JSON.stringify(color)}: the form ${pages ? 'accepts' : 'refuses'} it, chat_server shows ${list}`);
    await c.close();
  }
});

webTest('session cookie: HttpOnly, SameSite=Lax, path /, Secure only over HTTPS', async ({ web }) => {
  const plain = await get(web, 'userconfig.php');
  const set = plain.headers.get('set-cookie');
  assert.match(set, /^PHPSESSID=[A-Za-z0-9,-]+;/);
  assert.match(set, /; HttpOnly(;|$)/);
  assert.match(set, /; SameSite=Lax(;|$)/);
  assert.match(set, /; path=\/(;|$)/);
  assert.doesNotMatch(set, /; secure/i);
  // Behind a proxy that ends TLS: the snippet's SetEnvIf X-Forwarded-Proto.
  const https = await get(web, 'userconfig.php', { headers: { 'x-forwarded-proto': 'https' } });
  assert.match(https.headers.get('set-cookie'), /; secure(;|$)/i);
  assert.match(https.headers.get('set-cookie'), /; HttpOnly(;|$)/);
  // A session id the browser made up is not taken (use_strict_mode).
  const made = await get(web, 'userconfig.php', { headers: { cookie: 'PHPSESSID=madeupbyattacker123' } });
  assert.doesNotMatch(made.headers.get('set-cookie') || '', /madeupbyattacker123/);
  assert.match(made.headers.get('set-cookie') || '', /^PHPSESSID=/, 'a new id replaces it');
});

webTest('SESSION_COOKIE names the session cookie of the pages and of chat_server', {
  config: { SESSION_COOKIE: 'CHATSESS' },
}, async ({ web }) => {
  const cookie = await saveName(web, 'Dora', 'teal');
  assert.match(cookie, /^CHATSESS=/);
  const ws = chatSocket(web, 'lobby', cookie);
  await ws.waitFor(/^T Welcome to the chat room lobby Dora!$/);
  await ws.end();
});

webTest('sessions/ is made by the pages when missing, private (0700)', {
  apache: { sessions: false },
}, async ({ h, web }) => {
  if (process.getuid() === 0) {
    // As on a server: BASE_DIR writable by the web server's user.
    const r = spawnSync('id', ['-u', 'www-data'], { encoding: 'utf8' });
    fs.chownSync(h.base, Number(r.stdout), Number(r.stdout));
  }
  assert.ok(!fs.existsSync(h.p('sessions')));
  const cookie = await saveName(web, 'Erin', 'olive');
  const st = fs.statSync(h.p('sessions'));
  assert.ok(st.isDirectory());
  assert.equal(st.mode & 0o777, 0o700);
  assert.ok(fs.readFileSync(sessionFile(h, cookie), 'utf8').includes(phpString('username', 'Erin:olive')));
});

// ---- Config ----

webTest('a config that cannot be used: 500, no path shown, the reason in the error log', async ({ h, web }) => {
  const good = fs.readFileSync(h.configPath, 'utf8');
  const cases = [
    ['[global]\nLANG=C\n', /BASE_DIR is missing in \[global\]/],
    ['[global]\nBASE_DIR=relative/dir\n', /BASE_DIR must be an absolute path/],
    [`[global]\nBASE_DIR=${h.base}\nWHISPER_LOG=some\n`, /WHISPER_LOG must be none, notice or full/],
    [`[global]\nBASE_DIR=${h.base}\nROOMS_DIR=\n`, /ROOMS_DIR must be an absolute path/],
    ['[global\nBASE_DIR=/x\n', /is not valid/],
  ];
  for (const [text, reason] of cases) {
    fs.writeFileSync(h.configPath, text);
    for (const page of PAGES) {
      const r = await get(web, page);
      assert.equal(r.status, 500, `${page} with ${JSON.stringify(text)}: ${r.status}`);
      assert.match(r.text, /The chat is not configured correctly; its administrator will find why in the server log\./);
      assert.ok(!r.text.includes(h.root), `${page}: a path is shown`);
      assert.ok(!r.text.includes('BASE_DIR'), `${page}: the reason is shown`);
      assert.equal(r.headers.get('content-security-policy'), CSP);
    }
    assert.match(web.errorLog(), reason);
  }
  fs.unlinkSync(h.configPath);
  assert.equal((await get(web, 'room_list.php')).status, 500);
  assert.match(web.errorLog(), /cannot read config file/);
  fs.writeFileSync(h.configPath, good);
  assert.equal((await get(web, 'room_list.php')).status, 200);
});

webTest('config: keys in any case, [Global] as [global], quoted values, defaults of the directories', {
  configText: '[Global]\nbase_dir = "{BASE}"\nRooms_Dir={BASE}/elsewhere ; where logs go\n'
    + '[room descriptions]\nlobby="Where everybody starts"\n',
}, async ({ h, web }) => {
  fs.mkdirSync(h.p('elsewhere'));
  writeLog(h, '../elsewhere/moved.log', '[10:00:00] Ann joined the moved\n');
  writeLog(h, 'rooms-default.log', '[10:00:00] Ann joined the x\n'); // in rooms/, not ROOMS_DIR
  const r = await get(web, 'room_list_historical.php');
  assert.equal(r.status, 200);
  assert.match(r.text, /moved\.log/);
  assert.doesNotMatch(r.text, /rooms-default\.log/);
  const list = await get(web, 'room_list.php');
  assert.match(list.text, /Where everybody starts/);
});

// ---- Room list ----

webTest('room list: live members, not dead ones, nothing that is no member', async ({ h, web }) => {
  // No warden: a dead member's file then stays, as in the moments before
  // the warden reaps it, or when it cannot run.
  await h.holdWardenLock();
  const alice = chatSocket(web, 'lobby', await saveName(web, 'Alice', '#ff0000'));
  await alice.waitFor(/^T Welcome to the chat room lobby Alice!$/);
  const bob = chatSocket(web, 'lobby', await saveName(web, 'Bob', 'green'));
  await bob.waitFor(/^T Welcome to the chat room lobby Bob!$/);
  const carol = await h.join('kitchen', { cookie: h.session('carolsess', 'Carol:blue') });
  const ghost = await h.join('kitchen', { cookie: h.session('ghostsess', 'Ghost:blue') });
  const gone = await h.join('attic', { cookie: h.session('gonesess', 'Gone:blue') });
  ghost.kill('SIGKILL');
  gone.kill('SIGKILL');
  await ghost.exited;
  await gone.exited;
  assert.ok(fs.existsSync(h.p('users', 'kitchen_Ghost')), 'the dead member\'s file is still there');
  assert.ok(fs.existsSync(h.p('users', 'attic_Gone')));
  // Things in users/ that no claim makes: each must be skipped, quietly.
  fs.writeFileSync(h.p('users', 'noseparator'), '#000\n');
  fs.writeFileSync(h.p('users', '.hidden_Eve'), '#000\n');
  fs.writeFileSync(h.p('users', 'lobby_bad name'), '#000\n');
  fs.writeFileSync(h.p('users', '_Nobody'), '#000\n');
  fs.mkdirSync(h.p('users', 'lobby_Dir'));
  fs.symlinkSync(h.p('users', 'lobby_Alice'), h.p('users', 'lobby_Link'));
  spawnSync('mkfifo', [h.p('users', 'lobby_Fifo')]);

  const r = await get(web, 'room_list.php');
  assert.equal(r.status, 200);
  const live = /<ul class="rooms" id="live">([\s\S]*?)<\/ul>/.exec(r.text);
  assert.ok(live, r.text);
  const rooms = [...live[1].matchAll(/<a class="room-name" href="index\.php\?room=([^"]+)">/g)].map((m) => m[1]);
  assert.deepEqual(rooms, ['kitchen', 'lobby']);
  const members = [...live[1].matchAll(/<span class="member" title="([^"]*)">([^<]*)<\/span>/g)]
    .map((m) => `${m[2]}:${m[1]}`);
  assert.deepEqual(members, ['Carol:blue', 'Alice:#ff0000', 'Bob:green']);
  for (const bad of ['Ghost', 'Gone', 'attic', 'noseparator', 'Eve', 'bad name', 'Nobody', 'Dir', 'Link', 'Fifo']) {
    assert.ok(!r.text.includes(bad), `${bad} is listed:\n${r.text}`);
  }
  assert.match(live[1], /2 people:/);
  assert.ok(fs.existsSync(h.p('users', 'kitchen_Ghost')), 'the pages removed a file: they only read');

  // Bob leaves: gone from the list.
  await bob.end();
  const end = Date.now() + WAIT_MS;
  for (;;) {
    const again = await get(web, 'room_list.php');
    if (!again.text.includes('>Bob<')) { assert.match(again.text, />Alice</); break; }
    assert.ok(Date.now() < end, 'Bob is still listed after leaving');
    await sleep(50);
  }
  await alice.end();
  await carol.close();
});

webTest('room list: the stable rooms of [room descriptions], escaped, also when empty', {
  configText: '[global]\nBASE_DIR={BASE}\nRUN_DIR={BASE}/run\n[room descriptions]\n'
    + 'lobby="Where everybody starts"\n'
    + 'hall="<img src=x onerror=alert(1)> & <script>alert(2)</script>"\n'
    + 'Železná-hospoda="Pivo, kostky a dlouhé řeči"\n',
}, async ({ h, web }) => {
  const r = await get(web, 'room_list.php');
  assert.equal(r.status, 200);
  assert.match(r.text, /Nobody is chatting right now\./);
  assert.match(r.text, /<a class="room-name" href="index\.php\?room=hall">hall<\/a>\s*<p class="description">&lt;img src=x onerror=alert\(1\)&gt; &amp; &lt;script&gt;alert\(2\)&lt;\/script&gt;<\/p>/);
  assert.match(r.text, /href="index\.php\?room=%C5%BDelezn%C3%A1-hospoda">Železná-hospoda<\/a>\s*<p class="description">Pivo, kostky a dlouhé řeči<\/p>/);
  assert.match(r.text, /href="index\.php\?room=lobby">lobby<\/a>\s*<p class="description">Where everybody starts<\/p>/);
  assertNoInlineCode(r.text, 'room_list.php');
  // A stable room in use is listed once, among the live ones, with its description.
  const c = await h.join('lobby', { cookie: h.session('s1', 'Zed:red') });
  const busy = await get(web, 'room_list.php');
  const live = /<ul class="rooms" id="live">([\s\S]*?)<\/ul>/.exec(busy.text)[1];
  assert.match(live, /lobby<\/a>\s*<p class="description">Where everybody starts<\/p>[\s\S]*>Zed</);
  assert.equal(busy.text.match(/href="index\.php\?room=lobby"/g).length, 1);
  await c.close();
});

// ---- History ----

webTest('history list: non-empty logs and rotated copies, newest first; nothing else', async ({ h, web }) => {
  const now = Math.floor(Date.now() / 1000);
  writeLog(h, 'lobby.log', '[10:00:00] A joined the lobby\n', now - 10);
  writeLog(h, 'lobby.log-20260101', '[10:00:00] B joined the lobby\n', now - 86400 * 3);
  writeLog(h, 'kitchen.log', '[10:00:00] C joined the kitchen\n', now - 3600);
  writeLog(h, 'lobby.log-20251231.gz', zlib.gzipSync('[10:00:00] D joined the lobby\n'), now - 86400 * 4);
  writeLog(h, 'empty.log', '', now);
  writeLog(h, '.rotating', '', now);
  writeLog(h, '.hidden.log', 'x\n', now);
  writeLog(h, 'notes.txt', 'not a log\n', now);
  fs.mkdirSync(h.p('rooms', 'dir.log'));
  fs.symlinkSync('/etc/passwd', h.p('rooms', 'link.log'));
  const r = await get(web, 'room_list_historical.php');
  assert.equal(r.status, 200);
  const names = [...r.text.matchAll(/<a href="room_history\.php\?file=([^"&]+)">/g)].map((m) => decodeURIComponent(m[1]));
  assert.deepEqual(names, ['lobby.log', 'kitchen.log', 'lobby.log-20260101', 'lobby.log-20251231.gz']);
  const size = fs.statSync(h.p('rooms', 'lobby.log')).size;
  assert.match(r.text, new RegExp(`lobby\\.log</a></td><td>lobby</td><td><time datetime="[^"]+">[^<]+</time></td><td class="num" data-bytes="${size}">${size} B</td>`));
  assert.match(r.text, /href="room_history\.php\?file=lobby\.log&amp;download=1">Download<\/a>/);
});

const LOG = [
  '[12:00:00] Alice joined the lobby',
  '[12:00:00] Userlist: Alice:#f00,',
  '[12:00:01] Bob joined the lobby',
  '[12:00:01] Userlist: Alice:#f00,Bob:Gray,',
  '[12:00:02] Alice> <script>alert("x")</script> & hi',
  '[12:00:03] Alice> Bob: the secret plan',
  '[12:00:04] Bob> Alice: {"type":"offer","sdp":"v=0zalomeni"}',
  '[12:00:05] Alice whispers something to Bob',
  '[12:00:06] Bob>  Throws 2 6-sided dice, throws again on 6: 3, 5',
  '[12:00:07] Alice> Carol: nobody called Carol is here',
  '[12:00:08] <img>> from an old log, with a name of markup',
  '[12:00:09] Bob quit the lobby',
  '[12:00:09] Userlist: Alice:#f00,',
].join('\n') + '\n';

webTest('history page: readable, escaped; user lists, signalling and whisper texts hidden', async ({ h, web }) => {
  writeLog(h, 'lobby.log', LOG);
  const r = await get(web, 'room_history.php?file=lobby.log');
  assert.equal(r.status, 200);
  assertNoInlineCode(r.text, 'room_history.php');
  const items = [...r.text.matchAll(/<li class="([a-z]+)"[^>]*>([\s\S]*?)<\/li>/g)]
    .map((m) => `${m[1]}: ${m[2].replace(/<[^>]+>/g, '')}`);
  assert.deepEqual(items, [
    'join: 12:00:00 Alice joined the lobby',
    'join: 12:00:01 Bob joined the lobby',
    'message: 12:00:02 Alice &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; hi',
    'whisper: 12:00:03 Alice whispers something to Bob',
    'whisper: 12:00:05 Alice whispers something to Bob',
    'command: 12:00:06 Bob Throws 2 6-sided dice, throws again on 6: 3, 5',
    'message: 12:00:07 Alice Carol: nobody called Carol is here',
    // No name has a >: the line is shown whole, as it is.
    'other: 12:00:08 &lt;img&gt;&gt; from an old log, with a name of markup',
    'quit: 12:00:09 Bob quit the lobby',
  ]);
  for (const hidden of ['Userlist', 'secret plan', 'offer', 'zalomeni', '<script>', '<img>']) {
    assert.ok(!r.text.includes(hidden), `${hidden} shows:\n${r.text}`);
  }
});

webTest('history page: before the first user list a whisper-shaped line stays private', async ({ h, web }) => {
  writeLog(h, 'lobby.log-20260102',
    '[00:00:01] Alice> Bob: still private after the rotation\n[00:00:02] Alice> Bob: {"candidate":"c"}\n');
  const r = await get(web, 'room_history.php?file=lobby.log-20260102');
  assert.equal(r.status, 200);
  assert.match(r.text, /Alice whispers something to Bob/);
  assert.ok(!r.text.includes('still private'));
  assert.ok(!r.text.includes('candidate'));
});

webTest('history download: the exact bytes, as a plain-text attachment', async ({ h, web }) => {
  const bytes = Buffer.concat([Buffer.from(LOG), Buffer.from([0xff, 0xfe, 0x0a]), Buffer.from('[12:00:10] Žofie> ahoj\n')]);
  writeLog(h, 'Železná-hospoda.log-20260101', bytes);
  const r = await get(web, `room_history.php?file=${encodeURIComponent('Železná-hospoda.log-20260101')}&download=1`);
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('content-type'), 'text/plain; charset=utf-8');
  assert.equal(r.headers.get('content-disposition'),
    "attachment; filename=\"_elezn_-hospoda.log-20260101\"; filename*=UTF-8''%C5%BDelezn%C3%A1-hospoda.log-20260101");
  assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
  assert.deepEqual(r.body, bytes);
  // A compressed copy: the page shows it, the download is its text.
  writeLog(h, 'lobby.log-20251231.gz', zlib.gzipSync(Buffer.from(LOG)));
  const page = await get(web, 'room_history.php?file=lobby.log-20251231.gz');
  assert.equal(page.status, 200);
  assert.match(page.text, /Bob quit the lobby/);
  const gz = await get(web, 'room_history.php?file=lobby.log-20251231.gz&download=1');
  assert.equal(gz.text, LOG);
  assert.match(gz.headers.get('content-disposition'), /^attachment; filename="lobby\.log-20251231";/);
});

webTest('history: no file outside the room logs can be named', async ({ h, web }) => {
  writeLog(h, 'lobby.log', '[12:00:00] Alice joined the lobby\n');
  const secret = path.join(h.root, 'secret.log');
  fs.writeFileSync(secret, 'TOPSECRET\n');
  fs.symlinkSync(secret, h.p('rooms', 'evil.log'));
  fs.symlinkSync('/etc/passwd', h.p('rooms', 'passwd.log'));
  fs.writeFileSync(h.p('rooms', '.rotating'), 'TOPSECRET\n');
  fs.writeFileSync(h.p('secret.log'), 'TOPSECRET\n'); // in BASE_DIR, beside rooms/
  const hostile = ['../etc/passwd', '/etc/passwd', '.', '..', 'rooms/../x', '../secret.log', '../../secret.log',
    secret, 'lobby.log\0', 'lobby.log\0.txt', 'lobby.log/', './lobby.log', 'lobby.log/..', 'evil.log',
    'passwd.log', '.rotating', '', ' lobby.log', 'LOBBY.LOG', '%2e%2e%2fsecret.log', '..%2Fsecret.log',
    'file:///etc/passwd', 'php://filter/resource=lobby.log'];
  const queries = [...hostile.map((f) => `file=${encodeURIComponent(f)}`), 'file[]=lobby.log', 'nofile=1'];
  for (const q of queries) {
    for (const extra of ['', '&download=1']) {
      const r = await get(web, `room_history.php?${q}${extra}`);
      assert.ok([400, 404].includes(r.status), `${q}${extra}: ${r.status}`);
      assert.ok(!r.text.includes('TOPSECRET'), `${q}${extra} leaks`);
      assert.ok(!r.text.includes('root:x:0:0'), `${q}${extra} leaks /etc/passwd`);
      assert.ok(!r.text.includes(h.root), `${q}${extra} shows a path`);
      assert.match(r.headers.get('content-type'), /^text\/html/);
    }
  }
  assert.equal((await get(web, 'room_history.php?file=lobby.log')).status, 200);
});

// ---- Rooms ----

webTest('index.php: the room parameter is checked and escaped; no room leads to the list', async ({ web }) => {
  const r = await get(web, 'index.php');
  assert.equal(r.status, 302);
  assert.equal(r.headers.get('location'), 'room_list.php');
  const hostile = ['<script>alert(1)</script>', '"><img src=x onerror=alert(1)>', "x'onmouseover='alert(1)",
    'a`b', 'a&b', '..', '.hidden', 'x'.repeat(101), 'a\u0001b', 'a\u0085b', '/', 'a\\b'];
  for (const room of hostile) {
    const bad = await get(web, `index.php?room=${encodeURIComponent(room)}`);
    assert.equal(bad.status, 400, `${JSON.stringify(room)}: ${bad.status}`);
    assert.doesNotMatch(bad.text, /<script>|<img src=x|onmouseover=/);
    assertNoInlineCode(bad.text, room);
  }
  const raw = await get(web, 'index.php?room=a%C3%28');
  assert.equal(raw.status, 400);
  assert.match(raw.text, /not valid UTF-8/);
  // As chat_server makes it: first segment, spaces and _ become -.
  const ok = await get(web, `index.php?room=${encodeURIComponent('/my room_1/rest')}`);
  assert.equal(ok.status, 200);
  assert.match(ok.text, /<main id="chat"[^>]* data-room="my-room-1"/);
  const x = 'x'.repeat(100);
  assert.equal((await get(web, `index.php?room=${x}`)).status, 200);
});

webTest('room_create.php: a valid name opens its room, a refused one says why', async ({ web }) => {
  const r = await get(web, `room_create.php?name=${encodeURIComponent('Tea room_2')}`);
  assert.equal(r.status, 303);
  assert.equal(r.headers.get('location'), 'index.php?room=Tea-room-2');
  const u = await get(web, `room_create.php?name=${encodeURIComponent('Železná hospoda')}`);
  assert.equal(u.headers.get('location'), 'index.php?room=%C5%BDelezn%C3%A1-hospoda');
  for (const [name, why] of [['<b>', /must not contain any of/], ['a/b', /must not contain \//],
    ['.x', /must not start with a dot/], ['x'.repeat(101), /too long/]]) {
    const bad = await get(web, `room_create.php?name=${encodeURIComponent(name)}`);
    assert.equal(bad.status, 400, name);
    assert.match(bad.text, why);
    assert.doesNotMatch(bad.text, /<b>/);
    assert.match(bad.text, /<form method="get" action="room_create.php"/);
  }
});

webTest('the chat page connects through Apache: /chat/rooms/<room> reaches chat_server', async ({ web }) => {
  const cookie = await saveName(web, 'Frank', 'navy');
  const ws = chatSocket(web, 'Železná-hospoda', cookie);
  await ws.waitFor(/^T Welcome to the chat room Železná-hospoda Frank!$/);
  ws.send('hello from the proxy');
  await ws.waitFor(/^T Frank> hello from the proxy$/);
  await ws.end();
  const list = await get(web, 'room_list_historical.php');
  assert.match(list.text, /%C5%BDelezn%C3%A1-hospoda\.log/);
  const page = await get(web, `room_history.php?file=${encodeURIComponent('Železná-hospoda.log')}`);
  assert.match(page.text, /<span class="from">Frank<\/span> <span class="text">hello from the proxy<\/span>/);
});
