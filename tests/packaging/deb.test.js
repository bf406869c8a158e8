'use strict';
// The Debian package: built with dpkg-buildpackage from a copy of this tree
// (the one compilation of these tests), checked by lintian, unpacked into a
// throwaway root with dpkg -x and looked at there: every file in its Debian
// place, the paths inside pointing at /usr and /etc, the maintainer
// scripts.  Then `make install PREFIX=/usr` from the same build, which
// must install what the package has.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { test, before } = require('node:test');
const {
  TOP, CHILD_ENV, run, ok, changelogVersion, freshDir, layout, installedFiles,
  listFiles, readText, checkTree, makeInstall,
} = require('./lib');

const VERSION = changelogVersion();
const L = layout('/usr', { deb: true });
let work; // $(BUILD)/pkg/deb
let src; // the copy of the tree the package is built from
let deb; // the .deb
let root; // where it is unpacked
let control; // its control files (dpkg-deb -e)
let buildLog;

/** The files of the tree as git knows them (tracked, or new and not
 * ignored), else everything but the build directories. */
function copyTree(to) {
  const g = run('git', ['-C', TOP, 'ls-files', '-z', '--cached', '--others', '--exclude-standard']);
  if (g.status === 0) {
    for (const f of g.stdout.split('\0').filter(Boolean)) {
      const from = path.join(TOP, f);
      if (!fs.existsSync(from) || fs.statSync(from).isDirectory()) continue;
      fs.mkdirSync(path.dirname(path.join(to, f)), { recursive: true });
      fs.copyFileSync(from, path.join(to, f));
      fs.chmodSync(path.join(to, f), fs.statSync(from).mode & 0o777);
    }
    return;
  }
  fs.mkdirSync(to, { recursive: true });
  ok('sh', ['-c', 'tar -C "$1" --exclude="./build*" --exclude=./node_modules --exclude=./.git -cf - . | tar -C "$2" -xf -',
    'copy', TOP, to]);
}

before(() => {
  work = freshDir('deb');
  src = path.join(work, `chat-server-${VERSION}`);
  copyTree(src);
  const env = { ...CHILD_ENV, DEB_BUILD_OPTIONS: `parallel=${os.cpus().length}` };
  const r = run('dpkg-buildpackage', ['-us', '-uc', '-b'], { cwd: src, env });
  buildLog = r.output;
  fs.writeFileSync(path.join(work, 'build.log'), buildLog);
  assert.equal(r.status, 0, `dpkg-buildpackage failed (${work}/build.log):\n${buildLog.slice(-6000)}`);
  const arch = ok('dpkg', ['--print-architecture']).stdout.trim();
  deb = path.join(work, `chat-server_${VERSION}_${arch}.deb`);
  assert.ok(fs.existsSync(deb), `${deb} built`);
  root = path.join(work, 'root');
  ok('dpkg-deb', ['-x', deb, root]);
  control = path.join(work, 'control');
  ok('dpkg-deb', ['-e', deb, control]);
});

