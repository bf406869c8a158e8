'use strict';
// Whispers and WebRTC signalling reach only their addressee (contract
// section 7, docs: WHISPER_LOG).  Alice and Bob talk; Carol is in the room
// and must receive nothing of it; the room log keeps only what WHISPER_LOG
// says.
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const { chatTest, SANITIZED, WAIT_MS, norm, sleep } = require('./harness');

const ROOM = 'lobby';
const Z = 'zalomeni'; // the old client's "\r\n"

/** An SDP as the old client sends it: every "\r\n" written as zalomeni. */
const sdp = (lines) => lines.join(Z) + Z;

const OFFER_SDP = sdp([
  'v=0', 'o=- 4611731400430051336 2 IN IP4 127.0.0.1', 's=-', 't=0 0',
  'a=group:BUNDLE 0 1', 'a=extmap-allow-mixed', 'a=msid-semantic: WMS 3a1b2c4d',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126', 'c=IN IP4 0.0.0.0',
  'a=rtcp:9 IN IP4 0.0.0.0', 'a=ice-ufrag:sXfD', 'a=ice-pwd:dQ8bW2jB1p3kzLxYq7eN5mVh',
  'a=ice-options:trickle',
  'a=fingerprint:sha-256 6B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:43:F0:A1:58:D0:A1:2C:19:08',
  'a=setup:actpass', 'a=mid:0', 'a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level',
  'a=sendrecv', 'a=msid:3a1b2c4d 9f8e7d6c', 'a=rtcp-mux', 'a=rtpmap:111 opus/48000/2',
  'a=rtcp-fb:111 transport-cc', 'a=fmtp:111 minptime=10;useinbandfec=1',
  'a=ssrc:1001 cname:Xy12abCDef34', 'm=video 9 UDP/TLS/RTP/SAVPF 96 97', 'c=IN IP4 0.0.0.0',
  'a=mid:1', 'a=rtpmap:96 VP8/90000', 'a=rtpmap:97 rtx/90000', 'a=fmtp:97 apt=96',
]);
const ANSWER_SDP = sdp([
  'v=0', 'o=- 8127403551950617245 2 IN IP4 127.0.0.1', 's=-', 't=0 0',
  'a=group:BUNDLE 0 1', 'm=audio 9 UDP/TLS/RTP/SAVPF 111', 'c=IN IP4 0.0.0.0',
  'a=ice-ufrag:Qw9r', 'a=ice-pwd:Zt5uHk2LmN8pRs4vXy6bCd1e',
  'a=fingerprint:sha-256 0A:1B:2C:3D:4E:5F:60:71:82:93:A4:B5:C6:D7:E8:F9:0A:1B:2C:3D:4E:5F:60:71:82:93:A4:B5:C6:D7:E8:F9',
  'a=setup:active', 'a=mid:0', 'a=sendrecv', 'a=rtcp-mux', 'a=rtpmap:111 opus/48000/2',
  'm=video 9 UDP/TLS/RTP/SAVPF 96', 'a=mid:1', 'a=rtpmap:96 VP8/90000',
]);

// Chromium serialises "sdp" first; the old client needs "type" first.
const OFFER = JSON.stringify({ sdp: OFFER_SDP, type: 'offer' });
const OFFER_RELAY = JSON.stringify({ type: 'offer', sdp: OFFER_SDP });
const ANSWER = JSON.stringify({ sdp: ANSWER_SDP, type: 'answer' });
const ANSWER_RELAY = JSON.stringify({ type: 'answer', sdp: ANSWER_SDP });

const CAND_SRFLX = '{"candidate":"candidate:842163049 1 udp 1677729535 203.0.113.5 46154 typ srflx raddr 0.0.0.0 rport 0 generation 0 ufrag sXfD network-cost 999","sdpMid":"0","sdpMLineIndex":0,"usernameFragment":"sXfD"}';
const CAND_HOST = '{"candidate":"candidate:1467250027 1 udp 2122260223 192.168.1.23 51234 typ host generation 0 ufrag sXfD network-id 1","sdpMid":"1","sdpMLineIndex":1,"usernameFragment":"sXfD"}';
const CAND_BOB = '{"candidate":"candidate:3016592413 1 tcp 1518280447 198.51.100.7 9 typ host tcptype active generation 0 ufrag Qw9r network-id 1","sdpMid":"0","sdpMLineIndex":0,"usernameFragment":"Qw9r"}';
// Spacing and key order as a hand-written client might send them: relayed as is.
const CAND_ODD = '{ "sdpMLineIndex" : 0, "candidate" : "candidate:9 1 udp 1 10.0.0.9 9 typ host", "sdpMid" : "0" }';

/** Strings of the exchanges below that no third party may ever receive. */
const SECRETS = ['key is under the mat', 'see you at eight', 'zalomeni', 'v=0',
  '4611731400430051336', '8127403551950617245', 'ice-pwd', 'sXfD', 'Qw9r',
  'candidate:', '203.0.113.5', '192.168.1.23', '198.51.100.7', 'sdpMid', 'fingerprint'];

