#!/usr/bin/env node
'use strict';
// Runs the integration suite one file at a time, on Node.js 18 and newer.
//
//   node tests/run-integration.js [FILE_OR_DIR...]   (default: tests/integration)
//
// `node --test --test-concurrency=1` would do, but Node 18 has no
// --test-concurrency, and its `node --test` runs several files at once.
// The files share things of the whole machine (the inotify limits, ports,
// CPU for the timing tests), so they must not overlap.  node:test's run()
// with concurrency 1 takes one file after the other on every version.
//
// The output is TAP and ends with the runner's summary (`# pass N`,
// `# fail N`, ...), which CI reads.  The exit status is 1 when a test
// failed or was cancelled, or when no summary arrived.

const fs = require('node:fs');
const path = require('node:path');
const { pipeline, Transform } = require('node:stream');
const { run } = require('node:test');

/** The *.test.js files under the arguments (files are taken as given). */
function testFiles(args) {
  const files = [];
  const walk = (p) => {
    if (!fs.existsSync(p)) {
      console.error(`run-integration: ${p}: no such file or directory`);
      process.exit(1);
    }
    if (fs.statSync(p).isDirectory()) {
      for (const e of fs.readdirSync(p).sort()) {
        const full = path.join(p, e);
        if (e.endsWith('.test.js') || fs.statSync(full).isDirectory()) walk(full);
      }
    } else {
      files.push(path.resolve(p));
    }
  };
  args.forEach(walk);
  return files;
}

const args = process.argv.slice(2);
const files = testFiles(args.length ? args : [path.join(__dirname, 'integration')]);
if (!files.length) {
  console.error(`run-integration: no *.test.js files in ${args.join(' ')}`);
  process.exit(1);
}

let failedEvents = 0;
let summary = null; // the last `# pass`, `# fail` and `# cancelled` counts

// Copies the TAP text to stdout and reads the closing summary from it.
let rest = '';
const scan = (text) => {
  const lines = (rest + text).split('\n');
  rest = lines.pop();
  for (const line of lines) {
    const m = /^# (pass|fail|cancelled) (\d+)$/.exec(line);
    if (m) {
      if (m[1] === 'pass') summary = { pass: 0, fail: 0, cancelled: 0 };
      if (summary) summary[m[1]] = Number(m[2]);
    }
  }
};
const tee = new Transform({
  transform(chunk, encoding, done) {
    scan(chunk.toString());
    done(null, chunk);
  },
  flush(done) {
    scan('\n');
    done();
  },
});

const stream = run({ files, concurrency: 1 });
let source = stream;
if (stream.readableObjectMode) {
  // Node 18.17 and newer: events, which the tap reporter turns into text.
  // A failed todo test does not count; a cancelled one does.
  stream.on('test:fail', (data) => { if (!data.todo) failedEvents++; });
  const { tap } = require('node:test/reporters');
  source = [stream, tap];
}
// Older Node 18 gives TAP text already.

pipeline(...[source].flat(), tee, process.stdout, (err) => {
  if (err) {
    console.error(`run-integration: ${err.stack || err}`);
    process.exitCode = 1;
    return;
  }
  if (!summary) {
    console.error('run-integration: the test runner printed no summary');
    process.exitCode = 1;
  } else if (summary.fail || summary.cancelled || failedEvents) {
    process.exitCode = 1;
  }
});
