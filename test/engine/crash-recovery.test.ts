import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { filesUnder, killAll, newMarker, processesWith, sleepyScript } from '../support/processes.js';

const root = path.resolve(new URL('../..', import.meta.url).pathname);
const cli = path.join(root, 'dist/src/cli.js');

async function serve(dir: string): Promise<{ proc: ChildProcess; url: string }> {
  let out = '';
  const proc = spawn(process.execPath, [cli, 'serve', '--port', '0', '--no-demo'], {
    cwd: dir, env: { ...process.env, NODE_OPTIONS: '', BUILDGATE_DATABASE__URL: `sqlite:${dir}/db.sqlite`, BUILDGATE_ENGINE__WORK_DIR: `${dir}/ws`, BUILDGATE_AUTH__ANONYMOUS: 'admin' },
  });
  proc.stdout!.on('data', (d) => { out += d; });
  proc.stderr!.on('data', (d) => { out += d; });
  const url = await new Promise<string>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no start: ${out}`)), 20000);
    const check = () => { const m = /"url":"(http:[^"]+)"/.exec(out); if (m) { clearTimeout(t); resolve(m[1]!); } else setTimeout(check, 30); };
    check();
  });
  return { proc, url };
}

async function gql(url: string, query: string, variables: Record<string, unknown> = {}): Promise<any> {
  const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) });
  const body = (await r.json()) as any;
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

const LOG = `query($id: ID!, $after: SafeInt) { run(id: $id) { state errorMessage log(afterSeq: $after, first: 5000) { lastSeq hasMore lines { seq source text } } } }`;

/**
 * kill -9 in the middle of a run: every line a client had read before the kill is still
 * there afterwards with the same seq and text, sequence numbers stay gap-free and unique,
 * and the run ends as ERROR with the reason at restart.
 */
describe('crash recovery', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bg-crash-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('loses no acknowledged log line and keeps seq gap-free across kill -9', async () => {
    let s = await serve(dir);
    const b = await gql(s.url, `mutation { createBuild(input: { build: {name: "noisy", steps: [{stepOrder: 1, stepType: SHELL, shell: {command: "i=0; while true; do i=$((i+1)); echo line $i; done"}}]} }) { build { id } } }`);
    const run = (await gql(s.url, `mutation($id: ID!) { runBuild(input: { buildId: $id }) { run { id } } }`, { id: b.createBuild.build.id })).runBuild.run;
    // Read (acknowledge) lines as a client would, until well past the first batches.
    const acked: Array<{ seq: number; text: string }> = [];
    let after = 0;
    while (acked.length < 20000) {
      const page = (await gql(s.url, LOG, { id: run.id, after })).run.log;
      for (const l of page.lines) acked.push({ seq: l.seq, text: l.text });
      if (page.lines.length) after = page.lines[page.lines.length - 1].seq;
    }
    s.proc.kill('SIGKILL');
    await new Promise((r) => s.proc.on('exit', r));

    s = await serve(dir);
    try {
      const all: Array<{ seq: number; source: string; text: string }> = [];
      let cursor = 0;
      let state = '';
      let error = '';
      for (;;) {
        const r = (await gql(s.url, LOG, { id: run.id, after: cursor })).run;
        state = r.state;
        error = r.errorMessage;
        all.push(...r.log.lines);
        if (!r.log.hasMore) break;
        cursor = all[all.length - 1]!.seq;
      }
      expect(state).toBe('ERROR');
      expect(error).toMatch(/stopped while this run was running/);
      expect(all.map((l) => l.seq)).toEqual(all.map((_l, i) => i + 1));
      const bySeq = new Map(all.map((l) => [l.seq, l.text]));
      for (const a of acked) expect(bySeq.get(a.seq)).toBe(a.text);
      expect(all[all.length - 1]!.text).toMatch(/stopped while this run was running/);
      // The shell's own lines are consecutive: none lost in the middle of what was stored.
      const nums = all.filter((l) => l.source === 'STDOUT').map((l) => Number(l.text.split(' ')[1]));
      expect(nums).toEqual(nums.map((_n, i) => i + 1));
    } finally {
      s.proc.kill('SIGTERM');
      await new Promise((r) => s.proc.on('exit', r));
    }
  }, 60000);

  it('leaves no step process and no script file behind a kill -9 (a restart ends them)', async () => {
    const own = fs.mkdtempSync(path.join(dir, 'procs-'));
    const secs = newMarker();
    let s = await serve(own);
    try {
      const script = sleepyScript(secs);
      const b = await gql(s.url, `mutation($c: String!) { createBuild(input: { build: {name: "sleepy", steps: [{stepOrder: 1, stepType: SHELL, shell: {shellType: SCRIPT, command: $c}}]} }) { build { id } } }`, { c: script });
      const run = (await gql(s.url, `mutation($id: ID!) { runBuild(input: { buildId: $id }) { run { id } } }`, { id: b.createBuild.build.id })).runBuild.run;
      for (let i = 0; processesWith(`sleep ${secs}3`).length === 0; i++) {
        if (i > 200) throw new Error('the step did not start');
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(processesWith(`sleep ${secs}`).length).toBe(3); // the three sleeps
      expect(filesUnder(path.join(own, 'ws')).some((f) => f.endsWith('script'))).toBe(true);
      s.proc.kill('SIGKILL');
      await new Promise((r) => s.proc.on('exit', r));
      expect(processesWith(`sleep ${secs}`).length).toBe(3); // nothing took them with it

      s = await serve(own);
      const r = (await gql(s.url, LOG, { id: run.id })).run;
      expect(r.state).toBe('ERROR');
      expect(processesWith(`sleep ${secs}`)).toEqual([]);
      expect(filesUnder(path.join(own, 'ws')).filter((f) => !f.startsWith('run-'))).toEqual([]);
    } finally {
      killAll(`sleep ${secs}`);
      s.proc.kill('SIGTERM');
      await new Promise((r) => s.proc.on('exit', r));
    }
  }, 60000);
});
