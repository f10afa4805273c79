import { readsFresh } from '../../cache/index.js';
import { actionNotAllowed, badInput, ErrorCode, notFound, unsupported, UpstreamError } from '../../errors.js';
import type {
  BuildData, BuildFilter, BuildRecordData, BuildSort, Capability, ImageTagData, ImageTagSort, Page, PageArgs, Provider,
  ProviderExtensions, ProviderHealthData, RunBuildOptions, RunData, SortOrder, StepRunData,
} from '../types.js';
import type { UpstreamClient } from '../upstream/client.js';
import type { ZadigApi } from './api.js';
import { collectLogs, type LogArgs } from './logs.js';
import * as m from './map.js';
import type { ZadigOptions, ZadigProject } from './options.js';
import { allPages, pageWindow } from '../upstream/paging.js';
import { checkRequest, withModuleInput, zadigBuildRequest, zadigTemplateBuildRequest } from './requests.js';
import type { ZadigBuildListItem, ZadigTask } from './wire.js';

const CAPABILITIES: Capability[] = [
  'BUILD_LIST', 'BUILD_GET', 'BUILD_DELETE', 'RUN_LIST', 'RUN_GET', 'RUN_START', 'RUN_CANCEL',
  'STEP_RUNS', 'LOGS', 'LOGS_LIVE', 'IMAGE_TAGS', 'BUILD_RECORD',
];
const BUILD_PAGE_MAX = 100;
const TASK_PAGE_MAX = 50;
/** Task details read at once while looking for a module's runs. */
const DETAIL_BATCH = 5;
const TERMINAL = new Set(['DONE', 'ERROR', 'CANCELED']);

/**
 * Zadig behind the Provider interface. A Build is a build module of a configured project;
 * a BuildRun is a task of the custom workflow configured for it (the workflow's
 * `zadig-build` job builds the module's services); StepRuns are the task's jobs.
 */
export class ZadigProvider implements Provider {
  readonly kind = 'ZADIG' as const;
  readonly capabilities: ReadonlySet<Capability> = new Set(CAPABILITIES);
  /** Build modules in the schema's terms; the methods below take Zadig's own (snake_case) bodies. */
  readonly extensions: ProviderExtensions = {
    zadigBuildModules: {
      create: (projectKey, module) => withModuleInput(module, (body) => this.createZadigBuild(projectKey, body)),
      update: (projectKey, module) => withModuleInput(module, (body) => this.updateZadigBuild(projectKey, body)),
      createFromTemplate: (projectKey, module) => withModuleInput(module, (body) => this.createZadigBuildFromTemplate(projectKey, body)),
      updateFromTemplate: (projectKey, module) => withModuleInput(module, (body) => this.updateZadigBuildFromTemplate(projectKey, body)),
    },
  };

  constructor(
    readonly id: string,
    readonly baseUrl: string,
    private readonly client: UpstreamClient,
    private readonly api: ZadigApi,
    private readonly opts: ZadigOptions,
  ) {}

  health(): ProviderHealthData { return this.client.health(); }
  async close(): Promise<void> { await this.client.close(); }

  // ---- builds
  async listBuilds(args: PageArgs & { filter?: BuildFilter; sort?: BuildSort; order?: SortOrder }): Promise<Page<BuildData>> {
    if (args.filter?.lastRunStates?.length) throw unsupported(this.id, 'filtering builds by last run state');
    if (args.sort === 'LAST_RUN_TIME') throw unsupported(this.id, 'sorting builds by last run time');
    const projects = this.opts.projects;
    if (projects.length === 1 && !args.filter?.nameContains && !args.sort) {
      const p = projects[0]!.projectKey;
      const page = await pageWindow(args.offset, args.limit, BUILD_PAGE_MAX, async (i, size) => {
        const r = await this.api.listBuilds(p, i + 1, size);
        return { items: r.builds, total: r.total };
      });
      // Unreadable rows keep their place in the page as errors naming them: rows + errors = the page, totalCount = Zadig's total.
      const errors = page.items.filter((b): b is UpstreamError => b instanceof UpstreamError);
      const items = page.items.filter((b): b is ZadigBuildListItem => !(b instanceof UpstreamError)).map(m.buildFromListItem);
      return { ...page, items, ...(errors.length ? { errors } : {}) };
    }
    // Several projects, a name filter or a sort: Zadig can do none of these, so gather and page here.
    const rows = (await Promise.all(projects.map((p) => this.allRows(p.projectKey)))).flat();
    const errors = rows.filter((b): b is UpstreamError => b instanceof UpstreamError);
    let all = rows.filter((b): b is ZadigBuildListItem => !(b instanceof UpstreamError)).map(m.buildFromListItem);
    const needle = args.filter?.nameContains?.toLowerCase();
    if (needle) all = all.filter((b) => b.name.toLowerCase().includes(needle));
    if (args.sort === 'NAME') all.sort((a, b) => a.name.localeCompare(b.name) * (args.order === 'DESC' ? -1 : 1));
    const items = all.slice(args.offset, args.offset + args.limit);
    // Rows that cannot be read cannot be filtered or sorted: every page names them, and totalCount counts them.
    return { items, totalCount: all.length + errors.length, hasMore: args.offset + items.length < all.length, ...(errors.length ? { errors } : {}) };
  }

