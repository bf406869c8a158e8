#!/usr/bin/env node
'use strict';
// bench/summary.js: what bench/run.sh measured, as a verdict or a page.
//
//   node bench/summary.js --check RESULTS.jsonl
//       One line per run; exit 1 when a run did not complete, a line was
//       not delivered or was delivered twice, or (JSON clients) an event
//       carried a measured line's token but was not its message.  Never
//       looks at a time.
//   node bench/summary.js --write RESULTS.jsonl META.json
//       Writes docs/benchmarks.md (tables of absolute figures and the
//       ratios chat_server / floor and chat_server / cat, the fan-out of
//       small rooms against a single-process Node server, and the JSON
//       protocol against the legacy one) and, with gnuplot,
//       bench/fanout.png.  The hand-written part of the page,
//       between the analysis markers, is kept from the page as it was.
//   node bench/summary.js --write-section callgrind RESULTS.jsonl META.json
//       Rewrites only the section "JSON protocol: instructions per
//       delivered line (callgrind)" of docs/benchmarks.md, from a run of `bench/run.sh callgrind`; the rest of
//       the page stays as the last full run wrote it (the section says
//       which run its figures are from).
//   node bench/summary.js --write-section redis|scale RESULTS.jsonl META.json
//       The same for section "Redis transport (issue 15)" (from `bench/run.sh
//       redis`) or "The file transport at scale (issue 15)" (`bench/run.sh
//       scale`), and their rows of the targets table.

const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const ROOT = path.resolve(__dirname, '..');
const DOC = path.join(ROOT, 'docs', 'benchmarks.md');
const PNG = path.join(ROOT, 'bench', 'fanout.png');
const A_START = '<!-- analysis:start (kept by bench/summary.js) -->';
const A_END = '<!-- analysis:end -->';
const TARGETS_HEAD = '## Targets of issues 6, 11 and 15';

