'use strict';
// The real thing: websocketd starts chat_server per WebSocket connection.
const assert = require('node:assert/strict');
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const WebSocket = require('ws');
const { chatTest, BIN, BAD_STDERR, PASS_ENV, WAIT_MS, norm } = require('./harness');
const { freePort, waitListening } = require('./wsd');

/** A ws client that collects messages (as normalized lines). */
function connect(url, headers) {
  const ws = new WebSocket(url, { headers });
  ws.lines = [];
  ws.waiters = [];
  ws.on('message', (m) => {
    ws.lines.push(norm(String(m)));
    ws.waiters = ws.waiters.filter((w) => !w());
  });
  ws.waitFor = (line, timeoutMs = WAIT_MS) => new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(
      `timeout waiting for ${JSON.stringify(line)}; got:\n${ws.lines.join('\n')}`)), timeoutMs);
    const w = () => {
      if (!ws.lines.includes(line)) return false;
      clearTimeout(timer);
      resolve(line);
      return true;
    };
    if (!w()) ws.waiters.push(w);
  });
  return new Promise((resolve, reject) => {
    ws.on('open', () => resolve(ws));
    ws.on('error', reject);
  });
}

// The unknown key makes every chat_server warn on stderr: proof that child
// stderr reaches the websocketd log this test scans for sanitizer reports.
chatTest('two browsers chat through websocketd', { config: { STDERR_PROBE: 1 } }, async (h) => {
  const which = spawnSync('websocketd', ['--version']);
  assert.ok(!which.error, `websocketd is not installed (needed by this test): ${which.error && which.error.message}`);

  const port = await freePort();
  const passenv = [...PASS_ENV, 'CHAT_SERVER_CONFIG'].join(',');
  const wsd = spawn('websocketd', ['--address=127.0.0.1', `--port=${port}`, `--passenv=${passenv}`,
    '--closems=2000', BIN], {
    env: { ...process.env, CHAT_SERVER_CONFIG: h.configPath },
    cwd: h.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let wsdLog = '';
  wsd.stdout.on('data', (d) => { wsdLog += d; });
  wsd.stderr.on('data', (d) => { wsdLog += d; });
  const wsdExited = new Promise((resolve) => wsd.on('close', resolve));
  const clients = [];
  try {
    await waitListening(port, wsd, 4 * WAIT_MS);
    const bobCookie = h.session('bobsess', 'Bob:#00f');
    const anon = await connect(`ws://127.0.0.1:${port}/lobby`, { 'X-Forwarded-For': '198.51.100.9' });
    clients.push(anon);
    await anon.waitFor('T Welcome to the chat room lobby Anonymous!');
    await anon.waitFor('T Userlist: Anonymous:Gray,');
    const bob = await connect(`ws://127.0.0.1:${port}/lobby`, { Cookie: bobCookie });
    clients.push(bob);
    await bob.waitFor('T Welcome to the chat room lobby Bob!');
    await anon.waitFor('T Userlist: Anonymous:Gray,Bob:#00f,');

    anon.send('hi Bob');
    await bob.waitFor('T Anonymous> hi Bob');
    bob.send('hi there');
    await anon.waitFor('T Bob> hi there');

    const closed = clients.map((ws) => new Promise((resolve) => ws.on('close', resolve)));
    for (const ws of clients) ws.close();
    await Promise.all(closed);
    // Both quit sequences are complete once the log ends with an empty list.
    const quits = (l) => l.filter((x) => / quit the lobby$/.test(x));
    const log = await h.waitForLog('lobby', (l) => quits(l).length >= 2 && l.at(-1) === 'T Userlist: ',
      4 * WAIT_MS);
    assert.deepEqual(quits(log).sort(), ['T Anonymous quit the lobby', 'T Bob quit the lobby']);
    assert.match(fs.readFileSync(h.p('log', 'authentization.log'), 'utf8'),
      /^\d{4}-\d\d-\d\d_\d\d:\d\d:\d\d 198\.51\.100\.9 Anonymous anonymous\n\d{4}-\d\d-\d\d_\d\d:\d\d:\d\d (?:|\S+) Bob php\n$/);
  } finally {
    for (const ws of clients) ws.terminate();
    wsd.kill('SIGTERM');
    await wsdExited;
  }
  assert.match(wsdLog, /STDERR_PROBE/i, 'chat_server stderr does not reach the websocketd log');
  // Only what chat_server wrote to stderr is ours to judge: websocketd 0.4.1
  // itself sometimes panics ("runtime error") sending to a socket that just
  // closed, which is its bug, not a sanitizer report.
  const ours = wsdLog.split('\n').filter((l) => l.includes('| stderr ')).join('\n');
  for (const bad of BAD_STDERR) {
    assert.ok(!ours.includes(bad), `chat_server stderr contains "${bad}":\n${ours}`);
  }
});
