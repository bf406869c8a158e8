'use strict';
// Unit tests of the browser client's pure modules (htdocs/js/): protocol.js
// (decoding and checking server events, encoding requests), markup.js
// (text to segments: which strings may become a URL), composer.js (whisper
// detection, Tab completion), and the small pure helpers of connection.js,
// typing.js and notify.js.  Hostile input is the normal case here.
//
// The modules are ES modules with the .js names browsers load.  Node 18
// takes a .js file as CommonJS unless a package.json beside it says
// "type": "module", and htdocs/ should not carry one, so the files are
// copied to a temporary directory that has it, and imported from there.
// That they import at all in Node also shows that they touch no DOM at
// import time.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { pathToFileURL } = require('node:url');

const ROOT = path.join(__dirname, '..', '..');
const JS_DIR = path.join(ROOT, 'htdocs', 'js');
const JS_FILES = fs.readdirSync(JS_DIR).filter((f) => f.endsWith('.js')).sort();

let copyDir = null;
/** The module htdocs/js/<name>, imported from the temporary copy. */
function load(name) {
  if (copyDir === null) {
    copyDir = fs.mkdtempSync(path.join(os.tmpdir(), 'chat-client-'));
    fs.writeFileSync(path.join(copyDir, 'package.json'), '{"type":"module"}\n');
    for (const f of JS_FILES) fs.copyFileSync(path.join(JS_DIR, f), path.join(copyDir, f));
  }
  return import(pathToFileURL(path.join(copyDir, name)).href);
}

test.after(() => {
  if (copyDir !== null) fs.rmSync(copyDir, { recursive: true, force: true });
});

// ---- the sources as text ---------------------------------------------------

