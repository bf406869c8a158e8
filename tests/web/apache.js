'use strict';
// Apache with mod_php serving htdocs/ for a test, as deployed: the site is
// conf/apache2/chat_server.conf, wrapped by tests/web/httpd.conf (the one
// Apache config of the tests and of `make run`), in a temporary ServerRoot
// and on a free port.
//
//   const { startApache } = require('../web/apache');
//   const web = await startApache({ base: h.base, config: h.configPath, wsPort });
//   await fetch(`${web.url}room_list.php`);   // web.url = http://127.0.0.1:PORT/chat/
//   await web.stop();
//
// Pages are under /chat/, the WebSocket under /chat/rooms/<room>,
// forwarded to websocketd on wsPort (tests/integration/wsd.js starts one).
//
// With tls: { cert, key }, every listener is a TLS virtual host (mod_ssl)
// and the URLs are https; with wsTls: { ca }, websocketd is taken to run
// with --ssl, and Apache proxies to wss://127.0.0.1:wsPort/, checking its
// certificate against ca (the snippet's CHAT_SERVER_WEBSOCKETD_CA).
//
// Run as root (as CI does), Apache's children are www-data: then BASE_DIR
// and the config are made reachable for them and sessions/ is made theirs,
// as an installation would.  chat_server, run as root by the tests, reads
// the session files all the same.
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const REPO = path.resolve(__dirname, '../..');
const HTDOCS = path.join(REPO, 'htdocs');
const TEMPLATE = path.join(__dirname, 'httpd.conf');
const SITE = path.join(REPO, 'conf/apache2/chat_server.conf');
const APACHE = ['/usr/sbin/apache2', '/usr/sbin/httpd'].find((p) => fs.existsSync(p));
const MODULES = '/usr/lib/apache2/modules';

const INSTALL_HINT = 'apt-get install apache2 libapache2-mod-php; .ci/install-deps test does';

/** Why Apache cannot run here, or null. */
function missing() {
  if (!APACHE) return `apache2 is not installed (${INSTALL_HINT})`;
  if (!phpModule()) return `mod_php is not installed: no ${MODULES}/libphp*.so (${INSTALL_HINT})`;
  if (!fs.existsSync(path.join(MODULES, 'mod_proxy_wstunnel.so'))) {
    return `mod_proxy_wstunnel is missing from ${MODULES}`;
  }
  if (!fs.existsSync(path.join(MODULES, 'mod_ssl.so'))) return `mod_ssl is missing from ${MODULES}`;
  return null;
}

/** The newest libphpX.Y.so of the modules directory, or undefined. */
function phpModule() {
  let names;
  try {
    names = fs.readdirSync(MODULES);
  } catch {
    return undefined;
  }
  const found = names.map((n) => /^libphp(\d+)(?:\.(\d+))?\.so$/.exec(n)).filter(Boolean)
    .sort((a, b) => (Number(b[1]) - Number(a[1])) || (Number(b[2] || 0) - Number(a[2] || 0)));
  return found.length ? path.join(MODULES, found[0][0]) : undefined;
}

/** Resolves when a listener can be bound on host:port, else rejects. */
function tryBind(host, port) {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(port, host, () => {
      const bound = srv.address().port;
      srv.close(() => resolve(bound));
    });
  });
}

/** A port free on every one of the addresses. */
async function freePortOn(addresses) {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await tryBind(addresses[0], 0);
    try {
      for (const a of addresses.slice(1)) await tryBind(a, port);
      return port;
    } catch {
      // Taken on another address: try another port.
    }
  }
  throw new Error(`no port is free on all of ${addresses.join(', ')}`);
}

