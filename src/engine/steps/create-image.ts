import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { CreateImageConfig } from '../../model.js';
import { buildah, describeFailure, tlsArgs, withAuthFile, type RegistryLogin } from '../buildah.js';
import { parseRegistry, RegistryClient, type RegistryTarget } from '../registry.js';
import { workspacePath } from '../workspace.js';
import { assertRegistryAllowed, checkStepConfig, IMAGE_TAG, REPOSITORY } from './rules.js';
import type { StepContext, StepExecutor, StepResult } from './types.js';

/**
 * CREATE_IMAGE step: `buildah bud` with the workspace as build context, then
 * `buildah push` to `<registry>/<registryName>/<imageName>:<tag>` (and `:latest` with
 * `latestApply`). The Dockerfile is `dockerFile` text (CONTENTS) or `dockerFilePath` in
 * the workspace (FILE_PATH). CONTENTS is written to the run's temp dir, not into the
 * workspace, so that a `COPY . .` never puts it into the image.
 *
 * The registry is `registryUrl`, else the engine's default; it is pinged before the
 * (slow) build so that a registry that is down fails the step at once. Credentials
 * (`loginId`/`password`, else the default registry's) reach buildah through a 0600
 * auth file only. The result's size is what the registry holds: config + layers of the
 * pushed manifest, read back from it.
 */
export const createImageStep: StepExecutor = async (ctx) => {
  const cfg = ctx.config as CreateImageConfig;
  const started = Date.now();
  let tmp: string | null = null;
  let plan: Plan | null = null;
  try {
    tmp = await mkdtemp(path.join(ctx.tempDir, 'image-'));
    plan = await prepare(ctx, cfg, tmp);
    return await buildAndPush(ctx, plan, tmp, started);
  } catch (e) {
    return { ok: false, error: `CREATE_IMAGE: ${(e as Error).message}` };
  } finally {
    if (plan) {
      // The pushed image lives in the registry; local copies only fill the build server's disk.
      await buildah(ctx.env.buildah, ['rmi', '--force', '--', plan.localRef], {
        cwd: ctx.workspace, signal: new AbortController().signal, timeoutMs: 60_000,
      }).catch(() => undefined);
    }
    if (tmp) await rm(tmp, { recursive: true, force: true });
  }
};

interface Plan {
  target: RegistryTarget;
  repository: string;
  tag: string;
  /** Tag reference first, then `latest` when applied. */
  refs: string[];
  /**
   * The built image's local name, unique per step run: two runs pushing the same tag at
   * once must not push (or remove) each other's image.
   */
  localRef: string;
  dockerfile: string;
  logins: RegistryLogin[];
  /** Base images may come from the default registry: its TLS setting applies to pulls too. */
  insecurePull: boolean;
  /** The engine's own registry (configured, so exempt from the SSRF guard). */
  own: boolean;
}

async function buildAndPush(ctx: StepContext, plan: Plan, tmp: string, started: number): Promise<StepResult> {
  const timeoutSec = ctx.env.defaultStepTimeoutSec;
  const deadline = timeoutSec > 0 ? started + timeoutSec * 1000 : 0;
  const call = () => ({
    cwd: ctx.workspace, signal: ctx.signal, onLine: ctx.log,
    timeoutMs: deadline ? Math.max(1, deadline - Date.now()) : 0,
  });
  const failed = (what: string, r: Awaited<ReturnType<typeof buildah>>): StepResult => {
    if (r.aborted) return { ok: false, error: 'CREATE_IMAGE step canceled' };
    if (r.timedOut) return { ok: false, error: `CREATE_IMAGE step timed out after ${timeoutSec}s` };
    return { ok: false, error: `CREATE_IMAGE: ${describeFailure(what, r)}` };
  };
  const url = plan.refs[0]!;
  ctx.log('SYSTEM', `CREATE_IMAGE ${plan.refs.join(', ')} (timeout ${timeoutSec}s)`);

  const client = new RegistryClient(plan.target, undefined, plan.own ? null : ctx.env.allowPrivateHosts);
  await client.ping();

  return withAuthFile(ctx.tempDir, plan.logins, async (auth) => {
    const bud = await buildah(ctx.env.buildah, [
      'bud', '--isolation', ctx.env.buildah.isolation, ...auth,
      ...tlsArgs(plan.insecurePull || plan.target.insecure),
      '-f', plan.dockerfile, '-t', plan.localRef, '--', ctx.workspace,
    ], call());
    if (bud.exitCode !== 0) return failed(`building ${url}`, bud);
    if (ctx.signal.aborted) return { ok: false, error: 'CREATE_IMAGE step canceled' };

    let digest = '';
    for (const ref of plan.refs) {
      const digestFile = path.join(tmp, `digest-${randomBytes(4).toString('hex')}`);
      const push = await buildah(ctx.env.buildah, [
        'push', ...auth, ...tlsArgs(plan.target.insecure), '--digestfile', digestFile, '--', plan.localRef, `docker://${ref}`,
      ], call());
      if (push.exitCode !== 0) return failed(`pushing ${ref}`, push);
      if (!digest) digest = (await readFile(digestFile, 'utf8')).trim();
    }

    const manifest = await client.manifest(plan.repository, plan.tag);
    if (!manifest) return { ok: false, error: `CREATE_IMAGE: ${url} was pushed but the registry does not list it` };
    if (digest && manifest.digest && manifest.digest !== digest) {
      ctx.log('SYSTEM', `registry reports digest ${manifest.digest}, buildah pushed ${digest}`);
    }
    const image = { url, repository: plan.repository, tag: plan.tag, digest: manifest.digest || digest, size: manifest.size };
    ctx.log('SYSTEM', `pushed ${url} ${image.digest} (${image.size} bytes) in ${((Date.now() - started) / 1000).toFixed(1)}s`);
    return { ok: true, image };
  });
}