const COLORS = { Alice: '#ff0000', Bob: '#00f', Carol: '#0a0', Dave: '#123', Zed: 'Gray' };

async function member(h, name, opts = {}) {
  return h.join(ROOM, { cookie: h.session(`s-${name}`, `${name}:${COLORS[name] || 'Gray'}`),
    label: name, ...opts });
}

const userlist = (...names) => `T Userlist: ${names.map((n) => `${n}:${COLORS[n] || 'Gray'}`).join(',')},`;

/** Alice, Bob and Carol in the room, each having seen all three. */
async function trio(h) {
  const alice = await member(h, 'Alice');
  const bob = await member(h, 'Bob');
  const carol = await member(h, 'Carol');
  const all = userlist('Alice', 'Bob', 'Carol');
  await Promise.all([alice, bob, carol].map((c) => c.waitFor(all)));
  return { alice, bob, carol };
}

let markers = 0;
/**
 * sender says an ordinary line; resolves once every client shows it, so
 * that whatever was sent before has had every chance to arrive.  Returns the
 * line as shown.
 */
async function settle(sender, clients) {
  const line = `T ${sender.name}> marker ${++markers}`;
  const from = clients.map((c) => c.lines.length);
  sender.send(line.slice(`T ${sender.name}> `.length));
  await Promise.all(clients.map((c, i) => c.waitFor(line, undefined, { from: from[i] })));
  return line;
}

/** c's lines from index from up to (without) the marker line. */
function between(c, from, marker) {
  const out = c.out.slice(from);
  const i = out.indexOf(marker);
  assert.ok(i >= 0, `${c.label} has no ${marker}\n${c.describe()}`);
  return out.slice(0, i);
}

/** Sends line as from and waits until to shows want. */
async function deliver(from, line, to, want) {
  const start = to.lines.length;
  from.send(line);
  return to.waitFor(want, undefined, { from: start });
}

function logBytes(h) {
  h.awaitArchived(ROOM); // with Redis, the archiver's copy
  const f = h.p('rooms', `${ROOM}.log`);
  return fs.existsSync(f) ? fs.readFileSync(f) : Buffer.alloc(0);
}

/** No secret occurs in bytes (a Buffer); what names the bytes in messages. */
function assertNoSecrets(bytes, what, secrets = SECRETS) {
  for (const s of secrets) {
    assert.ok(!bytes.includes(Buffer.from(s)),
      `${what} contains ${JSON.stringify(s)}:\n${bytes.toString('utf8').slice(-3000)}`);
  }
}

const count = (lines, line) => lines.filter((l) => l === line).length;

// Whispers and room lines travel apart (files: the inbox and the log;
// Redis: a private stream and the room's), yet one sender's lines must
// reach a member in the order they were sent, even when the member finds
// both waiting at once.
chatTest('whispers, then a line to the room: a member that was stopped meanwhile sees them in that order', async (h) => {
  const { alice, bob, carol } = await trio(h);
  const from = bob.lines.length;
  bob.child.kill('SIGSTOP');
  try {
    alice.child.stdin.write('Bob: first\nBob: second\nto everyone\n');
    await carol.waitFor('T Alice> to everyone');
    await alice.waitFor('T Alice> Bob: second');
    await sleep(200); // Bob's announcements and inbox fill in the meantime
  } finally {
    bob.child.kill('SIGCONT');
  }
  await bob.waitFor('T Alice> to everyone', undefined, { from });
  assert.deepEqual(bob.out.slice(from).filter((l) => l.startsWith('T Alice> ')),
    ['T Alice> Bob: first', 'T Alice> Bob: second', 'T Alice> to everyone']);
});

