import { z } from 'zod';
import { badInput } from '../../errors.js';

/** Where a build module runs: the custom workflow and its `zadig-build` job. */
const runTarget = z.strictObject({
  /** Key of a custom workflow holding a `zadig-build` job for the build. */
  workflowKey: z.string().min(1),
  /** Name of that `zadig-build` job inside the workflow. Default "build". */
  jobName: z.string().min(1).optional(),
});

const project = z.strictObject({
  projectKey: z.string().min(1),
  /** Default workflow for every build module of the project. */
  workflowKey: z.string().min(1),
  jobName: z.string().min(1).optional(),
  /** Registry name passed to the zadig-build job (empty = the workflow's default). */
  registry: z.string().optional(),
  /** Per build-module overrides: build name -> workflow/job. */
  builds: z.record(z.string(), runTarget).optional(),
});

/** `options` of a ZADIG provider instance. */
export const zadigOptionsSchema = z
  .strictObject({
    /** Zadig API token, sent as `Authorization: Bearer <token>`. */
    token: z.string().min(1),
    /** Shorthand for a single project: projectKey + workflowKey (+ jobName, registry). */
    projectKey: z.string().min(1).optional(),
    workflowKey: z.string().min(1).optional(),
    jobName: z.string().min(1).optional(),
    registry: z.string().optional(),
    projects: z.array(project).optional(),
    /**
     * How many recent tasks of the workflow are read to find a module's runs and image tags
     * (the task list does not say which modules a task built: each is read once, then cached). Default 50.
     */
    imageTagScanLimit: z.number().int().min(1).max(1000).default(50),
    /** Live log: tail lines asked of the SSE endpoint, enough to cover the whole log so far. Default 100000. */
    sseTailLines: z.number().int().min(1).default(100_000),
    /** Live log: a snapshot read ends after this much silence on the SSE stream. Default 300 ms. */
    sseIdleMs: z.number().int().min(10).max(10_000).default(300),
  })
  .refine((o) => (o.projects?.length ?? 0) > 0 || (o.projectKey && o.workflowKey), {
    message: 'set projects[] or projectKey + workflowKey',
    path: ['projects'],
  });

export interface ZadigProject {
  projectKey: string;
  workflowKey: string;
  jobName: string;
  registry: string;
  builds: Record<string, { workflowKey: string; jobName?: string }>;
}

export interface ZadigOptions {
  token: string;
  projects: ZadigProject[];
  imageTagScanLimit: number;
  sseTailLines: number;
  sseIdleMs: number;
}

export function parseZadigOptions(providerId: string, raw: unknown): ZadigOptions {
  const res = zadigOptionsSchema.safeParse(raw);
  if (!res.success) {
    const i = res.error.issues[0]!;
    const path = i.path.map(String).join('.') || '(options)';
    throw badInput(`provider "${providerId}" (ZADIG): options.${path}: ${i.message}`, `options.${path}`);
  }
  const o = res.data;
  const projects: ZadigProject[] = (o.projects ?? []).map((p) => ({
    projectKey: p.projectKey,
    workflowKey: p.workflowKey,
    jobName: p.jobName ?? 'build',
    registry: p.registry ?? '',
    builds: p.builds ?? {},
  }));
  if (o.projectKey && o.workflowKey && !projects.some((p) => p.projectKey === o.projectKey)) {
    projects.unshift({ projectKey: o.projectKey, workflowKey: o.workflowKey, jobName: o.jobName ?? 'build', registry: o.registry ?? '', builds: {} });
  }
  return { token: o.token, projects, imageTagScanLimit: o.imageTagScanLimit, sseTailLines: o.sseTailLines, sseIdleMs: o.sseIdleMs };
}
