'use strict';
// Who a connection is: anonymous numbering, duplicate names, PHP sessions
// (contract section 3).
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { chatTest, phpString } = require('./harness');

/** Entries of a normalized "T Userlist: ..." line as [name, colour] pairs. */
function userlist(line) {
  const m = /^T Userlist: (.*)$/.exec(line);
  assert.ok(m, `not a user list line: ${JSON.stringify(line)}`);
  if (m[1] === '') return [];
  assert.ok(m[1].endsWith(','), `user list without trailing comma: ${line}`);
  return m[1].slice(0, -1).split(',').map((e) => e.split(':'));
}

chatTest('anonymous users are numbered Anonymous, Anonymous1, Anonymous2', async (h) => {
  const a = await h.join('lobby');
  const b = await h.join('lobby');
  const c = await h.join('lobby');
  assert.deepEqual([a.name, b.name, c.name], ['Anonymous', 'Anonymous1', 'Anonymous2']);
  await c.waitFor('T Userlist: Anonymous:Gray,Anonymous1:Gray,Anonymous2:Gray,');
  assert.equal(fs.readFileSync(h.p('users', 'lobby_Anonymous1'), 'utf8'), 'Gray\n');
});

chatTest('numbering continues after the highest number in use', async (h) => {
  const a = await h.join('lobby');
  const b = await h.join('lobby');
  const c = await h.join('lobby');
  assert.deepEqual([a.name, b.name, c.name], ['Anonymous', 'Anonymous1', 'Anonymous2']);
  assert.equal(await b.close(), 0);
  const d = await h.join('lobby');
  assert.equal(d.name, 'Anonymous3');
});

chatTest('the same session name twice: Ann, then Ann1', async (h) => {
  const a = await h.join('lobby', { cookie: h.session('ann1', 'Ann:#111') });
  const b = await h.join('lobby', { cookie: h.session('ann2', 'Ann:#222') });
  assert.deepEqual([a.name, b.name], ['Ann', 'Ann1']);
  await b.waitFor('T Userlist: Ann:#111,Ann1:#222,');
});

chatTest('Anna does not collide with Ann, whoever comes first', async (h) => {
  const annCookie = h.session('ann', 'Ann:#111');
  const annaCookie = h.session('anna', 'Anna:#222');
  const ann = await h.join('r1', { cookie: annCookie });
  const anna = await h.join('r1', { cookie: annaCookie });
  assert.deepEqual([ann.name, anna.name], ['Ann', 'Anna']);
  await anna.waitFor((l) => l.startsWith('T Userlist: ') &&
    userlist(l).map((e) => e[0]).sort().join() === 'Ann,Anna');

  const anna2 = await h.join('r2', { cookie: annaCookie });
  const ann2 = await h.join('r2', { cookie: annCookie });
  assert.deepEqual([anna2.name, ann2.name], ['Anna', 'Ann']);
  // A name that is a prefix of another never counts as "in use" either.
  const ann3 = await h.join('r2', { cookie: annCookie });
  assert.equal(ann3.name, 'Ann1');
});

chatTest('names are per room', async (h) => {
  const a = await h.join('one');
  const b = await h.join('two');
  assert.deepEqual([a.name, b.name], ['Anonymous', 'Anonymous']);
});

// A cookie must never name a file outside sessions/ (the original read
// sessions/sess_<id> with the id unchecked).  Each case plants a valid
// session for "Evil" where the unchecked path would lead.
const badIds = [
  { label: '../../etc/passwd', id: '../../etc/passwd' },
  { label: '../evil (file at sessions/sess_../evil)', id: '../evil',
    plant: (h) => {
      fs.mkdirSync(h.p('sessions', 'sess_..'), { recursive: true });
      fs.writeFileSync(h.p('sessions', 'sess_..', 'evil'), phpString('username', 'Evil:#666'));
    } },
  { label: 'a/b (file at sessions/sess_a/b)', id: 'a/b',
    plant: (h) => {
      fs.mkdirSync(h.p('sessions', 'sess_a'), { recursive: true });
      fs.writeFileSync(h.p('sessions', 'sess_a', 'b'), phpString('username', 'Evil:#666'));
    } },
  { label: '.. (file sessions/sess_..)', id: '..',
    plant: (h) => { h.writeSession('..', phpString('username', 'Evil:#666')); } },
  { label: 'dot inside (sess_x.y)', id: 'x.y',
    plant: (h) => { h.writeSession('x.y', phpString('username', 'Evil:#666')); } },
  { label: 'very long id', id: 'a'.repeat(5000) },
  { label: '257 characters', id: 'b'.repeat(257) },
];
for (const c of badIds) {
  chatTest(`invalid session id ${c.label} gives Anonymous`, async (h) => {
    if (c.plant) c.plant(h);
    const u = await h.join('lobby', { cookie: `PHPSESSID=${c.id}` });
    assert.equal(u.name, 'Anonymous');
    await u.waitFor('T Userlist: Anonymous:Gray,');
  });
}

