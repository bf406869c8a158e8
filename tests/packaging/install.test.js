'use strict';
// `make install` and `make uninstall` with the default PREFIX=/usr/local,
// from the build `make check` has made already: every file where it
// belongs, the paths inside following the prefix, and each file checked
// by the tool that reads it.  (PREFIX=/usr: tests/packaging/deb.test.js.)
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { test } = require('node:test');
const {
  TOP, BUILD, BUILD_ARG, changelogVersion, freshDir, layout, installedFiles, listFiles,
  checkTree, makeInstall, ok, CHILD_ENV,
} = require('./lib');

const L = layout('/usr/local');

test('make install PREFIX=/usr/local: every file where it belongs, paths of the prefix', () => {
  const dest = freshDir('install-usr-local');
  makeInstall(TOP, dest, [BUILD_ARG]);
  const files = listFiles(dest).filter((f) => !f.startsWith(`${L.htdocs}/`));
  assert.deepEqual(files, installedFiles(L).sort());
  checkTree(dest, L, changelogVersion());
});

test('make install keeps an edited config; make uninstall removes all but it', () => {
  const dest = freshDir('install-again');
  makeInstall(TOP, dest, [BUILD_ARG]);
  const config = path.join(dest, L.config);
  fs.appendFileSync(config, '; edited\n');
  makeInstall(TOP, dest, [BUILD_ARG]);
  assert.match(fs.readFileSync(config, 'utf8'), /; edited\n$/);
  ok('make', ['-C', TOP, 'uninstall', `DESTDIR=${dest}`, BUILD_ARG]);
  assert.deepEqual(listFiles(dest), [L.config]);
});

test('the Makefile keeps a distribution\'s flags: its _FORTIFY_SOURCE, no -Werror unless make check', () => {
  const dry = (env, vars = []) => {
    const r = ok('make', ['-n', '-C', TOP, `BUILD=${BUILD}/pkg/flags`, ...vars,
      `${BUILD}/pkg/flags/obj/buf.o`], { env: { ...CHILD_ENV, ...env } });
    const line = r.stdout.split('\n').find((l) => / -c -o .*buf\.o /.test(l));
    assert.ok(line, r.stdout);
    return line.split(/\s+/);
  };
  const distro = dry({ CPPFLAGS: '-D_FORTIFY_SOURCE=3', CFLAGS: '-O1 -g3', LDFLAGS: '-Wl,-z,relro' });
  assert.deepEqual(distro.filter((a) => a.includes('_FORTIFY_SOURCE')), ['-D_FORTIFY_SOURCE=3']);
  assert.ok(distro.includes('-O1') && distro.includes('-g3') && !distro.includes('-O2'), distro.join(' '));
  assert.ok(!distro.includes('-Werror'));
  const own = dry({});
  assert.deepEqual(own.filter((a) => a.includes('_FORTIFY_SOURCE')), ['-D_FORTIFY_SOURCE=2']);
  assert.ok(own.includes('-O2') && !own.includes('-Werror'), own.join(' '));
  assert.ok(dry({}, ['WERROR=-Werror']).includes('-Werror'));
  assert.match(fs.readFileSync(path.join(TOP, 'Makefile'), 'utf8'),
    /^check: .*\n\t\$\(MAKE\) WERROR=-Werror /m, 'make check builds with -Werror');
});
