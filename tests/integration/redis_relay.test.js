'use strict';
// The host's relay (src/archive_relay.c, docs/scale-out.md "The relay"):
// `chat_server --archive` runs it beside itself, one Redis client that
// holds the subscriptions of every member of the host and hands each
// message on, on RUN_DIR/archive/relay, in the bytes Redis would have
// sent.  Spoken to here as a member speaks to it, in RESP over the Unix
// socket, and compared with a subscriber of Redis itself.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const net = require('node:net');
const { before, after } = require('node:test');
const { chatTest, WAIT_MS, sleep, until } = require('./harness');
const { RedisServer, encodeCommand, parseReply } = require('./redis');

let redis;
before(async () => { redis = await RedisServer.start(); });
after(async () => { if (redis) await redis.cleanup(); });

let prefixes = 0;
/** TRANSPORT=redis for h, with a key prefix of its own; the prefix. */
function useRedis(h) {
  prefixes += 1;
  const prefix = `rl${prefixes}:`;
  h.addConfig({ TRANSPORT: 'redis', REDIS_URL: redis.url(), REDIS_KEY_PREFIX: prefix });
  return prefix;
}

/**
 * One connection as a member makes it (or to Redis itself, to compare):
 * the bytes it received (raw), its replies and pushes parsed in order.
 */
class Peer {
  static async connect(address) {
    const p = new Peer();
    p.sock = net.connect(address);
    p.raw = Buffer.alloc(0);
    p.pos = 0;
    p.values = [];
    p.closed = false;
    await new Promise((resolve, reject) => {
      p.sock.once('connect', resolve);
      p.sock.once('error', reject);
    });
    p.sock.on('error', () => {});
    p.sock.on('close', () => { p.closed = true; });
    p.sock.on('data', (d) => {
      p.raw = Buffer.concat([p.raw, d]);
      for (let r; (r = parseReply(p.raw, p.pos, true));) {
        p.values.push(r.value);
        p.pos = r.pos;
      }
    });
    return p;
  }

  send(...args) { this.sock.write(encodeCommand(args)); }

  /** The n-th value received (0-based), once it came. */
  async value(n, what = `value ${n}`) {
    await until(what, () => this.values.length > n || this.closed);
    assert.ok(this.values.length > n, `${what}: the connection closed after ${this.values.length}`);
    return this.values[n];
  }

  close() { this.sock.destroy(); }
}

const str = (v) => (Buffer.isBuffer(v) ? v.toString('utf8') : v);
const texts = (v) => (Array.isArray(v) ? v.map(str) : str(v));

function relayPath(h) { return h.p('run', 'archive', 'relay'); }

/** The archiver, and the relay once it answers PING. */
async function startRelay(h) {
  const a = h.spawn(undefined, { args: ['--archive'], label: 'archiver' });
  await until('the relay answers', async () => {
    if (!fs.existsSync(relayPath(h))) return false;
    try {
      const p = await Peer.connect({ path: relayPath(h) });
      p.send('PING');
      const v = await Promise.race([p.value(0), sleep(500)]);
      p.close();
      return v === 'PONG';
    } catch { return false; }
  });
  return a;
}

/** SIGTERM: the archiver stops its relay, which removes its socket, and
 *  ends with status 0. */
async function stopArchiver(a, h) {
  a.kill('SIGTERM');
  assert.equal(await a.waitExit(), 0, a.describe());
  assert.ok(!fs.existsSync(relayPath(h)), 'the relay\'s socket is gone');
}

/** A member of the relay subscribed to channels, confirmations read. */
async function member(h, ...channels) {
  const p = await Peer.connect({ path: relayPath(h) });
  p.send('SUBSCRIBE', ...channels);
  for (let i = 0; i < channels.length; i++) {
    assert.deepEqual(texts(await p.value(i, 'a confirmation')), ['subscribe', channels[i], i + 1]);
  }
  return p;
}

async function numsub(channel) {
  const r = await redis.command('PUBSUB', 'NUMSUB', channel);
  return Number(r[1]);
}

