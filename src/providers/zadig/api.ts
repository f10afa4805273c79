import { ErrorCode, UpstreamError } from '../../errors.js';
import type { UpstreamClient } from '../upstream/client.js';
import type { ZadigBuildRequest, ZadigTemplateBuildRequest } from './requests.js';
import { readSseSnapshot } from './sse.js';
import * as w from './wire.js';

/** Zadig OpenAPI endpoints, one method each, answers checked against their wire shapes. */
export class ZadigApi {
  constructor(
    private readonly client: UpstreamClient,
    private readonly auth: { token: string; timeoutMs: number; sseTailLines: number; sseIdleMs: number },
  ) {}

  /** A page of build modules; a row that cannot be read is an UpstreamError naming it (its name, else its place). */
  async listBuilds(projectKey: string, pageNum: number, pageSize: number): Promise<{ total: number; builds: Array<w.ZadigBuildListItem | UpstreamError> }> {
    const r = (await this.client.get('/openapi/build', { searchParams: { projectKey, pageNum, pageSize }, schema: w.buildList })) as ReturnType<typeof w.buildList.parse>;
    const builds = (r.builds ?? []).map((row, i) => {
      const ok = w.buildListItem.safeParse(row);
      if (ok.success) return ok.data;
      const name = (row as { name?: unknown } | null)?.name;
      const id = typeof name === 'string' && name ? `${projectKey}/${name}` : null;
      const issue = ok.error.issues[0]!;
      return new UpstreamError(ErrorCode.UPSTREAM_BAD_RESPONSE, this.client.providerId,
        `build module ${id ?? `#${(pageNum - 1) * pageSize + i + 1} of project ${projectKey}`} cannot be read: ${issue.path.join('.') || '(row)'}: ${issue.message}`, id ? { id } : {});
    });
    return { total: r.total, builds };
  }
  async buildDetail(projectKey: string, name: string, svc: w.ZadigTargetService) {
    return this.client.get(`/openapi/build/${encodeURIComponent(name)}/detail`, {
      searchParams: { projectKey, serviceName: svc.service_name, serviceModule: svc.service_module }, schema: w.buildDetail,
    }) as Promise<w.ZadigBuildDetail>;
  }
  async createBuild(projectKey: string, req: ZadigBuildRequest) {
    await this.client.post('/openapi/build', { searchParams: { projectKey }, json: { ...req, project_key: projectKey }, schema: w.okResp });
    await this.client.invalidate('/openapi/build');
  }
  async createBuildFromTemplate(projectKey: string, req: ZadigTemplateBuildRequest) {
    await this.client.post('/openapi/build', { searchParams: { source: 'template' }, json: { ...req, project_key: projectKey }, schema: w.okResp });
    await this.client.invalidate('/openapi/build');
  }
  async updateBuild(projectKey: string, req: ZadigBuildRequest) {
    await this.client.put('/openapi/build', { searchParams: { projectKey }, json: { ...req, project_key: projectKey }, schema: w.okResp });
    await this.client.invalidate('/openapi/build');
  }
  async updateBuildFromTemplate(projectKey: string, req: ZadigTemplateBuildRequest) {
    await this.client.put(`/openapi/build/${encodeURIComponent(req.name)}/template`, {
      searchParams: { projectKey }, json: { ...req, project_key: projectKey }, schema: w.okResp,
    });
    await this.client.invalidate('/openapi/build');
  }
  async deleteBuild(projectKey: string, name: string) {
    await this.client.delete('/openapi/build', { searchParams: { name, projectKey }, schema: w.okResp });
    await this.client.invalidate('/openapi/build');
  }

  async listTasks(projectKey: string, workflowKey: string, pageNum: number, pageSize: number) {
    return this.client.get(`/openapi/workflows/custom/${encodeURIComponent(workflowKey)}/tasks`, {
      searchParams: { projectKey, pageNum, pageSize }, schema: w.taskList,
    }) as Promise<ReturnType<typeof w.taskList.parse>>;
  }
  /** null when the task does not exist (Zadig's 500 "no documents" is classified as not found in wire.ts). */
  async getTask(workflowKey: string, taskId: number, fresh = false): Promise<w.ZadigTask | null> {
    try {
      return (await this.client.get('/openapi/workflows/custom/task', {
        searchParams: { taskId, workflowKey }, schema: w.task, cache: fresh ? false : undefined,
      })) as w.ZadigTask;
    } catch (err) {
      if (err instanceof UpstreamError && err.code === ErrorCode.UPSTREAM_NOT_FOUND) return null;
      throw err;
    }
  }
  async createTask(body: Record<string, unknown>) {
    const res = (await this.client.post('/openapi/workflows/custom/task', { json: body, schema: w.createTaskResp })) as { task_id: number };
    await this.client.invalidate('/openapi/workflows/custom');
    return res.task_id;
  }
  async cancelTask(workflowKey: string, taskId: number) {
    await this.client.delete('/openapi/workflows/custom/task', { searchParams: { taskId, workflowKey }, schema: w.okResp });
    await this.client.invalidate('/openapi/workflows/custom');
  }

  /** Whole log of a finished job (archived text). Immutable once there, so the cache may keep it. */
  async jobLogText(workflowKey: string, taskId: number, jobName: string): Promise<string> {
    const text = await this.client.get<string>(`/openapi/logs/log/v4/workflow/${encodeURIComponent(workflowKey)}/${taskId}/${encodeURIComponent(jobName)}`, { responseType: 'text' });
    return text ?? '';
  }
  /** Log of a running job so far, read from the SSE stream with a tail long enough to start at line 1. */
  async jobLogLive(workflowKey: string, taskId: number, jobName: string) {
    const path = `/openapi/logs/sse/v4/workflow/${encodeURIComponent(workflowKey)}/${taskId}/${encodeURIComponent(jobName)}/${this.auth.sseTailLines}`;
    return readSseSnapshot({
      providerId: this.client.providerId, url: this.client.url(path), headers: { authorization: `Bearer ${this.auth.token}` },
      secrets: [this.auth.token], timeoutMs: this.auth.timeoutMs, idleMs: this.auth.sseIdleMs, maxMs: this.auth.timeoutMs * 3,
    });
  }
}