  async getBuild(key: string): Promise<BuildData | null> {
    const item = await this.findBuild(key);
    if (!item) return null;
    // The detail call wants one of the module's services; without any the list entry is all there is.
    const svc = item.target_services?.[0];
    return svc ? m.buildFromDetail(await this.api.buildDetail(item.project_key, item.name, svc)) : m.buildFromListItem(item);
  }

  /** The generic input is Cocktail-shaped (typed steps); Zadig's body is not: see createZadigBuild. */
  async createBuild(): Promise<BuildData> { throw unsupported(this.id, 'createBuild with a Cocktail-style BuildInput (use the Zadig build input)'); }
  async updateBuild(): Promise<BuildData> { throw unsupported(this.id, 'updateBuild with a Cocktail-style BuildInput (use the Zadig build input)'); }

  /** POST /openapi/build: a build module from a script, OS image and services (seed 003 "Create Build"). */
  async createZadigBuild(projectKey: string, input: unknown): Promise<BuildData> {
    const req = checkRequest(zadigBuildRequest, input, 'Zadig build');
    await this.api.createBuild(this.project(projectKey).projectKey, req);
    return this.mustGet(projectKey, req.name);
  }
  /** POST /openapi/build?source=template. Needs a Zadig professional licence upstream. */
  async createZadigBuildFromTemplate(projectKey: string, input: unknown): Promise<BuildData> {
    const req = checkRequest(zadigTemplateBuildRequest, input, 'Zadig template build');
    await this.api.createBuildFromTemplate(this.project(projectKey).projectKey, req);
    return this.mustGet(projectKey, req.name);
  }
  /** PUT /openapi/build: replaces the module named `input.name`. */
  async updateZadigBuild(projectKey: string, input: unknown): Promise<BuildData> {
    const req = checkRequest(zadigBuildRequest, input, 'Zadig build');
    await this.api.updateBuild(this.project(projectKey).projectKey, req);
    return this.mustGet(projectKey, req.name);
  }
  /** PUT /openapi/build/{name}/template. */
  async updateZadigBuildFromTemplate(projectKey: string, input: unknown): Promise<BuildData> {
    const req = checkRequest(zadigTemplateBuildRequest, input, 'Zadig template build');
    await this.api.updateBuildFromTemplate(this.project(projectKey).projectKey, req);
    return this.mustGet(projectKey, req.name);
  }

  async deleteBuild(key: string): Promise<boolean> {
    const ref = this.buildRef(key);
    await this.api.deleteBuild(ref.projectKey, ref.buildName);
    return true;
  }

  // ---- runs
  /**
   * A module's runs are the tasks of its workflow that built it. The task list leaves out the
   * jobs (Zadig clears `stages` in lists), so each task is read once — newest first, at most
   * imageTagScanLimit of them — to see which modules its zadig-build jobs ran for.
   */
  private async moduleTasks(ref: m.BuildRef, want: number): Promise<{ tasks: ZadigTask[]; complete: boolean }> {
    const t = this.target(ref);
    const item = await this.findBuild(m.buildKey(ref));
    if (!item) return { tasks: [], complete: true };
    const services = item.target_services ?? [];
    const out: ZadigTask[] = [];
    const limit = this.opts.imageTagScanLimit;
    for (let page = 0, seen = 0; ; page++) {
      const size = Math.min(TASK_PAGE_MAX, limit);
      const r = await this.api.listTasks(ref.projectKey, t.workflowKey, page + 1, size);
      const summaries = (r.workflow_tasks ?? []).slice(0, limit - seen);
      seen += summaries.length;
      // Read in small batches, newest first, and stop as soon as enough runs are found.
      const batch = Math.max(DETAIL_BATCH, want);
      for (let i = 0; i < summaries.length && out.length < want; i += batch) {
        const details = await Promise.all(summaries.slice(i, i + batch).map(async (s) => this.readableTask(t.workflowKey, s.task_id, await this.api.getTask(t.workflowKey, s.task_id))));
        for (const d of details) if (d.project_key === ref.projectKey && m.builtModule(d, services)) out.push(d);
      }
      const end = summaries.length < size || seen >= r.total;
      if (out.length >= want) return { tasks: out, complete: false };
      if (end) return { tasks: out, complete: true };
      if (seen >= limit) return { tasks: out, complete: false };
    }
  }

