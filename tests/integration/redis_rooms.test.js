'use strict';
// TRANSPORT=redis (issue 15): a room name may hold ':', and the keys of
// one room must never be another's (include/redis_room.h).  Rooms whose
// names extend another's with the suffixes the keys use live side by side,
// each with its own members, lines and lock, while both are busy.
const assert = require('node:assert/strict');
const { after } = require('node:test');
const { chatTest } = require('./harness');
const { RedisServer } = require('./redis');

let shared = null;
after(async () => { if (shared) await shared.cleanup(); });

const ROOMS = ['lobby', 'lobby:q', 'lobby:bytes', 'q', 'new', 's:new', 'lobby:0123456789abcdef'];

chatTest('rooms named like the keys of another keep apart', { ownRedis: true }, async (h) => {
  if (!shared) shared = await RedisServer.start();
  h.addConfig({ TRANSPORT: 'redis', REDIS_URL: `"${shared.unixUrl(0)}"`, REDIS_KEY_PREFIX: 'names:' });
  // The room "lobby:q" locked (by a member of it, say) while joins to
  // "lobby" queue for theirs: neither key is the other.
  await shared.command('SET', 'names:lock:lobby:q', 'another-room', 'PX', '3000');
  const queued = await Promise.all([1, 2, 3, 4].map(() => h.join('lobby')));
  await queued[3].waitFor((l) => l.startsWith('T Userlist: ') && l.split(',').length === 5);
  for (const c of queued) assert.ok(!c.out.some((l) => l.startsWith('T Error: ')), c.describe(20));
  await Promise.all(queued.map((c) => c.close()));
  const pairs = [];
  for (const room of ROOMS) {
    const a = await h.join(room);
    const b = await h.join(room);
    pairs.push({ room, a, b });
  }
  // Everyone at once: joins, whispers and lines in every room.
  const more = await Promise.all(ROOMS.map((room) => h.join(room)));
  for (const [i, { a, b }] of pairs.entries()) {
    a.send(`${b.name}: secret of ${ROOMS[i]}`);
    a.send(`said in ${ROOMS[i]}`);
  }
  for (const [i, { room, a, b }] of pairs.entries()) {
    await b.waitFor(`T ${a.name}> said in ${room}`);
    await b.waitFor(`T ${a.name}> ${b.name}: secret of ${room}`);
    const list = `T Userlist: ${[a.name, b.name, more[i].name].sort().map((n) => `${n}:Gray`).join(',')},`;
    await b.waitFor(list);
    for (const c of [a, b, more[i]]) {
      const foreign = c.out.filter((l) => /said in |secret of /.test(l) && !l.endsWith(` ${room}`));
      assert.deepEqual(foreign, [], `${room}: ${c.name} saw another room's lines`);
      assert.ok(!c.out.some((l) => l.startsWith('T Error: ')), c.describe(20));
    }
  }
  const types = await shared.command('TYPE', 'names:lockq:lobby');
  assert.ok(['list', 'none'].includes(types), `lockq:lobby is a ${types}`);
});