function connects(host, port) {
  return new Promise((resolve) => {
    const s = net.connect(port, host);
    s.on('connect', () => { s.destroy(); resolve(true); });
    s.on('error', () => resolve(false));
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** uid and gid of www-data, Apache's user on Debian. */
function wwwData() {
  const id = (flag) => {
    const r = spawnSync('id', [flag, 'www-data'], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`Apache runs its children as www-data, which is missing: ${r.stderr}`);
    return Number(r.stdout.trim());
  };
  return { uid: id('-u'), gid: id('-g') };
}

/**
 * Lets other users through dir and its parents (x bit) up to the temporary
 * directory: a test's BASE_DIR is in a private mkdtemp directory.  Nothing
 * outside the temporary directory is changed.
 */
function makeTraversable(dir) {
  const tmp = fs.realpathSync(os.tmpdir());
  let d = fs.realpathSync(dir);
  while (d.startsWith(`${tmp}/`)) {
    const m = fs.statSync(d).mode & 0o7777;
    if ((m & 0o011) !== 0o011) fs.chmodSync(d, m | 0o011);
    d = path.dirname(d);
  }
}

/** Whether other users can get to p: x on every directory above it. */
function reachable(p) {
  for (let d = path.dirname(fs.realpathSync(p)); ; d = path.dirname(d)) {
    if ((fs.statSync(d).mode & 0o001) === 0) return false;
    if (d === '/') return true;
  }
}

/** Copies the tree src to dst, readable by everyone (0755 and 0644). */
function copyReadable(src, dst) {
  fs.mkdirSync(dst, { mode: 0o755 });
  fs.chmodSync(dst, 0o755);
  for (const e of fs.readdirSync(src, { withFileTypes: true })) {
    const from = path.join(src, e.name);
    const to = path.join(dst, e.name);
    if (e.isDirectory()) {
      copyReadable(from, to);
    } else if (e.isFile()) {
      fs.copyFileSync(from, to);
      fs.chmodSync(to, 0o644);
    }
  }
}

/**
 * Starts Apache.  opts:
 *   base      BASE_DIR of the test's config
 *   config    the ini file (SetEnv CHAT_SERVER_CONFIG)
 *   wsPort    port of websocketd on 127.0.0.1, for /chat/rooms/
 *   wsTls     { ca }: websocketd speaks TLS (--ssl); ca is the file of its
 *             certificate or of the CA that signed it
 *   tls       { cert, key }: serve HTTPS (a TLS virtual host on every
 *             listener) with these PEM files
 *   listen    addresses to listen on (['127.0.0.1']); one port for all
 *   sessions  the sessions directory to prepare (BASE_DIR/sessions); false: none
 *   htdocs    the pages ($CHAT_WEB_HTDOCS, else the repository's htdocs/)
 *   timeoutMs how long Apache may take to answer (20000)
 * Returns { url, origin, urls, port, dir, proc, stop(), errorLog(), accessLog() };
 * url is the pages' address on the first listen address, ending in '/'.
 */
async function startApache(opts) {
  const why = missing();
  if (why) throw new Error(`cannot start Apache for the web tests: ${why}`);
  const { base, config, wsPort } = opts;
  if (!base || !config || !wsPort) throw new Error('startApache needs base, config and wsPort');
  const listen = opts.listen && opts.listen.length ? opts.listen : ['127.0.0.1'];
  // CHAT_WEB_HTDOCS: another copy of the pages, to see a test fail
  // against a broken one without touching the tree.
  const htdocs = opts.htdocs || process.env.CHAT_WEB_HTDOCS || HTDOCS;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chat-apache-'));
  const asRoot = process.getuid && process.getuid() === 0;

  let served = htdocs;
  if (asRoot) {
    makeTraversable(base);
    makeTraversable(path.dirname(config));
    // A checkout that www-data cannot reach (under /root, say) is served
    // from a copy rather than opened up.
    if (!reachable(path.join(htdocs, 'index.php'))) {
      fs.chmodSync(dir, 0o711);
      served = path.join(dir, 'htdocs');
      copyReadable(htdocs, served);
    }
  }
  if (opts.sessions !== false) {
    const sessions = opts.sessions || path.join(base, 'sessions');
    fs.mkdirSync(sessions, { recursive: true, mode: 0o700 });
    if (asRoot) {
      const www = wwwData();
      fs.chownSync(sessions, www.uid, www.gid);
    }
  }

  const port = await freePortOn(listen);
  const hostPort = (a) => (a.includes(':') ? `[${a}]:${port}` : `${a}:${port}`);
  const define = {
    CHAT_HTTPD_DIR: dir,
    CHAT_APACHE_MODULES: MODULES,
    CHAT_PHP_MODULE: phpModule(),
    CHAT_SITE: SITE,
    CHAT_SERVER_HTDOCS: served,
    CHAT_SERVER_CONFIG: path.resolve(config),
    CHAT_SERVER_WEBSOCKETD: `${opts.wsTls ? 'wss' : 'ws'}://127.0.0.1:${wsPort}/`,
  };
  if (opts.wsTls) define.CHAT_SERVER_WEBSOCKETD_CA = path.resolve(opts.wsTls.ca);
  if (opts.tls) {
    define.CHAT_HTTPD_TLS_CERT = path.resolve(opts.tls.cert);
    define.CHAT_HTTPD_TLS_KEY = path.resolve(opts.tls.key);
  }
  const args = ['-f', TEMPLATE, '-DFOREGROUND'];
  for (const [k, v] of Object.entries(define)) args.push('-C', `Define ${k} "${v}"`);
  for (const a of listen) args.push('-c', `Listen ${hostPort(a)}`);
  if (asRoot) args.push('-c', 'User www-data', '-c', 'Group www-data');

  // Apache's own environment is not the pages': it gets only PATH, so a
  // CHAT_SERVER_CONFIG of the test runner cannot reach PHP's getenv().
  // detached: a process group of its own, because at shutdown Apache sends
  // SIGTERM to its whole process group, which would otherwise be the tests'.
  const proc = spawn(APACHE, args, {
    env: { PATH: process.env.PATH || '/usr/sbin:/usr/bin:/sbin:/bin' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  // Not left behind, serving, when the tests end without stop().
  const killGroup = () => {
    try { process.kill(-proc.pid, 'SIGKILL'); } catch { /* gone */ }
  };
  process.on('exit', killGroup);
  let output = '';
  proc.stdout.on('data', (d) => { output += d; });
  proc.stderr.on('data', (d) => { output += d; });
  const exited = new Promise((resolve) => proc.on('close', resolve));

  const read = (name) => {
    try {
      return fs.readFileSync(path.join(dir, name), 'utf8');
    } catch {
      return '';
    }
  };
  const errorLog = () => `${output}${read('error.log')}`;
  let stopped = false;
  const stop = async () => {
    if (!stopped) {
      stopped = true;
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      const slow = setTimeout(killGroup, 10000);
      await exited;
      clearTimeout(slow);
      process.removeListener('exit', killGroup);
      if (!process.env.CHAT_TEST_KEEP) fs.rmSync(dir, { recursive: true, force: true });
    }
  };

  const end = Date.now() + (opts.timeoutMs || 20000);
  for (;;) {
    if (proc.exitCode !== null || proc.signalCode !== null) {
      await stop();
      throw new Error(`Apache exited at start (${proc.exitCode ?? proc.signalCode}):\n${output}`);
    }
    const up = await Promise.all(listen.map((a) => connects(a, port)));
    if (up.every(Boolean)) break;
    if (Date.now() > end) {
      const log = errorLog();
      await stop();
      throw new Error(`Apache does not answer on port ${port}:\n${log}`);
    }
    await sleep(50);
  }

  const origins = listen.map((a) => `${opts.tls ? 'https' : 'http'}://${hostPort(a)}`);
  return {
    url: `${origins[0]}/chat/`,
    origin: origins[0],
    urls: origins.map((o) => `${o}/chat/`),
    port,
    dir,
    proc,
    stop,
    errorLog,
    accessLog: () => read('access.log'),
  };
}

// websocketd for wsPort: the integration tests' own, re-exported so that a
// web test needs one require.
const { startWebsocketd } = require('../integration/wsd');

module.exports = { startApache, startWebsocketd, missing, phpModule, HTDOCS, TEMPLATE, SITE };
