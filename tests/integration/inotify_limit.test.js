'use strict';
// Past fs.inotify.max_user_instances the server must still work (timed
// polling), warn once, and `chat_server --check` must report the limits.
const assert = require('node:assert/strict');
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { chatTest, BIN, WAIT_MS, sleep } = require('./harness');

const USER = 'chattest';

// Opens inotify instances until the per-user limit says no, then holds them.
const HOLDER_C = `
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/resource.h>
#include <unistd.h>
int main(void) {
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	int n = 0;
	for (;;) {
		if (inotify_init1(IN_CLOEXEC) >= 0) { n++; continue; }
		int e = errno;
		/* EMFILE also means "out of descriptors": tell them apart. */
		if (e == EMFILE && open("/dev/null", O_RDONLY | O_CLOEXEC) >= 0)
			printf("ready %d\\n", n);
		else
			printf("failed %d %s\\n", n, strerror(e));
		fflush(stdout);
		break;
	}
	pause();
	return 0;
}
`;

function sh(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.error) throw r.error;
  return r;
}

function ensureUser() {
  if (sh('getent', ['passwd', USER]).status !== 0) {
    const r = sh('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', USER]);
    assert.equal(r.status, 0, `useradd failed: ${r.stderr}`);
  }
  const [, , uid, gid] = sh('getent', ['passwd', USER]).stdout.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

function chownTree(dir, uid, gid) {
  fs.chownSync(dir, uid, gid);
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) chownTree(p, uid, gid); else fs.chownSync(p, uid, gid);
  }
}

chatTest('inotify instances exhausted: two users still chat by polling, one warning each', async (h, t) => {
  if (process.getuid() !== 0) { t.skip('needs root'); return; }
  const { uid, gid } = ensureUser();
  const max = Number(fs.readFileSync('/proc/sys/fs/inotify/max_user_instances', 'utf8'));
  t.diagnostic(`max_user_instances=${max}, ${USER} uid ${uid}`);

  const src = path.join(h.root, 'holder.c');
  const holderBin = path.join(h.root, 'holder');
  fs.writeFileSync(src, HOLDER_C);
  const cc = sh('cc', ['-O', '-o', holderBin, src]);
  assert.equal(cc.status, 0, `cannot compile the holder: ${cc.stderr}`);
  // A copy in the test's own directory: the checkout may sit where only
  // root can go (a 0700 temporary directory, say).
  const bin = path.join(h.root, 'chat_server');
  fs.copyFileSync(BIN, bin);
  fs.chmodSync(bin, 0o755);
  chownTree(h.root, uid, gid);
  assert.equal(sh('setpriv', ['--reuid', String(uid), '--regid', String(gid), '--clear-groups',
    'test', '-x', bin]).status, 0, `${USER} cannot execute ${bin}`);

  const holder = spawn(holderBin, [], { uid, gid, stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const ready = await new Promise((resolve, reject) => {
      let out = '';
      holder.stdout.on('data', (d) => {
        out += d;
        if (out.includes('\n')) resolve(out.trim());
      });
      holder.on('close', (code) => reject(new Error(`holder exited ${code}: ${out}`)));
      setTimeout(() => reject(new Error(`holder not ready: ${out}`)), WAIT_MS);
    });
    assert.match(ready, /^ready \d+$/, `could not exhaust inotify instances for ${USER}: ${ready}`);

    const opts = { bin, spawn: { uid, gid } };
    const a = await h.join('lobby', opts);
    const b = await h.join('lobby', opts);
    assert.deepEqual([a.name, b.name], ['Anonymous', 'Anonymous1']);
    await a.waitFor('T Userlist: Anonymous:Gray,Anonymous1:Gray,');
    a.send('ping from a');
    await b.waitFor('T Anonymous> ping from a');
    b.send('pong from b');
    await a.waitFor('T Anonymous1> pong from b');
    await a.waitFor('T Anonymous> ping from a');
    // A member that keeps talking still looks at the log: its own lines
    // wake it more often than the polling interval.
    let talking = true;
    const chatter = (async () => {
      for (let i = 0; i < 100 && talking; i++) {
        b.send(`chatter ${i}`);
        await sleep(20);
      }
      talking = false;
    })();
    await sleep(100);
    a.send('heard while talking');
    await b.waitFor('T Anonymous> heard while talking');
    const stillTalking = talking;
    talking = false;
    await chatter;
    assert.ok(stillTalking, 'b saw the line only once it fell silent');
    assert.equal(await b.close(), 0);
    await a.waitFor('T Anonymous1 quit the lobby');
    assert.equal(await a.close(), 0); // all of stderr is in
    for (const c of [a, b]) {
      const warnings = c.stderr.split('\n').filter((l) => l.includes('max_user_instances'));
      assert.equal(warnings.length, 1, `${c.label} stderr:\n${c.stderr}`);
    }
  } finally {
    holder.kill('SIGKILL');
  }
});

chatTest('chat_server --check reports limits and directories', { config: { EXPECTED_USERS: 4321 } }, async (h) => {
  const c = await h.run(undefined, { args: ['--check'] });
  assert.ok(c.code === 0 || c.code === 1, c.describe());
  c.expectCode = c.code;
  const text = `${c.lines.join('\n')}\n${c.stderr}`;
  for (const word of ['max_user_instances', 'max_user_watches', 'open files', '4321',
    h.p('rooms'), h.p('users'), h.p('sessions'), h.p('log')]) {
    const found = text.includes(word) || text.toLowerCase().includes(word.toLowerCase());
    assert.ok(found, `--check output does not mention ${word}:\n${text}`);
  }
});
