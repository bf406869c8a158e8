'use strict';
// What the packaging tests share: running tools, the layouts of
// `make install` and of the Debian package, and the checks of each shipped
// file (unit, AppArmor profile, man pages, logrotate rule, tmpfiles entry,
// sysctl file), which are the same whichever way it was installed.

const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const zlib = require('node:zlib');

const TOP = path.resolve(__dirname, '../..');
const BUILD = process.env.CHAT_SERVER_BUILD || path.join(TOP, 'build');
// BUILD as `make -C TOP` is given it: relative, as a developer's own make
// names it, so that the objects it may rebuild keep dependency files
// whose targets are the names the next `make` looks for (an object
// rebuilt under its absolute name would never be rebuilt again for a
// changed header).
const BUILD_ARG = `BUILD=${path.relative(TOP, BUILD) || '.'}`;
// Where these tests make their trees; cleaned by `make clean` with BUILD.
const WORK = path.join(BUILD, 'pkg');

// The outer make's jobserver and level mean nothing to a make we start, and
// the variables given to it (make exports them: `make check` passes
// WERROR=-Werror) are not those of a package build or of an install.
const CHILD_ENV = { ...process.env };
for (const v of ['MAKEFLAGS', 'MFLAGS', 'MAKELEVEL', 'MAKEOVERRIDES', 'WERROR', 'OPT',
  'BUILD', 'DESTDIR', 'PREFIX', 'BINDIR', 'SYSCONFDIR', 'DATADIR', 'MANDIR',
  'SYSTEMDUNITDIR', 'TMPFILESDIR', 'SYSCTLDIR', 'LOGROTATEDIR', 'APPARMORDIR',
  'WEBSOCKETD', 'CFLAGS', 'CPPFLAGS', 'LDFLAGS', 'LDLIBS']) delete CHILD_ENV[v];

/** Runs cmd; the result, with a one-line description for messages. */
function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, {
    encoding: 'utf8', env: CHILD_ENV, maxBuffer: 64 * 1024 * 1024, ...opts,
  });
  if (r.error) {
    assert.fail(`${cmd} could not be run (${r.error.message}); ` +
      '.ci/install-deps test installs what the packaging tests need');
  }
  r.what = `${cmd} ${args.join(' ')}`;
  r.output = `${r.stdout}${r.stderr}`;
  return r;
}

/** run, and fail with its output unless it exits 0. */
function ok(cmd, args, opts) {
  const r = run(cmd, args, opts);
  assert.equal(r.status, 0, `${r.what} exited ${r.status}:\n${r.output}`);
  return r;
}

/** The version in debian/changelog's first line: the one place it is. */
function changelogVersion() {
  const first = fs.readFileSync(path.join(TOP, 'debian/changelog'), 'utf8').split('\n')[0];
  const m = /^\S+ \(([^)]+)\)/.exec(first);
  assert.ok(m, `debian/changelog: no version in ${JSON.stringify(first)}`);
  return m[1];
}