/** Checks the config and decides names, files and credentials; throws a sentence on bad input. */
async function prepare(ctx: StepContext, cfg: CreateImageConfig, tmp: string): Promise<Plan> {
  checkStepConfig(cfg);
  const registry = ctx.env.registry;
  const base = parseRegistry(cfg.registryUrl?.trim() || registry.host, registry.insecure);
  // buildah pushes there and RegistryClient talks to it: the SSRF guard applies to both
  await assertRegistryAllowed(base.host, { allowPrivateHosts: ctx.env.allowPrivateHosts, registryHost: registry.host });
  const own = base.host === registry.host;
  const username = cfg.loginId?.trim() ? cfg.loginId.trim() : own ? registry.username : null;
  const password = cfg.loginId?.trim() ? cfg.password : own ? registry.password : null;
  const target: RegistryTarget = { ...base, username, password };
  const logins: RegistryLogin[] = username && password ? [{ host: base.host, username, password }] : [];
  if (!own && registry.username && registry.password) {
    logins.push({ host: registry.host, username: registry.username, password: registry.password });
  }

  const registryName = (cfg.registryName?.trim() || ctx.build.registryName?.trim() || '');
  const imageName = cfg.imageName?.trim() || ctx.build.imageName?.trim() || '';
  if (!imageName) throw new Error('imageName is empty (in the step and in the build)');
  const repository = registryName ? `${registryName}/${imageName}` : imageName;
  // The distribution spec's repository name grammar: lower case path components.
  if (!REPOSITORY.test(repository)) {
    throw new Error(`repository ${JSON.stringify(repository)} is not a valid image name (lower case letters, digits, separators)`);
  }
  const tag = ctx.tagName?.trim() || cfg.imageTag?.trim() || 'latest';
  if (!IMAGE_TAG.test(tag)) throw new Error(`tag ${JSON.stringify(tag)} is not a valid image tag`);
  const refs = [`${base.host}/${repository}:${tag}`];
  if (cfg.latestApply && tag !== 'latest') refs.push(`${base.host}/${repository}:latest`);

  let dockerfile: string;
  if (cfg.dockerFileType === 'CONTENTS') {
    dockerfile = path.join(tmp, 'Dockerfile');
    const text = cfg.dockerFile ?? ''; // not empty: checkStepConfig
    await writeFile(dockerfile, text.endsWith('\n') ? text : text + '\n');
  } else {
    dockerfile = await workspacePath(ctx.workspace, cfg.dockerFilePath, 'dockerFilePath');
    const st = await stat(dockerfile).catch(() => null);
    if (!st?.isFile()) throw new Error(`dockerFilePath ${JSON.stringify(cfg.dockerFilePath)} is not a file in the workspace`);
  }
  const localRef = `localhost/buildgate-build/step-${ctx.stepRunKey.toLowerCase().replace(/[^a-z0-9]+/g, '-').slice(0, 40)}-${randomBytes(4).toString('hex')}:build`;
  return { target, repository, tag, refs, localRef, dockerfile, logins, insecurePull: registry.insecure, own };
}
