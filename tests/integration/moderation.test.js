'use strict';
// Moderation (issue 14): /kick, /mute, /unmute, /ban, /unban, /lock,
// /unlock and /topic by a moderator (a signed token with the moderator
// role), each member its own process; what lasts is in
// MODERATION_DIR/<room>.json and survives every process; each action is in
// LOG_DIR/moderation.log.  The 5 s waits are generous bounds, not
// performance: orders reach the target's process through its inbox at once.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { BIN, chatTest, stopWardens } = require('./harness');

const ROOM = 'lobby';
const JSON_ENV = { QUERY_STRING: 'proto=json' };
const BOUND_MS = 5000;

function setup(h) {
  const secret = path.join(h.root, 'token.secret');
  fs.writeFileSync(secret, 'moderation test secret, long enough to be a key\n', { mode: 0o600 });
  h.addConfig({ AUTH_TOKEN_COOKIE: 'chat_token', AUTH_TOKEN_SECRET_FILE: secret });
}

/** A cookie with a token for name, minted by chat_server --mint-token. */
function token(h, name, ...args) {
  const r = spawnSync(BIN, ['--mint-token', name, ...args],
    { env: { ...process.env, CHAT_SERVER_CONFIG: h.configPath }, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return `chat_token=${r.stdout.trim()}`;
}

async function moderator(h, opts = {}) {
  const a = await h.join(ROOM, { cookie: token(h, 'Alice', '--role', 'moderator'), label: 'Alice', ...opts });
  await a.waitFor(/^T Userlist: .*Alice:/);
  return a;
}

async function member(h, name, opts = {}) {
  const c = await h.join(ROOM, { cookie: h.session(name.toLowerCase(), `${name}:#00f`), label: name, ...opts });
  await c.waitFor(new RegExp(`^T Userlist: .*${name}:`));
  return c;
}

/** A JSON member: its events as objects. */
async function jsonMember(h, name, opts = {}) {
  const c = h.spawn(`/${ROOM}`, { cookie: h.session(name.toLowerCase(), `${name}:#0f0`), label: name, ...opts,
    env: { ...JSON_ENV, ...(opts.env || {}) } });
  await c.waitFor(/"type":"history_end"/);
  c.events = () => c.lines.map((l) => JSON.parse(l));
  return c;
}

async function waitEvent(c, pred, from = 0) {
  const line = await c.waitFor((l) => l.startsWith('{') && pred(JSON.parse(l)), BOUND_MS, { from });
  return JSON.parse(line);
}

/** Sends line and waits for the next stdout line matching match. */
async function ask(c, line, match) {
  const from = c.lines.length;
  c.send(line);
  return c.waitFor(match, BOUND_MS, { from });
}

function audit(h) {
  const f = h.p('log', 'moderation.log');
  if (!fs.existsSync(f)) return [];
  return fs.readFileSync(f, 'utf8').split('\n').slice(0, -1).map((l) => {
    const [time, by, action, target, detail] = l.split('\t');
    assert.match(time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$/);
    return { by, action, target, detail };
  });
}

function stored(h) {
  return JSON.parse(h.moderationText(ROOM));
}

async function refusedJoin(h, opts, sentence) {
  const c = await h.run(`/${ROOM}`, { expectCode: 1, ...opts });
  assert.ok(c.out.some((l) => l.startsWith(`T Error: ${sentence}`)), c.describe());
  return c;
}

chatTest('a moderator kicks: the target is told, its connection ends with its quit line', async (h) => {
  setup(h);
  const a = await moderator(h);
  const b = await member(h, 'Bob');
  const j = await jsonMember(h, 'Carol');
  a.send('/kick Bob spamming\tthe room');
  await b.waitFor('T Error: you were kicked out of the room by Alice: spamming\tthe room', BOUND_MS);
  await b.waitExit();
  await h.waitForLog(ROOM, (l) => l.includes('T Bob quit the lobby'), BOUND_MS);
  assert.ok(h.log(ROOM).includes('T Alice>  Kicked Bob: spamming\tthe room'));
  const e = await waitEvent(j, (x) => x.type === 'kick');
  assert.deepEqual({ from: e.from, name: e.name, reason: e.reason },
    { from: 'Alice', name: 'Bob', reason: 'spamming\tthe room' });
  // The reason's tab cannot make a field of its own in the audit log.
  assert.deepEqual(audit(h), [{ by: 'Alice', action: 'kick', target: 'Bob', detail: 'spamming\\x09the room' }]);
  // A kick is not a ban: Bob may come back.
  await member(h, 'Bob');
  assert.match(await ask(a, '/kick Nobody', /^T Error: /), /^T Error: Nobody is not in the room$/);
});

chatTest('a non-moderator is refused with not_moderator, and nothing changes', async (h) => {
  setup(h);
  const a = await moderator(h);
  const b = await member(h, 'Bob');
  for (const cmd of ['/kick Alice', '/mute Alice 5', '/unmute Alice', '/ban Alice 5', '/unban Alice',
    '/lock', '/unlock', '/topic mine']) {
    assert.equal(await ask(b, cmd, /^T Error: /), `T Error: not done: only moderators may use ${cmd.split(' ')[0]}`);
  }
  const j = await jsonMember(h, 'Dave');
  const from = j.lines.length;
  j.send(JSON.stringify({ type: 'command', text: '/kick Alice' }));
  const err = await waitEvent(j, (x) => x.type === 'error', from);
  assert.equal(err.code, 'not_moderator');
  // An unverified name cannot borrow the moderator's: Alice by PHP session is another Alice.
  assert.ok(a.running);
  assert.equal(audit(h).length, 0);
  assert.equal(h.moderationText(ROOM), '');
  assert.ok(!h.log(ROOM).some((l) => /Alice>  (Kicked|Muted|Banned|Locked|Set the topic)/.test(l)));
  // A moderator's mistake is told as a usage line.
  assert.equal(await ask(a, '/mute Bob soon', /^T Error: /), 'T Error: usage: /mute NAME MINUTES (1 to 525600)');
});

chatTest('a moderator mutes: the target is told, its messages refused (muted), rejoining does not help, unmute works', async (h) => {
  setup(h);
  const a = await moderator(h);
  let b = await member(h, 'Bob');
  const j = await jsonMember(h, 'Carol');
  a.send('/mute Bob 10');
  await b.waitFor('T Error: you were muted by Alice for 10 minutes: your messages are not sent until then', BOUND_MS);
  assert.equal(await ask(b, 'hello?', /^T Error: /), 'T Error: message not sent: you are muted for 10 more minutes');
  assert.equal(await ask(b, 'Carol: psst', /^T Error: /), 'T Error: message not sent: you are muted for 10 more minutes');
  const m = await waitEvent(j, (x) => x.type === 'mute');
  assert.deepEqual([m.from, m.name, m.minutes], ['Alice', 'Bob', 10]);
  // Rejoining does not escape it.
  b.child.stdin.end();
  await b.waitExit();
  b = await member(h, 'Bob');
  const jb = await jsonMember(h, 'Bob', { label: 'Bob (JSON)', cookie: h.session('bob2', 'Bob:#00f') });
  const from = jb.lines.length;
  jb.send(JSON.stringify({ type: 'message', text: 'let me speak' }));
  assert.equal((await waitEvent(jb, (x) => x.type === 'error', from)).code, 'muted');
  assert.ok(!h.log(ROOM).some((l) => /Bob\d*> /.test(l)));
  a.send('/unmute Bob');
  await waitEvent(j, (x) => x.type === 'mute' && x.minutes === 0);
  await b.waitFor('T Alice>  Unmuted Bob', BOUND_MS);
  b.send('thanks');
  await h.waitForLog(ROOM, (l) => l.includes('T Bob> thanks'), BOUND_MS);
  assert.deepEqual(audit(h).map((x) => [x.action, x.target, x.detail]),
    [['mute', 'Bob', '10 minutes'], ['unmute', 'Bob', '']]);
});

// The warden (files) or the archiver (Redis) held off, so that the
// moderator's own listing is the one that finds the dead.
chatTest('a moderator\'s order finds a dead member: its quit is logged, then a user list without it', async (h) => {
  setup(h);
  await h.holdReaper(); // else the warden or the archiver reaps Zed at once
  const a = await moderator(h);
  const b = await member(h, 'Bob');
  const z = await member(h, 'Zed');
  const withZed = /^T Userlist: Alice:[^,]*,Bob:#00f,Zed:#00f,$/;
  await b.waitFor(withZed);
  z.kill('SIGKILL');
  await z.exited;
  // What the log holds after the last list with Zed (reading the log lets
  // Redis's archiver run again: the order must have been given first).
  const since = (lines) => lines.slice(lines.findLastIndex((l) => withZed.test(l)) + 1);
  a.send('/mute Bob 10');
  await b.waitFor('T Error: you were muted by Alice for 10 minutes: your messages are not sent until then', BOUND_MS);
  await h.waitForLog(ROOM, (lines) => since(lines).includes('T Zed quit the lobby'), BOUND_MS);
  await h.waitForLog(ROOM, (lines) => since(lines).some((l) => l.startsWith('T Userlist: ')), BOUND_MS);
  const after = since(h.log(ROOM));
  const quit = after.indexOf('T Zed quit the lobby');
  assert.ok(quit >= 0, after.join('\n'));
  assert.match(after[quit + 1], /^T Userlist: Alice:[^,]*,Bob:#00f,$/, after.join('\n'));
  assert.equal(after.filter((l) => l === 'T Zed quit the lobby').length, 1);
  assert.equal(fs.existsSync(h.p('users', 'lobby_Zed')), false);
});

chatTest('a stored mute expires: one whose time has passed is no mute', async (h) => {
  setup(h);
  const now = Math.floor(Date.now() / 1000);
  h.storeModeration(ROOM, JSON.stringify({
    mutes: [{ name: 'Bob', until: now - 1, by: 'Alice' }, { name: 'Carol', until: now + 600, by: 'Alice' }],
  }));
  const b = await member(h, 'Bob');
  b.send('free again');
  await h.waitForLog(ROOM, (l) => l.includes('T Bob> free again'), BOUND_MS);
  const c = await member(h, 'Carol');
  assert.match(await ask(c, 'me too', /^T Error: /), /^T Error: message not sent: you are muted for (9|10) more minutes$/);
});

chatTest('bans by name and by address: present members are removed, joins refused, unban admits', async (h) => {
  setup(h);
  const a = await moderator(h);
  const b = await member(h, 'Bob');
  const d = await member(h, 'Dave', { xff: '203.0.113.7' });
  const e = await member(h, 'Eve', { xff: '198.51.100.2' });
  a.send('/ban Bob 60 go away');
  await b.waitFor(/^T Error: you were banned from the room by Alice for 60 minutes: go away$/, BOUND_MS);
  await b.waitExit();
  await refusedJoin(h, { cookie: h.session('bob', 'Bob:#00f') },
    'you are banned from this room for 60 more minutes: go away');
  a.send('/ban 203.0.113.7 5');
  await d.waitFor(/^T Error: you were banned from the room by Alice for 5 minutes$/, BOUND_MS);
  await d.waitExit();
  await h.waitForLog(ROOM, (l) => l.includes('T Dave quit the lobby'), BOUND_MS);
  await refusedJoin(h, { cookie: h.session('zed', 'Zed:#00f'), xff: '203.0.113.7' }, 'you are banned from this room');
  assert.ok(e.running, 'another address stays');
  await member(h, 'Zed', { xff: '203.0.113.8' });
  assert.ok(h.log(ROOM).includes('T Alice>  Banned Bob for 60 minutes: go away'));
  assert.ok(h.log(ROOM).includes('T Alice>  Banned 203.0.113.7 for 5 minutes'));
  const s = stored(h);
  assert.deepEqual(s.bans.map((x) => [x.name, x.address, x.by]), [['Bob', undefined, 'Alice'], [undefined, '203.0.113.7', 'Alice']]);
  a.send('/unban Bob');
  a.send('/unban 203.0.113.7');
  await h.waitForLog(ROOM, (l) => l.includes('T Alice>  Unbanned 203.0.113.7'), BOUND_MS);
  await member(h, 'Bob');
  await member(h, 'Dave', { xff: '203.0.113.7', cookie: h.session('dave2', 'Dave:#00f') });
  assert.deepEqual(audit(h).map((x) => [x.action, x.target, x.detail]), [
    ['ban', 'Bob', '60 minutes: go away'], ['ban', '203.0.113.7', '5 minutes'],
    ['unban', 'Bob', ''], ['unban', '203.0.113.7', '']]);
});

chatTest('a locked room admits only verified identities; the topic is shown to joiners', async (h) => {
  setup(h);
  const a = await moderator(h);
  const j = await jsonMember(h, 'Carol');
  a.send('/lock');
  await h.waitForLog(ROOM, (l) => l.includes('T Alice>  Locked the room to verified members'), BOUND_MS);
  const lockEvent = await waitEvent(j, (x) => x.type === 'command' && x.command === 'lock');
  assert.equal(lockEvent.from, 'Alice');
  await refusedJoin(h, { cookie: h.session('bob', 'Bob:#00f') }, 'the room is locked: only verified members may join');
  const refused = await h.run(`/${ROOM}`, { expectCode: 1, env: JSON_ENV, cookie: h.session('bob', 'Bob:#00f') });
  assert.equal(JSON.parse(refused.lines.find((l) => l.includes('"error"'))).code, 'locked');
  await h.join(ROOM, { cookie: token(h, 'Frank'), label: 'Frank (verified)' });
  a.send('/topic Be nice; no spoilers');
  const t = await waitEvent(j, (x) => x.type === 'topic');
  assert.deepEqual([t.from, t.text], ['Alice', 'Be nice; no spoilers']);
  const g = await h.join(ROOM, { cookie: token(h, 'Gina'), label: 'Gina' });
  const at = g.out.findIndex((l) => l.startsWith('T Welcome to the chat room'));
  assert.equal(g.out[at + 1], 'T Topic: Be nice; no spoilers');
  const hj = h.spawn(`/${ROOM}`, { env: JSON_ENV, cookie: token(h, 'Hal'), label: 'Hal (JSON)' });
  const welcome = JSON.parse(await hj.waitFor(/"type":"welcome"/, BOUND_MS));
  assert.equal(welcome.topic, 'Be nice; no spoilers');
  a.send('/unlock');
  await h.waitForLog(ROOM, (l) => l.includes('T Alice>  Unlocked the room'), BOUND_MS);
  await member(h, 'Bob');
  assert.deepEqual(audit(h).map((x) => [x.action, x.detail]),
    [['lock', ''], ['topic', 'Be nice; no spoilers'], ['unlock', '']]);
});

chatTest('bans, the lock and the topic survive every process', async (h) => {
  setup(h);
  const a = await moderator(h);
  a.send('/ban Bob 30');
  a.send('/ban 192.0.2.5 30');
  a.send('/lock');
  a.send('/topic Welcome back');
  await h.waitForLog(ROOM, (l) => l.includes('T Alice>  Set the topic: Welcome back'), BOUND_MS);
  a.child.stdin.end();
  await a.waitExit();
  await stopWardens(h.configPath);
  // Nothing of ours runs now: a websocketd restart starts new processes.
  await refusedJoin(h, { cookie: token(h, 'Bob') }, 'you are banned from this room');
  await refusedJoin(h, { cookie: token(h, 'Ivy'), xff: '192.0.2.5' }, 'you are banned from this room');
  await refusedJoin(h, { cookie: h.session('jo', 'Jo:#00f') }, 'the room is locked');
  const k = await h.join(ROOM, { cookie: token(h, 'Kim') });
  const at = k.out.findIndex((l) => l.startsWith('T Welcome to the chat room'));
  assert.equal(k.out[at + 1], 'T Topic: Welcome back');
  assert.equal(audit(h).length, 4);
});

chatTest('a client cannot forge a moderator\'s order: whispers never become control datagrams', async (h) => {
  setup(h);
  const b = await member(h, 'Bob');
  const c = await member(h, 'Carol');
  const j = await jsonMember(h, 'Dave');
  b.send('Carol: \u0001kick\tBob\tforged');
  j.send(JSON.stringify({ type: 'whisper', to: 'Carol', text: '\u0001kick\tDave\tforged' }));
  j.send(JSON.stringify({ type: 'whisper', to: 'Carol', text: '\u0001check' }));
  b.send('Carol: after');
  await c.waitFor('T Bob> Carol: after', BOUND_MS);
  assert.ok(c.running);
  assert.ok(!c.out.some((l) => /kicked|banned|muted/.test(l)), c.describe());
  // Nor can a message read as a moderator's result line.
  assert.equal(await ask(b, ' Kicked Carol: by me', /^T Error: /), 'T Error: message not sent: it would read as the result of a command');
  assert.ok(!h.log(ROOM).some((l) => l.includes('Kicked Carol')));
});
