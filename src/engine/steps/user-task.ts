import { randomBytes } from 'node:crypto';
import type { UserTaskConfig } from '../../model.js';
import { buildah, describeFailure, removeContainer, tlsArgs, withAuthFile, type RegistryLogin } from '../buildah.js';
import { resolveImage } from '../registry.js';
import { workspacePath } from '../workspace.js';
import { absoluteContainerPath, assertRegistryAllowed, checkStepConfig } from './rules.js';
import type { StepContext, StepExecutor } from './types.js';

/**
 * USER_TASK step: runs `cmd` in a working container made from `imageName:imageTag` with
 * buildah (`from`, then `run`; no daemon). A bare image name resolves against the
 * engine's default registry. `dockerVolumeMountVOList` bind-mounts workspace dirs
 * (`hostPath`, `$PWD` = the workspace, created when missing) at absolute
 * `containerPath`s; `workingDir` and `envs` apply to the command, whose exit code decides.
 *
 * Timeout: the engine's `defaultStepTimeoutSec`, for pull and command together. Cancel
 * and timeout kill buildah's process group (the command included); the working
 * container is removed whatever happened.
 */
export const userTaskStep: StepExecutor = async (ctx) => {
  const cfg = ctx.config as UserTaskConfig;
  let plan: Plan;
  try {
    plan = await prepare(ctx, cfg);
  } catch (e) {
    return { ok: false, error: `USER_TASK: ${(e as Error).message}` };
  }
  const timeoutSec = ctx.env.defaultStepTimeoutSec;
  const deadline = timeoutSec > 0 ? Date.now() + timeoutSec * 1000 : 0;
  const remaining = () => (deadline ? Math.max(1, deadline - Date.now()) : 0);
  const settings = ctx.env.buildah;
  const call = () => ({ cwd: ctx.workspace, signal: ctx.signal, timeoutMs: remaining(), onLine: ctx.log });
  const name = `buildgate-${ctx.stepRunKey.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 40)}-${randomBytes(4).toString('hex')}`;

  ctx.log('SYSTEM', `USER_TASK in ${plan.image} (timeout ${timeoutSec}s): ${plan.cmd.join(' ')}`);
  try {
    const from = await withAuthFile(ctx.tempDir, plan.logins, (auth) =>
      buildah(settings, ['from', '--name', name, ...auth, ...tlsArgs(plan.insecure), '--', plan.image], call()));
    if (from.aborted) return { ok: false, error: 'USER_TASK step canceled' };
    if (from.exitCode !== 0) return { ok: false, error: `USER_TASK: ${describeFailure(`pulling ${plan.image}`, from, timeoutSec * 1000)}` };

    const res = await buildah(settings, [
      'run', '--isolation', settings.isolation,
      ...plan.mounts.flatMap((m) => ['--volume', m]),
      ...(plan.workingDir ? ['--workingdir', plan.workingDir] : []),
      ...plan.envs.flatMap((e) => ['--env', e]),
      name, '--', ...plan.cmd,
    ], call());
    if (res.aborted) return { ok: false, error: 'USER_TASK step canceled' };
    if (res.timedOut) return { ok: false, error: `USER_TASK step timed out after ${timeoutSec}s` };
    if (res.exitCode !== 0) {
      const why = res.exitCode === null ? `was killed by ${res.signal}` : `exited with code ${res.exitCode}`;
      return { ok: false, error: `USER_TASK command ${why}` };
    }
    return { ok: true };
  } catch (e) {
    return { ok: false, error: `USER_TASK could not start: ${(e as Error).message}` };
  } finally {
    await removeContainer(settings, name, ctx.workspace);
  }
};

interface Plan {
  image: string;
  insecure: boolean;
  logins: RegistryLogin[];
  cmd: string[];
  mounts: string[];
  workingDir: string | null;
  envs: string[];
}

/** Checks the config and turns it into buildah arguments; throws a sentence on bad input. */
async function prepare(ctx: StepContext, cfg: UserTaskConfig): Promise<Plan> {
  checkStepConfig(cfg);
  const { ref, host } = resolveImage(cfg.imageName, cfg.imageTag, ctx.env.registry.host);
  // buildah pulls from there: the SSRF guard applies (the engine's own registry always passes)
  await assertRegistryAllowed(host, { allowPrivateHosts: ctx.env.allowPrivateHosts, registryHost: ctx.env.registry.host });
  // Only the engine's own registry gets its settings (insecure, credentials); any other is TLS, anonymous.
  const own = host === ctx.env.registry.host;
  const { username, password } = ctx.env.registry;
  const logins = own && username && password ? [{ host, username, password }] : [];

  const mounts: string[] = [];
  for (const m of cfg.dockerVolumeMountVOList ?? []) {
    const containerPath = absoluteContainerPath(m.containerPath, 'dockerVolumeMountVOList', 'containerPath');
    // A mount is read-write: a symlink in the repository must not make it a host directory.
    const hostPath = await workspacePath(ctx.workspace, m.hostPath, 'dockerVolumeMountVOList.hostPath', { create: 'dir' });
    // buildah's `-v host:container[:options]` syntax has no escaping for these.
    if (/[:,]/.test(hostPath)) throw new Error(`hostPath ${JSON.stringify(m.hostPath)} must not contain ':' or ','`);
    mounts.push(`${hostPath}:${containerPath}`);
  }

  const envs: string[] = [];
  for (const e of cfg.envs ?? []) envs.push(`${e.key}=${e.value ?? ''}`);
  const workingDir = cfg.workingDir?.trim() ? absoluteContainerPath(cfg.workingDir, 'workingDir') : null;
  return { image: ref, insecure: own && ctx.env.registry.insecure, logins, cmd: cfg.cmd, mounts, workingDir, envs };
}