chatTest('the relay hands a channel\'s messages to every member, in the bytes Redis sends, through one client', { ownRedis: true }, async (h) => {
  const prefix = useRedis(h);
  const a = await startRelay(h);
  const room = `${prefix}chan:lobby`;
  const priv = (i) => `${prefix}pchan:lobby:${String(i).padStart(16, '0')}`;
  // What a member asks before it subscribes: the relay's own client, and
  // the server's INFO (its run).
  const asker = await Peer.connect({ path: relayPath(h) });
  asker.send('CLIENT', 'ID');
  asker.send('INFO', 'server');
  const id = await asker.value(0);
  const info = str(await asker.value(1));
  const list = await redis.command('CLIENT', 'LIST', 'ID', String(id));
  assert.match(list, /cmd=subscribe|cmd=client|cmd=info/, `client ${id} is the relay's:\n${list}`);
  const runId = /run_id:(\w+)/.exec(await redis.command('INFO', 'server'))[1];
  assert.match(info, new RegExp(`run_id:${runId}`));
  asker.close();

  const members = [];
  for (let i = 0; i < 20; i++) members.push(await member(h, room, priv(i)));
  const direct = await Peer.connect({ port: redis.port, host: '127.0.0.1' });
  direct.send('SUBSCRIBE', room);
  await direct.value(0);
  assert.equal(await numsub(room), 2, 'the relay and the direct subscriber');
  assert.equal(await numsub(priv(3)), 1);

  const payloads = ['0-1 0-2 [10:00:00] Ann> hi\n', Buffer.from('caf\u00e9 \r\n*3\r\n$7\r\n \u{1F600}'),
    'x'.repeat(70000), ''];
  for (const p of payloads) await redis.command('PUBLISH', room, p);
  await redis.command('PUBLISH', priv(3), '');
  // Redis's own bytes for the room's messages, past its confirmation.
  await until('the direct subscriber has them', () => direct.values.length === 1 + payloads.length);
  const directBytes = direct.raw.subarray(parseReply(direct.raw, 0, true).pos);
  for (const [i, m] of members.entries()) {
    const want = 2 + payloads.length + (i === 3 ? 1 : 0);
    await until(`member ${i} has its messages`, () => m.values.length === want);
    const start = parseReply(m.raw, parseReply(m.raw, 0, true).pos, true).pos;
    const bytes = m.raw.subarray(start);
    if (i === 3) {
      const last = m.values.at(-1);
      assert.deepEqual(texts(last), ['message', priv(3), '']);
      assert.ok(bytes.subarray(0, directBytes.length).equals(directBytes), 'the same bytes as from Redis');
    } else {
      assert.ok(bytes.equals(directBytes), `member ${i}: the same bytes as from Redis`);
    }
  }
  // Members leave: their channels are unsubscribed once nobody is left.
  for (const m of members.slice(1)) m.close();
  await until('the private channels of those gone are let go', async () => await numsub(priv(5)) === 0);
  assert.equal(await numsub(room), 2);
  members[0].close();
  await until('the room\'s channel is let go', async () => await numsub(room) === 1);
  direct.close();
  await stopArchiver(a, h);
});

chatTest('a member that does not read is not waited for: it gets the last message held back when it reads', { ownRedis: true }, async (h) => {
  const prefix = useRedis(h);
  const a = await startRelay(h);
  const room = `${prefix}chan:big`;
  const slow = await member(h, room, `${prefix}pchan:big:slow`);
  const quick = await member(h, room, `${prefix}pchan:big:quick`);
  slow.sock.pause();
  const N = 3000;
  const body = 'y'.repeat(1000);
  for (let i = 0; i < N; i++) await redis.command('PUBLISH', room, `${i} ${body}`);
  await redis.command('PUBLISH', `${prefix}pchan:big:slow`, '');
  await until('the quick member has every message', () => quick.values.length === 2 + N);
  const seqs = (p) => p.values.slice(2).filter((v) => str(v[1]) === room).map((v) => Number(str(v[2]).split(' ')[0]));
  assert.deepEqual(seqs(quick), [...Array(N).keys()]);
  slow.sock.resume();
  await until('the slow member has the last one', () => seqs(slow).at(-1) === N - 1);
  const got = seqs(slow);
  assert.ok(got.length < N, `some were held back (${got.length} of ${N} came)`);
  assert.ok(got.every((s, i) => i === 0 || s > got[i - 1]), 'in order');
  assert.ok(slow.values.some((v) => Array.isArray(v) && str(v[1]) === `${prefix}pchan:big:slow`),
    'its private message came too');
  slow.close();
  quick.close();
  await stopArchiver(a, h);
});

