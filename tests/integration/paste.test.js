'use strict';
// Lines that reach chat_server in one read (a paste, a burst through
// websocketd) are appended together: the log must still hold each as its
// own line, in the order sent, with commands and whispers in their place,
// and a write that fails must be answered line by line.
const assert = require('node:assert/strict');
const { chatTest } = require('./harness');

const ROOM = 'lobby';

async function aliceAndBob(h, aliceOpts = {}) {
  const alice = await h.join(ROOM, { cookie: h.session('a', 'Alice:#ff0000'), label: 'Alice', ...aliceOpts });
  const bob = await h.join(ROOM, { cookie: h.session('b', 'Bob:#0000ff'), label: 'Bob' });
  await alice.waitFor('T Userlist: Alice:#ff0000,Bob:#0000ff,');
  return { alice, bob };
}

/** Writes lines to c's stdin in a single write. */
function paste(c, lines) {
  c.child.stdin.write(lines.map((l) => `${l}\n`).join(''));
}

chatTest('a paste of 300 lines: every line logged once, in order', async (h) => {
  const { alice, bob } = await aliceAndBob(h);
  const sent = Array.from({ length: 300 }, (_, i) => `line ${i} ${'y'.repeat(i % 50)}`);
  paste(alice, sent);
  await bob.waitFor(`T Alice> ${sent.at(-1)}`);
  const said = h.log(ROOM).filter((l) => l.startsWith('T Alice> '));
  assert.deepEqual(said, sent.map((l) => `T Alice> ${l}`));
  const seen = bob.out.filter((l) => l.startsWith('T Alice> '));
  assert.deepEqual(seen, sent.map((l) => `T Alice> ${l}`));
});

chatTest('a paste mixing messages, a command and a whisper keeps their order', async (h) => {
  const { alice, bob } = await aliceAndBob(h);
  paste(alice, ['one', 'two', '/dice 1 6 7', 'three', 'Bob: psst', 'four']);
  await bob.waitFor('T Alice> four');
  await bob.waitFor('T Alice> Bob: psst');
  const said = h.log(ROOM).filter((l) => l.startsWith('T Alice>'));
  assert.equal(said.length, 5, said.join('\n'));
  assert.deepEqual([said[0], said[1]], ['T Alice> one', 'T Alice> two']);
  assert.match(said[2], /^T Alice>  Throws 1 6-sided dice, throws again on 7: [1-6]$/);
  assert.deepEqual([said[3], said[4]], ['T Alice> three', 'T Alice> four']);
});

// The files transport itself (a member's own append to the log): not run on Redis.
chatTest('a paste crossing the file size limit: lines before it logged, each after it refused', { transport: 'files' }, async (h) => {
  const LIMIT = 8192;
  const { alice, bob } = await aliceAndBob(h, { wrap: ['prlimit', `--fsize=${LIMIT}`] });
  const sent = Array.from({ length: 12 }, (_, i) => `m${i} ${'x'.repeat(1000)}`);
  const from = alice.lines.length;
  paste(alice, sent);
  const answered = () => {
    const out = alice.out.slice(from);
    return out.filter((l) => l.startsWith('T Error: ')).length
      + out.filter((l) => l.startsWith('T Alice> m')).length;
  };
  await alice.waitFor(() => answered() >= sent.length);
  const out = alice.out.slice(from);
  const errors = out.filter((l) => l.startsWith('T Error: '));
  const logged = h.log(ROOM).filter((l) => l.startsWith('T Alice> m'));
  assert.ok(logged.length > 0 && errors.length > 0, alice.describe());
  assert.equal(logged.length + errors.length, sent.length);
  for (const e of errors) {
    assert.equal(e, 'T Error: message not sent: the server could not store it; try again later');
  }
  await alice.waitForStderr(/File too large/);
  // The lines that got in are the first ones, whole and in order.
  assert.deepEqual(logged, sent.slice(0, logged.length).map((l) => `T Alice> ${l}`));
  assert.ok(alice.running && bob.running);
});
