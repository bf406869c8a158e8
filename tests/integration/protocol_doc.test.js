'use strict';
// docs/protocol.md is the specification of both protocols: every JSON
// example in it must be what it says.  Each ```json block holds one object
// per line; a block that follows the comment <!-- client requests --> holds
// requests a client sends, any other block events the server sends.  The
// error codes its table lists are exactly those of include/refusal.h.
// (No chat_server is run here.)
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { test } = require('node:test');

const ROOT = path.resolve(__dirname, '../..');
const DOC = path.join(ROOT, 'docs', 'protocol.md');
const REFUSAL_H = path.join(ROOT, 'include', 'refusal.h');
const CLIENT_MARK = '<!-- client requests -->';
const TIME_RE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$/;

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
const isString = (v) => typeof v === 'string';
const isCount = (v) => Number.isInteger(v) && v >= 0;

// What each server event must have besides type and time.
const EVENTS = {
  welcome: (e) => isString(e.room) && isString(e.name) && isString(e.color) &&
    (!('topic' in e) || isString(e.topic)) &&
    isObject(e.limits) && isCount(e.limits.max_message_bytes) && Array.isArray(e.ice_servers) &&
    e.ice_servers.every((s) => isObject(s) && (isString(s.urls) ||
      (Array.isArray(s.urls) && s.urls.every(isString)))),
  history_end: () => true,
  join: (e) => isString(e.name),
  quit: (e) => isString(e.name),
  users: (e) => Array.isArray(e.users) && e.users.every((u) => isObject(u) && isString(u.name) && isString(u.color)),
  message: (e) => isString(e.from) && isString(e.color) && isString(e.text),
  whisper: (e) => isString(e.from) && isString(e.to) && isString(e.text),
  signal: (e) => isString(e.from) && isObject(e.data),
  command: (e) => isString(e.from) && isString(e.command) && isString(e.text) && isObject(e.result) &&
    (e.command !== 'dice' || Object.keys(e.result).length === 0 ||
      ([e.result.count, e.result.sides, e.result.again].every(isCount) &&
        Array.isArray(e.result.values) && e.result.values.every(isCount))) &&
    (e.command !== 'color' || Object.keys(e.result).length === 0 || isString(e.result.color)),
  notice: (e) => isString(e.from) && isString(e.to),
  kick: (e) => isString(e.from) && isString(e.name) && (!('reason' in e) || isString(e.reason)),
  mute: (e) => isString(e.from) && isString(e.name) && isCount(e.minutes),
  topic: (e) => isString(e.from) && isString(e.text),
  line: (e) => isString(e.text),
  error: (e) => isString(e.code) && isString(e.message),
};

// What each client request must have besides type.
const REQUESTS = {
  message: (r) => isString(r.text),
  whisper: (r) => isString(r.to) && isString(r.text),
  signal: (r) => isString(r.to) && isObject(r.data),
  command: (r) => isString(r.text) && r.text.startsWith('/'),
};