chatTest('a whisper and a whole offer/answer/candidate exchange reach only the two parties', async (h) => {
  const { alice, bob, carol } = await trio(h);
  const from = [alice, bob, carol].map((c) => c.lines.length);
  const logFrom = h.log(ROOM).length;

  const w1 = 'T Alice> Bob: psst, the key is under the mat';
  await deliver(alice, 'Bob: psst, the key is under the mat', bob, w1);
  await alice.waitFor(w1, undefined, { from: from[0] });
  const w2 = 'T Bob> Alice: thanks, see you at eight';
  await deliver(bob, 'Alice: thanks, see you at eight', alice, w2);
  await bob.waitFor(w2, undefined, { from: from[1] });

  const offerLine = `T Alice> Bob: ${OFFER_RELAY}`;
  await deliver(alice, `Bob: ${OFFER}`, bob, offerLine);
  const answerLine = `T Bob> Alice: ${ANSWER_RELAY}`;
  await deliver(bob, `Alice: ${ANSWER}`, alice, answerLine);
  const aliceCands = [CAND_SRFLX, CAND_HOST, CAND_ODD];
  for (const cand of aliceCands) await deliver(alice, `Bob: ${cand}`, bob, `T Alice> Bob: ${cand}`);
  await deliver(bob, `Alice: ${CAND_BOB}`, alice, `T Bob> Alice: ${CAND_BOB}`);

  const m = await settle(alice, [alice, bob, carol]);

  // Exactly the legacy lines, each once; the sender of signalling gets no echo.
  assert.deepEqual(between(alice, from[0], m), [w1, w2, answerLine, `T Bob> Alice: ${CAND_BOB}`]);
  assert.deepEqual(between(bob, from[1], m),
    [w1, w2, offerLine, ...aliceCands.map((c) => `T Alice> Bob: ${c}`)]);
  assert.deepEqual(between(carol, from[2], m), []);

  // The offer as relayed: type first, the old client's substring, same value.
  const relayed = between(bob, from[1], m)[2].slice('T Alice> Bob: '.length);
  assert.ok(relayed.includes('"type":"offer","sdp":'), relayed.slice(0, 80));
  assert.deepEqual(JSON.parse(relayed), JSON.parse(OFFER));
  assert.deepEqual(Object.keys(JSON.parse(relayed)), ['type', 'sdp']);
  const relayedAnswer = between(alice, from[0], m)[2].slice('T Bob> Alice: '.length);
  assert.ok(relayedAnswer.includes('"type":"answer","sdp":'));
  assert.deepEqual(JSON.parse(relayedAnswer), JSON.parse(ANSWER));

  // Candidates byte for byte, odd spacing included.
  for (const cand of aliceCands) {
    assert.ok(bob.bytes.includes(Buffer.from(`> Bob: ${cand}\n`)), cand);
  }
  assert.ok(alice.bytes.includes(Buffer.from(`> Alice: ${CAND_BOB}\n`)));

  // Nothing of it in Carol's bytes or the log (default WHISPER_LOG=none).
  assertNoSecrets(carol.bytes, "Carol's stdout");
  assertNoSecrets(logBytes(h), 'the room log');
  assert.deepEqual(h.log(ROOM).slice(logFrom), [m]);
});

chatTest('descriptions keep extra keys after type and sdp, and non-ASCII and "/" unescaped', async (h) => {
  const { alice, bob, carol } = await trio(h);
  const from = carol.lines.length;
  const sdpText = sdp(['v=0', 's=Železná hospoda – 会议', 'm=audio 9 UDP/TLS/RTP/SAVPF 111',
    'a=rtpmap:111 opus/48000/2']);
  const sent = JSON.stringify({ sdp: sdpText, 'x-room': 'lobby/ž', type: 'answer', seq: 3, extra: { a: [1, null] } });
  const want = JSON.stringify({ type: 'answer', sdp: sdpText, 'x-room': 'lobby/ž', seq: 3, extra: { a: [1, null] } });
  const line = await deliver(alice, `Bob: ${sent}`, bob, (l) => l.startsWith('T Alice> Bob: '));
  assert.equal(line, `T Alice> Bob: ${want}`);
  assert.ok(bob.bytes.includes(Buffer.from(`> Bob: ${want}\n`)));
  assert.deepEqual(JSON.parse(line.slice('T Alice> Bob: '.length)), JSON.parse(sent));

  // An offer already in the old order is relayed the same.
  await deliver(alice, `Bob: ${OFFER_RELAY}`, bob, `T Alice> Bob: ${OFFER_RELAY}`);
  const m = await settle(alice, [alice, bob, carol]);
  assert.deepEqual(between(carol, from, m), []);
  assertNoSecrets(carol.bytes, "Carol's stdout", ['Železná', 'opus', 'x-room', 'v=0']);
});

chatTest('WHISPER_LOG=notice logs only "<from> whispers something to <target>"', { config: { WHISPER_LOG: 'notice' } }, async (h) => {
  const { alice, bob, carol } = await trio(h);
  const from = [alice, bob, carol].map((c) => c.lines.length);
  const logFrom = h.log(ROOM).length;
  const notice = 'T Alice whispers something to Bob';

  const w = 'T Alice> Bob: psst, the key is under the mat';
  await deliver(alice, 'Bob: psst, the key is under the mat', bob, w);
  // Signalling is never logged, not even as a notice.
  await deliver(alice, `Bob: ${OFFER}`, bob, `T Alice> Bob: ${OFFER_RELAY}`);
  await deliver(alice, `Bob: ${CAND_SRFLX}`, bob, `T Alice> Bob: ${CAND_SRFLX}`);
  const m = await settle(alice, [alice, bob, carol]);

  assert.deepEqual(h.log(ROOM).slice(logFrom), [notice, m]);
  assertNoSecrets(logBytes(h), 'the room log');
  // Carol sees the notice (it is a room log line) and nothing else.
  assert.deepEqual(between(carol, from[2], m), [notice]);
  assertNoSecrets(carol.bytes, "Carol's stdout");
  assert.equal(count(between(alice, from[0], m), w), 1);
  assert.equal(count(between(bob, from[1], m), w), 1);
});

