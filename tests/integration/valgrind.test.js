'use strict';
// One representative session of the normal build under valgrind's memcheck:
// Alice joins, chats, throws dice, changes colour, whispers with Bob,
// relays a WebRTC candidate, and quits.  Zero memcheck errors, and no
// definite or indirect leaks (docs/security.md).  valgrind is part of the
// CI's packages (.ci/install-deps): a missing valgrind fails the test.
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { chatTest, SANITIZED } = require('./harness');

// Startup under valgrind takes seconds, not milliseconds.
const SLOW_MS = 20000;

const CANDIDATE = '{"candidate":"candidate:842163049 1 udp 1677729535 203.0.113.5 46154 typ srflx raddr 0.0.0.0 rport 0 generation 0 ufrag sXfD network-cost 999","sdpMid":"0","sdpMLineIndex":0,"usernameFragment":"sXfD"}';

chatTest('one session under valgrind memcheck: no errors, no leaks', {
  timeout: 120000,
}, async (h, t) => {
  if (SANITIZED) {
    t.skip('the sanitizer build does not run under valgrind; the normal build is checked');
    return;
  }
  const version = spawnSync('valgrind', ['--version'], { encoding: 'utf8' });
  assert.equal(version.status, 0, 'valgrind is not installed (.ci/install-deps installs it)');

  const vlog = path.join(h.root, 'valgrind.log');
  const alice = h.spawn('/lobby', {
    label: 'Alice (valgrind)',
    cookie: h.session('s-alice', 'Alice:#ff0000'),
    env: { REMOTE_ADDR: '198.51.100.200' },
    wrap: ['valgrind', '--error-exitcode=99', '--leak-check=full',
      '--errors-for-leak-kinds=definite,indirect', '--track-fds=no',
      `--log-file=${vlog}`],
  });
  await alice.waitFor('T Welcome to the chat room lobby Alice!', SLOW_MS);
  await alice.waitFor('T Userlist: Alice:#ff0000,', SLOW_MS);
  const bob = await h.join('lobby', { label: 'Bob', cookie: h.session('s-bob', 'Bob:#00f'),
    env: { REMOTE_ADDR: '198.51.100.201' } });
  await alice.waitFor('T Userlist: Alice:#ff0000,Bob:#00f,', SLOW_MS);

  alice.send('hello, Bob');
  await bob.waitFor('T Alice> hello, Bob', SLOW_MS);
  alice.send('/dice 3 6 6');
  await bob.waitFor(/^T Alice> {2}Throws 3 6-sided dice, throws again on 6: \d/, SLOW_MS);
  alice.send('/color navy');
  await bob.waitFor('T Alice>  Changed color to navy', SLOW_MS);
  await bob.waitFor('T Userlist: Alice:navy,Bob:#00f,', SLOW_MS);
  alice.send('Bob: just between us');
  await bob.waitFor('T Alice> Bob: just between us', SLOW_MS);
  bob.send('Alice: likewise');
  await alice.waitFor('T Bob> Alice: likewise', SLOW_MS);
  alice.send(`Bob: ${CANDIDATE}`);
  await bob.waitFor(`T Alice> Bob: ${CANDIDATE}`, SLOW_MS);
  alice.send('/nonsense');
  await bob.waitFor('T Alice>  unknown command /nonsense', SLOW_MS);
  alice.send('bye');
  await bob.waitFor('T Alice> bye', SLOW_MS);

  const code = await alice.close(SLOW_MS);
  await bob.waitFor('T Alice quit the lobby', SLOW_MS);
  const report = fs.readFileSync(vlog, 'utf8');
  assert.notEqual(code, 99, `memcheck found errors:\n${report}`);
  assert.equal(code, 0, alice.describe());
  assert.match(report, /ERROR SUMMARY: 0 errors from 0 contexts/, report);
  assert.doesNotMatch(report, /definitely lost: [1-9]|indirectly lost: [1-9]/, report);
  t.diagnostic(report.split('\n').filter((l) => /in use at exit|lost:|ERROR SUMMARY/.test(l))
    .map((l) => l.replace(/^==\d+== /, '')).join('\n'));
});
