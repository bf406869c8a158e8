'use strict';
// Join, chat and quit: the line formats and files of contract sections 3-5.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { chatTest } = require('./harness');

chatTest('join sequence, files and quit for one user with a PHP session', async (h) => {
  const cookie = h.session('alicesess1', 'Alice:#ff0000');
  const alice = await h.join('lobby', { cookie, xff: '203.0.113.7' });
  await alice.waitFor('T Userlist: Alice:#ff0000,');
  assert.deepEqual(alice.out, [
    'T Welcome to the chat room lobby Alice!',
    'T Alice joined the lobby',
    'T Userlist: Alice:#ff0000,',
  ]);
  assert.deepEqual(h.log('lobby'), [
    'T Alice joined the lobby',
    'T Userlist: Alice:#ff0000,',
  ]);
  assert.equal(fs.readFileSync(h.p('users', 'lobby_Alice'), 'utf8'), '#ff0000\n');
  assert.match(fs.readFileSync(h.p('log', 'authentization.log'), 'utf8'),
    /^\d{4}-\d\d-\d\d_\d\d:\d\d:\d\d 203\.0\.113\.7 Alice php\n$/);

  assert.equal(await alice.close(), 0);
  assert.deepEqual(h.log('lobby'), [
    'T Alice joined the lobby',
    'T Userlist: Alice:#ff0000,',
    'T Alice quit the lobby',
    'T Userlist: ',
  ]);
  assert.equal(fs.existsSync(h.p('users', 'lobby_Alice')), false);
  // One auth line per connection, nothing added on quit.
  assert.equal(fs.readFileSync(h.p('log', 'authentization.log'), 'utf8').split('\n').length, 2);
});

chatTest('second user joins, both see each other and the messages', async (h) => {
  const alice = await h.join('lobby', { cookie: h.session('a1', 'Alice:#ff0000') });
  await alice.waitFor('T Userlist: Alice:#ff0000,');
  const bob = await h.join('lobby', { cookie: h.session('b1', 'Bob:#00f') });
  await bob.waitFor('T Userlist: Alice:#ff0000,Bob:#00f,');
  assert.deepEqual(bob.out, [
    'T Welcome to the chat room lobby Bob!',
    'T Alice joined the lobby',
    'T Userlist: Alice:#ff0000,',
    'T Bob joined the lobby',
    'T Userlist: Alice:#ff0000,Bob:#00f,',
  ]);
  await alice.waitFor('T Userlist: Alice:#ff0000,Bob:#00f,');
  assert.deepEqual(alice.out.slice(3), [
    'T Bob joined the lobby',
    'T Userlist: Alice:#ff0000,Bob:#00f,',
  ]);

  alice.send('hello world');
  await alice.waitFor('T Alice> hello world');
  await bob.waitFor('T Alice> hello world');

  // Leading/trailing spaces and backslashes are kept as sent.
  const odd = '  a\\b\\\\c  ';
  bob.send(odd);
  await alice.waitFor(`T Bob> ${odd}`);
  await bob.waitFor(`T Bob> ${odd}`);

  assert.deepEqual(h.log('lobby').slice(4), [
    'T Alice> hello world',
    `T Bob> ${odd}`,
  ]);

  assert.equal(await bob.close(), 0);
  await alice.waitFor('T Bob quit the lobby');
  await alice.waitFor('T Userlist: Alice:#ff0000,');
  assert.deepEqual(h.log('lobby').slice(6), [
    'T Bob quit the lobby',
    'T Userlist: Alice:#ff0000,',
  ]);
});

chatTest('room name is the first segment of PATH_INFO', async (h) => {
  const c = h.spawn('/lobby/extra/parts');
  await c.waitFor('T Welcome to the chat room lobby Anonymous!');
  await c.waitFor('T Userlist: Anonymous:Gray,');
  assert.deepEqual(h.log('lobby'), ['T Anonymous joined the lobby', 'T Userlist: Anonymous:Gray,']);
});

function oldLines(n) {
  return Array.from({ length: n }, (_, i) =>
    `[10:00:${String(i % 60).padStart(2, '0')}] Old> message ${i + 1}`);
}

chatTest('history replay: welcome, then the last 20 log lines', async (h) => {
  const old = oldLines(30);
  h.seedRoom('lobby', old);
  const alice = await h.join('lobby', { cookie: h.session('a1', 'Alice:#ff0000') });
  await alice.waitFor('T Userlist: Alice:#ff0000,');
  assert.deepEqual(alice.out, [
    'T Welcome to the chat room lobby Alice!',
    ...old.slice(12).map((l) => l.replace(/^\[10:00:\d\d\]/, 'T')),
    'T Alice joined the lobby',
    'T Userlist: Alice:#ff0000,',
  ]);
  assert.equal(alice.out.length, 21);
  // The log is appended to, never rewritten.
  assert.deepEqual(h.log('lobby').slice(0, 30), old.map((l) => l.replace(/^\[10:00:\d\d\]/, 'T')));
});

chatTest('history replay honours LAST_MESSAGES=5', { config: { LAST_MESSAGES: 5 } }, async (h) => {
  h.seedRoom('lobby', oldLines(30));
  const alice = await h.join('lobby', { cookie: h.session('a1', 'Alice:#ff0000') });
  await alice.waitFor('T Userlist: Alice:#ff0000,');
  assert.deepEqual(alice.out, [
    'T Welcome to the chat room lobby Alice!',
    'T Old> message 28',
    'T Old> message 29',
    'T Old> message 30',
    'T Alice joined the lobby',
    'T Userlist: Alice:#ff0000,',
  ]);
});
