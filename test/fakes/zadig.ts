import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { FakeServer, json, text, type RouteRequest } from './common.js';

/**
 * A fake Zadig (OpenAPI) speaking the real wire format: build modules under
 * /openapi/build, custom workflow tasks under /openapi/workflows/custom, job logs as text
 * (finished) or Server-Sent Events (running), `{type,code,message,description,extra}`
 * error bodies with business codes 6xxx sent as HTTP 400. A new task is created -> running
 * (build job logs one line per `lineMs`) -> deploy job -> passed (or failed for a build
 * named "broken-build").
 */

export interface FakeZadigBuild {
  project_key: string; name: string; source: string; target_services: Array<{ service_name: string; service_module: string }>;
  template_name: string; update_by: string; update_time: number; repos: unknown[]; build_env: Record<string, unknown>;
  advanced_settings: Record<string, unknown>; build_script: string; parameters: unknown[]; outputs: unknown[]; post_build: Record<string, unknown>;
}
const demoBuild = (name: string, services: string[], extra: Partial<FakeZadigBuild> = {}): FakeZadigBuild => ({
  project_key: 'demo', name, source: 'zadig', target_services: services.map((s) => ({ service_name: s, service_module: s })),
  template_name: '', update_by: 'admin', update_time: 1732520000, build_script: '#!/bin/bash\nset -e\nmake build',
  repos: [{ source: 'gitlab', repo_owner: 'demo-org', repo_name: services[0], remote_name: 'origin', branch: 'main', address: 'https://gitlab.example.com', checkout_path: '', submodules: false }],
  build_env: { basic_image_id: '63047770931401b9baa6e396', basic_image_label: 'ubuntu 20.04', installs: [{ name: 'go', version: '1.22' }] },
  advanced_settings: { cluster_name: 'local', timeout: 60 },
  parameters: [{ key: 'GOFLAGS', value: '-mod=vendor', type: 'string', is_credential: false }, { key: 'NPM_TOKEN', value: 'npm-secret-value', type: 'string', is_credential: true }],
  outputs: [{ name: 'IMAGE', description: '' }],
  post_build: { docker_build: { work_dir: '.', docker_file: 'Dockerfile', build_args: '', source: 'local', template_name: '' } },
  ...extra,
});
/** Seeded build modules of project "demo". */
const DEMO_BUILDS: FakeZadigBuild[] = [
  demoBuild('api-build', ['api']),
  demoBuild('web-build', ['web', 'web-admin']),
  demoBuild('worker-build', ['worker']),
  demoBuild('broken-build', ['broken']),
];
function buildLog(service: string, build: string): string[] {
  const lines = [`[${build}] preparing workspace`, `cloning demo-org/${service} (main)`, 'Step 1/4 : FROM golang:1.22', 'Step 2/4 : COPY . /src',
    'Step 3/4 : RUN make build', 'Step 4/4 : ENTRYPOINT ["/app"]'];
  return build === 'broken-build' ? [...lines.slice(0, 5), 'make: *** [build] Error 2'] : [...lines, `pushing image for ${service}`, 'build succeeded'];
}

export const ZADIG_TOKEN = 'zadig-test-token-0123456789abcdef';
export interface FakeZadigOptions { token?: string; lineMs?: number; queuedMs?: number; deployMs?: number }

interface FakeTask {
  task_id: number; workflow_key: string; project_key: string; creator: string; createdMs: number;
  build: FakeZadigBuild; service: { service_name: string; service_module: string }; jobName: string;
  image: string; cancelledMs: number | null; lines: string[];
}

const err = (status: number, code: number, message: string, description: string) =>
  json({ type: 'error', code, message, description, extra: {} }, status);
const sec = (ms: number) => Math.floor(ms / 1000);