function readRuns(file) {
  return fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

function delivered(r) {
  return r.delivery_ratio === undefined || r.delivery_ratio === 1;
}

/** Every line right: delivered once each, and (JSON clients) no event that
 *  carried a measured line's token without being its message. */
function clean(r) {
  return delivered(r) && !r.duplicates && !r.mismatched;
}

function check(file) {
  const runs = readRuns(file);
  let bad = 0;
  for (const r of runs) {
    if (r.skipped) {
      console.log(`skip ${r.scenario} ${r.variant} ${r.options || ''}: ${r.skipped}`);
      continue;
    }
    const ok = r.completed === true && clean(r);
    if (!ok) bad++;
    console.log(`${ok ? 'ok  ' : 'FAIL'} ${r.scenario} ${r.variant} ${r.options || ''}` +
      `${r.error ? ` (${r.error})` : ''}` +
      `${delivered(r) ? '' : ` delivery ratio ${r.delivery_ratio}`}` +
      `${r.duplicates ? ` ${r.duplicates} duplicates` : ''}` +
      `${r.mismatched ? ` ${r.mismatched} events with a token that were not its message` : ''}`);
  }
  if (!runs.length) { console.log('FAIL no runs'); bad++; }
  console.log(bad ? `bench-smoke: ${bad} run(s) failed` : `bench-smoke: all ${runs.length} runs completed, every line delivered`);
  return bad;
}

// ---------------------------------------------------------------- rounds

function percentiles(values) {
  const v = Float64Array.from(values).sort();
  const at = (q) => (v.length ? v[Math.min(v.length - 1, Math.ceil(q * v.length) - 1)] : null);
  let sum = 0;
  for (const x of v) sum += x;
  return { samples: v.length, p50: at(0.5), p95: at(0.95), p99: at(0.99),
    max: v.length ? v[v.length - 1] : null, mean: v.length ? sum / v.length : null };
}

const sum = (rs, k) => rs.reduce((a, r) => a + (r[k] || 0), 0);

function median(xs) {
  const v = xs.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (!v.length) return null;
  const h = Math.floor(v.length / 2);
  return v.length % 2 ? v[h] : (v[h - 1] + v[h]) / 2;
}

/** JSON / legacy CPU per delivered line of one chat_server_mix round. */
function mixRatio(r) {
  const per = (ns, n) => (n ? ns / n : null);
  return ratio(per(r.cpu_ns_json, r.delivered_json), per(r.cpu_ns_legacy, r.delivered_legacy));
}

/** chat_server_mix rounds: the halves' CPU and deliveries summed, their
 *  latencies pooled, and each round's ratio kept for the median. */
function mergeMix(m, ok) {
  for (const k of ['messages', 'expected', 'delivered', 'duplicates', 'cpu_ns_legacy', 'cpu_ns_json',
    'delivered_legacy', 'delivered_json']) m[k] = sum(ok, k);
  m.mismatched = sum(ok, 'mismatched');
  m.delivery_ratio = m.expected ? m.delivered / m.expected : 0;
  m.cpu_us_per_delivered_legacy = m.delivered_legacy ? m.cpu_ns_legacy / m.delivered_legacy / 1e3 : null;
  m.cpu_us_per_delivered_json = m.delivered_json ? m.cpu_ns_json / m.delivered_json / 1e3 : null;
  m.latency_legacy = percentiles(ok.flatMap((r) => r.latency_samples_legacy || []));
  m.latency_json = percentiles(ok.flatMap((r) => r.latency_samples_json || []));
  m.round_ratios = ok.map(mixRatio);
  m.ratio_median = median(m.round_ratios);
  m.setup_s = ok.length ? sum(ok, 'setup_s') / ok.length : null;
}

/** One result per variant, scenario and options: the rounds of a run (the
 *  variants took turns between them) pooled, samples and all. */
function mergeRounds(runs) {
  const groups = new Map();
  for (const r of runs) {
    const key = `${r.variant}|${r.scenario}|${r.options || ''}|${r.skipped ? 'skip' : ''}`;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(r);
  }
  const out = [];
  for (const rs of groups.values()) {
    const ok = rs.filter((r) => r.completed);
    const m = { ...(ok[0] || rs[0]), rounds: rs.length };
    const bad = rs.filter((r) => !r.skipped && !r.completed);
    if (bad.length) {
      m.completed = false;
      m.error = [...new Set(bad.map((r) => r.error || 'did not complete'))].join('; ');
      if (bad.length < rs.length) m.error += ` (${bad.length} of ${rs.length} rounds)`;
    }
    if (m.variant === 'chat_server_mix' && !m.skipped) {
      mergeMix(m, ok);
      out.push(m);
      continue;
    }
    if (rs.length === 1 || !ok.length || m.skipped) { out.push(m); continue; }
    const pool = (k) => ok.flatMap((r) => r[k] || []);
    if (m.scenario === 'join') {
      m.join_ms = percentiles(pool('join_samples'));
      m.joins = sum(ok, 'joins');
      m.cpu_ms_per_join = sum(ok, 'cpu_ns') / m.joins / 1e6;
      m.websocketd_cpu_ms_per_join = sum(ok, 'websocketd_cpu_ns') / m.joins / 1e6;
    } else if (m.scenario === 'echo') {
      m.echo_ms = percentiles(pool('echo_samples'));
      m.messages = sum(ok, 'messages');
      m.delivered = sum(ok, 'delivered');
      m.delivery_ratio = m.delivered / m.messages;
    } else if (m.scenario === 'fanout') {
      m.latency_ms = percentiles(pool('latency_samples'));
      for (const k of ['messages', 'expected', 'delivered', 'duplicates']) m[k] = sum(ok, k);
      if (m.mismatched !== undefined) m.mismatched = sum(ok, 'mismatched');
      m.delivery_ratio = m.delivered / m.expected;
      m.cpu_us_per_delivered = sum(ok, 'cpu_ns') / m.delivered / 1e3;
      m.cpu_us_per_message = sum(ok, 'cpu_ns') / m.messages / 1e3;
      m.websocketd_cpu_us_per_delivered = sum(ok, 'websocketd_cpu_ns') / m.delivered / 1e3;
      m.cpu_ns = sum(ok, 'cpu_ns');
      if (rs.some((r) => r.busy_refusals !== undefined)) m.busy_refusals = sum(rs, 'busy_refusals');
      m.websocketd_cpu_ns = sum(ok, 'websocketd_cpu_ns');
      m.setup_s = sum(ok, 'setup_s') / ok.length;
      // The Redis variants: redis-server's and the archivers' CPU, the
      // Redis commands, and (two hosts) the samples of each host.
      if (ok.some((r) => r.extra_cpu_ns)) {
        m.extra_cpu_ns = {};
        for (const r of ok) {
          for (const [k, v] of Object.entries(r.extra_cpu_ns || {})) m.extra_cpu_ns[k] = (m.extra_cpu_ns[k] || 0) + v;
        }
      }
      if (ok.some((r) => r.redis_commands)) {
        m.redis_commands = {};
        for (const r of ok) {
          for (const [k, v] of Object.entries(r.redis_commands || {})) {
            const c = m.redis_commands[k] || (m.redis_commands[k] = { calls: 0, usec: 0 });
            c.calls += v.calls;
            c.usec += v.usec;
          }
        }
      }
      if (ok.some((r) => r.latency_samples_by_host)) {
        m.latency_samples_by_host = ok[0].latency_samples_by_host.map((_, h) =>
          ok.flatMap((r) => (r.latency_samples_by_host || [])[h] || []));
      }
    } else if (m.scenario === 'burst') {
      for (const k of ['expected', 'delivered', 'duplicates', 'seconds']) m[k] = sum(ok, k);
      m.messages_per_sender = sum(ok, 'messages_per_sender');
      m.delivery_ratio = m.delivered / m.expected;
      m.delivered_per_s = m.delivered / m.seconds;
      m.messages_per_s = m.delivered_per_s / m.senders;
      m.cpu_us_per_delivered = sum(ok, 'cpu_ns') / m.delivered / 1e3;
      m.cpu_us_per_message = m.cpu_us_per_delivered * m.senders;
      // Latencies of a burst are queueing times: the mean of the rounds.
      m.latency_ms = { p50: sum(ok.map((r) => r.latency_ms), 'p50') / ok.length,
        p99: sum(ok.map((r) => r.latency_ms), 'p99') / ok.length };
    }
    out.push(m);
  }
  return out;
}

// ---------------------------------------------------------------- page

const fmt = (x, digits = 2) => {
  if (x === null || x === undefined || Number.isNaN(x)) return '–';
  if (typeof x !== 'number') return String(x);
  if (x === 0) return '0';
  const a = Math.abs(x);
  if (a >= 100) return x.toFixed(0);
  if (a >= 10) return x.toFixed(1);
  return x.toFixed(digits);
};
const ratio = (a, b) => (typeof a === 'number' && typeof b === 'number' && b > 0 ? a / b : null);
const fmtRatio = (r) => (r === null ? '–' : `${r.toFixed(2)}×`);
const verdict = (r, limit) => (r === null ? '–' : r <= limit ? 'met' : '**not met**');

function table(head, rows) {
  const line = (cells) => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

class Results {
  /** runs: one per variant, scenario and options (rounds merged); raw:
   *  every round as it was run. */
  constructor(runs, raw = runs) { this.runs = runs; this.raw = raw; }

  get(variant, scenario, pred = () => true) {
    return this.runs.find((r) => r.variant === variant && r.scenario === scenario && pred(r));
  }

  all(variant, scenario) {
    return this.runs.filter((r) => r.variant === variant && r.scenario === scenario);
  }
}

/** A status cell for runs that are missing, skipped or incomplete. */
function status(r) {
  if (!r) return 'not run';
  if (r.skipped) return `skipped: ${r.skipped}`;
  if (!r.completed) return `did not complete${r.error ? `: ${r.error}` : ''}`;
  return null;
}

function val(r, get) {
  if (!r || r.skipped || !r.completed) return null;
  try { return get(r); } catch { return null; }
}

function plot(R, sizes) {
  const dat = path.join(ROOT, 'build', 'bench', 'fanout.dat');
  const rows = sizes.map((n) => {
    const cs = R.get('chat_server', 'fanout', (r) => r.n === n);
    const fl = R.get('floor', 'fanout', (r) => r.n === n);
    const v = (r, k) => { const x = val(r, (q) => q.latency_ms[k]); return x === null ? 'NaN' : x; };
    return `${n} ${v(cs, 'p50')} ${v(cs, 'p99')} ${v(fl, 'p50')} ${v(fl, 'p99')}`;
  });
  fs.mkdirSync(path.dirname(dat), { recursive: true });
  fs.writeFileSync(dat, `# n chat_p50 chat_p99 floor_p50 floor_p99 (ms)\n${rows.join('\n')}\n`);
  const script = `
set terminal pngcairo size 900,560 font "sans,11"
set output '${PNG}'
set title 'Fan-out: send to receipt at every member (same client, same machine)'
set xlabel 'members in the room'
set ylabel 'latency (ms)'
set logscale xy
set grid
set key top left
set xrange [1.6:2600]
set xtics (2, 10, 50, 100, 200, 500, 2000)
set datafile missing 'NaN'
plot '${dat}' using 1:2 with linespoints lw 2 pt 7 lc rgb '#c0392b' title 'chat\\_server p50', \\
     '' using 1:3 with linespoints lw 2 pt 5 dt 2 lc rgb '#c0392b' title 'chat\\_server p99', \\
     '' using 1:4 with linespoints lw 2 pt 7 lc rgb '#2471a3' title 'floor p50', \\
     '' using 1:5 with linespoints lw 2 pt 5 dt 2 lc rgb '#2471a3' title 'floor p99'
`;
  const r = spawnSync('gnuplot', [], { input: script, encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    process.stderr.write(`summary: no plot (gnuplot: ${r.error ? r.error.message : r.stderr})\n`);
    return false;
  }
  return true;
}

function write(file, metaFile) {
  const rawRuns = readRuns(file);
  const R = new Results(mergeRounds(rawRuns), rawRuns);
  const meta = JSON.parse(fs.readFileSync(metaFile, 'utf8'));
  const out = [];
  const p = (...l) => out.push(...l);
  const V = ['chat_server', 'floor', 'cat'];
  const targets = [];

  p('# Benchmarks', '',
    'Generated by `make bench` ([bench/run.sh](../bench/run.sh), [bench/load.js](../bench/load.js),',
    '[bench/summary.js](../bench/summary.js)); the section "What the numbers show" is written',
    'by hand and kept when the page is generated again.', '',
    table(['run', ''], [
      ['date (UTC)', meta.date],
      ['source', `commit ${meta.commit || 'unknown'} ("-dirty": with uncommitted changes)`],
      ['machine', `${meta.arch}, ${meta.nproc} CPUs (${meta.cpu}), Linux ${meta.kernel}`],
      ['software', `${meta.websocketd.replace(/\s*--\s*$/, '')}, Node.js ${meta.node}`],
      ['load average', `${meta.loadavg_start} at the start, ${meta.loadavg_end} at the end (other work on the machine shows here)`],
      ['duration', `${meta.seconds} s`],
      ['limits', `fs.inotify.max_user_instances ${meta.limits.inotify_instances}, ulimit -n ${meta.limits.open_files}`],
      ...(meta.notes || []).map((n) => ['note', n]),
    ]), '',
    'Three programs run under the same websocketd on 127.0.0.1, each with a throwaway',
    'BASE_DIR, driven by the same client on the same machine, one after the other for',
    'every scenario:', '',
    '- **chat_server**: this project.',
    '- **floor**: [bench/floor.c](../bench/floor.c), the smallest appender plus inotify',
    '  follower (no identity, presence, history or rotation): what this architecture,',
    '  one process per connection and one shared log file, cannot beat.',
    '- **cat**: websocketd running `cat`, the least any websocketd program costs to',
    '  join and echo (it has no room, so no fan-out).', '',
    'chat_server also runs with clients of its JSON protocol (issue 11), as',
    '**chat_server_json**: the same program under the same websocketd, in the join',
    'and the fan-out, next to the legacy clients in every round, and as',
    '**chat_server_mix**: legacy and JSON clients in one room, half and half, each',
    'half measured apart (section "JSON protocol"), and as **chat_server_cg**: one',
    'legacy and one JSON member of a room under valgrind\'s callgrind, which counts',
    'their instructions (section "JSON protocol: instructions per delivered line").', '',
    'A fourth, **broadcast** ([bench/broadcast.js](../bench/broadcast.js)), is a',
    'single-process Node `ws` server without websocketd; it runs only in the fan-out',
    'of rooms of up to 50 (section "Against a single-process server").', '',
    'Issue 15 adds chat_server with `TRANSPORT=redis`, on one host (**chat_server_redis**)',
    'and on two (**chat_server_redis2**), each on a redis-server the bench starts, in the',
    'fan-out of 2, 10, 50 and 500 members and the memory runs, next to chat_server\'s file',
    'transport in the same rounds (section "Redis transport"), and the file transport with',
    '10,000 connections in 100 rooms (section "The file transport at scale").', '',
    'Each run is repeated in rounds, the programs taking turns within a round, in the',
    'opposite order every other round, so that a busy moment of the machine falls on',
    'all of them alike; the rounds are pooled (all samples together).  The machine is',
    'shared: the load average above shows how busy it was, and p99 and max values move',
    'from run to run by tens of percent.', '',
    'Times are on the client\'s clock, from the call that sends (or opens the',
    'WebSocket) to the message event.  CPU is the run time, user and system, in ns',
    '(`/proc/PID/task/*/schedstat`) of every process under websocketd, websocketd',
    'itself excluded; processes that',
    'exited during a join run are counted through websocketd\'s `cutime`+`cstime`.',
    'Memory is `/proc/PID/smaps_rollup` of every process under websocketd.  A ratio',
    'is chat_server / floor (or / cat); below 1 chat_server is the cheaper one.  In',
    'section "JSON protocol" it is JSON / legacy.', '');

  // ---------------------------------------------------------- join
  p('## Join', '',
    'Serial connects: open a WebSocket, wait for the first line (chat_server: its',
    'welcome; floor: its "Welcome <room>"; cat: the echo of a line sent on open),',
    'close, next.  "room of 100": the same with 100 idle members in the room.', '');
  const joinRows = [];
  const joinOf = (v, present) => R.get(v, 'join', (r) => (r.present || 0) === present);
  for (const present of [0, 100]) {
    const rs = V.map((v) => joinOf(v, present));
    if (rs.every((r) => !r)) continue;
    const label = present ? ` (room of ${present})` : '';
    const row = (name, get, unit) => {
      const xs = rs.map((r) => val(r, get));
      joinRows.push([`${name}${label}`, ...xs.map((x, i) => (rs[i] && status(rs[i]) ? status(rs[i]) : fmt(x))),
        fmtRatio(ratio(xs[0], xs[1])), fmtRatio(ratio(xs[0], xs[2])), unit]);
      return xs;
    };
    const p50 = row('join p50', (r) => r.join_ms.p50, 'ms');
    row('join p95', (r) => r.join_ms.p95, 'ms');
    row('join max', (r) => r.join_ms.max, 'ms');
    row('CPU per join', (r) => r.cpu_ms_per_join, 'ms');
    row('websocketd CPU per join', (r) => r.websocketd_cpu_ms_per_join, 'ms');
    if (!present) {
      targets.push(['join p50 vs floor', `${fmt(p50[0])} / ${fmt(p50[1])} ms`, fmtRatio(ratio(p50[0], p50[1])), '≤ 1.5×', verdict(ratio(p50[0], p50[1]), 1.5)]);
      targets.push(['join p50 vs websocketd+cat', `${fmt(p50[0])} / ${fmt(p50[2])} ms`, fmtRatio(ratio(p50[0], p50[2])), '≤ 2×', verdict(ratio(p50[0], p50[2]), 2)]);
    }
  }
  p(table(['figure', ...V, 'chat/floor', 'chat/cat', 'unit'], joinRows), '');

  // ---------------------------------------------------------- echo
  const echo = V.map((v) => R.get(v, 'echo'));
  if (echo.some(Boolean)) {
    p('## Echo', '',
      'One connection sends a line and waits for it to come back (chat_server and',
      'floor: through the room log; cat: straight back), in series.', '');
    const rows = ['p50', 'p95', 'max'].map((k) => {
      const xs = echo.map((r) => val(r, (q) => q.echo_ms[k]));
      return [`echo ${k}`, ...xs.map((x, i) => (echo[i] && status(echo[i])) || fmt(x)),
        fmtRatio(ratio(xs[0], xs[1])), fmtRatio(ratio(xs[0], xs[2])), 'ms'];
    });
    rows.push(['delivery ratio', ...echo.map((r) => (r && status(r)) || fmt(val(r, (q) => q.delivery_ratio), 3)), '', '', '']);
    p(table(['figure', ...V, 'chat/floor', 'chat/cat', 'unit'], rows), '');
  }

  // ---------------------------------------------------------- fan-out
  const sizes = [...new Set(R.runs.filter((r) => r.scenario === 'fanout')
    .map((r) => r.n ?? Number(/--n=(\d+)/.exec(r.options || '')?.[1])))].filter(Boolean).sort((a, b) => a - b);
  p('## Fan-out', '',
    'N members in one room; member 0 sends at a steady rate (interval below); the',
    'latency is from the send to the receipt at every member, the sender included.',
    '"setup" is the time for the N members to join (concurrently, 16 at a time).', '');
  const fanRows = [];
  let worstP50 = null;
  let worstP99 = null;
  let worstCpu = null;
  const cpuRows = [];
  const fanOf = (v, n) => R.get(v, 'fanout', (r) => (r.n ?? Number(/--n=(\d+)/.exec(r.options)?.[1])) === n);
  for (const n of sizes) {
    const cs = R.get('chat_server', 'fanout', (r) => (r.n ?? Number(/--n=(\d+)/.exec(r.options)?.[1])) === n);
    const fl = R.get('floor', 'fanout', (r) => (r.n ?? Number(/--n=(\d+)/.exec(r.options)?.[1])) === n);
    const g = (r, f) => val(r, f);
    const c50 = g(cs, (r) => r.latency_ms.p50); const f50 = g(fl, (r) => r.latency_ms.p50);
    const c99 = g(cs, (r) => r.latency_ms.p99); const f99 = g(fl, (r) => r.latency_ms.p99);
    const r50 = ratio(c50, f50); const r99 = ratio(c99, f99);
    if (r50 !== null && (worstP50 === null || r50 > worstP50.r)) worstP50 = { r: r50, n };
    if (r99 !== null && (worstP99 === null || r99 > worstP99.r)) worstP99 = { r: r99, n };
    const fromOptions = (r, k) => (new RegExp(`--${k}=(\\d+)`).exec(r.options || '') || [])[1] ?? '?';
    const msgs = (r) => (r ? `${r.messages ?? fromOptions(r, 'messages')} × ${r.interval_ms ?? fromOptions(r, 'interval-ms')} ms${r.rounds > 1 ? ` (${r.rounds} rounds)` : ''}` : '');
    const st = (r) => status(r);
    fanRows.push([n, msgs(cs || fl),
      st(cs) || `${fmt(c50)} / ${fmt(c99)} / ${fmt(g(cs, (r) => r.latency_ms.max))}`,
      st(fl) || `${fmt(f50)} / ${fmt(f99)} / ${fmt(g(fl, (r) => r.latency_ms.max))}`,
      fmtRatio(r50), fmtRatio(r99),
      `${cs && !cs.skipped ? fmt(cs.delivery_ratio, 3) : '–'} / ${fl && !fl.skipped ? fmt(fl.delivery_ratio, 3) : '–'}`,
      `${fmt(g(cs, (r) => r.setup_s))} / ${fmt(g(fl, (r) => r.setup_s))}`]);
    const cc = g(cs, (r) => r.cpu_us_per_delivered); const fc = g(fl, (r) => r.cpu_us_per_delivered);
    const rc = ratio(cc, fc);
    if (rc !== null && (worstCpu === null || rc > worstCpu.r)) worstCpu = { r: rc, n };
    cpuRows.push([`fan-out N=${n}`, fmt(cc), fmt(fc), fmtRatio(rc),
      `${fmt(g(cs, (r) => r.cpu_us_per_message / 1000))} / ${fmt(g(fl, (r) => r.cpu_us_per_message / 1000))}`,
      `${fmt(g(cs, (r) => r.websocketd_cpu_us_per_delivered))} / ${fmt(g(fl, (r) => r.websocketd_cpu_us_per_delivered))}`]);
  }
  p(table(['N', 'messages × interval', 'chat_server p50 / p99 / max (ms)', 'floor p50 / p99 / max (ms)',
    'p50 chat/floor', 'p99 chat/floor', 'delivery chat / floor', 'setup s chat / floor'], fanRows), '');
  const plotted = sizes.length && plot(R, sizes);
  if (plotted || fs.existsSync(PNG)) {
    p('![Fan-out latency against room size: chat_server and floor, p50 and p99](../bench/fanout.png)', '');
  }
  if (worstP50) targets.push(['fan-out p50, worst N', `N=${worstP50.n}`, fmtRatio(worstP50.r), '≤ 1.3× at every N', verdict(worstP50.r, 1.3)]);
  if (worstP99) targets.push(['fan-out p99, worst N', `N=${worstP99.n}`, fmtRatio(worstP99.r), '≤ 1.3× at every N', verdict(worstP99.r, 1.3)]);
  const big = R.get('chat_server', 'fanout', (r) => (r.n ?? Number(/--n=(\d+)/.exec(r.options)?.[1])) === 2000);
  targets.push(['2000 members in one room', big ? (status(big) || `delivery ratio ${fmt(big.delivery_ratio, 3)}`) : 'not run',
    '', 'delivery ratio 1', big && big.completed && big.delivery_ratio === 1 ? 'met' : '**not met**']);

  // ---------------------------------------------------------- burst
  const burst = ['chat_server', 'floor'].map((v) => R.get(v, 'burst'));
  if (burst.some(Boolean)) {
    const b0 = burst.find((r) => r && !r.skipped) || {};
    p('## Burst', '',
      `${b0.senders ?? '?'} members each send ${b0.messages_per_sender ?? '?'} lines as fast as they can${b0.rounds > 1 ? ` (over ${b0.rounds} rounds)` : ''} (all`,
      'queued at once, round robin); every member receives every line.  Rate: delivered',
      'lines per second from the first send to the last receipt.', '');
    const row = (name, get, unit) => {
      const xs = burst.map((r) => val(r, get));
      return [name, ...xs.map((x, i) => (burst[i] && status(burst[i])) || fmt(x, 3)), fmtRatio(ratio(xs[0], xs[1])), unit];
    };
    const rows = [
      row('delivered lines per second', (r) => r.delivered_per_s, '1/s'),
      row('sent lines per second', (r) => r.messages_per_s, '1/s'),
      row('delivery ratio', (r) => r.delivery_ratio, ''),
      row('latency p50', (r) => r.latency_ms.p50, 'ms'),
      row('latency p99', (r) => r.latency_ms.p99, 'ms'),
      row('CPU per delivered line', (r) => r.cpu_us_per_delivered, 'µs'),
      row('CPU per sent line', (r) => r.cpu_us_per_message, 'µs'),
    ];
    p(table(['figure', 'chat_server', 'floor', 'chat/floor', 'unit'], rows), '');
    const bc = ratio(val(burst[0], (r) => r.cpu_us_per_delivered), val(burst[1], (r) => r.cpu_us_per_delivered));
    cpuRows.push(['burst', fmt(val(burst[0], (r) => r.cpu_us_per_delivered)), fmt(val(burst[1], (r) => r.cpu_us_per_delivered)), fmtRatio(bc), '', '']);
    if (bc !== null && (worstCpu === null || bc > worstCpu.r)) worstCpu = { r: bc, n: 'burst' };
  }

  // ---------------------------------------------------------- memory
  const memSizes = [...new Set(R.runs.filter((r) => r.scenario === 'memory').map((r) => r.n ?? Number(/--n=(\d+)/.exec(r.options || '')?.[1])))].filter(Boolean).sort((a, b) => a - b);
  if (memSizes.length) {
    p('## Memory', '',
      'N idle members, after the room has gone quiet: the sum over every process',
      'under websocketd of `smaps_rollup`, divided by N.  Anonymous is heap and stack',
      '(`Pss_Anon`); file is the shared libraries and the program (`Pss_File`).', '');
    const rows = [];
    for (const n of memSizes) {
      const rs = V.map((v) => R.get(v, 'memory', (r) => (r.n ?? Number(/--n=(\d+)/.exec(r.options)?.[1])) === n));
      const row = (name, get, unit, digits = 1) => {
        const xs = rs.map((r) => val(r, get));
        rows.push([`${name}, N=${n}`, ...xs.map((x, i) => (rs[i] && status(rs[i])) || fmt(x, digits)),
          fmtRatio(ratio(xs[0], xs[1])), fmtRatio(ratio(xs[0], xs[2])), unit]);
        return xs;
      };
      row('PSS per connection', (r) => r.kib_per_connection.Pss, 'KiB');
      const anon = row('anonymous PSS per connection', (r) => r.kib_per_connection.Pss_Anon, 'KiB');
      row('file PSS per connection', (r) => r.kib_per_connection.Pss_File, 'KiB');
      row('RSS per connection', (r) => r.kib_per_connection.Rss, 'KiB');
      row('processes per connection', (r) => r.processes_per_connection, '', 2);
      const ra = ratio(anon[0], anon[1]);
      targets.push([`anonymous PSS per connection, N=${n}`, `${fmt(anon[0])} / ${fmt(anon[1])} KiB`, fmtRatio(ra), '≤ 1.3×', verdict(ra, 1.3)]);
    }
    p(table(['figure', ...V, 'chat/floor', 'chat/cat', 'unit'], rows), '');
  }

  // ---------------------------------------------------------- CPU
  p('## CPU', '',
    'CPU of the process tree under websocketd (websocketd excluded) per delivered',
    'line (one line reaching one member), while the fan-out and burst runs sent;',
    'websocketd\'s own CPU is shown apart: it is the same program for all.', '');
  p(table(['run', 'chat_server µs/delivered', 'floor µs/delivered', 'chat/floor', 'ms per sent message chat / floor', 'websocketd µs/delivered chat / floor'], cpuRows), '');
  if (worstCpu) targets.push(['CPU per message, worst run', `${worstCpu.n === 'burst' ? 'burst' : `N=${worstCpu.n}`}`, fmtRatio(worstCpu.r), '≤ 1.5×', verdict(worstCpu.r, 1.5)]);
  const idleRows = [];
  for (const n of memSizes) {
    const rs = V.map((v) => R.get(v, 'memory', (r) => (r.n ?? Number(/--n=(\d+)/.exec(r.options)?.[1])) === n));
    idleRows.push([`${n} idle members, ${rs.find((r) => r && r.idle_s)?.idle_s ?? '?'} s`,
      ...rs.map((r) => (r && status(r)) || `${fmt(r.idle_cpu_ms, 3)} ms, ${r.idle_lines} lines`)]);
    const c = rs[0];
    if (c && !status(c)) targets.push([`idle room CPU, N=${n}`, `${fmt(c.idle_cpu_ms, 3)} ms in ${c.idle_s} s`, '', '0', c.idle_cpu_ms === 0 ? 'met' : '**not met**']);
  }
  if (idleRows.length) p('Idle room: CPU of the whole tree while nobody says anything.', '', table(['room', ...V], idleRows), '');

  // ---------------------------------------------------------- JSON protocol
  const J = 'chat_server_json';
  const MIXED = 'chat_server_mix';
  if (R.runs.some((r) => r.variant === J || r.variant === MIXED)) {
    p('## JSON protocol', '',
      'chat_server with clients of the JSON protocol of issue 11: the same program under',
      'the same websocketd and BASE_DIR, only the clients differ.  They connect with',
      '`?proto=json`, are ready at the `{"type":"welcome"}` event and send',
      '`{"type":"message","text":...}`; a line counts as delivered when a',
      '`{"type":"message"}` event with the text sent, from its sender, arrives.  Issue 11',
      'asks the JSON cost per delivered line to stay within 1.1× of the legacy protocol\'s',
      'in the same run.  A ratio is JSON / legacy; below 1 the JSON clients cost less.', '',
      'It is measured in one room (chat_server_mix): N members, legacy and JSON clients',
      'taking turns, so N / 2 of each; one legacy and one JSON member send in turn (the',
      'same interval and count as the fan-out of N).  The CPU of each half, its sender',
      'included, divided by the lines delivered to that half, is its cost per delivered',
      'line: both halves get the same lines at the same moments, so whatever else the',
      'machine does falls on both alike.  What is left to tell them apart is the processes',
      'themselves (one is a little cheaper or dearer than another for its whole life:',
      'its CPU, its place in the order the kernel wakes them), so each round is a fresh',
      'room, the JSON clients take the odd member numbers in one round and the even ones',
      'in the next, and the ratio is the median of the rounds\' ratios.', '');
    const mRows = [];
    const mRatios = [];
    for (const n of sizes) {
      const m = fanOf(MIXED, n);
      if (!m) continue;
      const rs = m.round_ratios || [];
      const rc = status(m) ? null : m.ratio_median;
      mRatios.push({ n, rc, json: m.cpu_us_per_delivered_json, legacy: m.cpu_us_per_delivered_legacy });
      const lat = (q) => (q && q.samples ? `${fmt(q.p50)} / ${fmt(q.p99)}` : '–');
      mRows.push([n, status(m) || `${m.members_legacy} + ${m.members_json}`, rs.length,
        status(m) ? '–' : fmt(m.cpu_us_per_delivered_legacy), status(m) ? '–' : fmt(m.cpu_us_per_delivered_json),
        fmtRatio(rc), rs.length ? `${fmtRatio(Math.min(...rs))} – ${fmtRatio(Math.max(...rs))}` : '–',
        rc === null ? '**not measured**' : verdict(rc, 1.1),
        status(m) ? '–' : `${lat(m.latency_legacy)} / ${lat(m.latency_json)}`,
        m.skipped ? '–' : fmt(m.delivery_ratio, 3)]);
    }
    if (mRows.length) {
      p('One room (the target\'s figure): CPU per delivered line of each half.', '',
        table(['N', 'members legacy + JSON', 'rounds', 'legacy µs/delivered', 'JSON µs/delivered',
          'JSON/legacy, median of rounds', 'rounds\' ratios', '≤ 1.1×',
          'p50 / p99 legacy / JSON (ms)', 'delivery'], mRows), '');
    }
    // Separate rooms, as the fan-out: the ratio of the pooled rounds, and
    // the median of the rounds' ratios (each round's legacy and JSON runs
    // ran one right after the other).
    const jRows = [];
    const sep = [];
    for (const n of sizes) {
      const lg = fanOf('chat_server', n);
      const js = fanOf(J, n);
      if (!js) continue;
      const own = (r) => val(r, (q) => q.cpu_us_per_delivered);
      const wsd = (r) => val(r, (q) => q.websocketd_cpu_us_per_delivered);
      const whole = (r) => (own(r) === null || wsd(r) === null ? null : own(r) + wsd(r));
      const rc = ratio(own(js), own(lg));
      const rounds = (v) => new Map(R.raw.filter((r) => r.variant === v && r.scenario === 'fanout'
        && r.n === n && r.completed).map((r) => [r.round, r.cpu_ns / r.delivered]));
      const lr = rounds('chat_server');
      const byRound = [...rounds(J)].filter(([k]) => lr.has(k)).map(([k, v]) => v / lr.get(k));
      const rm = median(byRound);
      sep.push({ n, rc, rm });
      const lat = (r) => status(r) || `${fmt(r.latency_ms.p50)} / ${fmt(r.latency_ms.p99)}`;
      const dl = (r) => (r && !r.skipped ? fmt(r.delivery_ratio, 3) : '–');
      jRows.push([n, status(lg) || fmt(own(lg)), status(js) || fmt(own(js)), fmtRatio(rc),
        byRound.length > 1 ? fmtRatio(rm) : '–',
        `${fmt(wsd(lg))} / ${fmt(wsd(js))}`, fmtRatio(ratio(whole(js), whole(lg))),
        lat(lg), lat(js), `${dl(lg)} / ${dl(js)}`]);
    }
    if (jRows.length) {
      p('Separate rooms (section "Fan-out"): the JSON clients in a room of their own, right',
        'before or after the legacy clients\' in every round (rooms of up to 500; filling a',
        'room of 2000 takes minutes).  CPU as in section "CPU": the processes under',
        'websocketd, websocketd apart; "with websocketd" adds it.  The runs are seconds',
        'apart, so the machine\'s other work weighs on them unequally: these ratios move by',
        '±0.1 from run to run.', '',
        table(['N', 'legacy µs/delivered', 'JSON µs/delivered', 'JSON/legacy, pooled',
          'JSON/legacy, median of rounds', 'websocketd µs/delivered legacy / JSON',
          'JSON/legacy with websocketd', 'legacy p50 / p99 (ms)', 'JSON p50 / p99 (ms)',
          'delivery legacy / JSON'], jRows), '');
    }
    const measured = mRatios.filter((x) => x.rc !== null);
    const worst = measured.reduce((w, x) => (w === null || x.rc > w.rc ? x : w), null);
    const missing = mRatios.filter((x) => x.rc === null).map((x) => x.n);
    const sepWorst = sep.filter((x) => x.rc !== null).reduce((w, x) => (w === null || x.rc > w.rc ? x : w), null);
    targets.push(['JSON protocol: CPU per delivered line, worst N (one room, median of rounds)',
      [worst ? `N=${worst.n}: ${fmt(worst.json)} / ${fmt(worst.legacy)} µs (JSON / legacy)` : 'no JSON run completed',
        ...(missing.length ? [`not measured at N=${missing.join(', ')}`] : []),
        ...(sepWorst ? [`separate rooms: worst N=${sepWorst.n}, ${fmtRatio(sepWorst.rc)} pooled`] : [])].join('; '),
      worst ? fmtRatio(worst.rc) : '–', '≤ 1.1× at every N',
      worst && !missing.length && worst.rc <= 1.1 ? 'met' : '**not met**']);
    const joinJRows = [];
    for (const present of [0, 100]) {
      const lg = R.get('chat_server', 'join', (r) => (r.present || 0) === present);
      const js = R.get(J, 'join', (r) => (r.present || 0) === present);
      if (!js) continue;
      const label = present ? ` (room of ${present})` : '';
      for (const [name, get] of [['join p50', (r) => r.join_ms.p50], ['join p95', (r) => r.join_ms.p95],
        ['CPU per join', (r) => r.cpu_ms_per_join], ['websocketd CPU per join', (r) => r.websocketd_cpu_ms_per_join]]) {
        const a = val(lg, get);
        const b = val(js, get);
        joinJRows.push([`${name}${label}`, (lg && status(lg)) || fmt(a), status(js) || fmt(b), fmtRatio(ratio(b, a)), 'ms']);
      }
    }
    if (joinJRows.length) {
      p('Join (section "Join"): up to the welcome, legacy line or JSON event.', '',
        table(['figure', 'legacy', 'JSON', 'JSON/legacy', 'unit'], joinJRows), '');
    }
  }

  // ---------------------------------------------------------- callgrind
  const cg = callgrindSection(R, meta);
  if (cg) {
    p(...cg.lines);
  }

  // ---------------------------------------------------------- single process
  const bSizes = sizes.filter((n) => fanOf('broadcast', n));
  if (bSizes.length) {
    p('## Against a single-process server', '',
      'The same fan-out runs (section "Fan-out"), taking turns with the others, against',
      '[bench/broadcast.js](../bench/broadcast.js): one Node process that serves every',
      'connection with the `ws` package and sends each line to the open sockets of its',
      'room, with no websocketd.  CPU per delivered line is the whole cost of serving it:',
      'for chat_server its processes plus websocketd (in brackets), for broadcast its one',
      'process, every thread of it (`schedstat`), garbage collection included.  A ratio',
      'below 1: chat_server is the cheaper one.', '');
    const bRows = [];
    const bRatio = new Map();
    for (const n of bSizes) {
      const cs = fanOf('chat_server', n);
      const bc = fanOf('broadcast', n);
      const own = val(cs, (r) => r.cpu_us_per_delivered);
      const wsd = val(cs, (r) => r.websocketd_cpu_us_per_delivered);
      const whole = own === null || wsd === null ? null : own + wsd;
      const bcpu = val(bc, (r) => r.cpu_us_per_delivered);
      const rc = ratio(whole, bcpu);
      bRatio.set(n, { rc, whole, bcpu });
      const lat = (r) => status(r) || `${fmt(r.latency_ms.p50)} / ${fmt(r.latency_ms.p99)}`;
      bRows.push([n, status(cs) || `${fmt(whole)} (${fmt(own)} + ${fmt(wsd)})`,
        status(bc) || fmt(bcpu), fmtRatio(rc), lat(cs), lat(bc)]);
    }
    p(table(['N', 'chat_server + websocketd µs/delivered', 'broadcast µs/delivered',
      'chat/broadcast', 'chat_server p50 / p99 (ms)', 'broadcast p50 / p99 (ms)'], bRows), '');
    // Issue 6: broadcast is the cheaper one in big rooms, chat_server has
    // to be in small ones: beaten means strictly below 1 at both sizes.
    const small = [2, 10].map((n) => ({ n, ...(bRatio.get(n) || { rc: null }) }));
    const worst = small.some((x) => x.rc === null) ? null : Math.max(...small.map((x) => x.rc));
    targets.push(['beat a single-process Node ws server at N=2 and 10',
      small.map((x) => `N=${x.n}: ${fmt(x.whole ?? null)} / ${fmt(x.bcpu ?? null)} µs`).join(', '),
      fmtRatio(worst), '< 1× at N=2 and 10',
      worst === null ? '–' : worst < 1 ? 'met' : '**not met**']);
  }

  // ---------------------------------------------------------- private
  const priv = ['chat_server', 'floor'].map((v) => R.get(v, 'private'));
  if (priv.some(Boolean)) {
    const p0 = priv.find((r) => r && !r.skipped) || {};
    p('## Private routing', '',
      `Two members of a room of ${p0.n ?? '?'} exchange ${p0.messages ?? '?'} WebRTC ICE candidates`,
      '(`<name>: {"candidate":...}`), taking turns.  chat_server routes them to the',
      'addressee\'s inbox; floor has no private delivery, so they go through the log to',
      'everyone (what the old program did).  Bystander CPU is the CPU of the other',
      'members\' processes while the two talk.', '');
    const row = (name, get, unit) => {
      const xs = priv.map((r) => val(r, get));
      return [name, ...xs.map((x, i) => (priv[i] && status(priv[i])) || fmt(x, 3)), fmtRatio(ratio(xs[0], xs[1])), unit];
    };
    p(table(['figure', 'chat_server', 'floor', 'chat/floor', 'unit'], [
      row('delivered to the addressee', (r) => r.delivery_ratio, 'ratio'),
      row('lines that reached bystanders', (r) => r.bystander_lines, 'lines'),
      row('bystander CPU, all bystanders', (r) => r.bystander_cpu_ms, 'ms'),
      row('bystander CPU per signalling line', (r) => r.bystander_cpu_us_per_message, 'µs'),
      row('CPU of the two per signalling line', (r) => r.pair_cpu_us_per_message, 'µs'),
      row('latency p50', (r) => r.latency_ms.p50, 'ms'),
      row('latency p99', (r) => r.latency_ms.p99, 'ms'),
    ]), '');
    const c = priv[0];
    if (c && !status(c)) targets.push(['bystander CPU during signalling', `${fmt(c.bystander_cpu_ms, 3)} ms, ${c.bystander_lines} lines`, '', '0', c.bystander_cpu_ms === 0 && c.bystander_lines === 0 ? 'met' : '**not met**']);
  }

  // ---------------------------------------------------------- issue 15
  for (const sec of [redisSection(R, meta), scaleSection(R, meta)]) {
    if (!sec) continue;
    p(...sec.lines);
    targets.push(...sec.targets);
  }

  // ---------------------------------------------------------- delivery
  const incomplete = R.runs.filter((r) => !r.skipped && (!r.completed || !clean(r)));
  p('## Delivery', '',
    incomplete.length
      ? `${incomplete.length} run(s) did not complete or lost lines:\n\n${incomplete.map((r) => `- ${r.scenario} ${r.variant} \`${r.options || ''}\`: ${r.error || `delivery ratio ${r.delivery_ratio}, ${r.duplicates || 0} duplicates${r.mismatched ? `, ${r.mismatched} events with a token that were not its message` : ''}`}`).join('\n')}`
      : `Every run completed, and every line of every run reached every member it was meant for exactly once (${R.runs.filter((r) => r.delivery_ratio !== undefined).length} runs with a delivery ratio, all 1).`, '');

  // ---------------------------------------------------------- targets, first
  const head = out.splice(0, out.indexOf('## Join'));
  const summary = [TARGETS_HEAD, '',
    table(['target', 'chat_server / baseline', 'ratio', 'target', ''], targets), ''];
  let analysis = `${A_START}\n## What the numbers show\n\n(not written yet)\n${A_END}`;
  if (fs.existsSync(DOC)) {
    const old = fs.readFileSync(DOC, 'utf8');
    const a = old.indexOf(A_START);
    const b = old.indexOf(A_END);
    if (a >= 0 && b > a) analysis = old.slice(a, b + A_END.length);
  }
  const text = [...head, ...summary, analysis, '', ...out].join('\n').replace(/\n{3,}/g, '\n\n');
  fs.mkdirSync(path.dirname(DOC), { recursive: true });
  fs.writeFileSync(DOC, text.endsWith('\n') ? text : `${text}\n`);
  process.stderr.write(`summary: wrote ${path.relative(ROOT, DOC)}${plotted ? ` and ${path.relative(ROOT, PNG)}` : ''}\n`);
}

// ---------------------------------------------------------------- Redis (issue 15)

const REDIS_HEAD = '## Redis transport (issue 15)';
const SCALE_HEAD = '## The file transport at scale (issue 15)';
const REDIS_TARGET = 'Redis transport';
const SCALE_TARGET = 'file transport at scale';
const nOf = (r) => r.n ?? Number(/--n=(\d+)/.exec(r.options || '')?.[1]);

/** The runs of one section whose rounds did not all complete or lost lines. */
function deliveryLines(runs) {
  const bad = runs.filter((r) => !r.skipped && (!r.completed || !clean(r)));
  const skipped = runs.filter((r) => r.skipped);
  const withRatio = runs.filter((r) => !r.skipped && r.delivery_ratio !== undefined);
  const out = [];
  if (bad.length) {
    out.push(`**${bad.length} run(s) did not complete or lost lines:**`, '',
      ...bad.map((r) => `- ${r.scenario} ${r.variant} \`${r.options || ''}\`: ${r.error || ''}${
        r.delivery_ratio !== undefined ? ` (delivery ratio ${fmt(r.delivery_ratio, 4)}, ${r.delivered ?? '?'} of ${r.expected ?? '?'}, ${r.duplicates || 0} duplicates)` : ''}`), '');
  } else {
    out.push(`Delivery: every run completed, and every line reached every member it was meant for exactly once (${withRatio.length} runs with a delivery ratio, all 1).`, '');
  }
  if (skipped.length) {
    out.push(...skipped.map((r) => `- skipped: ${r.scenario} ${r.variant} \`${r.options || ''}\`: ${r.skipped}`), '');
  }
  return out;
}

function runLine(meta) {
  return `Run: ${meta.date || '?'}, commit ${meta.commit || 'unknown'}, ${meta.mode || '?'} mode, ${meta.seconds ?? '?'} s, ` +
    `${meta.redis && meta.redis !== 'none' ? `${meta.redis.replace(/ sha=.*$/, '')}, ` : ''}load average ${meta.loadavg_start || '?'} at the start, ${meta.loadavg_end || '?'} at the end.`;
}

/** The Redis transport's section: its lines and its target rows, or null
 *  when the run had no Redis variant. */
function redisSection(R, meta) {
  const V1 = 'chat_server_redis';
  const V2 = 'chat_server_redis2';
  const runs = R.runs.filter((r) => r.variant === V1 || r.variant === V2);
  if (!runs.length) return null;
  const sizes = [...new Set(runs.filter((r) => r.scenario === 'fanout').map(nOf))].filter(Boolean).sort((a, b) => a - b);
  const fan = (v, n) => R.get(v, 'fanout', (r) => nOf(r) === n);
  const lines = [REDIS_HEAD, '',
    'chat_server with `TRANSPORT=redis` ([docs/scale-out.md](scale-out.md)): every connection',
    'appends to the room\'s stream and announces the line on the room\'s channel (one script),',
    'and follows the channel, reading the stream with `XRANGE` when it falls behind',
    '(src/transport_redis.c).  The bench starts its own redis-server per variant, on a unix',
    'socket in its temporary directory, with `--save \'\' --appendonly no`, and for each host a',
    'websocketd with its own BASE_DIR and ini, and that host\'s `chat_server --archive`.',
    '**chat_server_redis** is one host; **chat_server_redis2** is two hosts on the same Redis',
    'and `REDIS_KEY_PREFIX`, the room\'s members split half and half between them (member i',
    'on host i mod 2), the sender on the first, the latency measured at the receivers of',
    'both.  They run in the same rounds as **chat_server** with its file transport (the',
    'baseline of this section: "files"), with the same clients (legacy), room sizes, sends',
    'and intervals as section "Fan-out".  A ratio is Redis / files; below 1 Redis is the',
    'cheaper or faster one.  Issue 15\'s goals: fan-out p50 within 2× of files at every size,',
    'memory per connection within 1.3×, delivery ratio 1.', '',
    runLine(meta), ''];
  const targets = [];
  // ---- latency
  const lat = (r) => status(r) || `${fmt(r.latency_ms.p50)} / ${fmt(r.latency_ms.p99)}`;
  const worst = { [V1]: null, [V2]: null };
  const fRows = [];
  for (const n of sizes) {
    const fs0 = fan('chat_server', n);
    const a = fan(V1, n);
    const b = fan(V2, n);
    const f50 = val(fs0, (r) => r.latency_ms.p50);
    const f99 = val(fs0, (r) => r.latency_ms.p99);
    const rr = (r, k, base) => ratio(val(r, (q) => q.latency_ms[k]), base);
    for (const [v, r] of [[V1, a], [V2, b]]) {
      const x = rr(r, 'p50', f50);
      if (x === null) worst[v] = worst[v] || { r: null, n, missing: true };
      else if (!worst[v] || worst[v].r === null || x > worst[v].r) worst[v] = { r: x, n };
      if (r && status(r)) worst[v] = { r: null, n, missing: true, st: status(r) };
    }
    const byHost = (r) => {
      if (status(r) || !r.latency_samples_by_host) return '–';
      return r.latency_samples_by_host.map((xs) => { const q = percentiles(xs); return `${fmt(q.p50)} / ${fmt(q.p99)}`; }).join(' · ');
    };
    const fromOptions = (r, k) => (new RegExp(`--${k}=(\\d+)`).exec(r.options || '') || [])[1] ?? '?';
    const any = fs0 || a || b;
    fRows.push([n, any ? `${any.messages ?? fromOptions(any, 'messages')} × ${any.interval_ms ?? fromOptions(any, 'interval-ms')} ms${any.rounds > 1 ? ` (${any.rounds} rounds)` : ''}` : '',
      lat(fs0), lat(a), lat(b), byHost(b),
      `${fmtRatio(rr(a, 'p50', f50))} / ${fmtRatio(rr(b, 'p50', f50))}`,
      `${fmtRatio(rr(a, 'p99', f99))} / ${fmtRatio(rr(b, 'p99', f99))}`,
      [fs0, a, b].map((r) => (r && !r.skipped ? fmt(r.delivery_ratio, 3) : '–')).join(' / '),
      [fs0, a, b].map((r) => fmt(val(r, (q) => q.setup_s))).join(' / ')]);
  }
  lines.push('### Fan-out latency', '',
    'As section "Fan-out": N members in one room, member 0 sends at a steady rate; the',
    'latency is from the send to the receipt at every member, the sender included.  Two',
    'hosts: the receivers of each host apart in "by host" (the sender\'s host first).', '',
    table(['N', 'messages × interval', 'files p50 / p99 (ms)', 'Redis, one host p50 / p99', 'Redis, two hosts p50 / p99',
      'two hosts by host p50 / p99', 'p50 Redis/files one / two hosts', 'p99 Redis/files one / two hosts',
      'delivery files / one / two hosts', 'setup s files / one / two hosts'], fRows), '');
  // Joins TRANSPORT=redis refused as busy (load.js: the clients retry as the page does).
  const busy = [];
  for (const r of runs) {
    if (r.busy_refusals) busy.push(`${r.scenario} N=${nOf(r)}, ${r.variant === V1 ? 'one host' : 'two hosts'}: ${r.busy_refusals}`);
  }
  lines.push(busy.length
    ? `**Joins refused as busy** ("the room is busy; try again in a moment": the joiner did not get the room's lock in Redis within PRESENCE_LOCK_WAIT_MS, 10 s), while the room filled 16 joins at a time: ${busy.join('; ')}.  The Redis variants' clients try again after 0.5–1 s, as the page does, up to 5 times; the file transport's clients never retry, and a refusal would fail their run.`
    : 'No join was refused as busy (the Redis variants\' clients would try again after 0.5–1 s, as the page does, and count it).', '');
  for (const [v, label] of [[V1, 'one host'], [V2, 'two hosts']]) {
    const w = worst[v];
    const missing = sizes.filter((n) => { const r = fan(v, n); return !r || status(r); });
    targets.push([`${REDIS_TARGET}: fan-out p50 vs files, ${label}, worst N`,
      w && w.r !== null ? `N=${w.n}${missing.length ? `; not measured at N=${missing.join(', ')}` : ''}` : 'not measured',
      w && w.r !== null ? fmtRatio(w.r) : '–', '≤ 2× at every N',
      w && w.r !== null && !missing.length ? verdict(w.r, 2) : '**not met**']);
  }
  // ---- CPU
  const cRows = [];
  let worstCpu = null;
  const per = (r, ns) => (r && r.delivered ? ns / r.delivered / 1e3 : null);
  for (const n of sizes) {
    const fs0 = fan('chat_server', n);
    const files = val(fs0, (r) => r.cpu_us_per_delivered);
    for (const [v, label] of [[V1, 'one host'], [V2, 'two hosts']]) {
      const r = fan(v, n);
      if (!r) continue;
      const st = status(r);
      const chat = st ? null : r.cpu_us_per_delivered;
      const redis = st ? null : per(r, (r.extra_cpu_ns || {}).redis || 0);
      const arch = st ? null : per(r, (r.extra_cpu_ns || {}).archive || 0);
      const total = st ? null : chat + redis + arch;
      const rc = ratio(total, files);
      if (rc !== null && (worstCpu === null || rc > worstCpu.r)) worstCpu = { r: rc, n, label };
      const sh = st && (r.skipped ? 'skipped' : 'did not complete (above)');
      cRows.push([n, label, (fs0 && status(fs0) && 'did not complete') || fmt(files), sh || fmt(chat), sh || fmt(redis), sh || fmt(arch),
        sh || fmt(total), fmtRatio(rc),
        `${fmt(val(fs0, (q) => q.websocketd_cpu_us_per_delivered))} / ${st ? '–' : fmt(r.websocketd_cpu_us_per_delivered)}`]);
    }
  }
  lines.push('### CPU per delivered line', '',
    'CPU (`schedstat`, user and system) while the fan-out sent, per line delivered to one',
    'member: files counts the chat processes (everything under websocketd); Redis counts',
    'the chat processes of every host, redis-server and the archivers.  websocketd is shown',
    'apart, as in section "CPU" (all hosts\' for Redis).', '',
    table(['N', 'Redis', 'files µs', 'Redis: chat processes µs', 'redis-server µs', 'archivers µs',
      'Redis: all µs', 'Redis/files', 'websocketd µs files / Redis'], cRows), '');
  // ---- where the time goes
  const wRows = [];
  const cmdKeys = ['xread', 'xrange', 'xadd', 'evalsha', 'eval'];
  for (const n of sizes) {
    for (const [v, label] of [[V1, 'one host'], [V2, 'two hosts']]) {
      const r = fan(v, n);
      if (!r || status(r) || !r.redis_commands || !r.delivered) continue;
      const c = r.redis_commands;
      const calls = Object.values(c).reduce((a, x) => a + x.calls, 0);
      const usec = Object.values(c).reduce((a, x) => a + x.usec, 0);
      const other = Object.entries(c).filter(([k]) => !cmdKeys.includes(k))
        .sort((x, y) => y[1].calls - x[1].calls).slice(0, 3)
        .map(([k, x]) => `${k.toUpperCase()} ${fmt(x.calls / r.delivered, 3)}`).join(', ');
      const pl = (k) => fmt((c[k]?.calls || 0) / r.delivered, 3);
      const sent = r.messages;
      wRows.push([n, label, fmt(calls / r.delivered, 3), pl('xread'), pl('xrange'), pl('xadd'),
        fmt(((c.evalsha?.calls || 0) + (c.eval?.calls || 0)) / r.delivered, 3), other || '–',
        fmt(calls / sent), fmt(usec / r.delivered, 3), fmt(per(r, (r.extra_cpu_ns || {}).redis || 0))]);
    }
  }
  if (wRows.length) {
    lines.push('### Where the time goes: Redis round trips per delivered line', '',
      'src/transport_redis.c\'s reader is subscribed to the room\'s channel and sends nothing:',
      'every line comes to it as the sender\'s script announces it; only a member that fell',
      'behind fetches with `XRANGE`.  The sender runs one script per line (`EVAL`: `XREVRANGE`',
      'for the id before, `XADD`, `PUBLISH`), and the flood bucket\'s script, since every',
      'bench client comes with an X-Forwarded-For address; the archivers wait in `XREAD`.',
      'The counts are the deltas of `redis-cli INFO commandstats` over the sending, divided',
      'by the lines delivered: every command of the chat processes and the archivers, those',
      'that scripts run counted too.  "Redis µs" is the time Redis itself counts in those',
      'commands; the CPU of redis-server (its event loop, the socket reads and writes, the',
      'messages to the subscribers) is the column after it.', '',
      table(['N', 'Redis', 'commands per delivered line', 'XREAD', 'XRANGE', 'XADD', 'EVAL/EVALSHA',
        'most frequent others', 'commands per sent line', 'Redis µs in commands per delivered line',
        'redis-server CPU µs per delivered line'], wRows), '');
  }
  // ---- memory
  const memSizes = [...new Set(runs.filter((r) => r.scenario === 'memory').map(nOf))].filter(Boolean).sort((a, b) => a - b);
  const mRows = [];
  const lateRows = [];
  // Per connection (KiB) of a memory run r, at its first look or, with
  // late, at the end of its idle period (r.idle_end): the chat processes'
  // PSS, what the room added to Redis's data (INFO memory's used_memory
  // then, less before the room filled), the archivers' PSS (Redis) or the
  // warden's (files: the per-host process of that transport), and "all".
  const memOf = (r, n, late) => {
    const m = late ? r.idle_end : r;
    if (status(r) || !m || !m.kib_per_connection) return null;
    const ex = (k) => (!m.extra_kib || !m.extra_kib[k] ? 0 : m.extra_kib[k].Pss / n);
    const chat = m.kib_per_connection.Pss;
    const used = m.redis_used_memory ? (m.redis_used_memory[1] - m.redis_used_memory[0]) / 1024 / n : null;
    return {
      chat, used, redis: ex('redis'), archive: ex('archive'), warden: ex('warden'),
      all: chat + (used ?? ex('redis')) + ex('archive') + ex('warden'),
    };
  };
  for (const n of memSizes) {
    const f = R.get('chat_server', 'memory', (r) => nOf(r) === n);
    const fNow = f && !status(f) ? memOf(f, n, false) : null;
    const fP = fNow && fNow.all;
    const fA = val(f, (r) => r.kib_per_connection.Pss_Anon);
    const fLate = f && !status(f) ? memOf(f, n, true) : null;
    for (const [v, label] of [[V1, 'one host'], [V2, 'two hosts']]) {
      const r = R.get(v, 'memory', (q) => nOf(q) === n);
      if (!r) continue;
      const st = status(r);
      const m = memOf(r, n, false);
      const rc = ratio(m && m.all, fP);
      mRows.push([n, label, status(f) || fmt(fNow.chat, 1), status(f) || fmt(fNow.warden, 1),
        status(f) || fmt(fP, 1), st || fmt(m.chat, 1), st || fmt(m.used, 1), st || fmt(m.redis, 1),
        st || fmt(m.archive, 1), st || fmt(m.all, 1), fmtRatio(rc),
        `${status(f) || fmt(fA, 1)} / ${st || fmt(r.kib_per_connection.Pss_Anon, 1)}`,
        fmtRatio(ratio(val(r, (q) => q.kib_per_connection.Pss_Anon), fA)),
        `${status(f) || fmt(f.kib_per_connection.Rss, 0)} / ${st || fmt(r.kib_per_connection.Rss, 0)}`,
        `${status(f) || `${fmt(f.idle_cpu_ms, 3)} ms`} / ${st || `${fmt(r.idle_cpu_ms, 3)} ms + ${fmt((r.idle_extra_cpu_ms || {}).redis, 3)} ms Redis + ${fmt((r.idle_extra_cpu_ms || {}).archive, 3)} ms archivers`}`]);
      const late = memOf(r, n, true);
      const lc = ratio(late && late.all, fLate && fLate.all);
      if (late) {
        lateRows.push([n, label, fLate ? fmt(fLate.all, 1) : '—', fmt(late.chat, 1), fmt(late.used, 1),
          fmt(late.archive, 1), fmt(late.all, 1), fmtRatio(lc)]);
      }
      // The goal holds only if it holds at both looks.
      const worst = rc === null || (late && lc === null) ? null : Math.max(rc, late ? lc : 0);
      targets.push([`${REDIS_TARGET}: memory per connection vs files, ${label}, N=${n}`,
        st ? st : `${fmt(m.all, 1)} / ${fmt(fP, 1)} KiB right after the join (${fmtRatio(rc)}), ` +
          `${late && fLate ? `${fmt(late.all, 1)} / ${fmt(fLate.all, 1)} KiB after ${r.idle_s} s idle (${fmtRatio(lc)})` : 'no look after the idle period'}; ` +
          `chat processes' PSS, Redis's data and the archivers included (files: its warden); the processes alone ${fmtRatio(ratio(m.chat, fNow && fNow.chat))}`,
        fmtRatio(worst), '≤ 1.3×', worst === null ? '**not met**' : verdict(worst, 1.3)]);
    }
  }
  if (mRows.length) {
    const idle = runs.find((r) => r.scenario === 'memory' && r.idle_s)?.idle_s ?? '?';
    lines.push('### Memory per connection', '',
      'As section "Memory": N idle members, after the room has gone quiet; PSS',
      '(`smaps_rollup`) of every process under websocketd (every host\'s), divided by N.  For',
      'Redis, what the room added to Redis\'s data (`INFO memory` used_memory once the room',
      'went quiet, less before it filled: its members, its stream of join lines and user',
      'lists) and the archivers\' PSS are divided by N and added: the goal\'s figure ("all").',
      'For files, the warden\'s PSS is divided by N and added likewise: the one process per',
      'host that the file transport runs beside its members (it finds the dead, as the',
      'archivers do for Redis), outside websocketd\'s tree.',
      'redis-server\'s whole PSS over N is shown beside it; it holds what earlier runs left',
      '(their streams, up to REDIS_STREAM_MAX entries a room, and what its allocator kept).',
      `An idle Redis member wakes up for its heartbeat every 30 s, the archivers every second; the last column is the CPU of ${idle} s of the idle room.`, '',
      table(['N', 'Redis', 'files: chat processes PSS KiB', 'files: warden PSS KiB', 'files: all KiB',
        'Redis: chat processes PSS KiB', 'Redis data added KiB', 'redis-server PSS / N KiB', 'archivers PSS KiB', 'Redis: all KiB', 'Redis/files', 'anonymous PSS KiB files / Redis',
        'anonymous Redis/files', 'RSS KiB files / Redis', `idle CPU files / Redis`], mRows), '');
    if (lateRows.length) {
      lines.push(`The same rooms at the end of their ${idle} s idle period, when Redis has let its clients' buffers`,
        'shrink back (a query buffer after 2 s without a command, a reply buffer as its peak is',
        'reset every 5 s); the goal\'s verdict above holds only when it holds at both looks.', '',
        table(['N', 'Redis', 'files: all KiB', 'Redis: chat processes PSS KiB', 'Redis data added KiB',
          'archivers PSS KiB', 'Redis: all KiB', 'Redis/files'], lateRows), '');
    }
  }
  // Where a member's memory is, at the largest N: one process of each,
  // mapping by mapping, the mappings that differ most.
  const nMax = memSizes[memSizes.length - 1];
  const fm = R.get('chat_server', 'memory', (r) => nOf(r) === nMax);
  const rm = R.get(V1, 'memory', (r) => nOf(r) === nMax);
  const fs1 = val(fm, (r) => r.member_smaps_kib);
  const rs1 = val(rm, (r) => r.member_smaps_kib);
  if (fs1 && rs1) {
    const keys = [...new Set([...Object.keys(fs1), ...Object.keys(rs1)])];
    const g = (o, k, f) => (o[k] ? o[k][f] : 0);
    const d = (k) => g(rs1, k, 'Pss') - g(fs1, k, 'Pss');
    const top = keys.filter((k) => Math.abs(d(k)) >= 1).sort((a, b) => Math.abs(d(b)) - Math.abs(d(a)) || a.localeCompare(b)).slice(0, 10);
    const tot = (o, f) => Object.values(o).reduce((a, x) => a + x[f], 0);
    const signed = (x) => `${x > 0 ? '+' : x < 0 ? '−' : ''}${fmt(Math.abs(x), 1)}`;
    const rowsM = top.map((k) => [`\`${k}\``, `${fmt(g(fs1, k, 'Pss'), 1)} (${fmt(g(fs1, k, 'Anonymous'), 1)})`,
      `${fmt(g(rs1, k, 'Pss'), 1)} (${fmt(g(rs1, k, 'Anonymous'), 1)})`, signed(d(k))]);
    rowsM.push(['all', `${fmt(tot(fs1, 'Pss'), 1)} (${fmt(tot(fs1, 'Anonymous'), 1)})`,
      `${fmt(tot(rs1, 'Pss'), 1)} (${fmt(tot(rs1, 'Anonymous'), 1)})`, signed(tot(rs1, 'Pss') - tot(fs1, 'Pss'))]);
    lines.push(`Where a member's memory is, at N=${nMax}: one idle member of each (files, Redis on one host), \`/proc/PID/smaps\` mapping by mapping, the ten that differ most; PSS KiB (its anonymous pages, \`Anonymous:\`, in brackets).`, '',
      table(['mapping', 'files', 'Redis', 'Redis − files'], rowsM), '');
  }
  if (worstCpu) {
    lines.push(`CPU per delivered line, Redis / files, worst: ${fmtRatio(worstCpu.r)} (N=${worstCpu.n}, ${worstCpu.label}); issue 15 sets no goal for it.`, '');
  }
  // ---- delivery
  const all = runs.concat(R.runs.filter((r) => r.variant === 'chat_server' && ['fanout', 'memory'].includes(r.scenario)
    && (r.scenario === 'memory' ? memSizes : sizes).includes(nOf(r))));
  const bad = runs.filter((r) => !r.skipped && (!r.completed || !clean(r)));
  const ratios = runs.filter((r) => !r.skipped && r.delivery_ratio !== undefined);
  targets.push([`${REDIS_TARGET}: delivery ratio, every run of both`,
    bad.length ? `${bad.length} run(s) incomplete or short` : `${ratios.length} runs, all 1`, '', 'delivery ratio 1',
    !bad.length && ratios.length ? 'met' : '**not met**']);
  lines.push(...deliveryLines(all));
  const notes = (meta.notes || []).filter((x) => /Redis|redis|archiver/.test(x));
  if (notes.length) lines.push('Notes of the run:', '', ...notes.map((x) => `- ${x}`), '');
  return { lines, targets };
}

/** The scale scenario's section and target rows, or null without one. */
function scaleSection(R, meta) {
  const r = R.get('chat_server', 'scale');
  if (!r) return null;
  const lines = [SCALE_HEAD, '',
    'The file transport at its own scale: chat_server (files) with many rooms at once.',
    'The rooms fill together (connection k joins room k mod rooms, 16 joins at a time), so',
    'each join is timed while the rooms fill; the tenths below are the joins in the order',
    'they were started, the rooms about 0–10 %, 10–20 %, … full.  Once every room has gone',
    'quiet: the memory of every process under websocketd, per connection, and what the',
    'machine gave up per connection (the fall of `MemAvailable`, kernel memory, websocketd',
    'and this client included).  Then a fan-out in every room: its first member sends, the',
    'rooms taking turns, one line every interval in all.  Joining stops when a join fails or',
    'MemAvailable falls under a floor; the run then says so and reports the size it reached.', '',
    runLine(meta), ''];
  const targets = [];
  const st = r.skipped ? `skipped: ${r.skipped}` : null;
  if (st) {
    lines.push(`**Not run**: ${st}.`, '');
    targets.push([`${SCALE_TARGET}: ${/--rooms=(\d+)/.exec(r.options || '')?.[1] ?? '?'} rooms of ${nOf(r) || '?'}`, st, '', 'delivery ratio 1', '**not met**']);
    return { lines, targets };
  }
  const target = r.target_connections;
  if (r.reached !== undefined && r.reached < target) {
    lines.push(`**This machine did not hold ${target} connections: it reached ${r.reached}.** ${r.stop_reason || r.error || ''}`, '');
  } else if (!r.completed) {
    lines.push(`**The run did not complete**: ${r.error || 'see the figures'}.`, '');
  }
  const k = r.kib_per_connection || {};
  const j = r.join_ms || {};
  const rows = [
    ['rooms × members', `${r.rooms} × ${r.n} = ${target}`, ''],
    ['connections reached', fmt(r.reached), ''],
    ['time to fill', fmt(r.fill_s), 's'],
    ['join p50 / p95 / p99 / max while the rooms filled', `${fmt(j.p50)} / ${fmt(j.p95)} / ${fmt(j.p99)} / ${fmt(j.max)}`, 'ms'],
    ['join p50 by tenth of the fill', (r.join_ms_by_tenth || []).map((q) => (q ? fmt(q.p50) : '–')).join(' · '), 'ms'],
    ['PSS per connection (chat processes)', fmt(k.Pss, 1), 'KiB'],
    ['anonymous PSS per connection', fmt(k.Pss_Anon, 1), 'KiB'],
    ['RSS per connection', fmt(k.Rss, 0), 'KiB'],
    ['websocketd PSS per connection', r.reached ? fmt(r.websocketd_pss_kib / r.reached, 1) : '–', 'KiB'],
    ['MemAvailable given up per connection', fmt(r.mem_available_kib_per_connection, 1), 'KiB'],
    ['MemAvailable before / full / lowest', r.mem_available_mib ? `${r.mem_available_mib.before} / ${r.mem_available_mib.full} / ${r.mem_available_mib.lowest}` : '–', 'MiB'],
    ['fan-out', `${r.sending_rooms ?? '?'} rooms × ${r.messages_per_room ?? '?'} lines, one every ${r.interval_ms ?? '?'} ms`, ''],
    ['fan-out p50 / p99 / max', r.latency_ms ? `${fmt(r.latency_ms.p50)} / ${fmt(r.latency_ms.p99)} / ${fmt(r.latency_ms.max)}` : '–', 'ms'],
    ['delivery ratio', r.delivery_ratio !== undefined ? `${fmt(r.delivery_ratio, 4)} (${r.delivered} of ${r.expected}, ${r.duplicates || 0} duplicates)` : '–', ''],
    ['CPU per delivered line, chat processes / websocketd', `${fmt(r.cpu_us_per_delivered)} / ${fmt(r.websocketd_cpu_us_per_delivered)}`, 'µs'],
  ];
  lines.push(table(['figure', 'chat_server (files)', 'unit'], rows), '');
  // The 2000-member room and the memory of section "Memory", when in the same page.
  const notes = (meta.notes || []).filter((x) => /inotify|ulimit/.test(x));
  if (notes.length) lines.push('Limits:', '', ...notes.map((x) => `- ${x}`), '');
  const full = r.completed && r.reached === target;
  targets.push([`${SCALE_TARGET}: ${r.rooms} rooms of ${r.n} (${target} connections)`,
    r.reached < target ? `reached ${r.reached}` : `delivery ratio ${fmt(r.delivery_ratio, 4)}; fan-out p50 ${fmt(r.latency_ms?.p50)} ms, p99 ${fmt(r.latency_ms?.p99)} ms; join p50 ${fmt(j.p50)} ms; ${fmt(k.Pss, 1)} KiB PSS per connection`,
    '', 'delivery ratio 1', full && r.delivery_ratio === 1 && clean(r) ? 'met' : '**not met**']);
  return { lines, targets };
}

// ---------------------------------------------------------------- callgrind

const CG_HEAD = '## JSON protocol: instructions per delivered line (callgrind)';
// Not a target: the issue's 1.1x is of the CPU per line (section "JSON
// protocol"), the kernel's share included; this is where the process's
// own share goes.  A row left by an older page is removed.
const CG_OLD_TARGET = 'JSON protocol: instructions per delivered line (callgrind)';

/** The callgrind section (chat_server_cg): its lines, or null when the
 *  run had none. */
function callgrindSection(R, meta) {
  const runs = R.all('chat_server_cg', 'callgrind')
    .map((r) => ({ ...r, n: r.n ?? Number(/--n=(\d+)/.exec(r.options || '')?.[1]) }))
    .sort((a, b) => a.n - b.n);
  if (!runs.length) return null;
  const done = runs.find((r) => !status(r));
  const ks = done ? done.messages : (/--base-messages=(\d+).*--messages=(\d+)/.exec(runs[0].options || '') || []).slice(1);
  const lines = [CG_HEAD, '',
    'The CPU times of section "JSON protocol" move with the load of this shared',
    'machine by ±0.1.  This is a count instead, which the load does not move: in a room',
    'of N members (the two counted ones included), one legacy and one JSON member run',
    'chat_server under valgrind\'s callgrind ([bench/callgrind-member.sh](../bench/callgrind-member.sh),',
    'behind a websocketd of its own on the same BASE_DIR), which counts every',
    'instruction each executes, chat_server\'s and the libraries\' (not the kernel\'s).',
    'The others run as they are; two of them (one in a room of 3) send, taking turns,',
    'the lines of the JSON protocol runs (`hello everyone, this is a benchmark line',
    '~B<seq>~`), each once both counted members have delivered the one before, so that',
    'each of them wakes up for every line and reads it alone.  The same is done in two',
    `fresh rooms, with K1 = ${ks[0] ?? '?'} and K2 = ${ks[1] ?? '?'} lines; a member's instructions per`,
    'delivered line are (I(K2) − I(K1)) / (K2 − K1), its start, join, history and quit',
    'being the same in both rooms.  "Rest of its life" is what those cost (I(K1) less',
    'K1 lines).  A ratio is JSON / legacy.', '',
    'callgrind counts what runs in the process, not in the kernel: the system calls of',
    'a line (epoll_wait, the inotify read, pread, the write to websocketd), the kernel\'s',
    'work for them and the wakeups are not in these figures, and they are the same for',
    'both members but for the bytes written.  So this ratio is that of the work of',
    'chat_server\'s own code and its libraries per line, and is not the CPU ratio of',
    'section "JSON protocol", where the kernel\'s share, the larger one, counts for both.', ''];
  const when = [`${meta.date || '?'}`, `commit ${meta.commit || 'unknown'}`,
    meta.valgrind || 'valgrind', `load average ${meta.loadavg_start || '?'} at the start`].join(', ');
  lines.push(`Run: ${when}.`, '');
  const fmtI = (x) => (typeof x === 'number' ? Math.round(x).toLocaleString('en-US') : '–');
  const rows = [];
  let worst = null;
  const missing = [];
  for (const r of runs) {
    const st = status(r);
    const rc = st ? null : ratio(r.ir_per_line_json, r.ir_per_line_legacy);
    if (rc === null) missing.push(r.n);
    else if (worst === null || rc > worst.rc) worst = { ...r, rc };
    rows.push([r.n, st || `${r.messages[0]} / ${r.messages[1]}`,
      st ? '–' : fmtI(r.ir_per_line_legacy), st ? '–' : fmtI(r.ir_per_line_json),
      fmtRatio(rc),
      st ? '–' : `${fmtI(r.ir_fixed_legacy)} / ${fmtI(r.ir_fixed_json)}`,
      r.skipped ? '–' : fmt(r.delivery_ratio, 3)]);
  }
  lines.push(table(['N', 'lines K1 / K2', 'legacy instructions per line', 'JSON instructions per line',
    'JSON/legacy', 'rest of its life, legacy / JSON (instructions)', 'delivery'], rows), '');
  // Where a line's instructions go, in the run of the worst ratio.
  const b = worst && worst.functions_per_line_legacy && worst.functions_per_line_json ? worst : null;
  if (b) {
    const lg = b.functions_per_line_legacy;
    const js = b.functions_per_line_json;
    const diff = (f) => (js[f] || 0) - (lg[f] || 0);
    const top = [...new Set([...Object.keys(lg), ...Object.keys(js)])]
      .sort((x, y) => Math.abs(diff(y)) - Math.abs(diff(x)) || x.localeCompare(y)).slice(0, 10);
    const signed = (x) => (x === null ? '–' : `${x > 0 ? '+' : x < 0 ? '−' : ''}${fmtI(Math.abs(x))}`);
    const enc = [b.ir_encoder_per_line_legacy, b.ir_encoder_per_line_json];
    const fRows = top.map((f) => [`\`${f}\``, fmtI(lg[f] || 0), fmtI(js[f] || 0), signed(diff(f))]);
    if (enc.every((x) => typeof x === 'number')) {
      fRows.push(['the encoder: `src/encode.c:encode_line` and all it calls', fmtI(enc[0]), fmtI(enc[1]), signed(enc[1] - enc[0])]);
      const rest = [b.ir_per_line_legacy - enc[0], b.ir_per_line_json - enc[1]];
      fRows.push(['the rest of the line: the loop, inotify, reading and splitting the log, the output queue',
        fmtI(rest[0]), fmtI(rest[1]), signed(rest[1] - rest[0])]);
    }
    fRows.push(['all', fmtI(b.ir_per_line_legacy), fmtI(b.ir_per_line_json), signed(b.ir_per_line_json - b.ir_per_line_legacy)]);
    lines.push(`Where the instructions of a line go, at N=${b.n} (\`callgrind_annotate\`, the same difference`,
      'of the two rooms, per delivered line): the ten functions whose own instructions differ',
      'most between the two members, then the encoder with all it calls, and the rest.', '',
      table(['function', 'legacy', 'JSON', 'JSON − legacy'], fRows), '');
  }
  const unhandled = [...new Set(runs.flatMap((r) => r.unhandled_syscalls || []))];
  if (unhandled.length) {
    lines.push(`This valgrind does not know system call${unhandled.length > 1 ? 's' : ''} ${unhandled.join(', ')}${unhandled.includes(434) ? ' (pidfd_open)' : ''}`,
      '(the logs of the counted members say so): under it the counted members cannot',
      'watch the warden, and say so once, at their join.  That is part of the rest of',
      'their life; a line takes the same path.', '');
  }
  return { lines };
}

/** --write-section callgrind: that section and its target row, spliced
 *  into the page as it is. */
function writeSection(name, file, metaFile) {
  if (name === 'redis' || name === 'scale') {
    writeIssue15Section(name, file, metaFile);
    return;
  }
  if (name !== 'callgrind') throw new Error(`no section ${name} (callgrind, redis or scale)`);
  const rawRuns = readRuns(file);
  const R = new Results(mergeRounds(rawRuns), rawRuns);
  const meta = JSON.parse(fs.readFileSync(metaFile, 'utf8'));
  const cg = callgrindSection(R, meta);
  if (!cg) throw new Error(`${file} has no callgrind run`);
  if (!fs.existsSync(DOC)) throw new Error(`${DOC} is missing: run make bench first`);
  let doc = fs.readFileSync(DOC, 'utf8');
  const body = `${cg.lines.join('\n').replace(/\n{3,}/g, '\n\n').replace(/\n+$/, '')}\n\n`;
  const at = doc.indexOf(`\n${CG_HEAD}\n`);
  if (at >= 0) {
    const end = doc.indexOf('\n## ', at + 1);
    doc = doc.slice(0, at + 1) + body + (end >= 0 ? doc.slice(end + 1) : '');
  } else {
    // After section "JSON protocol", where a full run puts it.
    const j = doc.indexOf('\n## JSON protocol\n');
    const end = j >= 0 ? doc.indexOf('\n## ', j + 1) : -1;
    doc = end >= 0 ? doc.slice(0, end + 1) + body + doc.slice(end + 1) : `${doc.replace(/\n*$/, '\n\n')}${body}`;
  }
  const ls = doc.split('\n').filter((l) => !l.startsWith(`| ${CG_OLD_TARGET} |`));
  doc = ls.join('\n');
  fs.writeFileSync(DOC, doc.endsWith('\n') ? doc : `${doc}\n`);
  process.stderr.write(`summary: wrote section "${CG_HEAD.slice(3)}" into ${path.relative(ROOT, DOC)}\n`);
}

/** --write-section redis | scale: the section (before "## Delivery", where a
 *  full run puts it, or in place of the one there) and its target rows (in
 *  place of the old ones, at the end of the targets table), the rest of
 *  the page as it was. */
function writeIssue15Section(name, file, metaFile) {
  const rawRuns = readRuns(file);
  const R = new Results(mergeRounds(rawRuns), rawRuns);
  const meta = JSON.parse(fs.readFileSync(metaFile, 'utf8'));
  const sec = name === 'redis' ? redisSection(R, meta) : scaleSection(R, meta);
  const head = name === 'redis' ? REDIS_HEAD : SCALE_HEAD;
  const label = name === 'redis' ? REDIS_TARGET : SCALE_TARGET;
  if (!sec) throw new Error(`${file} has no ${name} run`);
  if (!fs.existsSync(DOC)) throw new Error(`${DOC} is missing: run make bench first`);
  let doc = fs.readFileSync(DOC, 'utf8');
  const body = `${sec.lines.join('\n').replace(/\n{3,}/g, '\n\n').replace(/\n+$/, '')}\n\n`;
  const at = doc.indexOf(`\n${head}\n`);
  if (at >= 0) {
    const end = doc.indexOf('\n## ', at + 1);
    doc = doc.slice(0, at + 1) + body + (end >= 0 ? doc.slice(end + 1) : '');
  } else {
    const d = doc.indexOf('\n## Delivery\n');
    doc = d >= 0 ? doc.slice(0, d + 1) + body + doc.slice(d + 1) : `${doc.replace(/\n*$/, '\n\n')}${body}`;
  }
  // The target rows: the old ones out, the new ones at the end of the table.
  doc = doc.replace(/^## Targets of issues[^\n]*$/m, TARGETS_HEAD);
  const ls = doc.split('\n').filter((l) => !l.startsWith(`| ${label}`));
  const t = ls.indexOf(TARGETS_HEAD);
  if (t >= 0) {
    let i = t + 1;
    while (i < ls.length && !ls[i].startsWith('|')) i++;
    while (i < ls.length && ls[i].startsWith('|')) i++;
    ls.splice(i, 0, ...sec.targets.map((row) => `| ${row.join(' | ')} |`));
  }
  doc = ls.join('\n');
  fs.writeFileSync(DOC, doc.endsWith('\n') ? doc : `${doc}\n`);
  process.stderr.write(`summary: wrote section "${head.slice(3)}" and its target rows into ${path.relative(ROOT, DOC)}\n`);
}

const [mode, ...files] = process.argv.slice(2);
if (mode === '--check' && files.length === 1) process.exit(check(files[0]) ? 1 : 0);
else if (mode === '--write' && files.length === 2) write(files[0], files[1]);
else if (mode === '--write-section' && files.length === 3) {
  try {
    writeSection(...files);
  } catch (err) {
    process.stderr.write(`summary: ${err.message}\n`);
    process.exit(1);
  }
} else {
  process.stderr.write('usage: summary.js --check RESULTS.jsonl | --write RESULTS.jsonl META.json\n'
    + '       summary.js --write-section callgrind|redis|scale RESULTS.jsonl META.json\n');
  process.exit(2);
}