  async listRuns(buildKey: string, args: PageArgs): Promise<Page<RunData>> {
    const ref = this.buildRef(buildKey);
    const { tasks, complete } = await this.moduleTasks(ref, args.offset + args.limit + 1);
    const items = tasks.slice(args.offset, args.offset + args.limit).map((task) => m.runFromTask(task, ref.buildName));
    return { items, totalCount: complete ? tasks.length : null, hasMore: tasks.length > args.offset + items.length || !complete };
  }

  async getRun(key: string, fresh = false): Promise<RunData | null> {
    const found = await this.task(key, fresh);
    return found && m.runFromTask(found.task, found.ref.buildName);
  }

  async latestRun(buildKey: string): Promise<RunData | null> {
    return (await this.listRuns(buildKey, { offset: 0, limit: 1 })).items[0] ?? null;
  }

  async runBuild(buildKey: string, opts: RunBuildOptions): Promise<RunData> {
    if (opts.tagName) throw unsupported(this.id, 'choosing the image tag of a run (the workflow names images)');
    if (opts.callbackUrl) throw unsupported(this.id, 'run callback URLs');
    if (opts.description) throw unsupported(this.id, 'run descriptions');
    const item = await this.findBuild(buildKey);
    if (!item) throw notFound('Build', buildKey);
    const ref = { projectKey: item.project_key, buildName: item.name };
    const t = this.target(ref);
    const taskId = await this.api.createTask({
      workflow_key: t.workflowKey,
      project_key: ref.projectKey,
      parameters: [],
      inputs: [{
        job_name: t.jobName,
        job_type: 'zadig-build',
        parameters: { registry: t.registry, service_list: (item.target_services ?? []).map((s) => ({ service_name: s.service_name, service_module: s.service_module })) },
      }],
    });
    const run = await this.getRun(m.runKey({ ...ref, workflowKey: t.workflowKey, taskId }), true);
    if (!run) throw notFound('BuildRun', String(taskId));
    return run;
  }

  async cancelRun(key: string): Promise<RunData> {
    const found = await this.task(key, true);
    if (!found) throw notFound('BuildRun', key);
    const state = m.runState(found.task.status);
    if (TERMINAL.has(state)) throw actionNotAllowed('CANCEL', state, ['VIEW', 'LOG']);
    await this.api.cancelTask(found.ref.workflowKey, found.ref.taskId);
    return (await this.getRun(key, true))!;
  }

  // ---- steps, logs, images, records
  async listStepRuns(runKey: string): Promise<StepRunData[]> {
    const found = await this.task(runKey);
    return found ? m.stepRunsFromTask(found.task, found.ref) : [];
  }
  async getStepRun(key: string): Promise<StepRunData | null> {
    const ref = m.parseJobKey(key);
    return ref ? ((await this.listStepRuns(m.runKey(ref))).find((s) => s.key === key) ?? null) : null;
  }

  async getLogs(runKey: string, args: LogArgs) {
    // A finished task does not change: the one the request (or the cache) holds will do. Only a
    // task still running is read afresh, for the jobs that started since (a live poller's read is
    // fresh already: one call, as before).
    const held = readsFresh() ? null : await this.task(runKey);
    const found = held && TERMINAL.has(m.runState(held.task.status)) ? held : await this.task(runKey, true);
    if (!found) throw notFound('BuildRun', runKey);
    return collectLogs(this.api, found.task, found.ref, args);
  }

  async listImageTags(buildKey: string, args: PageArgs & { sort: ImageTagSort; order: SortOrder }): Promise<Page<ImageTagData>> {
    if (args.sort === 'IMAGE_SIZE') throw unsupported(this.id, 'image sizes (Zadig does not report them)');
    const ref = this.buildRef(buildKey);
    const t = this.target(ref);
    // Images are only in task details: the module's tasks among the most recent (imageTagScanLimit).
    const { tasks } = await this.moduleTasks(ref, this.opts.imageTagScanLimit);
    const tags = tasks.flatMap((task) => m.imageTagsFromTask(task, { ...ref, workflowKey: t.workflowKey, taskId: task.task_id }));
    const dir = args.order === 'ASC' ? 1 : -1;
    // Tags end in the task number: compare numbers as numbers ("-2" before "-10").
    tags.sort((a, b) => dir * (args.sort === 'TAG' ? a.tag.localeCompare(b.tag, undefined, { numeric: true }) : (a.endTime?.getTime() ?? Infinity) - (b.endTime?.getTime() ?? Infinity)));
    const items = tags.slice(args.offset, args.offset + args.limit);
    return { items, totalCount: tags.length, hasMore: args.offset + items.length < tags.length };
  }
  async getImageTag(key: string): Promise<ImageTagData | null> {
    const ref = m.parseJobKey(key);
    const found = ref && (await this.task(m.runKey(ref)));
    return found ? (m.imageTagsFromTask(found.task, found.ref).find((t) => t.key === key) ?? null) : null;
  }