export async function startFakeZadig(opts: FakeZadigOptions = {}) {
  const token = opts.token ?? ZADIG_TOKEN;
  const lineMs = opts.lineMs ?? 100;
  const queuedMs = opts.queuedMs ?? 300;
  const deployMs = opts.deployMs ?? 300;
  const fake = new FakeServer('zadig');
  const builds: FakeZadigBuild[] = DEMO_BUILDS.map((b) => structuredClone(b));
  const workflows: Record<string, { project_key: string; name: string; jobName: string }> = {
    'build-demo': { project_key: 'demo', name: 'Build demo', jobName: 'build' },
  };
  const tasks: FakeTask[] = [];
  let nextTask = 1;

  /** The task as Zadig shows it at `now`: states follow from elapsed time, so runs progress by themselves. */
  function view(t: FakeTask, now = Date.now()) {
    const stop = t.cancelledMs ?? now;
    const el = stop - t.createdMs;
    const buildMs = t.lines.length * lineMs;
    const fails = t.build.name === 'broken-build';
    const buildEnd = queuedMs + buildMs;
    const end = buildEnd + (fails ? 0 : deployMs);
    const done = el >= end;
    const cancelled = t.cancelledMs !== null && !done;
    const buildStatus = el < queuedMs ? (cancelled ? 'cancelled' : 'created')
      : el < buildEnd ? (cancelled ? 'cancelled' : 'running') : fails ? 'failed' : 'passed';
    const deployStatus = fails ? 'skipped' : el < buildEnd ? (cancelled ? 'cancelled' : '')
      : el < end ? (cancelled ? 'cancelled' : 'running') : 'passed';
    const status = cancelled ? 'cancelled' : el < queuedMs ? 'created' : !done ? 'running' : fails ? 'failed' : 'passed';
    const at = (ms: number) => sec(t.createdMs + ms);
    const ended = done || cancelled;
    return {
      task_id: t.task_id, workflow_key: t.workflow_key, workflow_name: workflows[t.workflow_key]!.name, project_key: t.project_key,
      params: [], status, reverted: false, remark: '', task_creator: t.creator, create_time: sec(t.createdMs),
      ...(el >= queuedMs ? { start_time: at(queuedMs) } : {}),
      ...(ended ? { end_time: sec(Math.min(stop, t.createdMs + end)) } : {}),
      error: fails && done ? 'build job failed' : '',
      stages: [
        { name: 'build', status: buildStatus, parallel: true, jobs: [{
          name: t.jobName, key: `build.${t.jobName}`, display_name: t.jobName, type: 'zadig-build', status: buildStatus,
          ...(el >= queuedMs ? { start_time: at(queuedMs) } : {}),
          ...(el >= buildEnd || cancelled ? { end_time: sec(Math.min(stop, t.createdMs + buildEnd)) } : {}),
          error: fails && el >= buildEnd ? 'exit status 2' : '',
          spec: { image: t.image, package: '', ...t.service, envs: [], repos: [{
            source: 'gitlab', repo_owner: 'demo-org', repo_name: t.service.service_name, branch: 'main',
            commit_id: 'a1b2c3d4e5f6', commit_message: 'fix build', address: 'https://gitlab.example.com' }] },
        }] },
        { name: 'deploy', status: deployStatus, parallel: false, jobs: [{
          name: `deploy-${t.service.service_name}`, type: 'zadig-deploy', status: deployStatus,
          ...(el >= buildEnd && !fails ? { start_time: at(buildEnd) } : {}),
          ...(done && !fails ? { end_time: at(end) } : {}), error: '', spec: {},
        }] },
      ],
    };
  }
  /** Log lines a job has written by `now`, and whether it has finished writing. */
  function jobLog(t: FakeTask, jobName: string, now = Date.now()): { lines: string[]; ended: boolean } {
    const stop = Math.min(t.cancelledMs ?? now, now);
    const el = stop - t.createdMs - queuedMs;
    if (jobName === t.jobName) {
      const n = Math.max(0, Math.min(t.lines.length, Math.floor(el / lineMs)));
      return { lines: t.lines.slice(0, n), ended: n === t.lines.length || t.cancelledMs !== null };
    }
    const v = view(t, now).stages[1]!.jobs[0]!;
    const finished = ['passed', 'failed', 'cancelled', 'skipped'].includes(v.status);
    return { lines: v.status === 'passed' ? [`deploying ${t.image}`, 'deploy done'] : [], ended: finished };
  }
  const findTask = (q: Record<string, string>) => tasks.find((t) => t.task_id === Number(q.taskId) && t.workflow_key === q.workflowKey);
  const noTask = () => err(500, 500, 'Internal Error', 'mongo: no documents in result');
  const page = <T>(items: T[], q: Record<string, string>, defSize: number) => {
    const num = Math.max(1, Number(q.pageNum ?? 1) || 1);
    const size = Math.max(1, Number(q.pageSize ?? defSize) || defSize);
    return items.slice((num - 1) * size, num * size);
  };

  fake.auth((r) => r.headers.authorization === `Bearer ${token}`, err(403, 403, 'Forbidden', 'unauthorized'));

  // ---- build modules
  fake.get('/openapi/build', (r) => {
    const mine = builds.filter((b) => b.project_key === r.query.projectKey);
    return { total: mine.length, builds: page(mine, r.query, 20).map(({ name, project_key, source, update_by, update_time, target_services }) =>
      ({ name, project_key, source, update_by, update_time, target_services })) };
  });
  fake.get('/openapi/build/:name/detail', (r) => {
    const b = builds.find((x) => x.name === r.params.name && x.project_key === r.query.projectKey);
    if (!b) return err(400, 6070, '获取构建失败', `build ${r.params.name} not found`);
    if (!r.query.serviceName || !r.query.serviceModule) return err(400, 400, 'Bad Request', 'serviceName and serviceModule are required');
    return b;
  });
  const upsert = (r: RouteRequest, mode: 'create' | 'update', template: boolean) => {
    const body = (r.body ?? {}) as Record<string, any>;
    const projectKey = r.query.projectKey ?? body.project_key;
    const name = r.params.name ?? body.name;
    if (!name || !projectKey) return err(400, 400, 'Bad Request', 'name and project_key are required');
    if (!template && (!Array.isArray(body.services) || !body.build_os || !body.infrastructure)) {
      return err(400, 400, 'Bad Request', 'services, build_os and infrastructure are required');
    }
    if (template && (!body.template_name || !Array.isArray(body.target_services))) return err(400, 400, 'Bad Request', 'template_name and target_services are required');
    const i = builds.findIndex((b) => b.name === name && b.project_key === projectKey);
    if (mode === 'create' && i >= 0) return err(400, 6071, '新建构建失败', `build ${name} already exists`);
    if (mode === 'update' && i < 0) return err(400, 6072, '更新构建失败', `build ${name} not found`);
    const services = (template ? body.target_services : body.services).map((s: any) => ({ service_name: s.service_name, service_module: s.service_module }));
    const b: FakeZadigBuild = {
      project_key: projectKey, name, source: 'zadig', target_services: services, template_name: template ? body.template_name : '',
      update_by: 'openapi', update_time: sec(Date.now()), repos: [], build_script: template ? '' : body.build_script ?? '',
      build_env: { basic_image_id: 'img-1', basic_image_label: body.build_os ?? 'ubuntu 20.04', installs: body.installs ?? [] },
      advanced_settings: body.advanced_settings ?? {}, parameters: [], outputs: [{ name: 'IMAGE', description: '' }], post_build: {},
    };
    if (i >= 0) builds[i] = b; else builds.push(b);
    return { message: 'success' };
  };
  fake.post('/openapi/build', (r) => upsert(r, 'create', r.query.source === 'template'));
  fake.put('/openapi/build', (r) => upsert(r, 'update', false));
  fake.put('/openapi/build/:name/template', (r) => upsert(r, 'update', true));
  fake.delete('/openapi/build', (r) => {
    const i = builds.findIndex((b) => b.name === r.query.name && b.project_key === r.query.projectKey);
    if (i < 0) return err(400, 6073, '删除构建失败', `build ${r.query.name} not found`);
    builds.splice(i, 1);
    return { message: 'success' };
  });

  // ---- workflow tasks (runs)
  fake.post('/openapi/workflows/custom/task', (r) => {
    const body = (r.body ?? {}) as Record<string, any>;
    const wf = workflows[body.workflow_key];
    if (!wf || wf.project_key !== body.project_key) return err(400, 6540, '创建工作流任务失败', `workflow ${body.workflow_key} not found`);
    const input = (body.inputs ?? []).find((i: any) => i.job_type === 'zadig-build');
    const svc = input?.parameters?.service_list?.[0];
    const build = svc && builds.find((b) => b.project_key === body.project_key &&
      b.target_services.some((s) => s.service_name === svc.service_name && s.service_module === svc.service_module));
    if (!input || input.job_name !== wf.jobName || !build) return err(400, 6540, '创建工作流任务失败', 'inputs must name the zadig-build job and a service of a build');
    const id = nextTask++;
    const registry = input.parameters.registry || 'registry.example.com/demo';
    // Images tagged <date>-<task id>, as Zadig's default image rule names them.
    tasks.push({ task_id: id, workflow_key: body.workflow_key, project_key: body.project_key, creator: 'openapi', createdMs: Date.now(),
      build, service: { service_name: svc.service_name, service_module: svc.service_module }, jobName: wf.jobName,
      image: `${registry}/${svc.service_name}:20241125-${id}`, cancelledMs: null, lines: buildLog(svc.service_name, build.name) });
    return { project_name: body.project_key, workflow_name: body.workflow_key, task_id: id };
  });
  fake.get('/openapi/workflows/custom/:wf/tasks', (r) => {
    const mine = tasks.filter((t) => t.workflow_key === r.params.wf && t.project_key === r.query.projectKey).reverse();
    return { total: mine.length, workflow_tasks: page(mine, r.query, 10).map((t) => { const { stages: _s, ...rest } = view(t); return rest; }) };
  });
  fake.get('/openapi/workflows/custom/task', (r) => { const t = findTask(r.query); return t ? view(t) : noTask(); });
  fake.delete('/openapi/workflows/custom/task', (r) => {
    const t = findTask(r.query);
    if (!t) return noTask();
    if (!['created', 'running'].includes(view(t).status)) return err(400, 6163, '取消工作流任务失败', 'task is not running');
    t.cancelledMs = Date.now();
    return { message: 'success' };
  });

  // ---- logs
  fake.get('/openapi/logs/log/v4/workflow/:wf/:taskId/:job', (r) => {
    const t = findTask({ taskId: r.params.taskId!, workflowKey: r.params.wf! });
    if (!t) return noTask();
    const log = jobLog(t, r.params.job!);
    // The archived object exists only once the job finished.
    if (!log.ended) return err(500, 500, 'Internal Error', 'failed to get log from storage: NoSuchKey');
    return text(log.lines.map((l) => `${l}\n`).join(''));
  });
  // The toolkit answers in one piece; it checks auth/faults and says "stream this", the front server streams.
  fake.get('/openapi/logs/sse/v4/workflow/:wf/:taskId/:job/:lines', (r) => {
    const t = findTask({ taskId: r.params.taskId!, workflowKey: r.params.wf! });
    if (!t) return noTask();
    return json({ sse: true }, 200, { 'x-fake-sse': `${t.task_id}|${t.workflow_key}|${r.params.job}|${r.params.lines}` });
  });

  const inner = await fake.start();
  const innerPort = Number(new URL(inner.url).port);
  const front = http.createServer((req, res) => {
    const up = http.request({ host: '127.0.0.1', port: innerPort, path: req.url, method: req.method, headers: req.headers }, (ur) => {
      const sse = ur.headers['x-fake-sse'];
      if (typeof sse !== 'string') { res.writeHead(ur.statusCode ?? 502, ur.headers); ur.pipe(res); return; }
      ur.resume();
      const [id, wf, job, tail] = sse.split('|');
      const t = findTask({ taskId: id!, workflowKey: wf! })!;
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
      const first = jobLog(t, job!).lines;
      let sent = Math.max(0, first.length - Number(tail));
      const pump = () => {
        const log = jobLog(t, job!);
        for (; sent < log.lines.length; sent++) res.write(`event:message\ndata:${log.lines[sent]}\n\n`);
        if (log.ended) { clearInterval(timer); res.end(); }
      };
      const timer = setInterval(pump, Math.max(10, Math.floor(lineMs / 2)));
      res.on('close', () => clearInterval(timer));
      pump();
    });
    up.on('error', () => req.socket.destroy());
    req.pipe(up);
  });
  front.keepAliveTimeout = 2000;
  await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(front.address() as AddressInfo).port}`;
  const close = async () => {
    front.closeAllConnections();
    await new Promise<void>((resolve) => front.close(() => resolve()));
    await inner.close();
  };
  return { url, close, fake, token, builds, tasks, workflows };
}
