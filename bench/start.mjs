#!/usr/bin/env node
/**
 * Time to healthy: command started → GET /healthz answers 200, for
 *   reference  `node dist/src/cli.js serve` (the built CLI, no build step)
 *   npm start  once built (the prestart build check finds nothing to do)
 *   npm start  after a source file changed (the server is rebuilt, the playground is not)
 *   the full build then serve: what every `npm start` did before
 * Each in a fresh temp store on a free port; median of --runs (default 3).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const runs = Number(process.argv[process.argv.indexOf('--runs') + 1]) || 3;

async function timeToHealthy(cmd, args) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bg-bench-start-'));
  const started = performance.now();
  const p = spawn(cmd, args, { cwd: root, detached: true, env: { ...process.env, BUILDGATE_DATABASE__URL: `sqlite:${dir}/db.sqlite`, BUILDGATE_LOG__LEVEL: 'info' } });
  let out = '';
  p.stdout.on('data', (d) => { out += d; });
  p.stderr.on('data', (d) => { out += d; });
  try {
    for (;;) {
      if (p.exitCode !== null) throw new Error(`exited ${p.exitCode}: ${out}`);
      const m = /"url":"(http:[^"]+)\/graphql"/.exec(out);
      if (m && (await fetch(`${m[1]}/healthz`).then((r) => r.status, () => 0)) === 200) return (performance.now() - started) / 1000;
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    process.kill(-p.pid, 'SIGTERM'); // npm and the server it started
    await new Promise((r) => p.on('exit', r));
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
async function measure(label, cmd, args, before = () => {}) {
  const times = [];
  for (let i = 0; i < runs; i++) { before(); times.push(await timeToHealthy(cmd, args)); }
  return { label, s: median(times) };
}

const npm = ['npm', ['start', '--silent', '--', '--port', '0']];
const touched = path.join(root, 'src', 'ids.ts');
const results = [
  await measure('reference: node dist/src/cli.js serve', process.execPath, [path.join(root, 'dist/src/cli.js'), 'serve', '--port', '0']),
  await measure('npm start, built', ...npm),
  await measure('npm start, one source file changed', ...npm, () => { const t = new Date(); fs.utimesSync(touched, t, t); }),
  // What every `npm start` did before the stale check: the whole build, then serve.
  await measure('full build, then serve (npm start before)', 'sh', ['-c', `node scripts/build.mjs && exec node dist/src/cli.js serve --port 0`]),
];
const ref = results[0].s;
console.log(`load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
console.log('| start | seconds to healthy (median of ' + runs + ') | × reference |\n|---|---|---|');
for (const r of results) console.log(`| ${r.label} | ${r.s.toFixed(1)} | ${(r.s / ref).toFixed(1)} |`);
