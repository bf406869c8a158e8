'use strict';
// The quit sequence: once, on stdin EOF, a closed stdout or a signal.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { chatTest } = require('./harness');

async function aliceAndBob(h) {
  const alice = await h.join('lobby', { cookie: h.session('a', 'Alice:#ff0000') });
  const bob = await h.join('lobby', { cookie: h.session('b', 'Bob:#00f') });
  await alice.waitFor('T Userlist: Alice:#ff0000,Bob:#00f,');
  return { alice, bob };
}

/** Bob's quit is in the log exactly once; the next user list is without him. */
async function assertBobQuitOnce(h, alice) {
  await alice.waitFor('T Bob quit the lobby');
  await alice.waitFor('T Userlist: Alice:#ff0000,');
  const log = h.log('lobby');
  assert.equal(log.filter((l) => l === 'T Bob quit the lobby').length, 1, log.join('\n'));
  const after = log.slice(log.indexOf('T Bob quit the lobby') + 1);
  assert.equal(after.find((l) => l.startsWith('T Userlist: ')), 'T Userlist: Alice:#ff0000,',
    log.join('\n'));
  assert.equal(fs.existsSync(h.p('users', 'lobby_Bob')), false);
}

chatTest('stdin EOF runs the quit sequence and exits 0', async (h) => {
  const { alice, bob } = await aliceAndBob(h);
  assert.equal(await bob.close(), 0);
  await assertBobQuitOnce(h, alice);
});

for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  chatTest(`${sig} runs the quit sequence once and exits 0`, async (h) => {
    const { alice, bob } = await aliceAndBob(h);
    bob.kill(sig);
    assert.equal(await bob.waitExit(), 0);
    await assertBobQuitOnce(h, alice);
  });
}

chatTest('a burst of signals after EOF still quits once', async (h) => {
  const { alice, bob } = await aliceAndBob(h);
  bob.child.stdin.end();
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGINT', 'SIGTERM']) bob.kill(sig);
  assert.equal(await bob.waitExit(), 0);
  await assertBobQuitOnce(h, alice);
});

chatTest('a closed stdout (browser gone) runs the quit sequence', async (h) => {
  const { alice, bob } = await aliceAndBob(h);
  bob.child.stdout.destroy();
  // Bob notices at the latest when he next has something to write.
  alice.send('are you there?');
  assert.equal(await bob.waitExit(), 0);
  await assertBobQuitOnce(h, alice);
});

chatTest('a last line without newline before EOF is still sent', async (h) => {
  const { alice, bob } = await aliceAndBob(h);
  bob.child.stdin.end('bye now');
  assert.equal(await bob.waitExit(), 0);
  await alice.waitFor('T Bob> bye now');
  await assertBobQuitOnce(h, alice);
  const log = h.log('lobby');
  assert.ok(log.indexOf('T Bob> bye now') < log.indexOf('T Bob quit the lobby'));
});