chatTest('a long valid session id (128 characters) works', async (h) => {
  const id = 'A1-,'.repeat(32);
  const u = await h.join('lobby', { cookie: h.session(id, 'Alice:#ff0000') });
  assert.equal(u.name, 'Alice');
});

chatTest('session: other keys before username are parsed, not skipped by quotes', async (h) => {
  // The first value holds quotes, ';' and '|' inside its counted bytes, so
  // "text between the first two quotes" would give the wrong answer.
  const content = 'a|i:1;flash|s:7:"a"b;c|d";arr|a:2:{i:0;s:1:"x";s:1:"k";b:1;}' +
    phpString('username', 'Alice:#ff0000');
  const u = await h.join('lobby', { cookie: h.writeSession('keys1', content) });
  assert.equal(u.name, 'Alice');
  await u.waitFor('T Userlist: Alice:#ff0000,');
});

chatTest('session: multibyte name with its byte length works', async (h) => {
  const cookie = h.writeSession('zelva', 'username|s:14:"Želva:#123456";');
  const u = await h.join('lobby', { cookie });
  assert.equal(u.name, 'Želva');
  await u.waitFor('T Userlist: Želva:#123456,');
  assert.equal(fs.readFileSync(h.p('users', 'lobby_Želva'), 'utf8'), '#123456\n');
});

chatTest('session: length counted in characters (not bytes) is malformed: Anonymous', async (h) => {
  const cookie = h.writeSession('zelva', 'username|s:13:"Želva:#123456";');
  const u = await h.join('lobby', { cookie });
  assert.equal(u.name, 'Anonymous');
});

chatTest('session: truncated file gives Anonymous', async (h) => {
  const cookie = h.writeSession('trunc', 'username|s:13:"Alice:#ff');
  const u = await h.join('lobby', { cookie });
  assert.equal(u.name, 'Anonymous');
  await u.waitFor('T Userlist: Anonymous:Gray,');
});

chatTest('session without username, or no such file, gives Anonymous', async (h) => {
  const a = await h.join('lobby', { cookie: h.writeSession('other', phpString('user', 'Alice:#f00')) });
  const b = await h.join('lobby', { cookie: 'PHPSESSID=doesnotexist' });
  assert.deepEqual([a.name, b.name], ['Anonymous', 'Anonymous1']);
});

chatTest('session colour that is not a CSS colour becomes Gray', async (h) => {
  const u = await h.join('lobby', { cookie: h.session('mal', 'Mallory:red;x') });
  assert.equal(u.name, 'Mallory');
  await u.waitFor('T Userlist: Mallory:Gray,');
});

// PHP reads the first of two cookies of one name; the chat must agree with
// the pages on who the user is.
chatTest('the first PHPSESSID cookie wins, as in PHP', async (h) => {
  h.session('first', 'First:#111');
  h.session('second', 'Second:#222');
  const u = await h.join('lobby', { cookie: 'PHPSESSID=first; other=1; PHPSESSID=second' });
  assert.equal(u.name, 'First');
});

chatTest('session cookie name is configurable with SESSION_COOKIE',
  { config: { SESSION_COOKIE: 'CHATSID' } }, async (h) => {
    h.session('abc', 'Alice:#ff0000');
    const a = await h.join('lobby', { cookie: 'PHPSESSID=zzz; CHATSID=abc' });
    assert.equal(a.name, 'Alice');
    const b = await h.join('lobby', { cookie: 'PHPSESSID=abc' });
    assert.equal(b.name, 'Anonymous');
  });