/** A fresh empty directory under WORK. */
function freshDir(name) {
  const dir = path.join(WORK, name);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

/** Where each file goes, for a prefix; Debian's package moves the unit to
 * /lib/systemd/system (Debian 12) and compresses the man pages. */
function layout(prefix, { deb = false } = {}) {
  const etc = prefix === '/usr' ? '/etc' : `${prefix}/etc`;
  const man = `${prefix}/share/man`;
  const gz = deb ? '.gz' : '';
  return {
    prefix,
    bin: `${prefix}/bin/chat_server`,
    config: `${etc}/websocket_chat_server.ini`,
    sample: `${prefix}/share/chat_server/websocket_chat_server.ini.sample`,
    htdocs: `${prefix}/share/chat_server/htdocs`,
    unit: `${deb ? '' : prefix}/lib/systemd/system/chat_server.service`,
    archiveUnit: `${deb ? '' : prefix}/lib/systemd/system/chat_server-archive.service`,
    tmpfiles: `${prefix}/lib/tmpfiles.d/chat_server.conf`,
    sysctl: `${prefix}/lib/sysctl.d/60-chat_server.conf`,
    logrotate: `${etc}/logrotate.d/chat_server`,
    apparmor: `${etc}/apparmor.d/chat_server`,
    apache: deb ? '/etc/apache2/conf-available/chat_server.conf'
      : `${prefix}/share/chat_server/apache2/chat_server.conf`,
    man8: `${man}/man8/chat_server.8${gz}`,
    man5: `${man}/man5/websocket_chat_server.ini.5${gz}`,
  };
}

/** The files of a layout that `make install` puts (htdocs aside). */
function installedFiles(l) {
  return [l.bin, l.config, l.sample, l.unit, l.archiveUnit, l.tmpfiles, l.sysctl,
    l.logrotate, l.apparmor, l.apache, l.man8, l.man5];
}

/** Every regular file under root, as absolute paths inside it. */
function listFiles(root) {
  const out = [];
  const walk = (dir) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, e.name);
      if (e.isDirectory()) walk(full);
      else out.push(`/${path.relative(root, full)}`);
    }
  };
  walk(root);
  return out.sort();
}

/** A file's text, gunzipped when it ends in .gz. */
function readText(file) {
  const data = fs.readFileSync(file);
  return file.endsWith('.gz') ? zlib.gunzipSync(data).toString('utf8') : data.toString('utf8');
}

// ---- the shipped files ------------------------------------------------

/** The unit's settings: key -> list of values (comments left out). */
function unitSettings(text) {
  const keys = new Map();
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z]+)=(.*)$/.exec(line.trim());
    if (!m) continue;
    if (!keys.has(m[1])) keys.set(m[1], []);
    keys.get(m[1]).push(m[2]);
  }
  return keys;
}

// The hardening issue #13 asks for, setting by setting.
const UNIT_REQUIRED = {
  User: 'www-data',
  Group: 'www-data',
  NoNewPrivileges: 'yes',
  ProtectSystem: 'strict',
  PrivateTmp: 'yes',
  PrivateDevices: 'yes',
  ProtectHome: 'yes',
  ProtectKernelTunables: 'yes',
  ProtectKernelModules: 'yes',
  ProtectKernelLogs: 'yes',
  ProtectControlGroups: 'yes',
  CapabilityBoundingSet: '',
  RestrictAddressFamilies: 'AF_UNIX AF_INET AF_INET6',
  SystemCallFilter: '@system-service',
  RuntimeDirectory: 'chat_server',
  StateDirectory: 'chat_server',
};

