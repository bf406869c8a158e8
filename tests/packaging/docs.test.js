'use strict';
// chat_server --version, and the man pages against what they describe:
// every option of src/main.c in chat_server(8), every key of
// docs/configuration.md (the reference) in websocket_chat_server.ini(5)
// with its default and range, and no option or key that is not there.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { test } = require('node:test');
const { TOP, changelogVersion, run, ok } = require('./lib');

const BIN = process.env.CHAT_SERVER_BIN || path.join(TOP, 'build/chat_server');
const read = (f) => fs.readFileSync(path.join(TOP, f), 'utf8');

test('chat_server --version prints the version of debian/changelog, reading no config', () => {
  const r = run(BIN, ['--config', '/nonexistent/chat.ini', '--version'],
    { env: { CHAT_SERVER_CONFIG: '/nonexistent/other.ini' } });
  assert.equal(r.status, 0, r.output);
  assert.equal(r.stdout, `chat_server ${changelogVersion()}\n`);
  assert.equal(r.stderr, '');
  assert.match(changelogVersion(), /^\d+\.\d+(\.\d+)*/, 'a version, not "unknown"');
});

test('chat_server --help lists --version; --version wins over a mode; an unknown option exits 2', () => {
  assert.match(ok(BIN, ['--help']).stdout, /^ {2}--version {2,}/m);
  const r = run(BIN, ['--check', '--config', '/nonexistent/chat.ini', '--version']);
  assert.equal(r.status, 0, r.output);
  assert.equal(r.stdout, `chat_server ${changelogVersion()}\n`, 'no check was run');
  assert.equal(run(BIN, ['--no-such-option']).status, 2);
});

/** The long options of src/main.c's table. */
function mainOptions() {
  const table = /static const struct option options\[\] = \{([\s\S]*?)\n\t\};/.exec(read('src/main.c'));
  assert.ok(table, 'the option table of src/main.c');
  return [...table[1].matchAll(/\{ "([a-z-]+)",/g)].map((m) => m[1]).sort();
}

test('chat_server(8) describes every option of src/main.c, and no other', () => {
  const man = read('man/chat_server.8.in');
  const described = [...man.matchAll(/^\.It Fl \\-([a-z\\-]+)/gm)]
    .map((m) => m[1].replaceAll('\\-', '-')).sort();
  assert.deepEqual(described, mainOptions());
  const help = ok(BIN, ['--help']).stdout;
  for (const o of mainOptions()) assert.ok(help.includes(`--${o}`), `--help names --${o}`);
});

/** The keys of docs/configuration.md's tables: name, default, range. */
function documentedKeys() {
  const keys = new Map();
  let columns = null;
  for (const line of read('docs/configuration.md').split('\n')) {
    if (/^\| key \|/.test(line)) {
      columns = line.split('|').slice(1, -1).map((c) => c.trim());
      continue;
    }
    const m = /^\| `([A-Z_]+)` \|/.exec(line);
    if (!m || !columns) continue;
    const cells = line.split(' | ').map((c) => c.replace(/^\| |\|$/g, '').trim());
    const at = (name) => cells[columns.indexOf(name)];
    keys.set(m[1], { def: at('default'), range: columns.includes('range') ? at('range') : '' });
  }
  assert.ok(keys.size >= 20, `keys found in docs/configuration.md: ${[...keys.keys()]}`);
  return keys;
}

/** The man page as text, one paragraph per key. */
function manKeys() {
  const text = ok('mandoc', ['-Tascii', path.join(TOP, 'man/websocket_chat_server.ini.5.in')])
    .stdout.replace(/.\x08/g, '');
  const keys = new Map();
  let current = null;
  for (const line of text.split('\n')) {
    const m = /^ {5}([A-Z][A-Z_]+)=/.exec(line);
    if (m) {
      current = m[1];
      keys.set(current, '');
    } else if (/^\S/.test(line) || /^ {3}\S/.test(line)) {
      current = null;
    } else if (current) {
      keys.set(current, `${keys.get(current)} ${line.trim()}`);
    }
  }
  return keys;
}

test('websocket_chat_server.ini(5) describes every key of docs/configuration.md, and no other', () => {
  const docs = documentedKeys();
  const man = manKeys();
  assert.deepEqual([...man.keys()].sort(), [...docs.keys()].sort());
});

test('websocket_chat_server.ini(5) gives the defaults and ranges of docs/configuration.md', () => {
  const docs = documentedKeys();
  const man = manKeys();
  const plain = (s) => s.replace(/[`'"]/g, '').replace(/\s+/g, ' ');
  for (const [key, { def, range }] of docs) {
    const text = plain(man.get(key) || '');
    const d = plain(def);
    if (/^none, required/.test(d)) assert.match(text, /Required\./, key);
    else if (/^empty/.test(d)) assert.match(text, /empty/i, `${key}: default empty`);
    else assert.ok(text.includes(`Default: ${d}.`) || text.includes(`Default: ${d},`),
      `${key}: "Default: ${d}" in "${text}"`);
    const r = /(\d+) to (\d+)/.exec(range);
    if (r) assert.ok(text.includes(`${r[1]} to ${r[2]}`), `${key}: range ${r[0]} in "${text}"`);
  }
});

test('the sample config has no key the docs do not describe', () => {
  const docs = documentedKeys();
  const sample = read('conf/websocket_chat_server.ini');
  const global = sample.split(/^\[room descriptions\]/m)[0];
  const keys = [...global.matchAll(/^;?([A-Z][A-Z_]+)=/gm)].map((m) => m[1]);
  assert.ok(keys.length >= 20);
  for (const k of keys) assert.ok(docs.has(k), `${k} of the sample config is in docs/configuration.md`);
});
