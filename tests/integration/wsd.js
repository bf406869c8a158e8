'use strict';
// websocketd started by a test, on a free port of 127.0.0.1, running
// chat_server for every WebSocket, as deployments do.
const { spawn, spawnSync } = require('node:child_process');
const net = require('node:net');
const { BIN, PASS_ENV, sleep } = require('./harness');

/** Why websocketd cannot run here, or null. */
function websocketdProblem() {
  const r = spawnSync('sh', ['-c', 'command -v websocketd'], { stdio: 'ignore' });
  return r.status === 0 ? null : 'websocketd is not installed';
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function waitListening(port, proc, timeoutMs) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`websocketd exited with ${proc.exitCode}`);
    const ok = await new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.on('connect', () => { s.destroy(); resolve(true); });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > end) throw new Error(`websocketd is not listening on ${port}`);
    await sleep(50);
  }
}

/**
 * Starts websocketd for harness h.  opts: args (more websocketd options),
 * wrap (argv prefix, e.g. prlimit), timeoutMs.  Returns { port, proc,
 * log() (all it printed), stop() }.
 */
async function startWebsocketd(h, opts = {}) {
  const port = await freePort();
  const passenv = [...PASS_ENV, 'CHAT_SERVER_CONFIG'].join(',');
  const argv = [...(opts.wrap || []), 'websocketd', '--address=127.0.0.1', `--port=${port}`,
    `--passenv=${passenv}`, ...(opts.args || []), BIN];
  const proc = spawn(argv[0], argv.slice(1), {
    env: { ...process.env, CHAT_SERVER_CONFIG: h.configPath },
    cwd: h.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  proc.stdout.on('data', (d) => { text += d; });
  proc.stderr.on('data', (d) => { text += d; });
  const exited = new Promise((resolve) => proc.on('close', resolve));
  const stop = async () => {
    if (proc.exitCode === null) proc.kill('SIGTERM');
    await exited;
  };
  h.defer(stop);
  try {
    await waitListening(port, proc, opts.timeoutMs || 20000);
  } catch (err) {
    await stop();
    throw new Error(`${err.message}\n${text}`);
  }
  return { port, proc, log: () => text, stop };
}

module.exports = { freePort, waitListening, startWebsocketd, websocketdProblem };