chatTest('Redis restarted: the relay disconnects its members, and serves them again once it is back', { ownRedis: true }, async (h) => {
  const prefix = useRedis(h);
  const a = await startRelay(h);
  const room = `${prefix}chan:r`;
  const m = await member(h, room);
  await redis.kill();
  await until('the member is disconnected', () => m.closed);
  const early = await Peer.connect({ path: relayPath(h) });
  await until('a newcomer is turned away while Redis is down', () => early.closed);
  await redis.start();
  await a.waitForStderr(/relay: Redis unreachable: [^\n]*\n[^]*relay: Redis reachable again/, 4 * WAIT_MS);
  const again = await member(h, room);
  await redis.command('PUBLISH', room, 'back');
  assert.deepEqual(texts(await again.value(1)), ['message', room, 'back']);
  again.close();
  await stopArchiver(a, h);
});

chatTest('the archiver killed: its relay\'s members are disconnected at once, and the next archiver serves them', { ownRedis: true }, async (h) => {
  const prefix = useRedis(h);
  const a = await startRelay(h);
  const m = await member(h, `${prefix}chan:k`);
  a.child.kill('SIGKILL');
  a.sigkilled = true;
  await until('the member is disconnected', () => m.closed);
  // The socket file is left behind, and nobody listens on it: a member
  // that tries is refused at once (it takes a Redis client of its own).
  await assert.rejects(Peer.connect({ path: relayPath(h) }), /ECONNREFUSED/);
  const b = await startRelay(h);
  const again = await member(h, `${prefix}chan:k`);
  await redis.command('PUBLISH', `${prefix}chan:k`, 'served again');
  assert.deepEqual(texts(await again.value(1)), ['message', `${prefix}chan:k`, 'served again']);
  again.close();
  await stopArchiver(b, h);
});

chatTest('what a member may ask: errors for the rest, and one that misbehaves is dropped alone', { ownRedis: true }, async (h) => {
  const prefix = useRedis(h);
  const a = await startRelay(h);
  const ok = await member(h, `${prefix}chan:m`);
  const p = await Peer.connect({ path: relayPath(h) });
  p.send('GET', 'x');
  assert.match(str((await p.value(0)).message), /only CLIENT ID, CLIENT SETNAME, INFO, PING, SELECT and SUBSCRIBE/);
  p.send('SUBSCRIBE', 'a', 'b', 'c', 'd', 'e');
  assert.match(str((await p.value(1)).message), /one SUBSCRIBE of 1 to 4 channels/);
  p.send('SUBSCRIBE', `${prefix}chan:m`);
  await p.value(2);
  p.send('PING');
  await until('speaking once subscribed ends it', () => p.closed);
  const junk = await Peer.connect({ path: relayPath(h) });
  junk.sock.write('!not resp\r\n');
  await until('bytes that are not RESP end it', () => junk.closed);
  const big = await Peer.connect({ path: relayPath(h) });
  big.sock.write(`*2\r\n$9\r\nSUBSCRIBE\r\n$100000\r\n${'z'.repeat(8000)}`);
  await until('a request too long ends it', () => big.closed);
  await redis.command('PUBLISH', `${prefix}chan:m`, 'still');
  assert.deepEqual(texts(await ok.value(1)), ['message', `${prefix}chan:m`, 'still']);
  ok.close();
  await stopArchiver(a, h);
});
