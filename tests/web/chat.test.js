'use strict';
// The chat end to end, as people use it: Apache with mod_php serving
// htdocs/ (tests/web/apache.js), websocketd running chat_server, and three
// users in Chromium (separate browser contexts: separate cookies, sessions
// and storage), driven through the ids and accessible names of docs/web.md.
//
//   node tests/run-integration.js tests/web/chat.test.js
//
// The browsers run in a private network namespace (netns.js) where the
// machine allows it (root), because Chromium opens no WebRTC data channel
// on loopback and the typing preview goes over one; elsewhere they run on
// 127.0.0.1 and only the typing preview is skipped.
//
// Every page is watched for console errors, uncaught exceptions and CSP
// violations, and checked for window.__pwned, which the injection attempts
// would set.  Screenshots of the chat (desktop and phone) go to
// tests/web/screenshots/ and their paths are printed as diagnostics.
//
// The steps share one Apache, one websocketd and the three users, and run
// in order (later ones use what earlier ones said in the lobby); a step
// that fails is reported on its own and the next ones still run.
//
// Environment:
//   CHAT_SERVER_BIN             the chat_server to run (as for tests/integration)
//   CHAT_TEST_REQUIRE_NETNS=1   no namespace is an error, not a skip (CI)
//   CHAT_TEST_NETNS=0           no namespace, as on a machine without them
//   CHAT_TEST_DOCS_SCREENSHOT=1 also copy the desktop screenshot to
//                               docs/screenshot-chat.png
//   CHAT_TEST_HTDOCS=DIR        serve these pages instead of htdocs/ (to
//                               see the tests fail on a broken copy)
//   CHAT_TEST_KEEP=1            keep the temporary BASE_DIR

const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { test } = require('node:test');
const { Harness, BIN, PASS_ENV, BAD_STDERR, SANITIZED } = require('../integration/harness');
const { freePort, waitListening, websocketdProblem } = require('../integration/wsd');
const { startApache, missing: apacheProblem } = require('./apache');
const { launchChromium, chromiumProblem, watchPage, confineContext, until } = require('./browser');
const { createNetns, netnsSkipReason } = require('./netns');

const REPO = path.resolve(__dirname, '../..');
const SHOTS = path.join(__dirname, 'screenshots');
const WAIT_MS = SANITIZED ? 20000 : 10000;
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 360, height: 740 };

const skipAll = chromiumProblem() || apacheProblem() || websocketdProblem();
const skipNetns = skipAll ? null : netnsSkipReason();

// ---- websocketd on a port of our choosing (it is restarted on the same one) ----

class Websocketd {
  constructor(h, port) {
    this.h = h;
    this.port = port;
    this.proc = null;
    this.text = '';
    this.exited = null;
  }

  async start() {
    const passenv = [...PASS_ENV, 'CHAT_SERVER_CONFIG'].join(',');
    this.proc = spawn('websocketd', ['--address=127.0.0.1', `--port=${this.port}`,
      `--passenv=${passenv}`, BIN], {
      env: { ...process.env, CHAT_SERVER_CONFIG: this.h.configPath },
      cwd: this.h.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const proc = this.proc;
    proc.stdout.on('data', (d) => { this.text += d; });
    proc.stderr.on('data', (d) => { this.text += d; });
    this.exited = new Promise((resolve) => proc.on('close', resolve));
    await waitListening(this.port, proc, 20000);
  }

  async stop() {
    if (!this.proc) return;
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGTERM');
    await this.exited;
    this.proc = null;
  }

  log() {
    return this.text;
  }
}

// ---- small helpers ----

/**
 * The chat_server connections (not wardens) still running with the
 * config at ini: websocketd passes it in their environment.
 */
function chatServersOf(ini) {
  const want = `CHAT_SERVER_CONFIG=${ini}`;
  const pids = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      const cmd = fs.readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0');
      if (path.basename(cmd[0]) !== path.basename(BIN) || cmd.includes('--warden')) continue;
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      if (/^\d+ \(.*\) Z/.test(stat)) continue;
      if (fs.readFileSync(`/proc/${name}/environ`, 'utf8').split('\0').includes(want)) pids.push(Number(name));
    } catch {
      // gone, or not ours to read
    }
  }
  return pids;
}

/** What the page's #messages shows: one object per <li>. */
function readLines(page) {
  return page.evaluate(() => [...document.querySelectorAll('#messages > li')].map((li) => ({
    type: li.dataset.type,
    from: li.dataset.from,
    name: li.dataset.name,
    text: li.querySelector('.text')?.textContent ?? '',
    hidden: li.hidden || li.offsetParent === null,
    history: li.classList.contains('history'),
    cls: li.className,
  })));
}

/** Runs in the page: whether a line of #messages matches want. */
function lineMatches(want) {
  return [...document.querySelectorAll('#messages > li')].some((li) => {
    const text = li.querySelector('.text')?.textContent ?? '';
    return (want.type === undefined || li.dataset.type === want.type) &&
      (want.from === undefined || li.dataset.from === want.from) &&
      (want.name === undefined || li.dataset.name === want.name) &&
      (want.text === undefined || text === want.text) &&
      (want.re === undefined || new RegExp(want.re).test(text)) &&
      (!want.live || !li.classList.contains('history')) &&
      (want.hidden === true ? (li.hidden || li.offsetParent === null)
        : !li.hidden && li.offsetParent !== null);
  });
}

/** The users list: name, the name's colour as computed, aria-pressed of its toggle. */
function readUsers(page) {
  return page.evaluate(() => [...document.querySelectorAll('#users > li')].map((li) => {
    const b = li.querySelector('button');
    const toggle = li.querySelector('button[aria-pressed]');
    return {
      name: li.dataset.name,
      shown: b ? b.textContent : li.textContent,
      color: b ? getComputedStyle(b).color : '',
      ignored: toggle ? toggle.getAttribute('aria-pressed') : null,
    };
  }));
}