/** The unit says what the issue asks, with the binary of this layout. */
function checkUnitText(text, l) {
  const s = unitSettings(text);
  for (const [k, v] of Object.entries(UNIT_REQUIRED)) {
    assert.deepEqual(s.get(k), [v], `${k}= in the unit`);
  }
  assert.ok((s.get('ReadWritePaths') || []).some((v) => v.split(/\s+/).includes('/var/lib/chat_server')),
    'ReadWritePaths= names the data directory /var/lib/chat_server');
  assert.deepEqual(s.get('ExecStartPre'), [`${l.bin} --reap`]);
  const start = s.get('ExecStart');
  assert.equal(start.length, 1);
  const argv = start[0].split(/\s+/);
  assert.equal(argv[0], '/usr/bin/websocketd');
  assert.equal(argv[argv.length - 1], l.bin, 'websocketd starts the installed chat_server');
  assert.ok(argv.some((a) => /^--maxforks=[1-9][0-9]*$/.test(a)), `--maxforks in ${start[0]}`);
  assert.ok(argv.includes('--address=127.0.0.1'), 'websocketd listens on the loopback interface');
  assert.match(text, /^#ExecStart=.* --origin=\S+ /m, 'the unit shows websocketd\'s --origin');
  assert.deepEqual(s.get('Documentation'), ['man:chat_server(8) man:websocket_chat_server.ini(5)']);
  // chat_server's own first choice of run directory is the unit's.
  const rundir = fs.readFileSync(path.join(TOP, 'src/rundir.c'), 'utf8');
  assert.match(rundir, /\{ "\/run", "chat_server",/, 'src/rundir.c still looks for /run/chat_server');
}

/** chat_server-archive.service (TRANSPORT=redis): `chat_server --archive`
 * of this layout, as the chat's user, hardened as the chat's unit, with
 * the run directory writable but not its own (RuntimeDirectory= would be
 * removed when it stops), stopped and restarted with chat_server.service. */
function checkArchiveUnitText(text, l) {
  const s = unitSettings(text);
  for (const [k, v] of Object.entries(UNIT_REQUIRED)) {
    if (k === 'RuntimeDirectory' || k === 'StateDirectory') continue;
    assert.deepEqual(s.get(k), [v], `${k}= in the archive unit`);
  }
  assert.deepEqual(s.get('ExecStart'), [`${l.bin} --archive`]);
  assert.equal(s.get('RuntimeDirectory'), undefined, 'no RuntimeDirectory= of its own');
  assert.deepEqual(s.get('ReadWritePaths'), ['/var/lib/chat_server /run/chat_server']);
  assert.deepEqual(s.get('PartOf'), ['chat_server.service']);
  assert.deepEqual(s.get('WantedBy'), ['multi-user.target chat_server.service'],
    'systemctl enable works, and a start of chat_server.service starts it');
  assert.deepEqual(s.get('Documentation'), ['man:chat_server(8) man:websocket_chat_server.ini(5)']);
}

/** A root in which systemd-analyze can load the unit: the units it needs
 * (systemd's own targets), websocketd (a stub: only its being executable
 * is checked), the user database. */
function prepareSystemdRoot(root) {
  const units = path.join(root, 'usr/lib/systemd/system');
  fs.mkdirSync(units, { recursive: true });
  for (const dir of ['/lib/systemd/system', '/usr/lib/systemd/system']) {
    if (!fs.existsSync(dir)) continue;
    for (const f of fs.readdirSync(dir)) {
      if (/\.(target|slice)$/.test(f) && !fs.existsSync(path.join(units, f))) {
        fs.copyFileSync(path.join(dir, f), path.join(units, f));
      }
    }
  }
  const wsd = path.join(root, 'usr/bin/websocketd');
  if (!fs.existsSync(wsd)) {
    fs.mkdirSync(path.dirname(wsd), { recursive: true });
    fs.writeFileSync(wsd, '#!/bin/sh\nexit 0\n', { mode: 0o755 });
  }
  fs.mkdirSync(path.join(root, 'etc'), { recursive: true });
  for (const f of ['passwd', 'group']) fs.copyFileSync(`/etc/${f}`, path.join(root, 'etc', f));
}

/** systemd-analyze verify (silent, or it found something: unknown keys
 * are only warnings, so its exit status alone says little) and its
 * offline security score; the man pages of Documentation= from the root. */
function checkUnitSystemd(root, l) {
  prepareSystemdRoot(root);
  const env = { ...CHILD_ENV, MANPATH: path.join(root, path.dirname(path.dirname(l.man8))) };
  const v = run('systemd-analyze', ['verify', `--root=${root}`, 'chat_server.service'], { env, cwd: root });
  assert.equal(v.status, 0, `${v.what}:\n${v.output}`);
  assert.equal(v.output.trim(), '', `${v.what} has something to say`);
  // Exposure 0.0 to 10.0; the threshold is ten times that.
  const sec = run('systemd-analyze', ['security', '--offline=yes', `--root=${root}`,
    '--threshold=25', 'chat_server.service'], { env, cwd: root });
  assert.equal(sec.status, 0, `exposure above 2.5:\n${sec.output}`);
  const av = run('systemd-analyze', ['verify', `--root=${root}`, 'chat_server-archive.service'], { env, cwd: root });
  assert.equal(av.status, 0, `${av.what}:\n${av.output}`);
  assert.equal(av.output.trim(), '', `${av.what} has something to say`);
  const asec = run('systemd-analyze', ['security', '--offline=yes', `--root=${root}`,
    '--threshold=25', 'chat_server-archive.service'], { env, cwd: root });
  assert.equal(asec.status, 0, `archive unit exposure above 2.5:\n${asec.output}`);
}

/** systemd-tmpfiles makes /run/chat_server as the entry says, in the root;
 * systemd reads the directories the files are in. */
function checkTmpfilesAndSysctl(root, l) {
  prepareSystemdRoot(root);
  ok('systemd-tmpfiles', [`--root=${root}`, '--create', path.basename(l.tmpfiles)]);
  const st = fs.statSync(path.join(root, 'run/chat_server'));
  assert.equal(st.mode & 0o7777, 0o700);
  assert.equal(st.uid, Number(ok('id', ['-u', 'www-data']).stdout.trim()), 'owner www-data');
  for (const [what, file] of [['sysctl.d', l.sysctl], ['tmpfiles.d', l.tmpfiles]]) {
    const r = ok('systemd-analyze', ['cat-config', `--root=${root}`, what]);
    assert.ok(r.stdout.split('\n').includes(`# ${path.join(root, file)}`),
      `systemd reads ${file} (systemd-analyze cat-config ${what}):\n${r.stdout.slice(0, 2000)}`);
  }
}

/** apparmor_parser parses the profile, which confines this layout's binary
 * and allows its config and every run directory src/rundir.c tries. */
function checkAppArmor(file, l) {
  const r = run('apparmor_parser', ['-Q', '-K', file]);
  assert.equal(r.status, 0, `${r.what}:\n${r.output}`);
  const text = readText(file);
  assert.match(text, new RegExp(`^profile chat_server ${l.bin} `, 'm'));
  assert.match(text, new RegExp(`^@\\{chat_server_config\\}=${l.config}$`, 'm'));
  assert.match(text, new RegExp(`^\\s*${l.bin} mrix,$`, 'm'), 'the warden: the binary executes itself');
  const rundir = fs.readFileSync(path.join(TOP, 'src/rundir.c'), 'utf8');
  const places = [...rundir.matchAll(/\{ "(\/[^"]*)", "([^"]+)", (true|false),/g)];
  assert.ok(places.length >= 3, 'the run directory candidates of src/rundir.c');
  for (const [, parent, base, perUser] of places) {
    const dir = `${parent.replace(/^\/run$/, '@{run}')}/${base}${perUser === 'true' ? '-[0-9]*' : ''}`;
    assert.ok(text.includes(`${dir}/ rw,`) && text.includes(`${dir}/** rwkl,`),
      `the profile allows the run directory ${parent}/${base}`);
  }
}

/** mandoc finds nothing but cross references to pages this machine lacks. */
function checkMan(files, l) {
  // One file a run: mandoc 1.14.6 gunzips the first file only.
  for (const f of files) {
    const r = run('mandoc', ['-Tlint', f]);
    const lines = r.output.split('\n').filter((x) => x &&
      !/referenced manual not found|mandoc\.db/.test(x));
    assert.deepEqual(lines, [], `mandoc -Tlint ${f}:\n${r.output}`);
  }
  const ini = readText(files.find((f) => /\.5(\.gz)?$/.test(f)));
  assert.ok(ini.includes(l.config), `the ini(5) page names ${l.config}`);
  const eight = readText(files.find((f) => /\.8(\.gz)?$/.test(f)));
  assert.ok(eight.includes(l.config) && eight.includes(l.unit) && eight.includes(l.sysctl),
    'chat_server(8) names the installed files');
}

/** logrotate reads the rule, with this layout's binary in its scripts, and
 * would run them (-d -f: nothing is done) on a room log. */
function checkLogrotate(file, l) {
  const text = readText(file);
  assert.equal(text.split(`${l.bin} --pause-appends`).length, 2);
  assert.equal(text.split(`${l.bin} --resume-appends`).length, 2);
  assert.ok(!/\/(usr\/)?(local\/)?bin\/chat_server/.test(text.replaceAll(l.bin, '')),
    'no other chat_server path in the rule');
  const dir = freshDir('logrotate');
  const r1 = ok('logrotate', ['-d', '-s', path.join(dir, 'state'), file]);
  assert.ok(!/^error:/m.test(r1.output), r1.output);
  fs.mkdirSync(path.join(dir, 'rooms'));
  fs.writeFileSync(path.join(dir, 'rooms/lobby.log'), 'T Alice: hi\n');
  const rule = path.join(dir, 'rule');
  fs.writeFileSync(rule, text.replace('/var/lib/chat_server/rooms', path.join(dir, 'rooms'))
    .replace(/^(\s*)su www-data www-data$/m, '$1su root root'));
  const r2 = ok('logrotate', ['-d', '-f', '-s', path.join(dir, 'state'), rule]);
  assert.ok(!/^error:/m.test(r2.output), r2.output);
  assert.match(r2.output, /running prerotate script/);
  assert.ok(r2.output.includes(`${l.bin} --pause-appends`), r2.output);
}

/** The binary under root was built for this layout's config. */
function checkBinary(root, l, version) {
  const bin = path.join(root, l.bin);
  const v = ok(bin, ['--version']);
  assert.equal(v.stdout, `chat_server ${version}\n`);
  const h = ok(bin, ['--help']);
  assert.ok(h.stdout.includes(`else ${l.config})`), `--help names the default config ${l.config}:\n${h.stdout}`);
}

/** Everything about an installed tree. */
function checkTree(root, l, version) {
  for (const f of installedFiles(l)) {
    assert.ok(fs.statSync(path.join(root, f)).isFile(), `${f} installed`);
  }
  assert.ok(fs.existsSync(path.join(root, l.htdocs, 'index.php')), 'the pages are installed');
  checkWebPaths(root, l);
  const unitText = readText(path.join(root, l.unit));
  checkUnitText(unitText, l);
  checkArchiveUnitText(readText(path.join(root, l.archiveUnit)), l);
  checkBinary(root, l, version);
  // systemd's checks need more in the root: a copy of it gets that.
  const sysroot = `${root}.systemd`;
  fs.rmSync(sysroot, { recursive: true, force: true });
  ok('cp', ['-a', root, sysroot]);
  checkUnitSystemd(sysroot, l);
  checkTmpfilesAndSysctl(sysroot, l);
  checkAppArmor(path.join(root, l.apparmor), l);
  checkMan([path.join(root, l.man8), path.join(root, l.man5)], l);
  checkLogrotate(path.join(root, l.logrotate), l);
}

/** The pages look for the config where chat_server does, and the Apache
 * snippet serves the installed pages with that config. */
function checkWebPaths(root, l) {
  const paths = readText(path.join(root, l.htdocs, 'lib/paths.php'));
  assert.match(paths, new RegExp(`^const CHAT_INSTALLED_CONFIG = '${l.config}';$`, 'm'),
    'lib/paths.php names the installed config');
  const snippet = readText(path.join(root, l.apache));
  const defines = Object.fromEntries([...snippet.matchAll(/^\s*Define (\S+) (\S+)/gm)]
    .map((m) => [m[1], m[2]]));
  assert.equal(defines.CHAT_SERVER_HTDOCS, l.htdocs, 'the snippet serves the installed pages');
  assert.equal(defines.CHAT_SERVER_CONFIG, l.config, 'the snippet passes the installed config');
}

/** `make install` of this tree's Makefile into destdir. */
function makeInstall(dir, destdir, vars) {
  return ok('make', ['-C', dir, 'install', `DESTDIR=${destdir}`, ...vars]);
}

module.exports = {
  TOP, BUILD, BUILD_ARG, WORK, CHILD_ENV, run, ok, changelogVersion, freshDir, layout,
  installedFiles, listFiles, readText, checkTree, checkUnitText, checkAppArmor,
  checkMan, checkLogrotate, makeInstall,
};
