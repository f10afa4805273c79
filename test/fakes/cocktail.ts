import { createHash } from 'node:crypto';
import { empty, FakeServer, json } from './common.js';

/**
 * A fake Cocktail Cloud build API v1 speaking the wire format of seeds 000/001: arrays for
 * single objects, "Y"/"N" flags, "yyyy-MM-dd HH:mm:ss" and ISO times, secrets nulled on
 * output. Run states follow wall time (no timers): CREATED, then INIT and each enabled step
 * for `stepMs`, then DONE (or ERROR when the tag ends in "-fail"). A cancel is a new run
 * (runType CANCEL) pointing at the canceled one with `refBuildRunSeq` (upstreams.md §4).
 * Paths not in the seeds (list builds, list runs, cancel) are the ones upstreams.md infers.
 * A run's `callbackUrl` is POSTed once when the run ends (upstreams.md §4: "Cocktail calls it
 * when the run ends"; the body's shape is not published — the fake sends the run as GET shows it).
 */

export const COCKTAIL_DEMO_TOKEN = 'cocktail-demo-token-7f3a9c';

type Cfg = Record<string, unknown> & { stepType: string; stepTitle?: string };
interface StepDef { stepType: string; stepOrder: number; useFlag: boolean; buildStepSeq: number; config: Cfg }
interface BuildRow {
  buildSeq: number; accountSeq: number; name: string; desc: string; imageName: string; registryName: string;
  tagName: string | null; autotag: { use: boolean; prefix: string; seqType: string }; steps: StepDef[];
  serverHost: string; secrets: Record<string, string>; created: number;
}
interface RunRow {
  buildRunSeq: number; buildSeq: number; buildNo: number; runType: 'BUILD' | 'CANCEL'; desc: string | null;
  tagName: string | null; callbackUrl: string | null; t0: number; fail: boolean; refBuildRunSeq?: number; cancelAt?: number;
}

