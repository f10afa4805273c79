import { FakeServer, json } from './common.js';

/**
 * A fake Huawei CodeArts Build speaking its wire format: `X-Auth-Token` auth, v3 bare
 * answers and v4 `{status, error, result}` envelopes, `{error_code, error_msg}` error
 * bodies, page_index/page_size job paging, history paged by page number with the 30-day
 * `interval`, and an offset-addressed real-time log. A new build is QUEUED, then RUNNING
 * through its steps while its log grows character by character (so chunks end mid-line),
 * then SUCCESS (FAILED for the job named "broken-job"; ABORTED when stopped).
 */

export const CODEARTS_TOKEN = 'codearts-iam-token-ABCDEF0123456789';
export const CODEARTS_PROJECT = 'b4d3971c3988463b865f6f920846149e';
export const JOBS = {
  api: 'cb5fa20de5fd4cf8be681d4bd6fdd2f6',
  web: '68491d9bc97b4774adb93e29b46d2dc6',
  broken: '0a1b2c3d4e5f60718293a4b5c6d7e8f9',
} as const;
export interface FakeCodeArtsOptions { token?: string; queuedMs?: number; stepMs?: number }

interface FakeBuild { jobId: string; buildNo: number; createdMs: number; stoppedMs: number | null; fails: boolean; log: string }
const STEPS = ['Code checkout', 'Build with Maven', 'Upload to release repo'];
const iso = (ms: number) => new Date(ms).toISOString().replace('Z', '+00:00');
const err = (status: number, code: string, msg: string) => json({ error_code: code, error_msg: msg }, status);

function buildLog(jobName: string, buildNo: number, fails: boolean): string {
  const lines = [`[INFO] build ${jobName} #${buildNo} started`, '[INFO] git clone https://codehub.example.com/demo/maven.git --branch master',
    '[INFO] checked out 9f8e7d6c5b4a', '[INFO] mvn package -DskipTests', '[INFO] Building jar: target/app-1.0.jar',
    fails ? '[ERROR] Failed to execute goal: compilation failure' : '[INFO] uploading target/app-1.0.jar to release repo'];
  // Like a real console log the last line has no newline: the reader must still emit it at the end.
  return `${lines.join('\n')}\nBuild finished: ${fails ? 'FAILED' : 'SUCCESS'}`;
}

