'use strict';
// /dice, /color and unknown commands (contract section 6).
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { chatTest, SANITIZED } = require('./harness');

async function alice(h) {
  const a = await h.join('lobby', { cookie: h.session('a', 'Alice:#ff0000') });
  await a.waitFor('T Userlist: Alice:#ff0000,');
  return a;
}

/** Sends line and waits for the next stdout line matching match. */
async function ask(c, line, match) {
  const from = c.lines.length;
  c.send(line);
  return c.waitFor(match, undefined, { from });
}

const values = (s) => s.split(', ').map(Number);

chatTest('/dice 2 6 7 throws two dice', async (h) => {
  const a = await alice(h);
  const l = await ask(a, '/dice 2 6 7', /^T Alice>  Throws/);
  const m = /^T Alice>  Throws 2 6-sided dice, throws again on 7: ([1-6]), ([1-6])$/.exec(l);
  assert.ok(m, l);
  assert.equal(h.log('lobby').at(-1), l);
});

chatTest('/dice error sentences', async (h) => {
  const a = await alice(h);
  assert.equal(await ask(a, '/dice x 6 6', /^T Alice>  /),
    'T Alice>  Bad dice syntax, input is not numeric');
  assert.equal(await ask(a, '/dice 1', /^T Alice>  /),
    'T Alice>  Bad dice syntax, usage: /dice dice_count number_of_dice_sides target_number_for_throw_again');
  assert.equal(await ask(a, '/dice', /^T Alice>  /),
    'T Alice>  Bad dice syntax, usage: /dice dice_count number_of_dice_sides target_number_for_throw_again');
});

chatTest('/dice over 100 throws only 100', async (h) => {
  const a = await alice(h);
  const l = await ask(a, '/dice 101 6 7', /^T Alice>  /);
  const prefix = 'T Alice>  Max dice number is grater than 100 throwing only first 100 dice.' +
    ' Throws 100 6-sided dice, throws again on 7: ';
  assert.ok(l.startsWith(prefix), l);
  const v = values(l.slice(prefix.length));
  assert.equal(v.length, 100);
  for (const x of v) assert.ok(Number.isInteger(x) && x >= 1 && x <= 6, l);
});

chatTest('/dice explodes: a die at or above the target is thrown again', async (h) => {
  const a = await alice(h);
  let sawExtra = false;
  for (let i = 0; i < 5; i++) {
    const l = await ask(a, '/dice 20 6 4', /^T Alice>  /);
    const prefix = 'T Alice>  Throws 20 6-sided dice, throws again on 4: ';
    assert.ok(l.startsWith(prefix), l);
    const v = values(l.slice(prefix.length));
    for (const x of v) assert.ok(Number.isInteger(x) && x >= 1 && x <= 6, l);
    // Every die ends with a value below the target, and only then.
    assert.equal(v.filter((x) => x < 4).length, 20, l);
    assert.ok(v.at(-1) < 4, l);
    if (v.length > 20) sawExtra = true;
  }
  assert.ok(sawExtra, 'no die was ever thrown again (probability 2^-100)');
});

chatTest('/dice with 0 sides does not throw and does not crash', async (h) => {
  const a = await alice(h);
  const from = a.lines.length;
  a.send('/dice 2 0 7');
  a.send('marker');
  await a.waitFor('T Alice> marker', undefined, { from });
  const between = a.out.slice(from, a.out.indexOf('T Alice> marker', from));
  assert.equal(between.length, 1, `expected one answer: ${JSON.stringify(between)}`);
  assert.doesNotMatch(between[0], /Throws 2 0-sided dice, throws again on 7: /);
});