chatTest('WHISPER_LOG=full archives the whisper line, yet no third party ever sees it', { config: { WHISPER_LOG: 'full' } }, async (h) => {
  const { alice, bob, carol } = await trio(h);
  const from = [alice, bob, carol].map((c) => c.lines.length);
  const logFrom = h.log(ROOM).length;

  const w1 = 'T Alice> Bob: psst, the key is under the mat';
  await deliver(alice, 'Bob: psst, the key is under the mat', bob, w1);
  const w2 = 'T Bob> Alice: thanks, see you at eight';
  await deliver(bob, 'Alice: thanks, see you at eight', alice, w2);
  await deliver(alice, `Bob: ${OFFER}`, bob, `T Alice> Bob: ${OFFER_RELAY}`);
  await deliver(bob, `Alice: ${CAND_BOB}`, alice, `T Bob> Alice: ${CAND_BOB}`);
  // Shaped like a whisper to nobody present: an ordinary line, shown to all.
  const zed = 'T Alice> Zed: anyone there?';
  alice.send('Zed: anyone there?');
  await carol.waitFor(zed, undefined, { from: from[2] });
  const m = await settle(alice, [alice, bob, carol]);

  // The log keeps the whisper lines (and only them: no signalling).
  assert.deepEqual(h.log(ROOM).slice(logFrom), [w1, w2, zed, m]);
  assert.ok(!logBytes(h).includes(Buffer.from('zalomeni')));
  assert.ok(!logBytes(h).includes(Buffer.from('candidate:')));
  // Carol saw none of it live; the parties saw each whisper once, not twice.
  assert.deepEqual(between(carol, from[2], m), [zed]);
  assertNoSecrets(carol.bytes, "Carol's stdout");
  assert.deepEqual(between(alice, from[0], m), [w1, w2, `T Bob> Alice: ${CAND_BOB}`, zed]);
  assert.deepEqual(between(bob, from[1], m), [w1, w2, `T Alice> Bob: ${OFFER_RELAY}`, zed]);

  // Dave joins later: his history replay holds the room lines, not the whispers.
  const dave = await member(h, 'Dave');
  await dave.waitFor(userlist('Alice', 'Bob', 'Carol', 'Dave'));
  await settle(alice, [alice, bob, carol, dave]);
  assert.ok(dave.out.includes(zed), dave.describe(30));
  assert.ok(dave.out.includes(m), dave.describe(30));
  assert.equal(dave.out.indexOf(w1), -1, dave.describe(30));
  assert.equal(dave.out.indexOf(w2), -1, dave.describe(30));
  assertNoSecrets(dave.bytes, "Dave's stdout");

  // And live, with four in the room.
  const fromDave = dave.lines.length;
  const fromCarol = carol.lines.length;
  const w3 = 'T Bob> Alice: one more';
  await deliver(bob, 'Alice: one more', alice, w3);
  const m3 = await settle(alice, [alice, bob, carol, dave]);
  assert.deepEqual(between(dave, fromDave, m3), []);
  assert.deepEqual(between(carol, fromCarol, m3), []);
  assert.equal(h.log(ROOM).filter((l) => l === w3).length, 1);
});

// A member is present (presence file claimed, inbox bound) a moment before
// his join and user list lines are logged.  Holding the auth log's append
// lock (flock(1), util-linux) keeps Dave's join in that moment.
// The files transport itself (inbox sockets and the auth log lock): not run on Redis.
chatTest('WHISPER_LOG=full: a whisper to a member who is still joining is not shown to others', { transport: 'files', config: { WHISPER_LOG: 'full' } }, async (h, t) => {
  if (spawnSync('flock', ['-V']).error) {
    t.skip('flock(1) is not installed');
    return;
  }
  const { alice, bob, carol } = await trio(h);
  const from = [alice, bob, carol].map((c) => c.lines.length);
  const release = await h.holdFileLock(h.p('log', 'authentization.log'));
  try {
    const dave = h.spawn(`/${ROOM}`, { cookie: h.session('s-Dave', 'Dave:#123'), label: 'Dave' });
    dave.name = 'Dave';
    const deadline = Date.now() + WAIT_MS;
    const inboxes = () => fs.readdirSync(h.p('run')).filter((n) => n.startsWith('inbox-')).length;
    while (!(fs.existsSync(h.p('users', `${ROOM}_Dave`)) && inboxes() === 4)) {
      assert.ok(Date.now() < deadline, 'Dave did not claim his name');
      await sleep(5);
    }
    alice.send('Dave: psst, the key is under the mat');
    await sleep(SANITIZED ? 600 : 300);
    await release();
    const w = 'T Alice> Dave: psst, the key is under the mat';
    await dave.waitFor(w);
    await dave.waitFor(userlist('Alice', 'Bob', 'Carol', 'Dave'));
    const m = await settle(alice, [alice, bob, carol, dave]);
    assert.equal(count(dave.out, w), 1, dave.describe(30));
    assert.equal(count(between(alice, from[0], m), w), 1);
    assert.equal(count(between(bob, from[1], m), w), 0);
    assert.equal(count(between(carol, from[2], m), w), 0);
    assertNoSecrets(carol.bytes, "Carol's stdout");
    assertNoSecrets(bob.bytes, "Bob's stdout");
  } finally {
    await release();
  }
});