const pad = (n: number) => String(n).padStart(2, '0');
const local = (ms: number) => { const d = new Date(ms); return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`; };
const iso = (ms: number | null) => (ms == null ? null : new Date(ms).toISOString().replace('Z', '+00:00'));
const SECRET_FIELDS = ['password'];
/** A callback POST the fake made, and how the receiver answered (or the network error). */
export interface SentCallback { url: string; buildRunSeq: number; runState: string; at: number; status: number | null; error?: string }

export class FakeCocktailState {
  builds = new Map<number, BuildRow>();
  runs = new Map<number, RunRow>();
  /** Every callback POST made, in order. */
  callbacks: SentCallback[] = [];
  private nextBuild = 1;
  private nextRun = 1;
  private readonly timers = new Map<number, NodeJS.Timeout>();
  private closed = false;
  constructor(readonly stepMs: number) {}

  /** When the run ends: after its enabled steps, or half a step after a cancel. */
  endAt(run: RunRow): number {
    const half = Math.round(this.stepMs / 2);
    if (run.cancelAt !== undefined) return run.cancelAt + half;
    if (run.runType === 'CANCEL') return run.t0 + half;
    return run.t0 + half + this.stepDefs(run).filter((d) => d.useFlag).length * this.stepMs;
  }

  /** (Re)arms the run's callback for its end; runs that ended before now call nobody. */
  scheduleCallback(run: RunRow): void {
    const old = this.timers.get(run.buildRunSeq);
    if (old) clearTimeout(old);
    if (!run.callbackUrl || this.closed) return;
    const wait = this.endAt(run) - Date.now();
    if (wait < -1000) return;
    const timer = setTimeout(() => { this.timers.delete(run.buildRunSeq); void this.callBack(run); }, Math.max(0, wait));
    timer.unref();
    this.timers.set(run.buildRunSeq, timer);
  }

  private async callBack(run: RunRow): Promise<void> {
    if (this.closed || !run.callbackUrl) return;
    const v = this.view(run);
    const rec: SentCallback = { url: run.callbackUrl, buildRunSeq: run.buildRunSeq, runState: v.runState, at: Date.now(), status: null };
    this.callbacks.push(rec);
    try {
      const res = await fetch(run.callbackUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(v), signal: AbortSignal.timeout(10_000) });
      rec.status = res.status;
      await res.arrayBuffer();
    } catch (e) {
      rec.error = String(e);
    }
  }

  stop(): void {
    this.closed = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }

  addBuild(body: Record<string, any>, created = Date.now()): BuildRow {
    const seq = this.nextBuild++;
    const secrets: Record<string, string> = {};
    for (const k of ['buildServerCacrt', 'buildServerClientCert', 'buildServerClientKey']) if (body[k]) secrets[k] = body[k];
    const steps: StepDef[] = (body.buildSteps ?? []).map((s: any, i: number) => {
      const config = { ...(s.buildStepConfig ?? {}), stepType: s.stepType } as Cfg;
      for (const f of SECRET_FIELDS) if (config[f]) { secrets[`${i}.${f}`] = String(config[f]); delete config[f]; }
      return { stepType: s.stepType, stepOrder: s.stepOrder ?? i + 1, useFlag: s.useFlag !== false, buildStepSeq: seq * 100 + i + 1, config };
    });
    const row: BuildRow = {
      buildSeq: seq, accountSeq: body.accountSeq ?? 1, name: body.buildName, desc: body.description ?? body.buildDesc ?? '',
      imageName: body.imageName ?? '', registryName: body.registryName ?? 'dev', tagName: body.tagName ?? null,
      autotag: { use: body.autotagUseYn === 'Y', prefix: body.autotagPrefix ?? '', seqType: body.autotagSeqType ?? 'DATETIME' },
      steps, serverHost: body.buildServerHost ?? 'topic:build-demo', secrets, created,
    };
    this.builds.set(seq, row);
    return row;
  }

  addRun(buildSeq: number, o: Partial<RunRow> & { t0?: number } = {}): RunRow {
    const b = this.builds.get(buildSeq)!;
    const prior = [...this.runs.values()].filter((r) => r.buildSeq === buildSeq && r.runType === 'BUILD').length;
    const seq = this.nextRun++;
    const tag = o.tagName ?? (b.autotag.use ? `${b.autotag.prefix}${String(prior + 1).padStart(5, '0')}` : b.tagName);
    const run: RunRow = {
      buildRunSeq: seq, buildSeq, buildNo: o.buildNo ?? prior + 1, runType: o.runType ?? 'BUILD', desc: o.desc ?? null,
      tagName: tag, callbackUrl: o.callbackUrl ?? null, t0: o.t0 ?? Date.now(), fail: (tag ?? '').endsWith('-fail'),
      refBuildRunSeq: o.refBuildRunSeq,
    };
    this.runs.set(seq, run);
    this.scheduleCallback(run);
    return run;
  }

  /** Steps a BUILD run executes: INIT first, then the build's steps in order. */
  private stepDefs(run: RunRow): StepDef[] {
    if (run.runType === 'CANCEL') {
      return [{ stepType: 'CANCEL', stepOrder: 1, useFlag: true, buildStepSeq: 0, config: { stepType: 'CANCEL', refBuildRunSeq: run.refBuildRunSeq } }];
    }
    const b = this.builds.get(run.buildSeq);
    const steps = [...(b?.steps ?? [])].sort((x, y) => x.stepOrder - y.stepOrder);
    return [{ stepType: 'INIT', stepOrder: 0, useFlag: true, buildStepSeq: 0, config: { stepType: 'INIT' } }, ...steps];
  }

  /** The run as Cocktail shows it at `now` (state, steps, logs), derived from wall time. */
  view(run: RunRow, now = Date.now()) {
    const half = Math.round(this.stepMs / 2);
    const defs = this.stepDefs(run);
    const stopAt = run.cancelAt ?? Infinity; // a canceled run stops where it was
    const t = Math.min(now, stopAt);
    const enabled = defs.filter((d) => d.useFlag);
    const start = run.t0 + half;
    let state = t < start ? 'CREATED' : 'RUNNING';
    let endTime: number | null = null;
    const runEnd = start + enabled.length * this.stepMs;
    if (run.runType === 'CANCEL') state = t < start ? 'CREATED' : 'DONE', endTime = t < start ? null : start;
    else if (t >= runEnd) state = run.fail ? 'ERROR' : 'DONE', endTime = runEnd;
    if (run.cancelAt !== undefined && now >= run.cancelAt + half) state = 'ERROR', endTime = run.cancelAt + half;
    let k = 0;
    const stepRuns = defs.map((d, i) => {
      const idx = d.useFlag ? k++ : -1;
      const b0 = run.runType === 'CANCEL' ? run.t0 : start + idx * this.stepMs;
      const b1 = run.runType === 'CANCEL' ? start : b0 + this.stepMs;
      let st = 'WAIT';
      if (d.useFlag && (state !== 'CREATED')) {
        if (t >= b1) st = run.fail && idx === enabled.length - 1 ? 'ERROR' : 'DONE';
        else if (t >= b0) st = state === 'ERROR' ? 'ERROR' : 'RUNNING';
      }
      if (run.runType === 'CANCEL') st = state === 'DONE' ? 'DONE' : 'WAIT';
      const ended = st === 'DONE' || st === 'ERROR';
      const title = String(d.config.stepTitle ?? d.stepType);
      const log = !ended ? '' : st === 'ERROR'
        ? `>>> ${title}\nerror: step ${d.stepType} failed (exit code 1)\n`
        : `>>> ${title}\n[${d.stepType}] working...\n[${d.stepType}] done\n`;
      return {
        useYn: 'Y', created: local(run.t0), updated: local(run.t0), buildStepRunSeq: run.buildRunSeq * 100 + i + 1,
        buildStepSeq: d.buildStepSeq, buildRunSeq: run.buildRunSeq, stepType: d.stepType, stepConfig: '', stepState: st,
        stepOrder: d.stepOrder, logId: `zgq0ng-${run.buildRunSeq}.${i}`, log,
        beginTime: st === 'WAIT' ? null : iso(b0), endTime: ended ? iso(Math.min(b1, endTime ?? b1)) : null,
        runTimeBySec: ended ? Math.round(this.stepMs / 1000) : 0, useFlag: d.useFlag, buildStepConfig: { ...d.config },
      };
    });
    const initDone = stepRuns[0]?.stepState === 'DONE';
    const actions = ['VIEW'];
    if (state !== 'RUNNING') actions.push('BUILD');
    if (state !== 'CREATED') actions.push('LOG');
    if (state !== 'RUNNING') actions.push('REMOVE');
    if (state === 'RUNNING' && run.runType === 'BUILD' && initDone && run.cancelAt === undefined) actions.push('CANCEL');
    const b = this.builds.get(run.buildSeq);
    const done = state === 'DONE' && run.runType === 'BUILD';
    return {
      useYn: 'Y', created: local(run.t0), updated: local(now), buildRunSeq: run.buildRunSeq, buildSeq: run.buildSeq,
      buildNo: run.buildNo, buildName: b?.name ?? '', runType: run.runType, runDesc: run.desc, runState: state,
      tagName: run.tagName, callbackUrl: run.callbackUrl,
      imageUrl: b ? `dev.cocktailcloud.io/${b.registryName}/${b.imageName}` : null,
      imageSize: done ? 100_000_000 + run.buildRunSeq * 1_234_567 : null,
      imageDigest: done ? `sha256:${createHash('sha256').update(`${run.buildSeq}:${run.buildRunSeq}`).digest('hex')}` : null,
      pipelineSeq: 0, beginTime: state === 'CREATED' ? null : iso(start), endTime: iso(endTime),
      runTimeBySec: endTime ? Math.round((endTime - start) / 1000) : 0, buildStepRuns: stepRuns, possibleActions: actions,
      buildServerHost: b?.serverHost ?? null, dbLog: endTime !== null,
    };
  }

  buildView(b: BuildRow, now = Date.now()) {
    const runs = [...this.runs.values()].filter((r) => r.buildSeq === b.buildSeq && r.runType === 'BUILD').map((r) => this.view(r, now));
    const done = runs.filter((r) => r.runState === 'DONE');
    const avg = (xs: number[]) => (xs.length ? Math.round(xs.reduce((a, x) => a + x, 0) / xs.length) : 0);
    const latest = [...runs].sort((x, y) => y.buildRunSeq - x.buildRunSeq)[0];
    return {
      useYn: 'Y', created: local(b.created), updated: local(b.created), buildSeq: b.buildSeq, buildNo: runs.length,
      buildName: b.name, buildDesc: b.desc, accountSeq: b.accountSeq, registryProjectId: 27, registryName: b.registryName,
      imageName: b.imageName, autotagUseYn: b.autotag.use ? 'Y' : 'N', autotagPrefix: b.autotag.prefix,
      autotagSeqType: b.autotag.seqType, tagName: b.tagName, externalRegistrySeq: 0, buildServerHost: b.serverHost,
      buildServerTlsVerify: 'N', buildServerCacrt: null, buildServerClientCert: null, buildServerClientKey: null,
      buildSteps: b.steps.map((s) => ({ stepType: s.stepType, useFlag: s.useFlag, buildStepSeq: s.buildStepSeq, stepOrder: s.stepOrder, buildStepConfig: { ...s.config } })),
      hostUrl: 'dev.cocktailcloud.io', buildCount: runs.length,
      runningCount: runs.filter((r) => r.runState === 'RUNNING' || r.runState === 'CREATED').length,
      doneCount: done.length, errorCount: runs.filter((r) => r.runState === 'ERROR').length, pipelineCount: 0,
      tagCount: done.length, buildTimeAvg: avg(done.map((r) => r.runTimeBySec)), imgSizeAvg: avg(done.map((r) => r.imageSize ?? 0)),
      latestBuildTime: latest?.runTimeBySec ?? 0, latestImgSize: latest?.imageSize ?? 0,
      latestExecTime: latest ? local(this.runs.get(latest.buildRunSeq)!.t0) : null,
    };
  }
}

const notFoundBody = (what: string) => json({ status: 404, code: `${what.toUpperCase()}_NOT_FOUND`, message: `${what} not found` }, 404);

export function seedDemo(s: FakeCocktailState): void {
  const day = 86_400_000;
  const now = Date.now();
  const b1 = s.addBuild({
    buildName: 'build-test', description: 'build test', imageName: 'build-api-test-gradle', registryName: 'dev', tagName: '8u292-rmsoft',
    buildSteps: [
      { stepType: 'CODE_DOWN', stepOrder: 1, buildStepConfig: { stepTitle: 'code repository task', repositoryType: 'GIT', repositoryUrl: 'github.com/codefresh-contrib/gradle-sample-app.git', branchName: 'master', codeSaveDir: 'repo', commonType: 'PRIVATE', protocolType: 'https', userId: 'ci', password: 'git-pass-demo' } },
      { stepType: 'USER_TASK', stepOrder: 2, buildStepConfig: { stepTitle: 'user task', cmd: ['mvn', 'clean', 'install'], workingDir: '/build', imageName: 'maven', imageTag: '3-jdk8', dockerVolumeMountVOList: [{ containerPath: '/build', hostPath: '$PWD/repo' }] } },
      { stepType: 'SHELL', stepOrder: 3, buildStepConfig: { stepTitle: 'script task', shellType: 'SCRIPT', command: 'cd repo\nls -al' } },
      { stepType: 'CREATE_IMAGE', stepOrder: 4, buildStepConfig: { stepTitle: 'image build task', dockerFileType: 'CONTENTS', dockerFile: 'FROM gradle:6.9.2-jdk8', registryName: 'dev', imageName: 'build-api-test-gradle', imageTag: '8u292-rmsoft' } },
    ],
  }, now - 30 * day);
  const b2 = s.addBuild({
    buildName: 'node-app', description: 'node service', imageName: 'node-app', registryName: 'dev', autotagUseYn: 'Y', autotagPrefix: 'v', autotagSeqType: 'SEQUENCE',
    buildSteps: [
      { stepType: 'CODE_DOWN', stepOrder: 1, buildStepConfig: { stepTitle: 'checkout', repositoryType: 'GIT', repositoryUrl: 'github.com/example/node-app.git', branchName: 'main', commonType: 'COMMON', protocolType: 'https' } },
      { stepType: 'SHELL', stepOrder: 2, useFlag: false, buildStepConfig: { stepTitle: 'lint (disabled)', shellType: 'COMMAND', command: 'npm run lint' } },
      { stepType: 'CREATE_IMAGE', stepOrder: 3, buildStepConfig: { stepTitle: 'image', dockerFileType: 'FILE_PATH', dockerFilePath: 'Dockerfile', registryName: 'dev', imageName: 'node-app' } },
    ],
  }, now - 20 * day);
  s.addRun(b1.buildSeq, { t0: now - 3 * day, tagName: '1.3', desc: 'release 1.3' });
  s.addRun(b1.buildSeq, { t0: now - 2 * day, tagName: '1.4-fail', desc: 'broken build' });
  s.addRun(b1.buildSeq, { t0: now - day, tagName: '1.4', desc: 'release 1.4' });
  s.addRun(b2.buildSeq, { t0: now - 2 * day, desc: 'first' });
  const canceled = s.addRun(b2.buildSeq, { t0: now - day, desc: 'canceled one' });
  canceled.cancelAt = canceled.t0 + Math.round(s.stepMs * 1.7);
  s.addRun(b2.buildSeq, { runType: 'CANCEL', t0: canceled.cancelAt, refBuildRunSeq: canceled.buildRunSeq, buildNo: canceled.buildNo, tagName: canceled.tagName });
}

export async function startFakeCocktail(opts: { token?: string; stepMs?: number; seed?: boolean } = {}) {
  const token = opts.token ?? COCKTAIL_DEMO_TOKEN;
  const state = new FakeCocktailState(opts.stepMs ?? 400);
  if (opts.seed !== false) seedDemo(state);
  const fake = new FakeServer('cocktail');
  fake.auth((r) => r.headers.authorization === `Bearer ${token}`, json({ status: 401, code: 'UNAUTHORIZED', message: 'Authentication required' }, 401));
  const build = (p: Record<string, string>) => state.builds.get(Number(p.buildSeq));

  fake.get('/v1/build', (r) => [...state.builds.values()]
    .filter((b) => !r.query.accountSeq || String(b.accountSeq) === r.query.accountSeq).map((b) => state.buildView(b)));
  fake.get('/v1/build/:buildSeq', (r) => { const b = build(r.params); return b ? [state.buildView(b)] : notFoundBody('Build'); });
  fake.post('/v1/build', (r) => {
    const body = r.body as Record<string, any>;
    if (!body || typeof body.buildName !== 'string' || !Array.isArray(body.buildSteps)) {
      return json({ status: 400, code: 'INVALID_PARAMETER', message: 'buildName and buildSteps are required' }, 400);
    }
    return [state.buildView(state.addBuild(body))];
  });
  fake.delete('/v1/build/:buildSeq', (r) => {
    const b = build(r.params);
    if (!b) return notFoundBody('Build');
    state.builds.delete(b.buildSeq);
    for (const run of [...state.runs.values()]) if (run.buildSeq === b.buildSeq) state.runs.delete(run.buildRunSeq);
    return empty(200);
  });
  fake.get('/v1/build/:buildSeq/runs', (r) => {
    const b = build(r.params);
    if (!b) return notFoundBody('Build');
    return [...state.runs.values()].filter((x) => x.buildSeq === b.buildSeq).sort((x, y) => y.t0 - x.t0 || y.buildRunSeq - x.buildRunSeq)
      .map((x) => { const v = state.view(x); return { ...v, buildStepRuns: v.buildStepRuns.map(({ log: _l, ...s }) => s) }; });
  });
  fake.post('/v1/build/run/:buildSeq', (r) => {
    const b = build(r.params);
    if (!b) return notFoundBody('Build');
    const run = state.addRun(b.buildSeq, { tagName: r.query.tagName || undefined, desc: r.query.description ?? null, callbackUrl: r.query.callbackUrl ?? null });
    const { dbLog: _d, buildServerHost: _h, ...v } = state.view(run);
    return [{ ...v, ...state.buildView(b), ...v }];
  });
  fake.get('/v1/build/run/log/:buildRunSeq', (r) => {
    const run = state.runs.get(Number(r.params.buildRunSeq));
    if (!run) return notFoundBody('BuildRun');
    const v = state.view(run);
    return [{ useYn: 'Y', created: v.created, updated: v.updated, buildRunSeq: v.buildRunSeq, runState: v.runState, buildSeq: v.buildSeq,
      registryProjectId: 27, externalRegistrySeq: 0, buildServerHost: v.buildServerHost, dbLog: v.dbLog, buildStepRuns: v.buildStepRuns }];
  });
  fake.post('/v1/build/run/:buildRunSeq/cancel', (r) => {
    const run = state.runs.get(Number(r.params.buildRunSeq));
    if (!run) return notFoundBody('BuildRun');
    if (!state.view(run).possibleActions.includes('CANCEL')) {
      return json({ status: 400, code: 'BUILD_RUN_CANCEL_NOT_ALLOWED', message: 'The build run can not be canceled in its state' }, 400);
    }
    run.cancelAt = Date.now();
    state.scheduleCallback(run);
    const c = state.addRun(run.buildSeq, { runType: 'CANCEL', refBuildRunSeq: run.buildRunSeq, buildNo: run.buildNo, tagName: run.tagName, t0: run.cancelAt });
    return [state.view(c)];
  });
  fake.get('/v1/build/:buildSeq/images', (r) => {
    const b = build(r.params);
    if (!b) return notFoundBody('Build');
    const col = r.query.orderColumn ?? 'END_TIME';
    const dir = (r.query.order ?? 'DESC') === 'ASC' ? 1 : -1;
    const tags = [...state.runs.values()].filter((x) => x.buildSeq === b.buildSeq && x.runType === 'BUILD').map((x) => state.view(x))
      .filter((v) => v.runState === 'DONE')
      .map((v) => ({ buildRunSeq: v.buildRunSeq, tag: v.tagName, runDesc: v.runDesc, imageUrl: v.imageUrl, imageSize: v.imageSize,
        imageDigest: v.imageDigest, beginTime: v.beginTime, endTime: v.endTime, buildServerName: '' }));
    const key = (t: (typeof tags)[number]) => (col === 'TAG' ? t.tag ?? '' : col === 'IMAGE_SIZE' ? t.imageSize ?? 0 : t.endTime ?? '');
    tags.sort((x, y) => dir * (key(x) < key(y) ? -1 : key(x) > key(y) ? 1 : 0));
    return [{ buildSeq: b.buildSeq, registryImagePath: `${b.registryName}/${b.imageName}`, registryProjectId: 27,
      registryName: b.registryName, imageName: b.imageName, externalRegistrySeq: 0, tags }];
  });

  const started = await fake.start();
  const close = async () => { state.stop(); await started.close(); };
  return { url: started.url, close, fake, state, token };
}
