'use strict';
// Chromium for the browser tests: Debian's own (never a downloaded build),
// driven by playwright-core.
//
//   const browser = await launchChromium({ netns });   // netns optional
//   const context = await browser.newContext();
//   const page = await context.newPage();
//   const watch = watchPage(page, 'Alice');   // console errors, CSP, ...
//   ...
//   watch.assertClean();
//   await browser.close();
//
// Environment: CHROMIUM names another executable than /usr/bin/chromium;
// CHAT_TEST_CHROMIUM_SANDBOX=0 turns Chromium's sandbox off for a user
// other than root too (root always runs without it: Chromium refuses
// otherwise).

const fs = require('node:fs');
const path = require('node:path');
const assert = require('node:assert/strict');
const { chromium } = require('playwright-core');

const DEFAULT_CHROMIUM = '/usr/bin/chromium';

/** The Chromium executable to run. */
function chromiumPath() {
  return process.env.CHROMIUM || DEFAULT_CHROMIUM;
}

/** Why Chromium cannot be run here (for a skip message), or null. */
function chromiumProblem() {
  const bin = chromiumPath();
  try {
    fs.accessSync(bin, fs.constants.X_OK);
  } catch {
    return `no Chromium at ${bin} (install Debian's chromium, or set CHROMIUM)`;
  }
  return null;
}

/**
 * The switches Playwright passes to every Chromium it launches.  They are not
 * part of playwright-core's exported API, so they are read from the file
 * that defines them, found beside the package's package.json.
 */
function playwrightSwitches() {
  const pkg = require.resolve('playwright-core/package.json');
  const file = path.join(path.dirname(pkg), 'lib', 'server', 'chromium', 'chromiumSwitches.js');
  // eslint-disable-next-line import/no-dynamic-require
  const { chromiumSwitches } = require(file);
  assert.ok(Array.isArray(chromiumSwitches), `${file} no longer exports chromiumSwitches`);
  return chromiumSwitches;
}

/**
 * Chromium obeys only the last --disable-features switch, and Playwright
 * passes one of its own.  Returns { ignore, arg }: Playwright's switch, to
 * leave out with ignoreDefaultArgs, and one switch with its features and
 * ours.
 */
function disableFeaturesArgs(features) {
  const own = playwrightSwitches().filter((s) => s.startsWith('--disable-features='));
  const merged = [];
  for (const s of own) merged.push(...s.slice('--disable-features='.length).split(','));
  for (const f of features) if (!merged.includes(f)) merged.push(f);
  return { ignore: own, arg: `--disable-features=${merged.filter(Boolean).join(',')}` };
}

/**
 * Launches headless Chromium.  opts:
 *   netns: a namespace from netns.js to run it in;
 *   disableFeatures: more features to switch off (WebRtcHideLocalIpsWithMdns
 *     always is: host candidates are then addresses, not mDNS names, which
 *     the namespace has nobody to resolve);
 *   args: more switches;
 *   launch: more options for chromium.launch().
 */
async function launchChromium(opts = {}) {
  const why = chromiumProblem();
  if (why) throw new Error(why);
  const features = ['WebRtcHideLocalIpsWithMdns', ...(opts.disableFeatures || [])];
  const { ignore, arg } = disableFeaturesArgs(features);
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  const executablePath = opts.netns ? opts.netns.wrap(chromiumPath()) : chromiumPath();
  return chromium.launch({
    executablePath,
    headless: true,
    // Chromium refuses to run as root with its sandbox; Playwright adds
    // --no-sandbox when chromiumSandbox is false.
    chromiumSandbox: !root && process.env.CHAT_TEST_CHROMIUM_SANDBOX !== '0',
    ignoreDefaultArgs: ignore,
    args: [arg, ...(opts.args || [])],
    timeout: 60000,
    ...(opts.launch || {}),
  });
}

/**
 * Reports a CSP violation as a console error, so that watchPage sees it
 * even when Chromium does not log it itself.  It runs before the page's
 * scripts and keeps its own references to addEventListener and
 * console.error, so a page that replaces them does not silence it.
 */
const CSP_LISTENER = `(() => {
  const add = EventTarget.prototype.addEventListener;
  const log = console.error.bind(console);
  add.call(document, 'securitypolicyviolation', (e) => {
    log('CSP violation: ' + e.violatedDirective + ' blocked ' + (e.blockedURI || '(inline)') +
      ' in ' + e.documentURI + (e.sourceFile ? ' at ' + e.sourceFile + ':' + e.lineNumber : ''));
  });
})();`;