chatTest('whisper-shaped lines that are not whispers, and whispers to oneself', async (h) => {
  const { alice, bob, carol } = await trio(h);
  const from = [alice, bob, carol].map((c) => c.lines.length);
  const logFrom = h.log(ROOM).length;

  // Zed is not in the room: an ordinary message, logged, for everyone.
  const zed = 'T Alice> Zed: hi';
  alice.send('Zed: hi');
  // The first word is "Bob:no-space", not "Bob:".
  const nospace = 'T Alice> Bob:no-space';
  alice.send('Bob:no-space');
  await Promise.all([alice, bob, carol].map((c, i) => c.waitFor(nospace, undefined, { from: from[i] })));
  // To oneself: delivered once, to oneself only.
  const self = 'T Alice> Alice: note to self';
  await deliver(alice, 'Alice: note to self', alice, self);
  // An empty whisper is still a whisper.
  const empty = 'T Alice> Bob:';
  await deliver(alice, 'Bob:', bob, empty);
  const m = await settle(alice, [alice, bob, carol]);

  assert.deepEqual(h.log(ROOM).slice(logFrom), [zed, nospace, m]);
  assert.deepEqual(between(carol, from[2], m), [zed, nospace]);
  assert.deepEqual(between(bob, from[1], m), [zed, nospace, empty]);
  assert.deepEqual(between(alice, from[0], m), [zed, nospace, self, empty]);
  assertNoSecrets(carol.bytes, "Carol's stdout", ['note to self']);
  assertNoSecrets(bob.bytes, "Bob's stdout", ['note to self']);
});

const MALFORMED = [
  '{"type":"offer"}',
  '{nope',
  '{"type":"offer","sdp":["v=0zalomeni"]}',
  '{"type":"pranswer","sdp":"v=0zalomeni"}',
  '{"candidate":42,"sdpMid":"0"}',
  '{"type":"offer","sdp":"v=0zalomeni"} {"candidate":"candidate:1"}',
  '{"type":"offer","type":"answer","sdp":"v=0zalomeni"}',
  '{}',
];

/** An offer of exactly n bytes of JSON. */
function offerOfSize(n) {
  const head = '{"type":"offer","sdp":"v=0zalomeni';
  const tail = '"}';
  return head + 'a'.repeat(n - head.length - tail.length) + tail;
}

/** Sends payloads to Bob one by one; each must give Alice one error and nobody anything. */
async function expectRefused(h, { alice, bob, carol }, payloads, match) {
  for (const p of payloads) {
    const from = [alice, bob, carol].map((c) => c.lines.length);
    const logBefore = logBytes(h);
    alice.send(`Bob: ${p}`);
    await alice.waitFor(/^T Error: /, undefined, { from: from[0] });
    const m = await settle(alice, [alice, bob, carol]);
    const shown = between(alice, from[0], m);
    const what = `payload ${JSON.stringify(p.slice(0, 80))} (${p.length} bytes)`;
    assert.equal(shown.length, 1, `${what}: ${JSON.stringify(shown)}`);
    assert.match(shown[0], match, what);
    assert.deepEqual(between(bob, from[1], m), [], what);
    assert.deepEqual(between(carol, from[2], m), [], what);
    // The log grew by the marker alone.
    const now = logBytes(h);
    assert.ok(now.subarray(0, logBefore.length).equals(logBefore), what);
    const added = now.subarray(logBefore.length).toString('utf8').split('\n').slice(0, -1).map(norm);
    assert.deepEqual(added, [m], what);
  }
}

chatTest('malformed signalling gives the sender an error and reaches nobody', async (h) => {
  const t = await trio(h);
  await expectRefused(h, t, MALFORMED, /^T Error: .*signalling/);
  assertNoSecrets(t.carol.bytes, "Carol's stdout", ['zalomeni', 'nope', 'pranswer']);
  assertNoSecrets(t.bob.bytes, "Bob's stdout", ['zalomeni', 'nope', 'pranswer']);
});

chatTest('signalling over 64 KiB gives the sender an error and reaches nobody', async (h) => {
  const t = await trio(h);
  const { alice, bob, carol } = t;
  // At the limit it is delivered.
  const at = offerOfSize(64 * 1024);
  assert.equal(at.length, 65536);
  const from = carol.lines.length;
  await deliver(alice, `Bob: ${at}`, bob, `T Alice> Bob: ${at}`);
  // One byte over, and far over (but still one input line).
  await expectRefused(h, t, [offerOfSize(64 * 1024 + 1), `{"candidate":"${'c'.repeat(66000)}","sdpMid":"0"}`],
    /^T Error: .*signalling.*64 KiB/);
  // Over the input line limit: refused as too long, the next line still works.
  await expectRefused(h, t, [offerOfSize(200 * 1024)], /^T Error: /);
  const m = await settle(alice, [alice, bob, carol]);
  assert.deepEqual(between(carol, from, m).filter((l) => !l.startsWith('T Alice> marker ')), []);
  assertNoSecrets(carol.bytes, "Carol's stdout", ['zalomeni', 'aaaaaaaa', 'cccccccc']);
  assertNoSecrets(logBytes(h), 'the room log', ['zalomeni', 'aaaaaaaa', 'cccccccc']);
});

