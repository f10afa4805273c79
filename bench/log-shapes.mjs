// Log output shapes on the real path (GraphQL runBuild → engine → SHELL step → log writer →
// store): the same number of bytes printed with newlines, without any newline, and as `\r`
// progress updates. Run: node bench/log-shapes.mjs [--mb 60] [--db sqlite|postgres] [--shapes lines,none,cr]
// Each shape runs in a fresh gateway in its own child process so that peak RSS is its own.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: {
  mb: { type: 'string', default: '60' }, db: { type: 'string', default: 'sqlite' }, shapes: { type: 'string', default: 'lines,none,cr' }, child: { type: 'string' },
} });
const BYTES = Number(values.mb) * 1024 * 1024;
// 99 characters + newline per line; the same characters with no newline at all; progress
// updates ("progress 12345 of …") ended by \r only, like a terminal progress bar.
const COMMANDS = {
  lines: `yes '${'x'.repeat(99)}' | head -c ${BYTES}`,
  none: `yes '${'x'.repeat(99)}' | tr -d '\\n' | head -c ${BYTES}`,
  cr: `seq -f 'progress %09g of the transfer, bytes so far ....................................' 1 100000000 | tr '\\n' '\\r' | head -c ${BYTES}`,
};

if (values.child) {
  const shape = values.child;
  const pino = (await import('pino')).default;
  const pg = (await import('pg')).default;
  const { parseConfig } = await import('../dist/src/config/index.js');
  const { startServer } = await import('../dist/src/server/index.js');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bg-shapes-'));
  const PG_URL = process.env.BUILDGATE_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  let pgSchema;
  let dbUrl = `sqlite:${dir}/bench.db`;
  if (values.db === 'postgres') {
    pgSchema = `bg_shapes_${process.pid}`;
    const c = new pg.Client({ connectionString: PG_URL }); await c.connect(); await c.query(`create schema ${pgSchema}`); await c.end();
    dbUrl = PG_URL;
  }
  const config = parseConfig({ server: { port: 0, playground: false }, database: { url: dbUrl }, log: { level: 'silent' }, demo: { seed: false },
    engine: { workDir: `${dir}/ws`, maxConcurrentRuns: 1, maxLogBytesPerStep: BYTES * 2 }, auth: { anonymous: 'admin' }, limits: { mutationsPerMinute: 0 } });
  const server = await startServer(config, { logger: pino({ level: 'silent' }), pgSchema });
  const gql = async (query, variables) => {
    const r = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) });
    const b = await r.json();
    if (b.errors) throw new Error(JSON.stringify(b.errors));
    return b.data;
  };
  const db = server.store.db;
  const rssBefore = process.memoryUsage().rss;
  const cpuBefore = process.cpuUsage();
  let peakRss = rssBefore;
  const sampler = setInterval(() => { peakRss = Math.max(peakRss, process.memoryUsage().rss); }, 20);
  const id = (await gql(`mutation($c: String!) { createBuild(input: { build: {name: "shape", steps: [{stepOrder: 1, stepType: SHELL, shell: {shellType: COMMAND, command: $c}}]} }) { build { id } } }`, { c: COMMANDS[shape] })).createBuild.build.id;
  const run = (await gql(`mutation($id: ID!) { runBuild(input: { buildId: $id }) { run { key } } }`, { id })).runBuild.run;
  let done;
  for (;;) {
    done = await db.selectFrom('build_runs').select(['state', 'end_time', 'error_message']).where('id', '=', Number(run.key)).executeTakeFirst();
    if (['DONE', 'ERROR', 'CANCELED'].includes(done.state)) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  const cpu = process.cpuUsage(cpuBefore);
  clearInterval(sampler);
  const step = await db.selectFrom('step_runs').select('begin_time').where('run_id', '=', Number(run.key)).executeTakeFirst();
  const rows = await db.selectFrom('log_lines').select([(eb) => eb.fn.countAll().as('n'), (eb) => eb.fn.sum(eb.fn('length', ['text'])).as('chars')])
    .where('run_id', '=', Number(run.key)).where('stream', '=', 'STDOUT').executeTakeFirst();
  console.log(JSON.stringify({
    shape, db: values.db, mb: Number(values.mb), state: done.state, error: done.error_message, storedLines: Number(rows.n), storedChars: Number(rows.chars),
    seconds: (Number(done.end_time) - Number(step.begin_time)) / 1000, cpuSeconds: (cpu.user + cpu.system) / 1e6, peakRssMB: Math.round(peakRss / 1048576), rssBeforeMB: Math.round(rssBefore / 1048576),
  }));
  await server.close();
  if (pgSchema) { const c = new pg.Client({ connectionString: PG_URL }); await c.connect(); await c.query(`drop schema ${pgSchema} cascade`); await c.end(); }
  fs.rmSync(dir, { recursive: true, force: true });
} else {
  const results = [];
  for (const shape of values.shapes.split(',')) {
    const out = await new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--child', shape, '--mb', values.mb, '--db', values.db], { stdio: ['ignore', 'pipe', 'inherit'] });
      let text = '';
      child.stdout.on('data', (c) => { text += c; });
      child.on('close', (code) => (code === 0 ? resolve(JSON.parse(text.trim().split('\n').pop())) : reject(new Error(`${shape} exited ${code}`))));
    });
    console.log(JSON.stringify(out));
    results.push(out);
  }
  const ref = results.find((r) => r.shape === 'lines');
  if (ref) for (const r of results) console.log(`${r.shape}: ${r.seconds} s (${(r.seconds / ref.seconds).toFixed(2)}× lines), ${r.cpuSeconds} CPU-s, peak RSS ${r.peakRssMB} MB, ${r.storedLines} lines stored, ${r.state}`);
}