/** The ```json blocks of text: { line, client, objects: [{ line, value }] }. */
function jsonBlocks(text) {
  const lines = text.split('\n');
  const blocks = [];
  for (let i = 0; i < lines.length; i++) {
    const fence = /^(\s*)(`{3,}|~{3,})\s*(\S*)/.exec(lines[i]);
    if (!fence) continue;
    const close = fence[2];
    let end = i + 1;
    while (end < lines.length && !lines[end].trim().startsWith(close)) end++;
    assert.ok(end < lines.length, `docs/protocol.md:${i + 1}: a code block that is never closed`);
    if (fence[3] === 'json') {
      let before = i - 1;
      while (before >= 0 && lines[before].trim() === '') before--;
      const objects = [];
      for (let k = i + 1; k < end; k++) {
        if (lines[k].trim() === '') continue;
        let value;
        try {
          value = JSON.parse(lines[k]);
        } catch (err) {
          assert.fail(`docs/protocol.md:${k + 1}: not JSON (${err.message}): ${lines[k]}`);
        }
        objects.push({ line: k + 1, value });
      }
      blocks.push({ line: i + 1, client: before >= 0 && lines[before].trim() === CLIENT_MARK, objects });
    }
    i = end;
  }
  return blocks;
}

/** The codes of include/refusal.h, from the comment after each REFUSAL_ name. */
function refusalCodes() {
  const text = fs.readFileSync(REFUSAL_H, 'utf8');
  const codes = [...text.matchAll(/^\s*REFUSAL_[A-Z_]+,\s*\/\*\s*"([a-z_]+)"/gm)].map((m) => m[1]);
  assert.ok(codes.length > 0, 'no codes found in include/refusal.h');
  return codes;
}

/** The codes in the first column of the table under "### Error codes". */
function documentedCodes(text) {
  const at = text.indexOf('\n### Error codes\n');
  assert.ok(at >= 0, 'docs/protocol.md has no "### Error codes" section');
  const section = text.slice(at + 1).split(/\n#{1,3} /)[0];
  return [...section.matchAll(/^\| `([a-z_]+)` \|/gm)].map((m) => m[1]);
}

/** GitHub's anchors of the headings of text. */
function anchors(text) {
  return new Set(text.split('\n').filter((l) => /^#{1,6} /.test(l)).map((l) => l
    .replace(/^#+ /, '').trim().toLowerCase()
    .replace(/[^\p{L}\p{N}\- _]/gu, '').replace(/ /g, '-')));
}

const doc = fs.readFileSync(DOC, 'utf8');

test('docs/protocol.md has JSON examples, and every line of them is JSON', () => {
  const blocks = jsonBlocks(doc);
  assert.ok(blocks.length > 0, 'docs/protocol.md has no ```json block');
  assert.ok(blocks.some((b) => b.client), `no ${CLIENT_MARK} block`);
  assert.ok(blocks.some((b) => !b.client), 'no block of server events');
  for (const b of blocks) {
    assert.ok(b.objects.length > 0, `docs/protocol.md:${b.line}: an empty json block`);
  }
});

test('every server event example has a known type, its fields, and an ISO 8601 time with offset', () => {
  const seen = new Set();
  for (const b of jsonBlocks(doc).filter((x) => !x.client)) {
    for (const { line, value: e } of b.objects) {
      const at = `docs/protocol.md:${line}: ${JSON.stringify(e).slice(0, 120)}`;
      assert.ok(isObject(e), `${at}: not an object`);
      assert.ok(isString(e.type), `${at}: no "type"`);
      assert.ok(Object.hasOwn(EVENTS, e.type), `${at}: unknown event type (a client request? mark its block with ${CLIENT_MARK})`);
      assert.ok(isString(e.time) && TIME_RE.test(e.time), `${at}: no ISO 8601 "time" with offset`);
      assert.deepEqual(Object.keys(e).slice(0, 2), ['type', 'time'], `${at}: "type" and "time" come first`);
      assert.ok(!('history' in e) || e.history === true, `${at}: "history" is true or absent`);
      assert.ok(EVENTS[e.type](e), `${at}: fields missing or of the wrong type for ${e.type}`);
      seen.add(e.type);
    }
  }
  assert.deepEqual([...seen].sort(), Object.keys(EVENTS).sort(), 'every event type has an example');
});

test('every client request example has a known type and its fields, and no time', () => {
  const seen = new Set();
  for (const b of jsonBlocks(doc).filter((x) => x.client)) {
    for (const { line, value: r } of b.objects) {
      const at = `docs/protocol.md:${line}: ${JSON.stringify(r).slice(0, 120)}`;
      assert.ok(isObject(r) && isString(r.type), `${at}: not an object with a "type"`);
      assert.ok(Object.hasOwn(REQUESTS, r.type), `${at}: not a request type`);
      assert.ok(!('time' in r), `${at}: a request has no "time"`);
      assert.ok(REQUESTS[r.type](r), `${at}: fields missing or of the wrong type for ${r.type}`);
      seen.add(r.type);
    }
  }
  assert.deepEqual([...seen].sort(), Object.keys(REQUESTS).sort(), 'every request type has an example');
});

test('the error codes documented are exactly those of include/refusal.h', () => {
  const codes = refusalCodes();
  const documented = documentedCodes(doc);
  assert.deepEqual([...documented].sort(), [...codes].sort());
  assert.equal(new Set(documented).size, documented.length, 'a code is listed twice');
  for (const b of jsonBlocks(doc).filter((x) => !x.client)) {
    for (const { line, value: e } of b.objects) {
      if (e.type === 'error') assert.ok(codes.includes(e.code), `docs/protocol.md:${line}: unknown code ${e.code}`);
    }
  }
});

test('every link to a section of docs/protocol.md names one of its headings', () => {
  const have = anchors(doc);
  const links = [...doc.matchAll(/\]\(#([^)]+)\)/g)].map((m) => m[1]);
  assert.ok(links.length > 0);
  for (const l of links) assert.ok(have.has(l), `no heading for #${l}`);
});