// Not an object, so not signalling (signalling.h: text that starts with '{'):
// an ordinary whisper, which is private all the same.
chatTest('a JSON array is not signalling but an ordinary, private whisper', async (h) => {
  const { alice, bob, carol } = await trio(h);
  const from = [alice, bob, carol].map((c) => c.lines.length);
  const text = '[{"type":"offer","sdp":"v=0zalomeni"}]';
  const w = `T Alice> Bob: ${text}`;
  await deliver(alice, `Bob: ${text}`, bob, w);
  const m = await settle(alice, [alice, bob, carol]);
  assert.deepEqual(between(alice, from[0], m), [w]);
  assert.deepEqual(between(bob, from[1], m), [w]);
  assert.deepEqual(between(carol, from[2], m), []);
  assertNoSecrets(logBytes(h), 'the room log', ['zalomeni']);
});

chatTest('a whisper to someone who has quit is not delivered to a later namesake', async (h) => {
  const { alice, bob, carol } = await trio(h);
  assert.equal(await bob.close(), 0);
  await alice.waitFor(userlist('Alice', 'Carol'));
  const from = alice.lines.length;
  const err = 'T Error: Bob has left the room; message not delivered';
  const ordinary = 'T Alice> Bob: late';
  alice.send('Bob: late');
  const got = await alice.waitFor((l) => l === err || l === ordinary, undefined, { from });
  const log = h.log(ROOM);
  const at = log.indexOf(ordinary);
  if (got === ordinary) {
    // An ordinary line, because Bob was not present: the log says so first.
    assert.ok(at >= 0);
    const lists = log.slice(0, at).filter((l) => l.startsWith('T Userlist: '));
    assert.equal(lists.at(-1), userlist('Alice', 'Carol'));
  } else {
    assert.equal(at, -1);
  }
  const bob2 = await member(h, 'Bob');
  assert.equal(bob2.name, 'Bob');
  await bob2.waitFor(userlist('Alice', 'Bob', 'Carol'));
  const m = await settle(alice, [alice, carol, bob2]);
  // History replay may show the ordinary line; nothing arrives for him live.
  const own = bob2.out.lastIndexOf('T Bob joined the lobby');
  assert.ok(own >= 0);
  assert.equal(bob2.out.slice(own).filter((l) => l.includes('late')).length, 0, bob2.describe(30));
  if (got === err) assert.equal(bob2.out.filter((l) => l.includes('late')).length, 0);
  assert.deepEqual(between(carol, carol.out.indexOf(userlist('Alice', 'Carol')), m)
    .filter((l) => l.includes('late')), got === err ? [] : [ordinary]);
});

/** Bob dies unseen: his presence file and inbox socket stay behind. */
async function killBob(h) {
  await h.holdReaper(); // else the warden or the archiver counts Bob out at once
  const t = await trio(h);
  t.bob.kill('SIGKILL');
  await t.bob.exited;
  // With Redis, users/ is the archiver's mirror: reading it lets it run.
  if (!h.redis) assert.ok(fs.existsSync(h.p('users', `${ROOM}_Bob`)));
  return t;
}

for (const mode of ['none', 'full']) {
  chatTest(`WHISPER_LOG=${mode}: a whisper to a SIGKILLed member is not delivered to anyone as a whisper`, { config: { WHISPER_LOG: mode } }, async (h) => {
    const { alice, carol } = await killBob(h);
    const from = [alice, carol].map((c) => c.lines.length);
    alice.send('Bob: after kill');
    // The sender hears something: an error, or her line in the room.
    await alice.waitFor((l) => l.startsWith('T Error: ') || l === 'T Alice> Bob: after kill',
      undefined, { from: from[0] });
    const m = await settle(alice, [alice, carol]);
    const log = h.log(ROOM);
    const at = log.indexOf('T Alice> Bob: after kill');
    if (at >= 0 && mode === 'full') {
      // Published as an ordinary line: followers that hold back whispers
      // must see a user list without Bob first.
      const lists = log.slice(0, at).filter((l) => l.startsWith('T Userlist: '));
      assert.equal(lists.at(-1), userlist('Alice', 'Carol'), log.join('\n'));
    }
    const bob2 = await member(h, 'Bob');
    assert.equal(bob2.name, 'Bob');
    await bob2.waitFor(userlist('Alice', 'Bob', 'Carol'));
    await settle(alice, [alice, carol, bob2]);
    const own = bob2.out.lastIndexOf('T Bob joined the lobby');
    assert.equal(bob2.out.slice(own).filter((l) => l.includes('after kill')).length, 0, bob2.describe(30));
    // Carol sees it only as an ordinary room line, if it became one.
    assert.equal(between(carol, from[1], m).filter((l) => l.includes('after kill')).length,
      at >= 0 ? 1 : 0);
  });
}

