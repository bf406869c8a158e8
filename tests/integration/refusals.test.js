'use strict';
// Fatal start problems: bad room names and bad configs give one error line,
// a stderr message and exit status 1, and create no file at all.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { chatTest } = require('./harness');

/** Runs a process that must refuse to start, and checks how it refused. */
async function assertRefused(h, pathInfo, opts = {}) {
  const before = h.listing();
  const c = await h.run(pathInfo, { expectCode: 1, ...opts });
  assert.equal(c.code, 1, c.describe());
  assert.equal(c.lines.length, 1, `expected one stdout line\n${c.describe()}`);
  assert.match(c.out[0], /^T Error: \S/, c.describe());
  assert.notEqual(c.stderr.trim(), '', `nothing on stderr\n${c.describe()}`);
  assert.deepEqual(h.listing(), before, 'files were created');
  return c;
}

const badRooms = [
  ['/..', '/..'],
  ['/.', '/.'],
  ['empty PATH_INFO', ''],
  ['unset PATH_INFO', undefined],
  ['/', '/'],
  ['control character', '/a\u0001b'],
  ['escape character', '/a\u001bb'],
  ['300 characters', `/${'x'.repeat(300)}`],
  ['/.hidden', '/.hidden'],
  ['/<script>', '/<script>'],
];
for (const [label, pathInfo] of badRooms) {
  chatTest(`room name refused: ${label}`, async (h) => {
    await assertRefused(h, pathInfo);
  });
}

chatTest('room name with spaces and underscores becomes dashes', async (h) => {
  const c = await h.join('room with space_and_underscore');
  await c.waitFor('T Welcome to the chat room room-with-space-and-underscore Anonymous!');
  await c.waitFor('T Userlist: Anonymous:Gray,');
  assert.deepEqual(h.log('room-with-space-and-underscore'), [
    'T Anonymous joined the room-with-space-and-underscore',
    'T Userlist: Anonymous:Gray,',
  ]);
  assert.ok(fs.existsSync(h.p('users', 'room-with-space-and-underscore_Anonymous')));
});

chatTest('non-ASCII room name is accepted', async (h) => {
  const c = await h.join('Železná hospoda');
  await c.waitFor('T Welcome to the chat room Železná-hospoda Anonymous!');
  assert.ok(fs.existsSync(h.p('rooms', 'Železná-hospoda.log')));
});

chatTest('missing config file is fatal', async (h) => {
  const missing = path.join(h.root, 'nope.ini');
  await assertRefused(h, '/lobby', { env: { CHAT_SERVER_CONFIG: missing } });
});

chatTest('config without BASE_DIR is fatal', { configText: '[global]\nLAST_MESSAGES=5\n' }, async (h) => {
  await assertRefused(h, '/lobby');
});

chatTest('unknown key in [global] only warns', { config: { NO_SUCH_KEY: 'x' } }, async (h) => {
  const c = await h.join('lobby');
  await c.waitFor('T Userlist: Anonymous:Gray,');
  assert.equal(await c.close(), 0); // all of stderr is in
  assert.match(c.stderr, /NO_SUCH_KEY/i); // iniparser lowercases keys
});

chatTest('--config FILE is used instead of CHAT_SERVER_CONFIG', async (h) => {
  const c = h.spawn('/lobby', { config: false, args: ['--config', h.configPath] });
  await c.waitFor('T Userlist: Anonymous:Gray,');
  assert.ok(fs.existsSync(h.p('rooms', 'lobby.log')));
});

chatTest('legacy config with [room descriptions] and old keys works', {
  configText: [
    '[global]', 'BASE_DIR={BASE}', 'LANG=cs_CZ.UTF-8', 'ICE_SERVER_DNS=stun.example.org',
    'WEBSOCKETD_SERVER_URL=wss://example.org/chat/rooms/',
    'AUTHENTIZATION_WEBSERVICE_URL=https://sso.example.org/identity/attributes',
    'AUTHENTIZATION_COOKIENAME=iPlanetDirectoryPro',
    '', '[room descriptions]', 'Železná-hospoda=Pivo a tak', 'lobby=Vstupní hala', '',
  ].join('\n'),
}, async (h) => {
  const c = await h.join('lobby');
  await c.waitFor('T Userlist: Anonymous:Gray,');
  assert.equal(await c.close(), 0); // all of stderr is in
  assert.doesNotMatch(c.stderr, /ICE_SERVER_DNS|WEBSOCKETD_SERVER_URL|AUTHENTIZATION|Železná|Pivo/,
    'known keys or room descriptions were warned about');
});