/**
 * Records what must not happen in a page: console errors, uncaught
 * exceptions, CSP violations (console errors; see CSP_LISTENER) and CSP
 * report requests.  allow: predicates on { text, url } of console errors
 * the test expects (an image it points at a blocked URL, say).
 * Returns { label, problems, allow(fn) -> remove(), take(), assertClean() };
 * assertClean() throws with the problems not yet reported and then
 * forgets them, so that the next check reports only new ones.
 */
function watchPage(page, label, { allow = [] } = {}) {
  const allowed = new Set(allow);
  const problems = [];
  let reported = 0;
  page.addInitScript(CSP_LISTENER).catch(() => {});
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    const entry = { text: msg.text(), url: (msg.location() || {}).url || '' };
    for (const fn of allowed) if (fn(entry)) return;
    problems.push(`console error: ${entry.text}${entry.url ? ` (${entry.url})` : ''}`);
  });
  page.on('pageerror', (err) => {
    problems.push(`uncaught exception: ${err.stack || err.message || err}`);
  });
  page.on('request', (req) => {
    if (/csp/i.test(req.resourceType())) {
      problems.push(`CSP report sent to ${req.url()}: ${req.postData() || ''}`);
    }
  });
  return {
    label,
    problems,
    allow(fn) {
      allowed.add(fn);
      return () => allowed.delete(fn);
    },
    /** The problems not reported yet (and marks them reported). */
    take() {
      const fresh = problems.slice(reported);
      reported = problems.length;
      return fresh;
    },
    assertClean() {
      const fresh = this.take();
      assert.deepEqual(fresh, [], `${label}: the page reported problems:\n${fresh.join('\n')}`);
    },
  };
}

/**
 * Keeps a context's pages from reaching anything but the test's own
 * origins: every other request is aborted (Chromium then logs a console
 * error, which watchPage reports unless allowed) and its URL recorded in
 * the array returned.  The tests point images and links at made-up hosts;
 * none of it may leave the machine.
 */
async function confineContext(context, origins) {
  const ok = origins.map((o) => new URL(o).origin);
  const blocked = [];
  await context.route((url) => {
    if (url.protocol === 'data:' || url.protocol === 'blob:' || url.protocol === 'about:') return false;
    return !ok.includes(url.origin);
  }, (route) => {
    blocked.push(route.request().url());
    return route.abort('blockedbyclient');
  });
  return blocked;
}

/**
 * Polls fn (sync or async) every intervalMs until it returns a truthy value,
 * which it resolves with; rejects after timeoutMs with describe() (or the
 * last error fn threw) in the message.  For conditions that no event
 * announces (a file's content, a process's output).
 */
async function until(fn, { timeoutMs = 10000, intervalMs = 25, what = 'a condition' } = {}) {
  const end = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
      last = undefined;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end) {
      throw new Error(`timeout (${timeoutMs} ms) waiting for ${typeof what === 'function' ? what() : what}` +
        `${last ? `: ${last.message}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/**
 * A person in a room of the chat whose pages are at site (".../chat/"):
 * a browser context of their own, confined to the site's origin, the name
 * and colour saved with userconfig.php, and the room's page open until it
 * says Connected.  Returns { context, page, watch, sockets } (sockets: the
 * page's WebSockets, as Playwright gives them).
 */
async function enterRoom(browser, site, { name, color, room = 'lobby', waitMs = 10000 }) {
  const context = await browser.newContext();
  context.setDefaultTimeout(waitMs);
  await confineContext(context, [new URL(site).origin]);
  const page = await context.newPage();
  const watch = watchPage(page, name);
  const sockets = [];
  page.on('websocket', (ws) => sockets.push(ws));
  await page.goto(`${site}userconfig.php`);
  await page.getByRole('textbox', { name: 'Name', exact: true }).fill(name);
  await page.getByRole('textbox', { name: 'Color', exact: true })
    .or(page.getByRole('combobox', { name: 'Color', exact: true })).fill(color);
  await Promise.all([page.waitForURL(/saved=1/), page.getByRole('button', { name: 'Save' }).click()]);
  await page.goto(`${site}index.php?room=${encodeURIComponent(room)}`);
  await until(async () => (await page.locator('#connection-state').textContent()) === 'Connected',
    { timeoutMs: waitMs, what: `${name} connected` });
  return { context, page, watch, sockets };
}

module.exports = {
  until, chromiumPath, chromiumProblem, launchChromium, watchPage, confineContext,
  disableFeaturesArgs, playwrightSwitches, enterRoom,
};