export async function startFakeCodeArts(opts: FakeCodeArtsOptions = {}) {
  const token = opts.token ?? CODEARTS_TOKEN;
  const queuedMs = opts.queuedMs ?? 300;
  const stepMs = opts.stepMs ?? 400;
  const fake = new FakeServer('codearts');
  const jobs = [
    { id: JOBS.api, job_name: 'api-maven', job_creator: 'alice', last_build_time: 1732520000000 },
    { id: JOBS.web, job_name: 'web-npm', job_creator: 'bob', last_build_time: 1732000000000 },
    { id: JOBS.broken, job_name: 'broken-job', job_creator: 'alice', last_build_time: 1731000000000 },
  ];
  const builds: FakeBuild[] = [];
  const add = (jobId: string, createdMs: number) => {
    const job = jobs.find((j) => j.id === jobId)!;
    const buildNo = builds.filter((b) => b.jobId === jobId).length + 1;
    const fails = job.job_name === 'broken-job';
    const b: FakeBuild = { jobId, buildNo, createdMs, stoppedMs: null, fails, log: buildLog(job.job_name, buildNo, fails) };
    builds.push(b);
    return b;
  };
  // Seeded history: two finished builds of the api job, one of the web job.
  add(JOBS.api, Date.now() - 2 * 3600_000);
  add(JOBS.api, Date.now() - 3600_000);
  add(JOBS.web, Date.now() - 1800_000);

  /** A build as CodeArts shows it at `now`; states follow from elapsed time. */
  function view(b: FakeBuild, now = Date.now()) {
    const at = Math.min(now, b.stoppedMs ?? now) - b.createdMs;
    const runMs = STEPS.length * stepMs;
    const finishedAt = queuedMs + (b.fails ? runMs - stepMs / 2 : runMs);
    const done = at >= finishedAt;
    const stopped = b.stoppedMs !== null && !done;
    const started = at >= queuedMs;
    const status = stopped ? 'ABORTED' : done ? (b.fails ? 'FAILED' : 'SUCCESS') : started ? 'RUNNING' : 'QUEUED';
    const ended = done || stopped;
    const endMs = b.createdMs + (stopped ? at : finishedAt);
    const visible = started ? Math.min(b.log.length, Math.floor(b.log.length * (Math.min(at, finishedAt) - queuedMs) / (finishedAt - queuedMs))) : 0;
    const steps = STEPS.map((name, i) => {
      const from = queuedMs + i * stepMs;
      const to = from + stepMs;
      const failsHere = b.fails && i === STEPS.length - 1;
      const st = at < from || (failsHere && at < from) ? '' : failsHere && done ? 'error' : at >= to ? 'success' : 'running';
      return { name, status: ended && st === 'running' ? (stopped ? 'running' : st) : st, build_time: st === 'success' ? stepMs : 0 };
    });
    return { status, started, ended, endMs, visible: ended ? b.log.length : visible, steps };
  }
  const find = (jobId?: string, no?: string) => builds.find((b) => b.jobId === jobId && b.buildNo === Number(no));
  const notFound = () => err(404, 'CB.00000404', 'the build record does not exist');

  fake.auth((r) => r.headers['x-auth-token'] === token, err(401, 'CB.00000401', 'the token is invalid or expired'));

  fake.get('/v3/:projectId/jobs', (r) => {
    if (r.params.projectId !== CODEARTS_PROJECT) return err(403, 'CB.00000403', 'no permission on this project');
    const index = Number(r.query.page_index ?? 0);
    const size = Number(r.query.page_size ?? 10);
    if (!(index >= 0) || !(size >= 1 && size <= 100)) return err(400, 'CB.00000400', 'page_size must be 1..100');
    const withStatus = jobs.map((j) => {
      const last = builds.filter((b) => b.jobId === j.id).at(-1);
      const v = last && view(last);
      return { ...j, user_name: j.job_creator, health_score: 100, source_code: 'codehub', is_finished: v ? v.ended : true,
        last_build_status: !v ? 'notbuilt' : v.status === 'SUCCESS' ? 'blue' : v.ended ? 'red' : 'blue_anime', disabled: false,
        last_build_user: 'alice', trigger_type: 'MANUAL', build_time: 120000 };
    });
    return { total: jobs.length, jobs: withStatus.slice(index * size, (index + 1) * size) };
  });
  fake.post('/v3/jobs/build', (r) => {
    const jobId = (r.body as { job_id?: string } | null)?.job_id;
    if (!jobs.some((j) => j.id === jobId)) return err(404, 'CB.00000404', 'the build job does not exist');
    const b = add(jobId!, Date.now());
    return { octopus_job_name: `j_${jobId!.slice(0, 8)}`, actual_build_number: String(b.buildNo), daily_build_number: `20251125.${b.buildNo}` };
  });
  fake.get('/v3/jobs/:jobId/status', (r) => ({ result: builds.some((b) => b.jobId === r.params.jobId && !view(b).ended) }));
  fake.post('/v3/jobs/:jobId/:buildNo/stop', (r) => {
    const b = find(r.params.jobId, r.params.buildNo);
    if (!b) return notFound();
    if (view(b).ended) return { success: false, result: 'the build is not running' };
    b.stoppedMs = Date.now();
    return { success: true, result: 'stopped' };
  });
  fake.get('/v4/jobs/:jobId/:buildNo/record-info', (r) => {
    const b = find(r.params.jobId, r.params.buildNo);
    // v4 answers in its envelope: an unknown build is a "fail" status carrying CB.00000404.
    if (!b) return { status: 'fail', error: { error_code: 'CB.00000404', error_msg: 'the build record does not exist' }, result: null };
    const v = view(b);
    return { status: 'success', error: null, result: {
      id: `rec-${b.jobId.slice(0, 8)}-${b.buildNo}`, build_project_id: `bp-${b.jobId.slice(0, 8)}`, build_record_id: `br-${b.buildNo}`,
      parent_record_id: null, devcloud_project_id: CODEARTS_PROJECT, codeci_job_id: b.jobId, user_id: 'ae22fd035f354cfa8d82a3f1c8940446',
      build_no: b.buildNo, daily_build_num: `20251125.${b.buildNo}`, execution_id: `j_${b.buildNo}`, repo_name: 'maven', repo_id: '2111616838',
      branch: 'master', tag: null, commit: '9f8e7d6c5b4a', commit_message: 'bump version', commit_create_time: iso(b.createdMs - 60_000),
      trigger_type: 'MANUAL', build_type: 'branch', status: v.status, domain_id: 'd1', create_time: iso(b.createdMs),
      schedule_time: iso(b.createdMs), queued_time: iso(b.createdMs), start_time: v.started ? iso(b.createdMs + queuedMs) : null,
      runnable_time: v.started ? iso(b.createdMs + queuedMs) : null, finish_time: v.ended ? iso(v.endMs) : null,
      duration: v.ended ? v.endMs - b.createdMs - queuedMs : null, record_status: null, use_private_slave: 0, region: 'cn-north-4',
      err_msg: v.status === 'FAILED' ? 'Build with Maven failed: compilation failure' : null, build_config_type: 'YAML',
    } };
  });
  fake.get('/v3/jobs/:jobId/history', (r) => {
    const interval = Number(r.query.interval);
    if (!(interval >= 1 && interval <= 30)) return err(400, 'CB.00000400', 'interval must be 1..30 days');
    const page = Number(r.query.offset ?? 0);
    const limit = Number(r.query.limit ?? 10);
    const mine = builds.filter((b) => b.jobId === r.params.jobId && b.createdMs >= Date.now() - interval * 86400_000).reverse();
    return { total: mine.length, history_records: mine.slice(page * limit, (page + 1) * limit).map((b) => {
      const v = view(b);
      return { record_id: `br-${b.buildNo}`, job_id: b.jobId, build_number: b.buildNo, start_time: v.started ? b.createdMs + queuedMs : null,
        end_time: v.ended ? v.endMs : null, result: v.status };
    }) };
  });
  fake.get('/v3/jobs/:jobId/:buildNo/history-details', (r) => {
    const b = find(r.params.jobId, r.params.buildNo);
    if (!b) return notFound();
    return { job_name: jobs.find((j) => j.id === b.jobId)!.job_name, build_number: b.buildNo, project_id: CODEARTS_PROJECT,
      project_name: 'demo', parameters: { codeBranch: 'master', repoPassword: '***' }, build_steps: view(b).steps };
  });
  fake.get('/v3/jobs/:jobId/:buildNo/real-time-log', (r) => {
    const b = find(r.params.jobId, r.params.buildNo);
    if (!b) return notFound();
    const v = view(b);
    const offset = Math.max(0, Number(r.query.offset ?? 0));
    const length = Math.max(1, Number(r.query.length ?? 1_000_000));
    const content = b.log.slice(offset, Math.min(v.visible, offset + length));
    const next = offset + content.length;
    return { status: 'success', error: null, result: { has_more_data: !v.ended || next < b.log.length, offset: next, content, current_offset: offset } };
  });

  const server = await fake.start();
  return { ...server, fake, token, builds, jobs };
}