/** "#00aa55" / "#0a5" -> "rgb(0, 170, 85)". */
function rgb(hex) {
  let h = hex.slice(1);
  if (h.length === 3) h = [...h].map((c) => c + c).join('');
  const n = [0, 2, 4].map((i) => parseInt(h.slice(i, i + 2), 16));
  return `rgb(${n.join(', ')})`;
}

// ---- the test ----

test('the chat in Chromium', { skip: skipAll || false, timeout: 20 * 60000 }, async (t) => {
  const diag = { diagnostic: (m) => t.diagnostic(m) };
  const h = new Harness(diag, {
    configText: [
      '[global]', 'BASE_DIR={BASE}', 'RUN_DIR={BASE}/run', '',
      '[room descriptions]',
      'lobby="Where everybody starts"',
      'quiet-corner="A room nobody is in"', '',
    ].join('\n'),
  });
  let failed = true;
  let stepFailed = false;
  const users = [];
  let ns = null;
  let web = null;
  let browser = null;
  let wsd = null;
  try {
    // -- setup --
    if (!skipNetns) ns = await createNetns();
    wsd = new Websocketd(h, await freePort());
    await wsd.start();
    web = await startApache({
      base: h.base,
      config: h.configPath,
      wsPort: wsd.port,
      listen: ns ? ['127.0.0.1', ns.hostAddr] : ['127.0.0.1'],
      htdocs: process.env.CHAT_TEST_HTDOCS || undefined,
    });
    // The browsers' address of the site: the host side of the veth pair
    // from inside the namespace.
    const site = ns ? web.urls[1] : web.url;
    const origin = new URL(site).origin;
    const url = (p) => new URL(p, site).href;
    t.diagnostic(`site ${site}${ns ? ` (browsers in a network namespace, ${ns.nsAddr})` : ' (no namespace)'}`);
    browser = await launchChromium({ netns: ns });

    /** A person: a browser context of their own, its pages watched. */
    const newUser = async (label, opts = {}) => {
      const context = await browser.newContext({ viewport: DESKTOP, ...opts });
      context.setDefaultTimeout(WAIT_MS);
      const blocked = await confineContext(context, [origin]);
      const user = { label, context, blocked, pages: [], watches: [], framesSent: [] };
      user.newPage = async () => {
        const page = await context.newPage();
        user.watches.push(watchPage(page, `${label}'s page ${user.pages.length + 1}`));
        user.pages.push(page);
        page.on('websocket', (ws) => ws.on('framesent', (f) => user.framesSent.push(String(f.payload))));
        return page;
      };
      user.page = await user.newPage();
      users.push(user);
      return user;
    };
    const allPages = () => users.flatMap((u) => u.pages.filter((p) => !p.isClosed()));

    /** Every page so far: no console error, no exception, no CSP violation, not pwned. */
    const checkPages = async () => {
      const problems = [];
      for (const u of users) {
        for (const w of u.watches) problems.push(...w.take().map((p) => `${w.label}: ${p}`));
      }
      for (const p of allPages()) {
        const pwned = await p.evaluate(() => window.__pwned).catch(() => undefined);
        if (pwned !== undefined) problems.push(`${p.url()}: window.__pwned is ${pwned}`);
      }
      assert.deepEqual(problems, [], `problems in the pages:\n${problems.join('\n')}`);
    };

    /**
     * Chromium logs a console error for every response of 400 or more; a
     * test that asks for one says so for the time it does.  Returns the
     * function that ends the allowance.
     */
    const expectHttpErrors = (user, status, page) => {
      const re = new RegExp(`status of ${status} .*\\b${page.replace('.', '\\.')}\\b`);
      const removers = user.watches.map((w) => w.allow((e) => re.test(`${e.text} ${e.url}`)));
      return () => removers.forEach((r) => r());
    };

    /** A subtest that ends with checkPages(). */
    const step = (name, opts, fn) => {
      if (typeof opts === 'function') { fn = opts; opts = {}; }
      return t.test(name, { timeout: 120000, ...opts }, async (st) => {
        try {
          await fn(st);
          await checkPages();
        } catch (err) {
          stepFailed = true;
          throw err;
        }
      });
    };

    // A text field with a list of colour names is a combobox.
    const colorField = (page) => page.getByRole('combobox', { name: 'Color', exact: true }).or(
      page.getByRole('textbox', { name: 'Color', exact: true }));

    const setName = async (user, name, color, page = user.page) => {
      await page.goto(url('userconfig.php'));
      await page.getByRole('textbox', { name: 'Name', exact: true }).fill(name);
      await colorField(page).fill(color);
      await Promise.all([
        page.waitForURL(/saved=1/),
        page.getByRole('button', { name: 'Save' }).click(),
      ]);
      await page.getByRole('status').filter({ hasText: `You are ${name}.` }).waitFor();
      user.name = name;
      user.color = color;
    };

    const state = (page) => page.locator('#connection-state');
    // Conditions in a page are polled with page.evaluate: waitForFunction
    // would need 'unsafe-eval', which the pages' CSP rightly refuses.
    const waitState = async (page, re, timeout = WAIT_MS) => {
      await until(async () => re.test(await state(page).textContent()), {
        timeoutMs: timeout,
        what: `connection state ${re} on ${page.url()}`,
      }).catch(async (err) => {
        throw new Error(`${err.message}; it is "${await state(page).textContent().catch(() => '?')}"`);
      });
    };

    const openRoom = async (user, room, page = user.page) => {
      await page.goto(url(`index.php?room=${encodeURIComponent(room)}`));
      await waitState(page, /^Connected$/);
      await page.locator('#messages > li.history-end').first().waitFor();
    };

    const waitLine = async (page, want, timeout = WAIT_MS) => {
      try {
        await until(() => page.evaluate(lineMatches, want), { timeoutMs: timeout, what: 'the line' });
      } catch (err) {
        const lines = await readLines(page).catch(() => []);
        throw new Error(`no line ${JSON.stringify(want)} on ${page.url()} within ${timeout} ms ` +
          `(${err.message.split('\n')[0]}); the lines are:\n` +
          lines.map((l) => `  ${JSON.stringify(l)}`).join('\n'));
      }
    };

    const say = async (page, text) => {
      const field = page.getByRole('textbox', { name: 'Message', exact: true });
      await field.fill(text);
      await page.getByRole('button', { name: 'Send', exact: true }).click();
      await until(async () => (await field.inputValue()) === '', { what: 'the field to empty after Send' });
    };

    const waitUsers = async (page, names, timeout = WAIT_MS) => {
      await until(async () => {
        const now = (await readUsers(page)).map((u) => u.name).sort();
        return JSON.stringify(now) === JSON.stringify([...names].sort());
      }, { timeoutMs: timeout, what: `users ${names} on ${page.url()}` });
    };

    // ---- the pages and the people ----
    const alice = await newUser('Alice');
    const bob = await newUser('Bob');
    const carol = await newUser('Carol');
    const lobby = [alice, bob, carol];

    await step('the username form saves names and colours', async () => {
      await setName(alice, 'Alice', '#c00');
      await setName(bob, 'Bob', 'blue');
      await setName(carol, 'Carol', '#2e7d32');
      // The form shows what was saved.
      await alice.page.goto(url('userconfig.php'));
      assert.equal(await alice.page.getByRole('textbox', { name: 'Name', exact: true }).inputValue(), 'Alice');
      // set_username.php is the same form.
      await bob.page.goto(url('set_username.php'));
      assert.equal(await bob.page.getByRole('textbox', { name: 'Name', exact: true }).inputValue(), 'Bob');
    });

    await step('the username form refuses what chat_server would refuse', async () => {
      const mallory = await newUser('Mallory');
      const page = mallory.page;
      expectHttpErrors(mallory, 400, 'userconfig.php');
      const tries = [
        { name: '<b>Mallory</b>', color: 'red', field: 'name' },
        { name: 'Mal"lory', color: 'red', field: 'name' },
        { name: 'Mallory', color: 'red;background:url(//x/css)', field: 'color' },
        { name: 'Mallory', color: '"><script>alert(1)</script>', field: 'color' },
      ];
      for (const tr of tries) {
        await page.goto(url('userconfig.php'));
        await page.getByRole('textbox', { name: 'Name', exact: true }).fill(tr.name);
        await colorField(page).fill(tr.color);
        const [res] = await Promise.all([
          page.waitForResponse((r) => r.request().method() === 'POST'),
          page.getByRole('button', { name: 'Save' }).click(),
        ]);
        assert.equal(res.status(), 400, `${JSON.stringify(tr)} was not refused`);
        await page.waitForLoadState();
        await page.getByRole('alert').waitFor();
        const field = tr.field === 'name' ? page.getByRole('textbox', { name: 'Name', exact: true })
          : colorField(page);
        assert.equal(await field.getAttribute('aria-invalid'), 'true');
        // What was typed is back in the field, as text.
        assert.equal(await field.inputValue(), tr.field === 'name' ? tr.name : tr.color);
        assert.equal(await page.locator('main b, main script, main img').count(), 0);
      }
      // Nothing was saved: in a room, Mallory is Anonymous.
      await openRoom(mallory, 'mallorys-room');
      await waitUsers(page, ['Anonymous']);
      await page.close();
      assert.deepEqual(mallory.blocked, []);
    });

    await step('a POST to the username form without its token is refused (403)', async () => {
      // A user of its own: were the POST taken, nobody else's name changes.
      const victim = await newUser('Victim');
      await setName(victim, 'Victim', 'teal');
      const page = victim.page;
      expectHttpErrors(victim, 403, 'userconfig.php');
      await page.goto(url('userconfig.php'));
      const statuses = await page.evaluate(async () => {
        const form = document.querySelector('form[method="post"]');
        const post = async (drop, replace) => {
          const data = new FormData(form);
          data.set('name', 'Hijacked');
          data.set('color', 'red');
          for (const [k] of [...data]) {
            if (/csrf|token/i.test(k)) {
              if (drop) data.delete(k);
              else data.set(k, replace);
            }
          }
          const r = await fetch(form.action, { method: 'POST', body: new URLSearchParams(data) });
          return r.status;
        };
        return [await post(true), await post(false, 'f'.repeat(64)), await post(false, '')];
      });
      assert.deepEqual(statuses, [403, 403, 403], 'POSTs without the right token');
      await page.reload();
      assert.equal(await page.getByRole('textbox', { name: 'Name', exact: true }).inputValue(), 'Victim');
      await victim.context.close();
    });

    await step('three users chat in a room', async () => {
      for (const u of lobby) await openRoom(u, 'lobby');
      const log = alice.page.getByRole('log', { name: 'Messages' });
      assert.equal(await log.getAttribute('id'), 'messages');
      assert.equal(await alice.page.getByRole('status').first().getAttribute('id'), 'connection-state');
      for (const u of lobby) await waitUsers(u.page, ['Alice', 'Bob', 'Carol']);
      await say(alice.page, 'Hello from Alice');
      await say(bob.page, 'Hi Alice, Bob here');
      await say(carol.page, 'Carol too :-)');
      for (const u of lobby) {
        await waitLine(u.page, { type: 'message', from: 'Alice', text: 'Hello from Alice', live: true });
        await waitLine(u.page, { type: 'message', from: 'Bob', text: 'Hi Alice, Bob here', live: true });
        await waitLine(u.page, { type: 'message', from: 'Carol', text: 'Carol too ', live: true });
        // The emoticon is a picture of ours with the code as its text.
        const emo = u.page.locator('#messages li[data-from="Carol"] .text img');
        assert.equal(await emo.getAttribute('alt'), ':-)');
        assert.equal(new URL(await emo.evaluate((i) => i.src)).origin, origin);
        assert.ok(await emo.evaluate((i) => i.complete && i.naturalWidth > 0), 'the emoticon loaded');
        // Times are machine-readable.
        const dt = await u.page.locator('#messages li[data-from="Alice"] time').first().getAttribute('datetime');
        assert.ok(!Number.isNaN(Date.parse(dt)), `datetime ${dt}`);
      }
      // Bob's message names Alice: a mention for her.
      const cls = (await readLines(alice.page)).find((l) => l.text === 'Hi Alice, Bob here').cls;
      assert.match(cls, /\bmention\b/);
      // The join lines of the others.
      await waitLine(alice.page, { type: 'join', name: 'Carol', re: 'Carol' });
      // Each user list entry has the user's colour, everywhere (checked
      // last: the steps after this one need the messages above).
      for (const u of lobby) {
        const list = await readUsers(u.page);
        const colorOf = (n) => list.find((x) => x.name === n).color;
        assert.equal(colorOf('Alice'), rgb('#c00'), `${u.label} sees Alice's colour`);
        assert.equal(colorOf('Bob'), 'rgb(0, 0, 255)', `${u.label} sees Bob's colour`);
        assert.equal(colorOf('Carol'), rgb('#2e7d32'), `${u.label} sees Carol's colour`);
        // Everyone but oneself can be ignored.
        for (const x of list) assert.equal(x.ignored, 'false');
        const own = await u.page.evaluate((n) => [...document.querySelectorAll('#users li')]
          .filter((li) => li.dataset.name === n).map((li) => [...li.querySelectorAll('button')]
            .map((b) => `${b.outerHTML} display:${getComputedStyle(b).display}`).join(' ')).join(''), u.name);
        assert.equal(await u.page.getByRole('button', { name: `Ignore ${u.name}` }).count(), 0,
          `${u.label} can ignore themselves: ${own}`);
      }
    });

    await step('a whisper reaches its addressee and nobody else', async () => {
      await say(alice.page, 'Bob: meet me at the back door');
      await waitLine(bob.page, { type: 'whisper', from: 'Alice', text: 'meet me at the back door' });
      await waitLine(alice.page, { type: 'whisper', from: 'Alice', text: 'meet me at the back door' });
      // Clicking a name starts a whisper to it.
      await bob.page.locator('#users li[data-name="Alice"] button').first().click();
      const field = bob.page.getByRole('textbox', { name: 'Message', exact: true });
      assert.equal(await field.inputValue(), 'Alice: ');
      await field.pressSequentially('on my way');
      await field.press('Enter');
      await waitLine(alice.page, { type: 'whisper', from: 'Bob', text: 'on my way' });
      // A public message after the whispers: once Carol has it, she would
      // have had the whispers too.
      await say(alice.page, 'Nothing to see here');
      await waitLine(carol.page, { type: 'message', from: 'Alice', text: 'Nothing to see here' });
      const carolText = await carol.page.locator('#messages').textContent();
      assert.ok(!carolText.includes('back door') && !carolText.includes('on my way'),
        `Carol sees a whisper:\n${carolText}`);
      assert.equal(await carol.page.locator('#messages li[data-type="whisper"]').count(), 0);
      assert.ok(!carol.framesSent.join('\n').includes('back door'));
      const log = h.log('lobby').join('\n');
      assert.ok(!log.includes('back door') && !log.includes('on my way'), `the room log has a whisper:\n${log}`);
    });

    await step('dice thrown from the form are shown to everyone', async () => {
      const page = bob.page;
      await page.getByRole('spinbutton', { name: 'Dice', exact: true }).fill('3');
      await page.getByRole('spinbutton', { name: 'Sides', exact: true }).fill('6');
      await page.getByRole('spinbutton', { name: 'Again on', exact: true }).fill('6');
      await page.getByRole('button', { name: 'Throw', exact: true }).click();
      const re = '^Throws 3 6-sided dice, throws again on 6: [1-6](, [1-6]){2,}$';
      const seen = [];
      for (const u of lobby) {
        await waitLine(u.page, { type: 'command', from: 'Bob', re });
        seen.push((await readLines(u.page)).filter((l) => l.type === 'command' && l.from === 'Bob')
          .map((l) => l.text).pop());
      }
      assert.equal(new Set(seen).size, 1, `the users saw different throws: ${seen}`);
      // A six is thrown again: every six is followed by another value.
      const values = seen[0].split(': ')[1].split(', ').map(Number);
      assert.notEqual(values[values.length - 1], 6);
      assert.equal(values.filter((v) => v !== 6).length, 3);
    });

    await step('a colour change shows in every user list', async () => {
      const page = carol.page;
      await page.getByLabel('Your color', { exact: true }).fill('#00aa55');
      await page.getByRole('button', { name: 'Change color', exact: true }).click();
      for (const u of lobby) {
        await waitLine(u.page, { type: 'command', from: 'Carol', text: 'Changed color to #00aa55' });
        await until(async () => (await readUsers(u.page)).find((x) => x.name === 'Carol')?.color === rgb('#00aa55'),
          { what: `Carol's new colour in ${u.label}'s user list` });
      }
      carol.color = '#00aa55';
    });

    await step('the typing preview goes over the data channel, not the server',
      { skip: skipNetns || false }, async () => {
        const draft = 'a draft that never leaves the browser 42';
        const field = alice.page.getByRole('textbox', { name: 'Message', exact: true });
        await field.pressSequentially(draft);
        for (const u of [bob, carol]) {
          const li = u.page.locator('#typing li[data-peer="Alice"]');
          await until(async () => (await li.textContent().catch(() => null)) === `Alice is writing: ${draft}`,
            { timeoutMs: 30000, what: `${u.label}'s #typing to show the draft` });
          assert.equal(await u.page.getByRole('list', { name: 'Typing' }).getAttribute('id'), 'typing');
        }
        // It did not go through chat_server: not in what Alice's page sent
        // on its WebSocket, not in the room log, not in websocketd's output.
        assert.ok(!alice.framesSent.some((f) => f.includes('never leaves')),
          'the draft went over the WebSocket');
        assert.ok(alice.framesSent.some((f) => /"type":"signal"/.test(f)), 'Alice signalled');
        assert.ok(!h.log('lobby').join('\n').includes('never leaves'), 'the draft is in the room log');
        assert.ok(!wsd.log().includes('never leaves'));
        // The field emptied: the preview goes.
        await field.fill('');
        for (const u of [bob, carol]) {
          await u.page.locator('#typing li[data-peer="Alice"]').waitFor({ state: 'detached' });
        }
        // A whisper being written shows only to its addressee.
        await field.fill('Bob: only for Bob to watch');
        await until(async () => (await bob.page.locator('#typing li[data-peer="Alice"]').textContent()
          .catch(() => null)) === 'Alice is writing: Bob: only for Bob to watch',
        { what: 'the whisper draft at Bob' });
        // Carol's channel carries '' instead: a following draft shows she
        // would have seen it.
        await field.fill('');
        await field.fill('for everyone again');
        await until(async () => (await carol.page.locator('#typing li[data-peer="Alice"]').textContent()
          .catch(() => null)) === 'Alice is writing: for everyone again', { what: 'the public draft at Carol' });
        assert.ok(!(await carol.page.locator('#typing').textContent()).includes('only for Bob'));
        await field.fill('');
        for (const u of [bob, carol]) {
          await u.page.locator('#typing li[data-peer="Alice"]').waitFor({ state: 'detached' });
        }
      });

    await step('ignoring a user hides their messages for that user only', async () => {
      const toggle = carol.page.getByRole('button', { name: 'Ignore Bob', exact: true });
      await toggle.click();
      assert.equal(await toggle.getAttribute('aria-pressed'), 'true');
      await say(bob.page, 'Bob says something to be ignored');
      await waitLine(alice.page, { type: 'message', from: 'Bob', text: 'Bob says something to be ignored' });
      await say(alice.page, 'Alice after the ignored line');
      await waitLine(carol.page, { type: 'message', from: 'Alice', text: 'Alice after the ignored line' });
      const visible = (await readLines(carol.page)).filter((l) => !l.hidden);
      assert.ok(!visible.some((l) => l.from === 'Bob' && l.type === 'message'),
        `Carol still sees Bob:\n${JSON.stringify(visible, null, 1)}`);
      // Bob and Alice see it.
      await waitLine(bob.page, { type: 'message', from: 'Bob', text: 'Bob says something to be ignored' });
      // Not ignoring any more: Bob's lines are back.
      await toggle.click();
      assert.equal(await toggle.getAttribute('aria-pressed'), 'false');
      await waitLine(carol.page, { type: 'message', from: 'Bob', text: 'Bob says something to be ignored' });
      await say(bob.page, 'Bob heard again');
      await waitLine(carol.page, { type: 'message', from: 'Bob', text: 'Bob heard again' });
    });

    await step('screenshots of the chat, desktop and phone', async (st) => {
      fs.mkdirSync(SHOTS, { recursive: true });
      const desktop = path.join(SHOTS, 'chat-desktop.png');
      await bob.page.setViewportSize(DESKTOP);
      // With the typing preview showing, where it can.
      const aliceField = alice.page.getByRole('textbox', { name: 'Message', exact: true });
      const typing = bob.page.locator('#typing li[data-peer="Alice"]');
      if (!skipNetns) {
        await aliceField.fill('Shall we roll for initiative?');
        await typing.waitFor();
      }
      await bob.page.screenshot({ path: desktop });
      if (!skipNetns) {
        await aliceField.fill('');
        await typing.waitFor({ state: 'detached' });
      }
      st.diagnostic(`screenshot (desktop ${DESKTOP.width}x${DESKTOP.height}): ${desktop}`);

      const dana = await newUser('Dana', { viewport: PHONE, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
      await setName(dana, 'Dana', 'darkorange');
      await openRoom(dana, 'lobby');
      await waitUsers(dana.page, ['Alice', 'Bob', 'Carol', 'Dana']);
      const phone = path.join(SHOTS, 'chat-phone.png');
      await dana.page.screenshot({ path: phone });
      st.diagnostic(`screenshot (phone ${PHONE.width}x${PHONE.height}): ${phone}`);
      // Nothing wider than the phone; the message field and Send in view.
      const overflow = await dana.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 0, `the page is ${overflow} px wider than the phone`);
      await dana.page.getByRole('textbox', { name: 'Message', exact: true }).scrollIntoViewIfNeeded();
      assert.ok(await dana.page.getByRole('button', { name: 'Send', exact: true }).isVisible());
      if (process.env.CHAT_TEST_DOCS_SCREENSHOT === '1') {
        fs.copyFileSync(desktop, path.join(REPO, 'docs', 'screenshot-chat.png'));
        st.diagnostic('copied to docs/screenshot-chat.png');
      }
      await dana.context.close();
      for (const u of lobby) await waitUsers(u.page, ['Alice', 'Bob', 'Carol']);
    });

    await step('Insert image and Insert link take only http(s) addresses, shown in full', async () => {
      const page = bob.page;
      const field = page.getByRole('textbox', { name: 'Message', exact: true });
      await field.fill('see');
      await page.getByRole('button', { name: 'Insert link', exact: true }).click();
      const dialog = page.getByRole('dialog');
      await dialog.waitFor();
      const address = dialog.getByRole('textbox', { name: /Address/ });
      const insert = dialog.getByRole('button', { name: 'Insert', exact: true });
      await address.fill('javascript:window.__pwned=1');
      assert.ok(await insert.isDisabled(), 'a javascript: link can be inserted');
      await address.fill('https://EXAMPLE.org/a b');
      assert.ok(await insert.isEnabled());
      // The full address as it will be inserted, and a warning naming the other site.
      assert.equal(await dialog.locator('output').textContent(), 'https://example.org/a%20b');
      assert.match(await dialog.locator('#url-warning').textContent(), /example\.org/);
      await insert.click();
      await dialog.waitFor({ state: 'hidden' });
      assert.equal(await field.inputValue(), 'see {link}https://example.org/a%20b ');
      // A picture of this site: no warning.
      await page.getByRole('button', { name: 'Insert image', exact: true }).click();
      await address.fill(url('img/smile.svg'));
      assert.ok(await dialog.locator('#url-warning').isHidden());
      await insert.click();
      await page.getByRole('button', { name: 'Insert :-D', exact: true }).click();
      assert.equal(await field.inputValue(), `see {link}https://example.org/a%20b {image}${url('img/smile.svg')} :-D `);
      await page.getByRole('button', { name: 'Send', exact: true }).click();
      for (const u of lobby) {
        await waitLine(u.page, { type: 'message', from: 'Bob',
          text: `see https://example.org/a%20b ${url('img/smile.svg')}  ` });
        const li = u.page.locator('#messages > li[data-from="Bob"]').last();
        assert.equal(await li.locator('a').getAttribute('href'), 'https://example.org/a%20b');
        assert.equal(await li.locator('.image img').getAttribute('src'), url('img/smile.svg'));
        assert.equal(await li.locator('img.emoticon').getAttribute('alt'), ':-D');
      }
    });

    await step('HTML and script in names, colours, messages, pictures and links stay inert', async () => {
      // A room whose log an older program wrote: a hostile colour in its
      // user list and markup in its lines.
      fs.mkdirSync(h.p('rooms'), { recursive: true });
      fs.writeFileSync(h.p('rooms', 'injection.log'), [
        '[09:00:00] Userlist: Mallory:red;background-image:url(https://x/css-injection),' +
          'Eve:"><img src=x onerror=window.__pwned=1>,',
        '[09:00:01] Mallory> <img src=x onerror="window.__pwned=1"> planted',
        '[09:00:02] Eve> planted by Eve',
        '[09:00:03] <b>raw</b><script>window.__pwned=1</script>',
        ''].join('\n'));
      // Names that pass the rule but are HTML if decoded.
      const ent = await newUser('Entity');
      const amp = await newUser('Amp');
      await setName(ent, '&lt;script&gt;', 'red');
      await setName(amp, 'A&amp;B&#60;i&#62;', '#123');
      // The pictures pointed at https://x/ are blocked (confineContext),
      // which Chromium logs.
      for (const u of [ent, amp]) u.watches[0].allow((e) => e.url.startsWith('https://x/'));
      await openRoom(ent, 'injection');
      await openRoom(amp, 'injection');
      for (const u of [ent, amp]) {
        await waitUsers(u.page, ['&lt;script&gt;', 'A&amp;B&#60;i&#62;']);
        const list = await readUsers(u.page);
        for (const x of list) assert.equal(x.shown, x.name, 'a name is shown as written');
        // The planted lines: text, and no colour from the planted list.
        await waitLine(u.page, { type: 'message', from: 'Mallory', text: '<img src=x onerror="window.__pwned=1"> planted' });
        await waitLine(u.page, { type: 'message', from: 'Eve', text: 'planted by Eve' });
        await waitLine(u.page, { re: '^<b>raw</b><script>window.__pwned=1</script>$' });
        const styles = await u.page.locator('#messages li[data-from="Mallory"] .from, #messages li[data-from="Eve"] .from')
          .evaluateAll((els) => els.map((el) => el.getAttribute('style') || ''));
        assert.deepEqual(styles, ['', ''], 'a planted colour reached the style');
      }
      const payloads = [
        ['<img src=x onerror="window.__pwned=1">', '<img src=x onerror="window.__pwned=1">'],
        ['<script>window.__pwned=1</script>', '<script>window.__pwned=1</script>'],
        ['<a href="javascript:window.__pwned=1">click</a>', '<a href="javascript:window.__pwned=1">click</a>'],
        ['&lt;b&gt;not bold&lt;/b&gt; &amp; &#60;i&#62;', '&lt;b&gt;not bold&lt;/b&gt; &amp; &#60;i&#62;'],
        ['{image}javascript:window.__pwned=1', '{image}javascript:window.__pwned=1'],
        ['{link}javascript:window.__pwned=1', '{link}javascript:window.__pwned=1'],
        ['{image}data:image/svg+xml,<svg/onload=window.__pwned=1>', '{image}data:image/svg+xml,<svg/onload=window.__pwned=1>'],
        // An http(s) picture is shown, with its full address beside it,
        // quotes percent-encoded: no attribute to break out of.
        ['{image}https://x/"onerror="window.__pwned=1"', 'https://x/%22onerror=%22window.__pwned=1%22'],
        ['{link}https://x/"onclick="window.__pwned=1"', 'https://x/%22onclick=%22window.__pwned=1%22'],
      ];
      for (const [text] of payloads) await say(ent.page, text);
      for (const u of [ent, amp]) {
        for (const [sent, shown] of payloads) {
          await waitLine(u.page, { type: 'message', from: '&lt;script&gt;', text: shown, live: true })
            .catch((err) => { throw new Error(`${sent}: ${err.message}`); });
        }
        const bad = await u.page.evaluate(() => {
          const out = [];
          for (const el of document.querySelectorAll('#messages *, #users *, #typing *')) {
            for (const a of el.attributes) {
              if (/^on/i.test(a.name)) out.push(`${el.tagName} ${a.name}=${a.value}`);
              if (a.name === 'style' && [...el.style].some((prop) => prop !== 'color')) {
                out.push(`${el.tagName} style=${a.value}`);
              }
            }
            if (/^(SCRIPT|IFRAME|OBJECT|EMBED|SVG|B|I)$/i.test(el.tagName)) out.push(`a ${el.tagName} element`);
            if (el.tagName === 'A' && !/^https?:/.test(el.getAttribute('href'))) out.push(`a link to ${el.getAttribute('href')}`);
            if (el.tagName === 'A' && (el.rel !== 'noopener noreferrer nofollow' || el.target !== '_blank')) {
              out.push(`a link with rel=${el.rel} target=${el.target}`);
            }
            if (el.tagName === 'IMG' && !/^https?:/.test(el.getAttribute('src'))) out.push(`a picture from ${el.getAttribute('src')}`);
          }
          return out;
        });
        assert.deepEqual(bad, [], `${u.label}'s page`);
        const img = u.page.locator('#messages li .text img:not(.emoticon)');
        assert.equal(await img.count(), 1);
        assert.equal(await img.getAttribute('src'), 'https://x/%22onerror=%22window.__pwned=1%22');
        const a = u.page.locator('#messages li .text a');
        assert.equal(await a.count(), 1);
        assert.equal(await a.getAttribute('href'), 'https://x/%22onclick=%22window.__pwned=1%22');
      }
      // The planted colour never reached CSS: nothing was fetched for it.
      for (const u of [ent, amp]) {
        assert.ok(!u.blocked.some((b) => b.includes('css-injection')), `${u.label} fetched ${u.blocked}`);
      }
      // The history page of that room is inert too.
      const hist = await ent.newPage();
      await hist.goto(url('room_history.php?file=injection.log'));
      await hist.getByText('<script>window.__pwned=1</script>', { exact: true }).first().waitFor();
      assert.equal(await hist.locator('main script, main img, main b').count(), 0);
      // Every page of theirs, before they go: not pwned, no errors.
      await checkPages();
      await ent.context.close();
      await amp.context.close();
    });

    await step('the room list shows the live rooms with their members', async () => {
      const page = await alice.newPage();
      // index.php without a room is the room list.
      await page.goto(url('index.php'));
      assert.match(page.url(), /room_list\.php$/);
      const lobbyEntry = page.locator('#live li.room').filter({ has: page.locator('a.room-name', { hasText: /^lobby$/ }) });
      await lobbyEntry.waitFor();
      assert.equal(await lobbyEntry.locator('a.room-name').getAttribute('href'), 'index.php?room=lobby');
      const members = await lobbyEntry.locator('.member').allTextContents();
      assert.deepEqual([...members].sort(), ['Alice', 'Bob', 'Carol']);
      assert.match(await lobbyEntry.textContent(), /Where everybody starts/);
      const stable = page.locator('#stable li.room');
      assert.deepEqual(await stable.locator('a.room-name').allTextContents(), ['quiet-corner']);
      assert.match(await stable.textContent(), /A room nobody is in/);
      // The menu leads to every page.
      for (const name of ['Chat rooms', 'Create room', 'History', 'Your name']) {
        await page.getByRole('navigation', { name: 'Menu' }).getByRole('link', { name, exact: true }).waitFor();
      }
      await page.close();
    });

    await step('the history lists the logs and downloads one', async () => {
      const page = await alice.newPage();
      await page.goto(url('room_list_historical.php'));
      const row = page.locator('tr').filter({ has: page.getByRole('link', { name: 'lobby.log', exact: true }) });
      await row.waitFor();
      assert.match(await row.textContent(), /\d+(\.\d)? (B|kB)/);
      await row.getByRole('link', { name: 'lobby.log', exact: true }).click();
      await page.waitForURL(/room_history\.php\?file=lobby\.log$/);
      await page.getByText('Hello from Alice', { exact: true }).waitFor();
      const shown = await page.locator('main').textContent();
      assert.ok(!shown.includes('back door'), 'the history shows a whisper');
      const [download] = await Promise.all([
        page.waitForEvent('download'),
        page.getByRole('link', { name: 'Download', exact: true }).click(),
      ]);
      assert.equal(download.suggestedFilename(), 'lobby.log');
      const file = await download.path();
      const text = fs.readFileSync(file, 'utf8');
      assert.equal(text, fs.readFileSync(h.p('rooms', 'lobby.log'), 'utf8'));
      assert.match(text, /^\[\d\d:\d\d:\d\d\] Alice> Hello from Alice$/m);
      // Only logs of rooms/ can be read.
      const done = expectHttpErrors(alice, 404, 'room_history.php');
      for (const bad of ['../chat.ini', '/etc/passwd', 'lobby.log/../../chat.ini', '.warden.lock']) {
        const res = await page.goto(url(`room_history.php?file=${encodeURIComponent(bad)}`));
        assert.equal(res.status(), 404, bad);
        assert.ok(!(await page.content()).includes('BASE_DIR'));
      }
      await page.close();
      done();
    });

    await step('room_create opens a new room', async () => {
      const page = await alice.newPage();
      const done = expectHttpErrors(alice, 400, 'room_create.php');
      await page.goto(url('room_create.php'));
      await page.getByRole('textbox', { name: 'Room name', exact: true }).fill('a/b');
      await page.getByRole('button', { name: 'Open the room' }).click();
      await page.getByRole('alert').waitFor();
      await page.getByRole('textbox', { name: 'Room name', exact: true }).fill('Tea room_2');
      await page.getByRole('button', { name: 'Open the room' }).click();
      await page.waitForURL(/index\.php\?room=Tea-room-2$/);
      await waitState(page, /^Connected$/);
      await page.locator('#messages > li.history-end').waitFor();
      assert.equal(await page.locator('#chat').getAttribute('data-room'), 'Tea-room-2');
      await waitUsers(page, ['Alice']);
      await page.close();
      done();
    });

    await step('the chat reconnects when websocketd comes back', async () => {
      // While websocketd is away the browser logs its failed WebSockets.
      const allowances = users.flatMap((u) => u.watches.map((w) => w.allow((e) =>
        /^WebSocket connection to '.*\/chat\/rooms\/[^']*\?proto=json' failed: /.test(e.text))));
      const before = h.log('lobby').length;
      await wsd.stop();
      try {
        for (const u of lobby) await waitState(u.page, /^Reconnecting in \d+ s…$/);
        // The old connections have left the room before the new ones come.
        await until(() => {
          const since = h.log('lobby').slice(before);
          return ['Alice', 'Bob', 'Carol'].every((n) => since.includes(`T ${n} quit the lobby`));
        }, { timeoutMs: WAIT_MS, what: 'the quit lines of the old connections' });
      } finally {
        await wsd.start();
      }
      for (const u of lobby) await waitState(u.page, /^Connected$/, 45000);
      for (const u of lobby) await waitUsers(u.page, ['Alice', 'Bob', 'Carol']);
      await say(alice.page, 'Back after the restart');
      for (const u of lobby) {
        await waitLine(u.page, { type: 'message', from: 'Alice', text: 'Back after the restart', live: true });
      }
      // What was said before is still there once, not twice.
      const lines = await readLines(bob.page);
      assert.equal(lines.filter((l) => l.text === 'Hello from Alice').length, 1);
      allowances.forEach((remove) => remove());
    });

    await step('Disconnect leaves the room, Connect comes back', async () => {
      const button = alice.page.getByRole('button', { name: 'Disconnect', exact: true });
      await button.click();
      await waitState(alice.page, /^Disconnected$/);
      await alice.page.getByRole('button', { name: 'Connect', exact: true }).waitFor();
      for (const u of [bob, carol]) {
        await waitLine(u.page, { type: 'quit', name: 'Alice', live: true });
        await waitUsers(u.page, ['Bob', 'Carol']);
      }
      await alice.page.getByRole('button', { name: 'Connect', exact: true }).click();
      await waitState(alice.page, /^Connected$/);
      for (const u of [bob, carol]) await waitUsers(u.page, ['Alice', 'Bob', 'Carol']);
    });

    // Everything the servers wrote.
    await step('no errors in the servers\' logs', async () => {
      const wlog = wsd.log();
      for (const bad of BAD_STDERR) assert.ok(!wlog.includes(bad), `websocketd's output has ${bad}:\n${wlog}`);
      const warden = h.p('log', 'warden.log');
      const wtext = fs.existsSync(warden) ? fs.readFileSync(warden, 'utf8') : '';
      for (const bad of BAD_STDERR) assert.ok(!wtext.includes(bad), `the warden's log has ${bad}:\n${wtext}`);
      const alog = web.errorLog();
      assert.ok(!/PHP (Warning|Fatal|Notice|Deprecated|Parse)/.test(alog), `Apache's error log:\n${alog}`);
    });
    failed = false;
  } finally {
    failed = failed || stepFailed;
    const errors = [];
    const attempt = async (what, fn) => {
      try {
        await fn();
      } catch (err) {
        errors.push(`${what}: ${err.stack || err}`);
      }
    };
    if (failed && web) t.diagnostic(`Apache's error log:\n${web.errorLog().slice(-4000)}`);
    if (failed && wsd) t.diagnostic(`websocketd's output:\n${wsd.log().slice(-4000)}`);
    await attempt('closing Chromium', () => browser?.close());
    await attempt('stopping Apache', () => web?.stop());
    await attempt('stopping websocketd', () => wsd?.stop());
    await attempt('waiting for the chat_server processes to end', async () => {
      const left = await until(() => {
        const pids = chatServersOf(h.configPath);
        return pids.length === 0 ? [] : null;
      }, { timeoutMs: WAIT_MS, what: () => `chat_server processes ${chatServersOf(h.configPath)} to end` })
        .catch((err) => {
          for (const pid of chatServersOf(h.configPath)) {
            try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
          }
          throw err;
        });
      return left;
    });
    await attempt('removing the network namespace', () => ns?.close());
    await attempt('cleaning up', () => h.cleanup(failed));
    if (errors.length) {
      if (failed) errors.forEach((e) => t.diagnostic(e));
      else throw new Error(errors.join('\n'));
    }
  }
});