test('the package is built with dpkg-buildflags\'s flags, not made to fail on warnings', () => {
  const compiles = buildLog.split('\n').filter((l) => / -c -o build-deb\/obj\//.test(l));
  assert.ok(compiles.length > 10, 'the compile lines are in the build log');
  const want = ok('dpkg-buildflags', ['--get', 'CFLAGS'], { cwd: src }).stdout.trim().split(/\s+/);
  const cpp = ok('dpkg-buildflags', ['--get', 'CPPFLAGS'], { cwd: src }).stdout.trim().split(/\s+/);
  for (const line of compiles) {
    const argv = line.split(/\s+/);
    for (const f of [...want, ...cpp]) assert.ok(argv.includes(f), `${f} in ${line}`);
    assert.ok(!argv.includes('-Werror'), `no -Werror: ${line}`);
    assert.equal(argv.filter((a) => a.includes('_FORTIFY_SOURCE')).length, 1,
      `one _FORTIFY_SOURCE, dpkg-buildflags's: ${line}`);
  }
  const link = buildLog.split('\n').find((l) => / -o build-deb\/chat_server /.test(l));
  const ld = ok('dpkg-buildflags', ['--get', 'LDFLAGS'], { cwd: src }).stdout.trim().split(/\s+/);
  for (const f of ld) assert.ok(link.split(/\s+/).includes(f), `${f} in ${link}`);
  assert.match(buildLog, /chat_server --version/, 'dh_auto_test ran the version check');
});

test('lintian reports no error', (t) => {
  const changes = fs.readdirSync(work).find((f) => f.endsWith('.changes'));
  const r = run('lintian', ['--fail-on', 'error', '--pedantic', path.join(work, changes)]);
  const tags = r.stdout.split('\n').filter((l) => /^[EWIPX]: /.test(l));
  if (tags.length) t.diagnostic(`lintian:\n${tags.join('\n')}`);
  assert.equal(r.status, 0, `lintian:\n${r.output}`);
  assert.deepEqual(tags.filter((l) => l.startsWith('E: ')), []);
});

test('control: the libraries loaded at run time, websocketd, the web server', () => {
  const fields = ok('dpkg-deb', ['-f', deb, 'Depends', 'Recommends', 'Suggests', 'Built-Using']).stdout;
  const depends = /^Depends: (.*)$/m.exec(fields)[1].split(/,\s*/);
  for (const p of ['websocketd', 'libcurl4', 'libssl3', 'libc6']) {
    assert.ok(depends.some((d) => d.split(' ')[0] === p), `Depends on ${p}: ${depends}`);
  }
  assert.match(fields, /^Recommends: .*apache2/m);
  assert.match(fields, /^Recommends: .*libapache2-mod-php/m);
  assert.match(fields, /^Built-Using: .*iniparser \(= .*jansson \(= /m, 'the static libraries');
});

test('conffiles: every file in /etc, kept on upgrade', () => {
  const conffiles = fs.readFileSync(path.join(control, 'conffiles'), 'utf8').trim().split('\n').sort();
  const etc = listFiles(root).filter((f) => f.startsWith('/etc/'));
  assert.deepEqual(conffiles, etc);
  assert.deepEqual(etc, ['/etc/apache2/conf-available/chat_server.conf', L.apparmor, L.logrotate,
    L.config].sort());
});

test('dpkg -x: every file in its Debian place, the paths inside of /usr and /etc', () => {
  const files = listFiles(root).filter((f) => !f.startsWith(`${L.htdocs}/`) &&
    !f.startsWith('/usr/share/doc/chat-server/'));
  const expected = [...installedFiles(L), '/usr/share/lintian/overrides/chat-server'].sort();
  assert.deepEqual(files, expected);
  // The pages, the docs, the data directory.
  assert.deepEqual(listFiles(path.join(root, L.htdocs)),
    listFiles(path.join(TOP, 'htdocs')), 'htdocs/ whole in /usr/share/chat_server/htdocs');
  for (const f of ['copyright', 'changelog.gz', 'README.md.gz', 'deployment.md.gz', 'configuration.md.gz']) {
    assert.ok(fs.existsSync(path.join(root, '/usr/share/doc/chat-server', f)), `/usr/share/doc/chat-server/${f}`);
  }
  assert.ok(fs.statSync(path.join(root, 'var/lib/chat_server')).isDirectory());
  // Nothing but the docs (which speak of both prefixes) names /usr/local.
  for (const f of files.filter((x) => x !== L.bin)) {
    assert.ok(!readText(path.join(root, f)).includes('/usr/local'), `${f} names /usr/local`);
  }
  checkTree(root, L, VERSION);
});

test('the Apache snippet points at the packaged pages and config', () => {
  const text = readText(path.join(root, '/etc/apache2/conf-available/chat_server.conf'));
  const defines = [...text.matchAll(/^\s*Define (\S+) (\S+)/gm)].map((m) => [m[1], m[2]]);
  for (const [name, value] of defines) {
    if (value.startsWith('/')) {
      assert.ok(fs.existsSync(path.join(root, value)), `${name} ${value} is in the package`);
    }
  }
  assert.ok(text.includes(L.htdocs), `the snippet serves ${L.htdocs}`);
  assert.match(text, /ProxyPass\s+"?\/chat\/rooms\/"?/);
});

test('maintainer scripts: www-data\'s data directories, AppArmor, tmpfiles, the unit', () => {
  const dir = control;
  const postinst = fs.readFileSync(path.join(dir, 'postinst'), 'utf8');
  assert.match(postinst, /install -d -o www-data -g www-data -m 0750/);
  assert.match(postinst, /for d in rooms users log moderation sessions/);
  assert.match(postinst, /apparmor_parser -r -T -W "\$APP_PROFILE"/, 'dh_apparmor loads the profile');
  assert.match(postinst, /systemd-tmpfiles .*--create chat_server\.conf/);
  assert.match(postinst, /deb-systemd-helper enable 'chat_server\.service'/);
  // chat_server-archive (TRANSPORT=redis only): neither started nor
  // enabled by the package; enabled again at an upgrade only where the
  // administrator had enabled it.
  assert.doesNotMatch(postinst, /deb-systemd-invoke \S+ 'chat_server-archive\.service'/);
  const lines = postinst.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  const enables = lines.map((l, i) => [l, i]).filter(([l]) => /enable 'chat_server-archive\.service'/.test(l));
  assert.ok(enables.length > 0, 'deb-systemd-helper keeps the archive unit\'s state');
  for (const [, i] of enables) {
    assert.match(lines[i - 1], /was-enabled 'chat_server-archive\.service'/, 'enabled only if it was');
  }
  assert.ok(postinst.indexOf('chown www-data') < postinst.indexOf('deb-systemd-invoke $_dh_action'),
    'the data directory is www-data\'s before the service starts');
  const postrm = fs.readFileSync(path.join(dir, 'postrm'), 'utf8');
  assert.match(postrm, /rm -rf \/var\/lib\/chat_server/);
  assert.ok(ok('sh', ['-n', path.join(dir, 'postinst')]) && ok('sh', ['-n', path.join(dir, 'postrm')]));
});

test('make install PREFIX=/usr, from the package\'s build: no compilation, the package\'s files', () => {
  const dest = freshDir('install-usr');
  const r = makeInstall(src, dest, ['PREFIX=/usr', 'BUILD=build-deb']);
  assert.ok(!/ -c -o /.test(r.output), `make install compiled again:\n${r.output}`);
  const plain = layout('/usr');
  checkTree(dest, plain, VERSION);
  // The package's files, with Debian's unit and Apache directories and
  // compression.
  const fromDeb = listFiles(root)
    .filter((f) => !/^\/(usr\/share\/doc|usr\/share\/lintian)\//.test(f))
    .map((f) => f.replace(/^\/lib\/systemd\//, '/usr/lib/systemd/').replace(/\.gz$/, '')
      .replace(/^\/etc\/apache2\/conf-available\//, '/usr/share/chat_server/apache2/'));
  assert.deepEqual(listFiles(dest), fromDeb.sort());
});
