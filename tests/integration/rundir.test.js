'use strict';
// Where the runtime state goes when the config does not say (src/rundir.h),
// and what `chat_server --check` tells the administrator about it.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { chatTest } = require('./harness');

/** The run directory rundir.c picks for root for this harness's users/. */
function expectedRunDir(h) {
  const st = fs.statSync(h.p('users'));
  return path.join('/run/chat_server', `${st.dev.toString(16)}-${st.ino.toString(16)}`);
}

chatTest('without RUN_DIR the runtime state is private and outside BASE_DIR', {
  config: { RUN_DIR: null },
}, async (h) => {
  const alice = await h.join('lobby', { cookie: h.session('a', 'Alice:#f00'), label: 'Alice' });
  alice.send('hi');
  await alice.waitFor('T Alice> hi');
  assert.ok(!fs.existsSync(h.p('run')), 'BASE_DIR got a run/ directory');
  assert.deepEqual(fs.readdirSync(h.base).sort(), ['log', 'rooms', 'sessions', 'users']);
  assert.deepEqual(fs.readdirSync(h.p('users')), ['lobby_Alice']);
  const run = expectedRunDir(h);
  if (process.getuid() === 0) {
    const st = fs.lstatSync(run);
    assert.ok(st.isDirectory());
    assert.equal(st.mode & 0o7777, 0o700);
    const names = fs.readdirSync(run);
    // (the room's lock may have been collected already: nobody holds it)
    assert.ok(names.includes('.warden.lock'), names.join());
    assert.ok(names.some((n) => n.startsWith('inbox-')), names.join());
    for (const n of names) {
      const m = fs.lstatSync(path.join(run, n)).mode & 0o777;
      assert.ok(m === 0o600 || m === 0o700, `${n} has mode ${m.toString(8)}`);
    }
    const check = await h.run(undefined, { args: ['--check'], expectCode: [0, 1] });
    const line = check.lines.find((l) => l.includes('run directory'));
    assert.ok(line, check.describe(40));
    assert.match(line, new RegExp(`^ok +run directory ${run}: mode 0700, owner uid 0, .*; ` +
      'chosen because /run/chat_server belongs to us'));
  }
  await alice.close();
  await h.stopWardens();
  fs.rmSync(expectedRunDir(h), { recursive: true, force: true });
});

chatTest('--check warns when FILE_MODE hides the logs from the web pages\' user', {
  config: { FILE_MODE: '0640', DIR_MODE: '0750' },
}, async (h, t) => {
  if (process.getuid() !== 0) {
    t.diagnostic('needs root to give sessions/ to another user');
    assert.fail('this test must run as root (CI does)');
  }
  fs.mkdirSync(h.p('sessions'));
  fs.chownSync(h.p('sessions'), 33, 33);
  const check = await h.run(undefined, { args: ['--check'], expectCode: [0, 1] });
  const warning = check.lines.find((l) => l.startsWith('warning FILE_MODE'));
  assert.ok(warning, check.describe(40));
  assert.match(warning, /FILE_MODE 0640: the web pages run as uid 33 .* use 0644/);
  // With the default mode there is nothing to warn about.
  fs.writeFileSync(h.configPath, fs.readFileSync(h.configPath, 'utf8')
    .replace('FILE_MODE=0640', 'FILE_MODE=0644'));
  const again = await h.run(undefined, { args: ['--check'], expectCode: [0, 1] });
  assert.ok(!again.lines.some((l) => l.startsWith('warning FILE_MODE')), again.describe(40));
});
