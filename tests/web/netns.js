'use strict';
// A private network namespace for the browser tests that open WebRTC data
// channels.
//
// Chromium gathers no ICE candidates on loopback, nor on an interface
// without a default route, so two pages on 127.0.0.1 never connect.  The
// test therefore puts its browsers in a network namespace of their own,
// joined to this one by a veth pair on a /30 of TEST-NET-2
// (198.51.100.0/24, RFC 5737) with a default route into it:
//
//   this namespace                 the browsers' namespace
//   <hostIf> hostAddr/30  <--veth-->  <nsIf> nsAddr/30, lo up,
//                                     default via hostAddr
//
// Servers of the test (Apache, a node http server) listen on hostAddr; the
// browsers reach them there and each other on nsAddr.
//
//   const ns = await createNetns();          // throws NetnsUnavailable
//   ns.wrap('/usr/bin/chromium')             // an executable running it inside
//   await ns.close();
//
// Needs root (CAP_SYS_ADMIN for unshare -n, CAP_NET_ADMIN for the veth),
// util-linux (unshare, nsenter) and iproute2 (ip).  netnsProblem() says why
// a machine cannot, for a test's skip message; CHAT_TEST_NETNS=0 makes it
// say so everywhere (to try the tests as a machine without namespaces runs
// them).
//
// Cleaning up: close() deletes the veth pair and ends the namespace's
// holder.  The holder is `cat` reading a pipe from this process, so it also
// ends when this process dies without closing; the namespace then goes with
// its last process (the browsers, which Playwright ends with this process),
// and the veth pair with it.