  async getBuildRecord(runKey: string): Promise<BuildRecordData | null> {
    const found = await this.task(runKey);
    return found && m.recordFromTask(found.task, found.ref);
  }

  // ---- helpers
  private project(projectKey: string): ZadigProject {
    const p = this.opts.projects.find((x) => x.projectKey === projectKey);
    if (!p) throw badInput(`project "${projectKey}" is not configured for provider "${this.id}"`, 'projectKey');
    return p;
  }
  private buildRef(key: string): m.BuildRef {
    const ref = m.parseBuildKey(key);
    if (!ref) throw badInput(`"${key}" is not a Zadig build key (<projectKey>/<buildName>)`, 'key');
    this.project(ref.projectKey);
    return ref;
  }
  private target(ref: m.BuildRef) {
    const p = this.project(ref.projectKey);
    const o = p.builds[ref.buildName];
    return { workflowKey: o?.workflowKey ?? p.workflowKey, jobName: o?.jobName ?? p.jobName, registry: p.registry };
  }
  private async allRows(projectKey: string): Promise<Array<ZadigBuildListItem | UpstreamError>> {
    return allPages(BUILD_PAGE_MAX, async (i, size) => {
      const r = await this.api.listBuilds(projectKey, i + 1, size);
      return { items: r.builds, total: r.total };
    });
  }
  /**
   * Zadig has no "get one module" call without its service names, so find it in the list; a
   * row of that name that cannot be read is its error, not "no such module".
   */
  private async findBuild(key: string): Promise<ZadigBuildListItem | null> {
    const ref = m.parseBuildKey(key);
    if (!ref || !this.opts.projects.some((p) => p.projectKey === ref.projectKey)) return null;
    const rows = await this.allRows(ref.projectKey);
    const found = rows.find((b): b is ZadigBuildListItem => !(b instanceof UpstreamError) && b.name === ref.buildName);
    if (found) return found;
    const unreadable = rows.find((b): b is UpstreamError => b instanceof UpstreamError && b.extensions.id === key);
    if (unreadable) throw unreadable;
    return null;
  }
  private async mustGet(projectKey: string, name: string): Promise<BuildData> {
    const key = m.buildKey({ projectKey, buildName: name });
    const b = await this.getBuild(key);
    if (!b) throw notFound('Build', key);
    return b;
  }
  /**
   * A task the workflow lists, as its detail reads: one Zadig lists but will not show, or whose
   * build job cannot be read, is an error naming it (which modules it built cannot be told,
   * so leaving it out would drop a run silently).
   */
  private readableTask(workflowKey: string, taskId: number, task: ZadigTask | null): ZadigTask {
    if (!task) {
      throw new UpstreamError(ErrorCode.UPSTREAM_BAD_RESPONSE, this.id, `task ${taskId} of workflow ${workflowKey} is listed but cannot be read`, { id: String(taskId) });
    }
    const job = m.unreadableBuildJob(task);
    if (job !== null) {
      throw new UpstreamError(ErrorCode.UPSTREAM_BAD_RESPONSE, this.id, `task ${taskId} of workflow ${workflowKey}: job ${job} has no readable zadig-build spec, so the modules it built are unknown`, { id: String(taskId) });
    }
    return task;
  }

  private async task(key: string, fresh = false): Promise<{ task: ZadigTask; ref: m.RunRef } | null> {
    const ref = m.parseRunKey(key);
    if (!ref || !this.opts.projects.some((p) => p.projectKey === ref.projectKey)) return null;
    const read = await this.api.getTask(ref.workflowKey, ref.taskId, fresh);
    const task = read && this.readableTask(ref.workflowKey, ref.taskId, read);
    if (!task || task.project_key !== ref.projectKey) return null;
    // A task of the workflow that built another module is not a run of this one.
    const item = await this.findBuild(m.buildKey(ref));
    return item && m.builtModule(task, item.target_services ?? []) ? { task, ref } : null;
  }
}
