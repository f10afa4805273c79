import type { LogSource, StepConfig, StepType } from '../../model.js';

/** Engine settings a step may need (a slice of the validated config's `engine` section). */
export interface StepEnvironment {
  /** OCI registry that CREATE_IMAGE pushes to when the step names none, e.g. "127.0.0.1:5000". */
  registry: { host: string; insecure: boolean; username?: string | null; password?: string | null };
  /** buildah storage: `--storage-driver vfs --isolation chroot` works without a daemon. */
  buildah: { storageDriver: string; isolation: string; root?: string | null; runroot?: string | null };
  /** Hosts/CIDRs that outbound fetches (git, HTTP, FTP) may reach even though private. */
  allowPrivateHosts: string[];
  /** Default timeout for SHELL / USER_TASK steps, seconds. */
  defaultStepTimeoutSec: number;
}

/** Everything a step executor gets for one step run. */
export interface StepContext {
  runKey: string;
  stepRunKey: string;
  /** Absolute path of this run's workspace; every path in a config is resolved inside it. */
  workspace: string;
  /**
   * A private directory of this run outside the workspace, for files a step needs but a build
   * must not see (scripts, credentials helpers, Dockerfiles). Removed when the run ends, or at
   * the next start should the gateway or agent die first.
   */
  tempDir: string;
  /** Full config, secrets included. Never log them: `log` masks known secret values anyway. */
  config: StepConfig;
  /** Aborted on cancel or gateway shutdown: the executor must kill its process tree and return. */
  signal: AbortSignal;
  /**
   * One call per output line (no trailing newline). The engine stores, numbers and masks it.
   * `partial`: the line goes on in the next call (runProcess's pieces of a long line).
   * A returned promise asks the producer to pause until it settles (log storage is behind);
   * pass it on as runProcess's onLine result.
   */
  log(stream: LogSource, text: string, partial?: boolean): void | Promise<void>;
  /** Image tag chosen for this run (given, or autotag). */
  tagName: string | null;
  /** Build-level image settings, used by CREATE_IMAGE when its config leaves them out. */
  build: { imageName: string | null; registryName: string | null };
  env: StepEnvironment;
}

/** What a finished step reports. `ok:false` marks the step (and run) ERROR with `error`. */
export interface StepResult {
  ok: boolean;
  error?: string;
  /** CODE_DOWN: commit checked out. */
  sourceRevision?: string;
  /** CREATE_IMAGE: what was pushed. */
  image?: { url: string; repository: string; tag: string; digest: string; size: number };
}

export type StepExecutor = (ctx: StepContext) => Promise<StepResult>;
export type StepExecutors = Record<StepType, StepExecutor>;