const { spawn, spawnSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const WAIT_MS = 5000;

class NetnsUnavailable extends Error {}

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

/** Runs argv; throws with its stderr when it fails. */
function run(argv) {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8' });
  if (r.error) throw new Error(`${argv.join(' ')}: ${r.error.message}`);
  if (r.status !== 0) {
    throw new Error(`${argv.join(' ')}: exit ${r.status}: ${(r.stderr || '').trim()}`);
  }
  return r.stdout;
}

function has(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

let problem; // cached: undefined = not checked yet, null = none

/**
 * Why a network namespace cannot be made here (a sentence), or null when it
 * can: the tools are there and `unshare -n` and a veth pair are allowed.
 */
function netnsProblem() {
  if (problem !== undefined) return problem;
  problem = null;
  if (process.env.CHAT_TEST_NETNS === '0') {
    problem = 'CHAT_TEST_NETNS=0 turns it off';
  } else if (process.platform !== 'linux') {
    problem = 'network namespaces need Linux';
  } else {
    for (const cmd of ['unshare', 'nsenter', 'ip']) {
      if (!has(cmd)) {
        problem = `${cmd} is not installed (util-linux, iproute2)`;
        break;
      }
    }
  }
  if (!problem) {
    const r = spawnSync('unshare', ['-n', 'true'], { encoding: 'utf8' });
    if (r.status !== 0) {
      problem = `\`unshare -n\` is not allowed here (it needs root or CAP_SYS_ADMIN): ${(r.stderr || '').trim()}`;
    }
  }
  return problem;
}

function netnsId(pid) {
  return fs.readlinkSync(`/proc/${pid}/ns/net`);
}

/** The IPv4 addresses of this namespace's interfaces. */
function hostAddresses() {
  const out = run(['ip', '-o', '-4', 'addr', 'show']);
  return new Set([...out.matchAll(/ inet (\d+\.\d+\.\d+\.\d+)\//g)].map((m) => m[1]));
}

class Netns {
  constructor() {
    const tag = crypto.randomBytes(4).toString('hex'); // interface names: at most 15 bytes
    this.hostIf = `cs${tag}h`;
    this.nsIf = `cs${tag}n`;
    this.holder = null;
    this.pid = null;
    this.hostAddr = null;
    this.nsAddr = null;
    this.dir = null;        // temp dir of the wrappers
    this._closed = false;
  }

  /** The path of this namespace, for nsenter --net=. */
  get nsPath() {
    return `/proc/${this.pid}/ns/net`;
  }

  async _open() {
    const own = netnsId(process.pid);
    // stdin a pipe from us: the holder lives as long as we do, or until close().
    this.holder = spawn('unshare', ['-n', 'cat'], { stdio: ['pipe', 'ignore', 'pipe'] });
    this.pid = this.holder.pid;
    let stderr = '';
    this.holder.stderr.on('data', (d) => { stderr += d; });
    this.holderExited = new Promise((resolve) => this.holder.on('close', resolve));
    this.holder.on('error', (err) => { stderr += err.message; });
    // unshare(2) happens after the spawn returns: wait until the holder's
    // namespace is a new one.
    const end = Date.now() + WAIT_MS;
    for (;;) {
      if (this.holder.exitCode !== null || this.holder.signalCode !== null) {
        throw new NetnsUnavailable(`unshare -n exited: ${stderr.trim()}`);
      }
      let id = own;
      try { id = netnsId(this.pid); } catch { /* not there yet */ }
      if (id !== own) break;
      if (Date.now() > end) throw new Error(`unshare -n did not make a namespace within ${WAIT_MS} ms`);
      await sleep(5);
    }
    this._pickAddresses();
    run(['ip', 'link', 'add', this.hostIf, 'type', 'veth', 'peer', 'name', this.nsIf,
      'netns', String(this.pid)]);
    run(['ip', 'addr', 'add', `${this.hostAddr}/30`, 'dev', this.hostIf]);
    run(['ip', 'link', 'set', this.hostIf, 'up']);
    this.exec(['ip', 'link', 'set', 'lo', 'up']);
    this.exec(['ip', 'addr', 'add', `${this.nsAddr}/30`, 'dev', this.nsIf]);
    this.exec(['ip', 'link', 'set', this.nsIf, 'up']);
    this.exec(['ip', 'route', 'add', 'default', 'via', this.hostAddr]);
    // The link comes up asynchronously; wait until the host address answers
    // (no ping needed: the route to it must be usable, and the host side
    // must have its address).
    await this._waitLinkUp();
  }

  /** A free /30 of 198.51.100.0/24 (so two runs on one machine can coexist). */
  _pickAddresses() {
    const used = hostAddresses();
    const blocks = [...Array(63).keys()].map((i) => i + 1);
    for (let i = blocks.length - 1; i > 0; i--) {
      const j = crypto.randomInt(i + 1);
      [blocks[i], blocks[j]] = [blocks[j], blocks[i]];
    }
    for (const b of blocks) {
      const host = `198.51.100.${4 * b + 1}`;
      const ns = `198.51.100.${4 * b + 2}`;
      if (!used.has(host) && !used.has(ns)) {
        this.hostAddr = host;
        this.nsAddr = ns;
        return;
      }
    }
    throw new Error('no free /30 left in 198.51.100.0/24');
  }

  async _waitLinkUp() {
    const end = Date.now() + WAIT_MS;
    for (;;) {
      const inside = this.exec(['ip', '-o', 'link', 'show', this.nsIf]);
      const outside = run(['ip', '-o', 'link', 'show', this.hostIf]);
      const up = (s) => /[<,]LOWER_UP[,>]/.test(s);
      if (up(inside) && up(outside)) return;
      if (Date.now() > end) {
        throw new Error(`the veth pair did not come up:\n${outside}${inside}`);
      }
      await sleep(10);
    }
  }

  /** Runs argv inside the namespace (synchronously); returns its stdout. */
  exec(argv) {
    return run(['nsenter', `--net=${this.nsPath}`, '--', ...argv]);
  }

  /** spawn() argv that runs argv inside the namespace. */
  argv(argv) {
    return ['nsenter', `--net=${this.nsPath}`, '--', ...argv];
  }

  /**
   * An executable (a shell script in a temp dir) that runs `program` with
   * its arguments inside the namespace: for Playwright's executablePath.
   * Playwright talks to the browser over pipes, which nsenter leaves alone.
   */
  wrap(program) {
    if (!this.dir) this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chat-netns-'));
    const file = path.join(this.dir, path.basename(program));
    const q = (s) => `'${s.replaceAll("'", "'\\''")}'`;
    fs.writeFileSync(file,
      `#!/bin/sh\nexec nsenter ${q(`--net=${this.nsPath}`)} -- ${q(program)} "$@"\n`,
      { mode: 0o755 });
    return file;
  }

  /** Deletes the veth pair, ends the holder, removes the wrappers.  Idempotent. */
  async close() {
    if (this._closed) return;
    this._closed = true;
    const errors = [];
    // Deleting one end deletes both; the link may be gone already.
    const r = spawnSync('ip', ['link', 'del', this.hostIf], { encoding: 'utf8' });
    if (r.status !== 0 && !/Cannot find device|does not exist/.test(r.stderr || '')) {
      errors.push(`ip link del ${this.hostIf}: ${(r.stderr || '').trim()}`);
    }
    if (this.holder) {
      if (this.holder.exitCode === null && this.holder.signalCode === null) {
        this.holder.stdin.end();
        this.holder.kill('SIGKILL');
      }
      await this.holderExited;
    }
    if (this.dir) fs.rmSync(this.dir, { recursive: true, force: true });
    if (errors.length) throw new Error(errors.join('\n'));
  }
}

/**
 * Makes the namespace.  Throws NetnsUnavailable (with the reason) when this
 * machine does not allow it, any other error when making it went wrong.
 */
async function createNetns() {
  const why = netnsProblem();
  if (why) throw new NetnsUnavailable(why);
  const ns = new Netns();
  try {
    await ns._open();
  } catch (err) {
    await ns.close().catch(() => {});
    throw err;
  }
  return ns;
}

/**
 * For a test that needs the namespace: the skip reason when the machine
 * cannot make one, or null.  With CHAT_TEST_REQUIRE_NETNS=1 (CI, as root)
 * a machine that cannot is an error instead of a skip.
 */
function netnsSkipReason() {
  const why = netnsProblem();
  if (!why) return null;
  if (process.env.CHAT_TEST_REQUIRE_NETNS === '1') {
    throw new Error(`CHAT_TEST_REQUIRE_NETNS=1, but ${why}`);
  }
  return `needs a network namespace for WebRTC: ${why}`;
}

module.exports = { createNetns, netnsProblem, netnsSkipReason, NetnsUnavailable };
