import { z } from 'zod';
import { badInput, BuildgateError, ErrorCode } from '../../errors.js';

/**
 * Bodies of Zadig's own build create/update calls (seed 003). They do not fit the
 * Cocktail-shaped BuildInput (Zadig needs services, OS image, installs, a script...), so
 * the provider exposes typed methods taking these instead. The project key is not part
 * of them: it comes from the method's `projectKey` argument and must be configured.
 */

const kv = z.object({ key: z.string(), value: z.string() });
const repoInfo = z.object({
  codehost_name: z.string().min(1),
  repo_namespace: z.string().min(1),
  repo_name: z.string().min(1),
  branch: z.string().min(1),
});
const service = z.object({ service_name: z.string().min(1), service_module: z.string().min(1) });

export const zadigBuildRequest = z.object({
  name: z.string().min(1),
  infrastructure: z.enum(['kubernetes', 'vm']),
  build_os: z.string().min(1),
  installs: z.array(z.object({ name: z.string(), version: z.string() })),
  script_type: z.enum(['shell', 'batch_file', 'powershell']),
  build_script: z.string(),
  repo_info: z.array(repoInfo).optional(),
  parameters: z
    .array(
      z.object({
        key: z.string().min(1),
        type: z.enum(['string', 'choice', 'multi-select']),
        is_credential: z.boolean().optional(),
        description: z.string().optional(),
        default_value: z.string(),
        choice_value: z.array(z.string()).optional(),
        choice_option: z.array(z.string()).optional(),
      }),
    )
    .optional(),
  services: z.array(service).min(1),
  docker_build_step: z
    .object({
      dockerfile_source: z.enum(['local', 'template']),
      build_context_dir: z.string(),
      dockerfile_directory: z.string(),
      build_args: z.string().optional(),
      template_name: z.string().optional(),
      enable_buildkit: z.boolean().optional(),
      platforms: z.string().optional(),
    })
    .optional(),
  /** Cluster, resources, cache, storages...: passed through as given (seed 003 AdvancedSettings). */
  advanced_settings: z.record(z.string(), z.unknown()).optional(),
});
export type ZadigBuildRequest = z.infer<typeof zadigBuildRequest>;

export const zadigTemplateBuildRequest = z.object({
  name: z.string().min(1),
  template_name: z.string().min(1),
  target_services: z
    .array(service.extend({ repo_info: z.array(repoInfo), inputs: z.array(kv) }))
    .min(1),
});
export type ZadigTemplateBuildRequest = z.infer<typeof zadigTemplateBuildRequest>;

/** Validate user input; the error names the offending field. */
export function checkRequest<S extends z.ZodType>(schema: S, input: unknown, what: string): z.output<S> {
  const res = schema.safeParse(input);
  if (res.success) return res.data;
  const issue = res.error.issues[0]!;
  const path = issue.path.map(String).join('.');
  throw badInput(`${what}: ${path || '(input)'}: ${issue.message}`, path || undefined);
}

const snake = (k: string) => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
const camel = (k: string) => k.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());

/** A module in the schema's terms (camelCase, null for "not given") -> Zadig's body (snake_case, keys left out). */
export function toZadigBody(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(toZadigBody);
  if (!value || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) if (v !== null && v !== undefined) out[snake(k)] = toZadigBody(v);
  return out;
}

/**
 * Runs a call on a module given in the schema's terms: the body is converted here, and a
 * refused field (checkRequest names Zadig's snake_case path) is named back the way the client
 * wrote it, relative to the module: "services.0.service_name" -> "services[0].serviceName".
 */
export async function withModuleInput<T>(module: unknown, call: (body: unknown) => Promise<T>): Promise<T> {
  try {
    return await call(toZadigBody(module));
  } catch (e) {
    if (!(e instanceof BuildgateError) || e.code !== ErrorCode.BAD_USER_INPUT || typeof e.extensions.field !== 'string' || e.extensions.field === 'projectKey') throw e;
    const path = e.extensions.field.split('.').map((p, i) => (/^\d+$/.test(p) ? `[${p}]` : `${i ? '.' : ''}${camel(p)}`)).join('');
    const why = e.message.replace(/^[^:]*: [^:]*: /, '');
    throw new BuildgateError(ErrorCode.BAD_USER_INPUT, `${path}: ${why}`, { field: path });
  }
}