// Alice still sees Bob in the user list (nobody has listed the room since
// he died), so for her this is a whisper: its text must not be published.
chatTest('a whisper to a SIGKILLed member is refused, not published to the room', async (h) => {
  const { alice, carol } = await killBob(h);
  const from = [alice, carol].map((c) => c.lines.length);
  alice.send('Bob: after kill');
  const got = await alice.waitFor((l) => l.startsWith('T Error: ') || l.includes('after kill'),
    undefined, { from: from[0] });
  const m = await settle(alice, [alice, carol]);
  const bob2 = await member(h, 'Bob');
  await bob2.waitFor(userlist('Alice', 'Bob', 'Carol'));
  await settle(alice, [alice, carol, bob2]);
  assert.equal(got, 'T Error: Bob has left the room; message not delivered');
  // Carol may learn that Bob is gone (his quit, logged in his place by
  // whoever finds him dead, and a new user list), nothing more.
  const gone = ['T Bob quit the lobby', userlist('Alice', 'Carol')];
  assert.deepEqual(between(carol, from[1], m).filter((l) => !gone.includes(l)), []);
  assertNoSecrets(logBytes(h), 'the room log', ['after kill']);
  assertNoSecrets(carol.bytes, "Carol's stdout", ['after kill']);
  assertNoSecrets(bob2.bytes, "the new Bob's stdout", ['after kill']);
});

// WebRTC peers trickle ICE candidates both ways at once; a host with a few
// interfaces and both IP families has a score of them.
chatTest('both parties sending bursts of candidates at once all arrive', async (h) => {
  const { alice, bob, carol } = await trio(h);
  const N = 20;
  const cand = (who, i) => `{"candidate":"candidate:${i} 1 udp 2122260223 10.0.${who}.${i} 5${String(i).padStart(4, '0')} typ host","sdpMid":"0","sdpMLineIndex":0}`;
  const from = [alice, bob, carol].map((c) => c.lines.length);
  // One write each: the lines reach both processes together.
  alice.child.stdin.write(Array.from({ length: N }, (_, i) => `Bob: ${cand(1, i)}\n`).join(''));
  bob.child.stdin.write(Array.from({ length: N }, (_, i) => `Alice: ${cand(2, i)}\n`).join(''));
  await bob.waitFor((l) => l === `T Alice> Bob: ${cand(1, N - 1)}` || l.startsWith('T Error: '),
    3 * WAIT_MS, { from: from[1] });
  await alice.waitFor((l) => l === `T Bob> Alice: ${cand(2, N - 1)}` || l.startsWith('T Error: '),
    3 * WAIT_MS, { from: from[0] });
  const m = await settle(alice, [alice, bob, carol]);
  assert.deepEqual(between(bob, from[1], m), Array.from({ length: N }, (_, i) => `T Alice> Bob: ${cand(1, i)}`));
  assert.deepEqual(between(alice, from[0], m), Array.from({ length: N }, (_, i) => `T Bob> Alice: ${cand(2, i)}`));
  assert.deepEqual(between(carol, from[2], m), []);
});

// A browser that stops reading (a laptop lid closed mid-session) fills its
// connection's queues, then its inbox.  Whispers to it are refused after a
// bounded wait; that wait must never be spent holding the room lock, which
// every join, quit and archived whisper needs (WHISPER_LOG=full).  Carol
// keeps whispering to Zed, so that one whisper after another waits on him,
// while the others chat, join and quit.
chatTest('WHISPER_LOG=full: a member who stops reading delays nobody else', { config: { WHISPER_LOG: 'full' } }, async (h) => {
  const { alice, bob, carol } = await trio(h);
  const zed = await member(h, 'Zed');
  const four = userlist('Alice', 'Bob', 'Carol', 'Zed');
  await Promise.all([alice, bob, carol, zed].map((c) => c.waitFor(four)));
  zed.child.stdout.pause();

  // Some 1.5 MiB for Zed: his pipe, his queue and his inbox fill up, and
  // then every further whisper waits for him.  (From this host: no flood
  // limit.)
  const NOT_KEEPING_UP = 'T Error: Zed is not keeping up; message not delivered';
  const pad = 's'.repeat(4000);
  const whispers = 400;
  carol.child.stdin.write(Array.from({ length: whispers }, (_, i) => `Zed: ${i} ${pad}\n`).join(''));
  await carol.waitFor(NOT_KEEPING_UP, 4 * WAIT_MS);

  // Carol still has a long queue of whispers, each waiting up to a second
  // for Zed.  Meanwhile Bob says 30 lines, each once the last has arrived,
  // and Dave comes and goes: all of it in the usual wait for one line, not
  // a whisper's wait for each.
  const t0 = Date.now();
  for (let i = 1; i <= 30; i++) {
    const from = alice.lines.length;
    bob.send(`still here ${i}`);
    await alice.waitFor(`T Bob> still here ${i}`, undefined, { from });
  }
  const dave = await member(h, 'Dave');
  await alice.waitFor(userlist('Alice', 'Bob', 'Carol', 'Dave', 'Zed'));
  assert.equal(await dave.close(), 0);
  await alice.waitFor('T Dave quit the lobby');
  await bob.waitFor(four, undefined, { from: bob.out.lastIndexOf('T Dave quit the lobby') });
  const elapsed = Date.now() - t0;
  const refused = carol.out.filter((l) => l === NOT_KEEPING_UP).length;
  h.t.diagnostic(`30 lines, a join and a quit in ${elapsed} ms while Carol's ` +
    `whispers wait for Zed (${refused} refused so far)`);
  assert.ok(refused < whispers - 30, 'Carol ran out of whispers: the test proved nothing');
  assert.ok(elapsed < WAIT_MS, `30 lines, a join and a quit took ${elapsed} ms`);
  assert.deepEqual(bob.out.filter((l) => l.startsWith('T Error:')), []);

  // Zed reads again: what Carol has left goes through, and nobody but Zed
  // and Carol saw any of it.
  zed.child.stdout.resume();
  const m = await settle(alice, [alice, bob, zed]);
  assert.ok(!alice.out.some((l) => l.startsWith('T Carol> Zed: ')), alice.describe());
  assert.ok(!bob.out.some((l) => l.startsWith('T Carol> Zed: ')), bob.describe());
  assert.ok(zed.out.includes(`T Carol> Zed: 0 ${pad}`));
  assert.ok(zed.out.includes(m));
});