chatTest('/dice is uniform: chi-square over 60 000 throws', { timeout: SANITIZED ? 600000 : 240000 }, async (h) => {
  const a = await alice(h);
  const counts = [0, 0, 0, 0, 0, 0];
  const re = /^T Alice>  Throws 100 6-sided dice, throws again on 7: (.*)$/;
  const batch = 20;
  let seen = 0;
  let from = a.lines.length;
  for (let sent = 0; sent < 600; sent += batch) {
    for (let i = 0; i < batch; i++) a.send('/dice 100 6 7');
    let got = 0;
    while (got < batch) {
      await a.waitFor(re, undefined, { from });
      for (; from < a.lines.length; from++) {
        const m = re.exec(a.out[from]);
        if (!m) continue;
        const v = values(m[1]);
        assert.equal(v.length, 100);
        for (const x of v) {
          assert.ok(Number.isInteger(x) && x >= 1 && x <= 6, m[0]);
          counts[x - 1]++;
        }
        got++;
      }
    }
    seen += got;
  }
  assert.equal(seen, 600);
  const n = 60000;
  const e = n / 6;
  const chi2 = counts.reduce((s, c) => s + (c - e) ** 2 / e, 0);
  for (const c of counts) assert.ok(c > 0);
  assert.ok(chi2 < 25, `chi-square ${chi2.toFixed(2)} for counts ${counts.join(' ')}`);
});

chatTest('/color changes the colour, the presence file and the user list', async (h) => {
  const a = await alice(h);
  const bob = await h.join('lobby', { cookie: h.session('b', 'Bob:#00f') });
  await a.waitFor('T Userlist: Alice:#ff0000,Bob:#00f,');
  await bob.waitFor('T Userlist: Alice:#ff0000,Bob:#00f,'); // his history is in
  const n = h.log('lobby').length;
  const bobFrom = bob.lines.length;
  a.send('/color #00ff00');
  await bob.waitFor('T Alice>  Changed color to #00ff00', undefined, { from: bobFrom });
  // The user list with the new colour comes first, then the result (legacy
  // contract section 6, as amended): in the log, and so to every member.
  const lines = [
    'T Userlist: Alice:#00ff00,Bob:#00f,',
    'T Alice>  Changed color to #00ff00',
  ];
  assert.deepEqual(h.log('lobby').slice(n), lines);
  assert.deepEqual(bob.out.slice(bobFrom), lines);
  assert.equal(fs.readFileSync(h.p('users', 'lobby_Alice'), 'utf8'), '#00ff00\n');

  await ask(a, '/color red', 'T Alice>  Changed color to red');
  const from = a.lines.length;
  a.send('/color #abc');
  await a.waitFor('T Alice>  Changed color to #abc', undefined, { from });
  assert.deepEqual(a.out.slice(from),
    ['T Userlist: Alice:#abc,Bob:#00f,', 'T Alice>  Changed color to #abc']);
  assert.equal(fs.readFileSync(h.p('users', 'lobby_Alice'), 'utf8'), '#abc\n');
});

chatTest('/color without argument', async (h) => {
  const a = await alice(h);
  assert.equal(await ask(a, '/color', /^T Alice>  /), 'T Alice>  Not changed color, missing color number');
  assert.equal(fs.readFileSync(h.p('users', 'lobby_Alice'), 'utf8'), '#ff0000\n');
});

for (const bad of ['red;background:url(x)', '#12345g', 'expression(alert(1))', '#ff0000"><b>']) {
  chatTest(`/color ${bad} is refused to the sender only`, async (h) => {
    const a = await alice(h);
    const bob = await h.join('lobby', { cookie: h.session('b', 'Bob:#00f') });
    await a.waitFor('T Userlist: Alice:#ff0000,Bob:#00f,');
    await bob.waitFor('T Userlist: Alice:#ff0000,Bob:#00f,');
    const logBefore = h.log('lobby');
    const bobFrom = bob.lines.length;
    const aFrom = a.lines.length;
    a.send(`/color ${bad}`);
    await a.waitFor(/^T Error: /, undefined, { from: aFrom });
    a.send('after');
    await bob.waitFor('T Alice> after', undefined, { from: bobFrom });
    assert.deepEqual(bob.out.slice(bobFrom), ['T Alice> after'], 'Bob saw something of the refused command');
    assert.deepEqual(h.log('lobby'), [...logBefore, 'T Alice> after']);
    assert.equal(fs.readFileSync(h.p('users', 'lobby_Alice'), 'utf8'), '#ff0000\n');
  });
}

chatTest('unknown command', async (h) => {
  const a = await alice(h);
  assert.equal(await ask(a, '/foo bar', /^T Alice>  /), 'T Alice>  unknown command /foo bar');
  assert.equal(h.log('lobby').at(-1), 'T Alice>  unknown command /foo bar');
});