test('no module writes HTML from strings or runs strings as code', () => {
  const banned = [/\.innerHTML\b/, /\.outerHTML\b/, /insertAdjacentHTML/, /document\.write/,
    /\beval\s*\(/, /new\s+Function\s*\(/, /setTimeout\s*\(\s*['"`]/, /\.createContextualFragment/];
  for (const f of JS_FILES) {
    const src = fs.readFileSync(path.join(JS_DIR, f), 'utf8');
    for (const re of banned) assert.doesNotMatch(src, re, `${f} uses ${re}`);
  }
});

test('modules import only each other, by relative .js paths that exist', () => {
  for (const f of JS_FILES) {
    const src = fs.readFileSync(path.join(JS_DIR, f), 'utf8');
    for (const m of src.matchAll(/^\s*import\s[^'"]*['"]([^'"]+)['"]/gm)) {
      assert.match(m[1], /^\.\/[a-z_]+\.js$/, `${f} imports ${m[1]}`);
      assert.ok(JS_FILES.includes(m[1].slice(2)), `${f} imports ${m[1]}, which is missing`);
    }
    assert.doesNotMatch(src, /import\s*\(/, `${f} imports dynamically`);
  }
  assert.ok(JS_FILES.includes('main.js'), 'js/main.js is the entry point (docs/web.md)');
});

test('every emoticon has its picture in htdocs/img, an SVG without script', async () => {
  const { EMOTICONS } = await load('markup.js');
  assert.deepEqual(EMOTICONS.map((e) => e.code), [':-)', ':-(', ';-)', ':-D', ':-P', ':-O']);
  for (const e of EMOTICONS) {
    const svg = fs.readFileSync(path.join(ROOT, 'htdocs', 'img', e.file), 'utf8');
    assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    assert.doesNotMatch(svg, /<script|\bon[a-z]+\s*=|href|<foreignObject/i, e.file);
  }
});

// ---- protocol.js -------------------------------------------------------------

test('isName is the rule of chat_server (docs/web.md)', async () => {
  const { isName } = await load('protocol.js');
  for (const ok of ['Alice', 'Železná-hospoda', 'a'.repeat(64), 'ž'.repeat(32), 'x.y', 'Bob1', '😀']) {
    assert.equal(isName(ok), true, ok);
  }
  for (const bad of ['', 'a b', 'a\tb', 'a_b', 'a:b', 'a,b', 'a/b', 'a\\b', '<b>', 'x"y', "x'y", 'a>b',
    'a'.repeat(65), 'ž'.repeat(33), '\u00a0x', 'x\u0085', 'x\u007f', 'x\n', '\ud800', 'a\udc00',
    '<img src=x onerror=alert(1)>', null, 42, ['Bob'], { name: 'Bob' }]) {
    assert.equal(isName(bad), false, JSON.stringify(bad));
  }
});

test('isColor takes #rgb, #rrggbb and colour names only (nothing else reaches style)', async () => {
  const { isColor, hexColor } = await load('protocol.js');
  for (const ok of ['#f00', '#FF0000', '#a1B2c3', 'RebeccaPurple', 'gray', 'Gray', 'WHITE']) {
    assert.equal(isColor(ok), true, ok);
  }
  for (const bad of ['', '#ff', '#ffff', '#ggg', 'url(x)', 'red;background:url(x)', 'red ',
    'transparent', 'currentcolor', 'inherit', '<b>red</b>', 'expression(alert(1))',
    'var(--x)', 'rgb(1,2,3)', `#${'f'.repeat(40)}`, null, 7]) {
    assert.equal(isColor(bad), false, JSON.stringify(bad));
  }
  assert.equal(hexColor('#F0a'), '#ff00aa');
  assert.equal(hexColor('#123456'), '#123456');
  assert.equal(hexColor('red'), null);
});

/** The json blocks of docs/protocol.md that the server sends. */
function serverExamples() {
  const doc = fs.readFileSync(path.join(ROOT, 'docs', 'protocol.md'), 'utf8');
  const section = doc.slice(doc.indexOf('## The JSON protocol'));
  const lines = [];
  for (const m of section.matchAll(/(<!-- client requests -->\s*)?```json\n([\s\S]*?)```/g)) {
    if (m[1]) continue;
    lines.push(...m[2].split('\n').filter((l) => l.trim() !== ''));
  }
  return lines;
}

test('every server event of docs/protocol.md decodes, with its fields', async () => {
  const { decodeEvent } = await load('protocol.js');
  const lines = serverExamples();
  assert.ok(lines.length >= 20, `only ${lines.length} examples found in docs/protocol.md`);
  for (const line of lines) {
    const raw = JSON.parse(line);
    const ev = decodeEvent(line);
    assert.ok(ev, `not decoded: ${line}`);
    assert.equal(ev.type, raw.type);
    assert.equal(ev.time, raw.time);
    assert.equal(ev.history, raw.history === true);
  }
  const w = decodeEvent(lines[0]);
  assert.deepEqual({ ...w, time: null }, {
    type: 'welcome', time: null, history: false, room: 'lobby', name: 'Alice', color: '#ff0000',
    maxMessageBytes: 4096, iceServers: [{ urls: 'stun:stun.example.org' }], iceTransportPolicy: 'all',
    topic: '',
  });
});

test('moderation: the topic of the welcome, and kick, mute and topic events', async () => {
  const { decodeEvent, LOG_TYPES } = await load('protocol.js');
  const t = '2026-03-14T14:11:00+01:00';
  const ev = (o) => decodeEvent(JSON.stringify({ time: t, ...o }));
  assert.equal(ev({ type: 'welcome', room: 'lobby', name: 'Alice', color: '#f00', limits: {}, ice_servers: [],
    topic: 'Be <b>nice</b>' }).topic, 'Be <b>nice</b>');
  assert.deepEqual(ev({ type: 'kick', from: 'Alice', name: 'Bob', reason: 'spam' }),
    { type: 'kick', time: t, history: false, from: 'Alice', name: 'Bob', reason: 'spam' });
  assert.equal(ev({ type: 'kick', from: 'Alice', name: 'Bob' }).reason, '');
  assert.deepEqual(ev({ type: 'mute', from: 'Alice', name: 'Bob', minutes: 10, history: true }),
    { type: 'mute', time: t, history: true, from: 'Alice', name: 'Bob', minutes: 10 });
  assert.equal(ev({ type: 'mute', from: 'Alice', name: 'Bob', minutes: 0 }).minutes, 0);
  assert.deepEqual(ev({ type: 'topic', from: 'Alice', text: '' }),
    { type: 'topic', time: t, history: false, from: 'Alice', text: '' });
  // What does not fit is dropped.
  assert.equal(ev({ type: 'kick', from: 'Alice' }), null);
  assert.equal(ev({ type: 'kick', from: 'Alice', name: 'B:b' }), null);
  assert.equal(ev({ type: 'mute', from: 'Alice', name: 'Bob', minutes: -1 }), null);
  assert.equal(ev({ type: 'mute', from: 'Alice', name: 'Bob', minutes: '10' }), null);
  assert.equal(ev({ type: 'topic', from: 'Alice', text: 5 }), null);
  for (const type of ['kick', 'mute', 'topic']) assert.ok(LOG_TYPES.has(type), type);
});

test('decodeEvent drops what does not fit and keeps texts as sent', async () => {
  const { decodeEvent } = await load('protocol.js');
  const T = '2026-03-14T14:05:12+01:00';
  const ev = (o) => decodeEvent(JSON.stringify({ time: T, ...o }));

  for (const junk of ['', 'not json', '[]', 'null', '"message"', '{"type":5}', '{"type":"__proto__"}',
    '{"type":"toString"}', '{"type":"constructor"}', '{"type":"launch"}']) {
    assert.equal(decodeEvent(junk), null, junk);
  }
  // HTML in a text is text: kept as it is, escaping is the renderer's job.
  const m = ev({ type: 'message', from: 'Bob', color: '#00f', text: '<img src=x onerror=alert(1)>&amp;' });
  assert.equal(m.text, '<img src=x onerror=alert(1)>&amp;');
  // A sender that is no name, a text that is no string: not a message.
  assert.equal(ev({ type: 'message', from: '<b>Bob</b>', color: '#00f', text: 'hi' }), null);
  assert.equal(ev({ type: 'message', from: 'Bob', color: '#00f', text: 5 }), null);
  // A colour that is no colour becomes none; it never reaches CSS.
  assert.equal(ev({ type: 'message', from: 'Bob', color: 'red;background:url(//evil)', text: 'x' }).color, null);
  assert.equal(ev({ type: 'message', from: 'Bob', color: '"><script>', text: 'x' }).color, null);
  // history only on events that can come from the log.
  assert.equal(ev({ type: 'whisper', from: 'A', to: 'B', text: 'x', history: true }).history, false);
  assert.equal(ev({ type: 'join', name: 'A', history: true }).history, true);
  assert.equal(ev({ type: 'join', name: 'A', history: 'yes' }).history, false);
  // A time that is not the server's form is left out (the client uses now).
  assert.equal(decodeEvent('{"type":"join","time":"yesterday","name":"A"}').time, null);
  assert.equal(decodeEvent('{"type":"join","name":"A"}').time, null);
  // Users: bad entries and repeats left out, bad colours none.
  assert.deepEqual(ev({ type: 'users', users: [{ name: 'A', color: '#f00' }, { name: 'A', color: '#0f0' },
    { name: 'x y', color: 'red' }, 'C', null, { name: 'D', color: 'url(x)' }] }).users,
  [{ name: 'A', color: '#f00', verified: false }, { name: 'D', color: null, verified: false }]);
  assert.equal(ev({ type: 'users', users: 'A' }), null);
  // verified only when the server says true, nothing else.
  assert.deepEqual(ev({ type: 'users', users: [{ name: 'A', color: 'Gray', verified: true },
    { name: 'B', color: 'Gray', verified: 'true' }, { name: 'C', color: 'Gray', verified: 1 }] })
    .users.map((u) => u.verified), [true, false, false]);
  // Unknown fields are ignored; the object is a fresh copy.
  const j = ev({ type: 'join', name: 'A', extra: { __proto__: { polluted: true } } });
  assert.deepEqual(Object.keys(j).sort(), ['history', 'name', 'time', 'type']);
  assert.equal({}.polluted, undefined);
  // Command results: only what they say as data, checked.
  const c = ev({ type: 'command', from: 'A', command: 'color', text: 'Changed color to x', result: { color: 'x;y' } });
  assert.deepEqual(c.result, {});
  const d = ev({ type: 'command', from: 'A', command: 'dice', text: 't', result: { count: 2, sides: 6, again: 0, values: [1, 6] } });
  assert.deepEqual(d.result, { count: 2, sides: 6, again: 0, values: [1, 6] });
  // Errors need a code.
  assert.equal(ev({ type: 'error', message: 'x' }), null);
  assert.deepEqual(ev({ type: 'error', code: 'too_long', message: 'm' }).code, 'too_long');
});

test('signal data: offers, answers and candidates only, copied field by field', async () => {
  const { decodeEvent, checkSignalData } = await load('protocol.js');
  const sig = (data) => decodeEvent(JSON.stringify({ type: 'signal', time: '2026-03-14T14:07:02+01:00', from: 'Bob', data }));
  assert.deepEqual(sig({ type: 'offer', sdp: 'v=0zalomeni', extra: 1 }).data, { type: 'offer', sdp: 'v=0zalomeni' });
  assert.deepEqual(sig({ candidate: 'candidate:1 1 udp 1 10.0.0.1 9 typ host', sdpMid: '0', sdpMLineIndex: 0, x: 'y' }).data,
    { candidate: 'candidate:1 1 udp 1 10.0.0.1 9 typ host', sdpMid: '0', sdpMLineIndex: 0 });
  for (const bad of [null, 'x', [1], { type: 'pranswer', sdp: 'v=0' }, { type: 'offer' }, { type: 'offer', sdp: 5 },
    { candidate: 42 }, { foo: 'bar' }, { type: 'rollback', candidate: 'c' }]) {
    assert.equal(sig(bad), null, JSON.stringify(bad));
    assert.equal(checkSignalData(bad), null, JSON.stringify(bad));
  }
});

test('peers send no signalling while the room is unavailable, and send again once it is back', async () => {
  const { Peers } = await load('peers.js');
  const sent = [];
  const peers = new Peers({ send: (line) => sent.push(line), onText: () => {}, log: () => {} });
  peers.start('Alice', [], 'all');
  const candidate = { candidate: 'candidate:1 1 udp 1 10.0.0.1 9 typ host', sdpMid: '0', sdpMLineIndex: 0 };
  peers.signal('Bob', candidate);
  assert.equal(sent.length, 1);
  assert.deepEqual(JSON.parse(sent[0]), { type: 'signal', to: 'Bob', data: candidate });
  peers.hold(true); // the server said: unavailable
  peers.signal('Bob', candidate);
  peers.signal('Bob', { type: 'offer', sdp: 'v=0' });
  assert.equal(sent.length, 1, 'signalling sent while the room was unavailable');
  peers.hold(false); // available again
  peers.signal('Bob', candidate);
  assert.equal(sent.length, 2);
  // A new connection starts unheld.
  peers.hold(true);
  peers.start('Alice', [], 'all');
  peers.signal('Bob', candidate);
  assert.equal(sent.length, 3);
});

test('ice_servers: only STUN and TURN URLs reach RTCPeerConnection', async () => {
  const { decodeEvent } = await load('protocol.js');
  const w = decodeEvent(JSON.stringify({ type: 'welcome', time: '2026-03-14T14:03:27+01:00', room: 'r', name: 'A',
    color: 'Gray', limits: {}, ice_servers: [{ urls: 'stun:a.example' }, { urls: 'javascript:alert(1)' },
      { urls: ['turn:b.example', 'https://c.example'], username: 'u', credential: 'p' }, 'stun:x', null] }));
  assert.deepEqual(w.iceServers, [{ urls: 'stun:a.example' },
    { urls: ['turn:b.example'], username: 'u', credential: 'p' }]);
  assert.equal(w.maxMessageBytes, null);
  // ice_transport_policy: "relay" or nothing; anything else is "all".
  const policy = (p) => decodeEvent(JSON.stringify({ type: 'welcome', room: 'r', name: 'A',
    ice_servers: [], ice_transport_policy: p })).iceTransportPolicy;
  assert.equal(policy('relay'), 'relay');
  for (const other of [undefined, 'all', 'RELAY', 'none', 1, ['relay'], null]) assert.equal(policy(other), 'all');
});

test('requests are encoded as docs/protocol.md says', async () => {
  const p = await load('protocol.js');
  assert.deepEqual(JSON.parse(p.encodeMessage('Bob: hi')), { type: 'message', text: 'Bob: hi' });
  assert.deepEqual(JSON.parse(p.encodeWhisper('Bob', '"quoted" <b>')), { type: 'whisper', to: 'Bob', text: '"quoted" <b>' });
  assert.deepEqual(JSON.parse(p.encodeCommand('/dice 3 6 6')), { type: 'command', text: '/dice 3 6 6' });
  const offer = { type: 'offer', sdp: p.sdpToWire('v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n') };
  assert.deepEqual(JSON.parse(p.encodeSignal('Bob', offer)),
    { type: 'signal', to: 'Bob', data: { type: 'offer', sdp: 'v=0zalomenio=- 1 2 IN IP4 127.0.0.1zalomeni' } });
  assert.equal(p.sdpFromWire(offer.sdp), 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n');
  assert.equal(p.encodeSignal('Bob', { foo: 1 }), null);
  assert.equal(p.encodeSignal('B ob', offer), null);
  assert.equal(p.encodeSignal('Bob', { type: 'offer', sdp: 'x'.repeat(64 * 1024) }), null);
  assert.equal(p.diceCommand('3', '6', '6'), '/dice 3 6 6');
  assert.equal(p.diceCommand(' 03', '6', '0'), '/dice 3 6 0');
  for (const bad of [['-1', '6', '6'], ['a', '6', '6'], ['1e3', '6', '6'], ['', '6', '6'], ['1', '6; /color red', '6']]) {
    assert.equal(p.diceCommand(...bad), null, bad.join());
  }
  assert.equal(p.colorCommand('#00ff00'), '/color #00ff00');
  assert.equal(p.colorCommand('red; /dice'), null);
  assert.equal(p.utf8Length('až€😀'), 1 + 2 + 3 + 4);
});

// ---- markup.js ---------------------------------------------------------------

const kinds = (segs) => segs.map((s) => [s.kind, s.value]);

test('markup: {image}, {link} and emoticons; everything else stays text', async () => {
  const { parseMarkup } = await load('markup.js');
  assert.deepEqual(kinds(parseMarkup('hello')), [['text', 'hello']]);
  assert.deepEqual(kinds(parseMarkup('see {link}https://example.org/a?b=1&c=<2> now')),
    [['text', 'see '], ['link', 'https://example.org/a?b=1&c=%3C2%3E'], ['text', ' now']]);
  assert.deepEqual(kinds(parseMarkup('{image}http://example.org/p.png')), [['image', 'http://example.org/p.png']]);
  assert.deepEqual(kinds(parseMarkup('hi :-) and ;-) :-D:-P :-O :-(')), [['text', 'hi '], ['emoticon', ':-)'],
    ['text', ' and '], ['emoticon', ';-)'], ['text', ' '], ['emoticon', ':-D'], ['emoticon', ':-P'],
    ['text', ' '], ['emoticon', ':-O'], ['text', ' '], ['emoticon', ':-(']]);
  // The host is shown as the browser will use it (punycode), not as typed.
  assert.deepEqual(kinds(parseMarkup('{link}https://пример.рф/')), [['link', 'https://xn--e1afmkfd.xn--p1ai/']]);
  // A URL ends at whitespace; emoticon codes inside it are part of it.
  assert.deepEqual(kinds(parseMarkup('{link}https://example.org/:-)\tx')),
    [['link', 'https://example.org/:-)'], ['text', '\tx']]);
});

test('markup: hostile texts never become a link or an image', async () => {
  const { parseMarkup } = await load('markup.js');
  const hostile = [
    '{image}javascript:alert(1)',
    '{link}javascript:alert(document.cookie)',
    '{link}JaVaScRiPt:alert(1)',
    '{link}data:text/html,<script>alert(1)</script>',
    '{image}data:image/svg+xml,<svg onload=alert(1)>',
    '{link}vbscript:msgbox(1)',
    '{link}file:///etc/passwd',
    '{link}//evil.example/',
    '{link}/relative/path',
    '{link}https://bank.example@evil.example/',
    '{link}https://user:pw@evil.example/',
    '{link}http://',
    '{link}',
    '{image} https://example.org/x.png',
    '{LINK}https://example.org/',
    '<img src=x onerror=alert(1)>',
    '<a href="javascript:alert(1)">x</a>',
    '"><script>alert(1)</script>',
    `{link}https://example.org/${'a'.repeat(3000)}`,
  ];
  for (const t of hostile) {
    const segs = parseMarkup(t);
    for (const s of segs) {
      if (s.kind === 'link' || s.kind === 'image') assert.fail(`${JSON.stringify(t)} gave a ${s.kind}: ${s.value}`);
    }
    // Nothing is lost: the text is shown in full.
    assert.equal(segs.map((s) => s.value).join(''), t, t);
  }
  // Whatever parses, only http: and https: come out.
  for (const s of parseMarkup('{link}https://a.example/ {image}http://b.example/i.png {link}ftp://c.example/')) {
    if (s.kind === 'link' || s.kind === 'image') assert.match(s.value, /^https?:\/\//);
  }
});

test('mentions: the reader\'s name as a word of its own, any case', async () => {
  const { parseMarkup, mentions } = await load('markup.js');
  assert.equal(mentions('hey bob!', 'Bob'), true);
  assert.equal(mentions('BOB: look', 'Bob'), true);
  assert.equal(mentions('bobby is here', 'Bob'), false);
  assert.equal(mentions('kebob', 'Bob'), false);
  assert.equal(mentions('bob_x', 'Bob'), false);
  assert.equal(mentions('ahoj železná-hospoda.', 'Železná-hospoda'), true);
  assert.equal(mentions('ahoj železnáx', 'Železná'), false);
  assert.equal(mentions('a.b', 'a.b'), true);
  assert.equal(mentions('axb', 'a.b'), false, 'a name is matched literally, not as a pattern');
  assert.equal(mentions('anything', ''), false);
  assert.equal(mentions('anything', null), false);
  assert.deepEqual(kinds(parseMarkup('hey bob, bobby :-)', { self: 'Bob' })),
    [['text', 'hey '], ['mention', 'bob'], ['text', ', bobby '], ['emoticon', ':-)']]);
});

test('the image and link dialog: full URL, other sites flagged, http(s) only', async () => {
  const { insertion } = await load('markup.js');
  const origin = 'https://chat.example.org';
  assert.deepEqual(insertion('image', '  https://example.org/x.png ', origin),
    { ok: true, url: 'https://example.org/x.png', other: true, text: '{image}https://example.org/x.png' });
  assert.deepEqual(insertion('link', 'https://chat.example.org/room_list.php', origin),
    { ok: true, url: 'https://chat.example.org/room_list.php', other: false, text: '{link}https://chat.example.org/room_list.php' });
  assert.equal(insertion('link', 'http://chat.example.org/', origin).other, true, 'another scheme is another site');
  for (const bad of ['javascript:alert(1)', 'data:,x', 'ftp://example.org/', 'example.org', '', 'https://a b.example/']) {
    assert.equal(insertion('link', bad, origin).ok, false, bad);
  }
  assert.equal(insertion('script', 'https://example.org/', origin).ok, false);
});

// ---- composer.js -------------------------------------------------------------

test('whisper detection: "Name: " with Name in the room', async () => {
  const { whisperTarget, parseOutgoing } = await load('composer.js');
  const names = ['Alice', 'Bob', 'Železná'];
  assert.equal(whisperTarget('Bob: hi', names), 'Bob');
  assert.equal(whisperTarget('Železná: ahoj', names), 'Železná');
  assert.equal(whisperTarget('Bob:hi', names), null);
  assert.equal(whisperTarget('bob: hi', names), null, 'names are compared exactly, as the server does');
  assert.equal(whisperTarget('Zed: hi', names), null);
  assert.equal(whisperTarget(' Bob: hi', names), null);
  assert.deepEqual(parseOutgoing('Bob: see you', names), { type: 'whisper', to: 'Bob', texts: ['see you'] });
  assert.deepEqual(parseOutgoing('Zed: see you', names), { type: 'message', texts: ['Zed: see you'] });
  assert.deepEqual(parseOutgoing('<img src=x onerror=alert(1)>', names),
    { type: 'message', texts: ['<img src=x onerror=alert(1)>'] });
  assert.deepEqual(parseOutgoing('/dice 3 6 6', names), { type: 'command', texts: ['/dice 3 6 6'] });
  assert.equal(parseOutgoing('   \n ', names), null);
  assert.equal(parseOutgoing('Bob: ', names), null);
  // Lines: each its own request, and a whisper stays a whisper on each.
  assert.deepEqual(parseOutgoing('one\n\ntwo', names), { type: 'message', texts: ['one', 'two'] });
  assert.deepEqual(parseOutgoing('Bob: secret\nmore secret', names), { type: 'whisper', to: 'Bob', texts: ['secret', 'more secret'] });
  assert.deepEqual(parseOutgoing(Array(11).fill('x').join('\n'), names), { error: 'too_many_lines', limit: 10 });
});

test('the size limit: bytes, a whisper counted as "<to>: <text>"', async () => {
  const { parseOutgoing } = await load('composer.js');
  const names = ['Bob'];
  assert.equal(parseOutgoing('x'.repeat(4096), names, 4096).type, 'message');
  assert.deepEqual(parseOutgoing('x'.repeat(4097), names, 4096), { error: 'too_long', limit: 4096 });
  assert.deepEqual(parseOutgoing('ž'.repeat(2049), names, 4096), { error: 'too_long', limit: 4096 });
  assert.equal(parseOutgoing(`Bob: ${'x'.repeat(4091)}`, names, 4096).type, 'whisper');
  assert.deepEqual(parseOutgoing(`Bob: ${'x'.repeat(4092)}`, names, 4096), { error: 'too_long', limit: 4096 });
  assert.equal(parseOutgoing('x'.repeat(9000), names, null).type, 'message');
});

test('Tab completion: prefix, any case, cycling, ": " at the start', async () => {
  const { complete } = await load('composer.js');
  const names = ['Bob', 'Bobby', 'Alice'];
  let r = complete('bo', 2, names);
  assert.deepEqual([r.value, r.caret], ['Bob: ', 5]);
  r = complete(r.value, r.caret, names, r.state);
  assert.deepEqual([r.value, r.caret], ['Bobby: ', 7]);
  r = complete(r.value, r.caret, names, r.state);
  assert.deepEqual([r.value, r.caret], ['Bob: ', 5]);
  r = complete('hi al', 5, names);
  assert.deepEqual([r.value, r.caret], ['hi Alice ', 9]);
  r = complete('hi al there', 5, names);
  assert.deepEqual([r.value, r.caret], ['hi Alice there', 8]);
  assert.equal(complete('', 0, names), null, 'nothing to complete: Tab moves the focus');
  assert.equal(complete('hi ', 3, names), null);
  assert.equal(complete('zz', 2, names), null);
  // A stale state (the field changed) starts afresh.
  const s = complete('bo', 2, names).state;
  assert.deepEqual(complete('al', 2, names, s).value, 'Alice: ');
});

test('inserting {image}, {link} and emoticons keeps them words of their own', async () => {
  const { insertText } = await load('composer.js');
  assert.deepEqual(insertText('', 0, 0, ':-)'), { value: ':-) ', caret: 4 });
  assert.deepEqual(insertText('look', 4, 4, '{link}https://a.example/'),
    { value: 'look {link}https://a.example/ ', caret: 30 });
  assert.deepEqual(insertText('a b', 1, 1, ':-)').value, 'a :-) b');
  assert.deepEqual(insertText('aXb', 1, 2, ':-)').value, 'a :-) b', 'replaces the selection');
});

// ---- small helpers -------------------------------------------------------------

test('reconnect backoff: about 1 s, doubling, at most 30 s, with jitter', async () => {
  const { backoffDelay, jsonUrl } = await load('connection.js');
  const hi = () => 0.999999;
  const lo = () => 0;
  assert.ok(backoffDelay(0, hi) <= 1000 && backoffDelay(0, lo) >= 500);
  assert.ok(backoffDelay(1, hi) <= 2000 && backoffDelay(1, hi) > 1000);
  assert.equal(backoffDelay(5, hi), 30000);
  assert.equal(backoffDelay(50, hi), 30000);
  assert.equal(backoffDelay(1000, lo), 15000);
  assert.equal(jsonUrl('wss://chat.example.org/chat/rooms/lobby'), 'wss://chat.example.org/chat/rooms/lobby?proto=json');
  assert.equal(jsonUrl('ws://h:8089/lobby?lang=cs'), 'ws://h:8089/lobby?lang=cs&proto=json');
});

test('typing preview: one line, cut short', async () => {
  const { previewText, PREVIEW_MAX } = await load('typing.js');
  assert.equal(previewText('  hi\nthere\u001b[31m '), 'hi there [31m');
  const long = previewText('😀'.repeat(500));
  assert.equal(Array.from(long).length, PREVIEW_MAX + 1);
  assert.ok(long.endsWith('…'));
  assert.equal(previewText(42), '');
});

test('the tab title counts unread lines', async () => {
  const { titleFor } = await load('notify.js');
  assert.equal(titleFor('lobby', 3), '(3) lobby – chat');
  assert.equal(titleFor('lobby', 0), 'lobby – chat');
});