/** utime + stime of pid in clock ticks, CPU nanoseconds and voluntary switches. */
function cpu(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(f[11]) + Number(f[12]); // fields 14 and 15
  let ns = NaN;
  try { ns = Number(fs.readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[0]); } catch { /* no schedstat */ }
  const sw = /voluntary_ctxt_switches:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return { ticks, ns, switches: sw ? Number(sw[1]) : NaN };
}

chatTest('bystanders stay idle while two members exchange 500 signalling messages (measurement)', async (h, t) => {
  const alice = await member(h, 'Alice');
  const bob = await member(h, 'Bob');
  const names = ['Kim', 'Lee', 'Max', 'Ned', 'Oda', 'Pia', 'Quin', 'Rex'];
  const bystanders = [];
  for (const n of names) bystanders.push(await member(h, n));
  const everyone = [alice, bob, ...bystanders];
  const full = userlist(...['Alice', 'Bob', ...names].sort());
  await Promise.all(everyone.map((c) => c.waitFor(full)));
  await settle(alice, everyone);
  await sleep(200); // let every process go back to sleep

  const TOTAL = 500;
  const BATCH = 10; // each way per batch (the kernel queues at least 10 datagrams)
  const cand = (who, i) => `{"candidate":"candidate:${i} 1 udp 1677729535 203.0.${who}.${i % 250} ${40000 + i} typ srflx raddr 0.0.0.0 rport 0 generation 0 ufrag sXfD","sdpMid":"0","sdpMLineIndex":0,"usernameFragment":"sXfD"}`;
  const from = everyone.map((c) => c.lines.length);
  const before = everyone.map((c) => cpu(c.pid));
  const started = process.hrtime.bigint();
  for (let sent = 0; sent < TOTAL; sent += 2 * BATCH) {
    const toBob = [];
    const toAlice = [];
    for (let i = sent; i < sent + BATCH; i++) toBob.push(cand(1, i));
    for (let i = sent + BATCH; i < sent + 2 * BATCH; i++) toAlice.push(cand(2, i));
    const fb = bob.lines.length;
    const fa = alice.lines.length;
    alice.child.stdin.write(toBob.map((c) => `Bob: ${c}\n`).join(''));
    bob.child.stdin.write(toAlice.map((c) => `Alice: ${c}\n`).join(''));
    await bob.waitFor(`T Alice> Bob: ${toBob.at(-1)}`, undefined, { from: fb });
    await alice.waitFor(`T Bob> Alice: ${toAlice.at(-1)}`, undefined, { from: fa });
  }
  const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
  const after = everyone.map((c) => cpu(c.pid));
  const m = await settle(alice, everyone);

  const rows = everyone.map((c, i) => {
    const d = {
      ticks: after[i].ticks - before[i].ticks,
      ns: after[i].ns - before[i].ns,
      switches: after[i].switches - before[i].switches,
    };
    return `  ${c.name.padEnd(6)} ${i < 2 ? 'party    ' : 'bystander'} ` +
      `ticks ${String(d.ticks).padStart(4)}  cpu ${(d.ns / 1e6).toFixed(2).padStart(8)} ms  ` +
      `wakeups ${String(d.switches).padStart(5)}`;
  });
  const table = `bystander CPU ticks during ${TOTAL} signalling messages ` +
    `(${elapsedMs.toFixed(0)} ms, ${SANITIZED ? 'sanitized build' : 'release build'}):\n${rows.join('\n')}`;
  for (const line of table.split('\n')) t.diagnostic(line);

  // The functional O(1) property: bystanders received nothing at all.
  for (const [i, c] of bystanders.entries()) {
    assert.deepEqual(between(c, from[i + 2], m), [], c.label);
  }
  // And the parties got everything, without errors.
  assert.equal(between(bob, from[1], m).length, TOTAL / 2);
  assert.equal(between(alice, from[0], m).length, TOTAL / 2);
  assert.ok(between(alice, from[0], m).every((l) => l.startsWith('T Bob> Alice: {"candidate"')));
});
