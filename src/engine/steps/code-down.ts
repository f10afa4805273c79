import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import path from 'node:path';
import type { CodeDownConfig } from '../../model.js';
import { assertAllowedHost } from '../../net/guard.js';
import { runProcess } from '../process.js';
import { workspacePath } from '../workspace.js';
import { checkStepConfig, repositoryUrl } from './rules.js';
import type { StepExecutor } from './types.js';

/**
 * CODE_DOWN step: `git clone --branch <branchName> --single-branch` over HTTP(S).
 *
 * - `repositoryUrl` may omit the scheme (the Cocktail model writes `github.com/x/y.git`);
 *   `protocolType` supplies it. Other schemes (ssh, file, ext::…) are refused.
 * - `codeSaveDir` is inside the workspace; by default the repository's name.
 * - Credentials never reach the command line, the URL, `.git/config` or the log: git asks a
 *   GIT_ASKPASS helper, which prints them from its environment. A token without `userId`
 *   is sent with the user name `x-access-token` (GitHub, GitLab and Gitea accept any name).
 * - The clone is pinned (`http.curloptResolve`) to the addresses the SSRF guard checked, and
 *   redirects are not followed, so git cannot be steered to another host afterwards.
 * - The user's and the system's git configuration are ignored: a credential helper or proxy
 *   set up on the gateway host must not leak into builds.
 */

const TOKEN_USER = 'x-access-token';
const ASKPASS = `#!/bin/sh
case "$1" in
  Username*) printf '%s\\n' "$BUILDGATE_GIT_USERNAME" ;;
  *) printf '%s\\n' "$BUILDGATE_GIT_PASSWORD" ;;
esac
`;

export const codeDownStep: StepExecutor = async (ctx) => {
  const cfg = ctx.config as CodeDownConfig;
  let url: URL;
  let target: string;
  try {
    checkStepConfig(cfg);
    url = repositoryUrl(cfg);
    const repoName = path.posix.basename(url.pathname).replace(/\.git$/, '') || 'repo';
    target = await workspacePath(ctx.workspace, cfg.codeSaveDir?.trim() || repoName, 'codeSaveDir');
  } catch (e) {
    return { ok: false, error: (e as Error).message };
  }
  const branch = cfg.branchName.trim();
  const user = cfg.userId?.trim() || (cfg.password ? TOKEN_USER : '');
  ctx.log('SYSTEM', `CODE_DOWN git clone ${url} branch ${branch} into ${cfg.codeSaveDir?.trim() || path.basename(target)}` +
    (cfg.password ? ` as ${user} (password ***)` : '') + (cfg.httpSslVerifySkip ? ' (TLS certificate not verified)' : ''));

  const gitConfig: Array<[string, string]> = [['http.followRedirects', 'false']];
  if (cfg.httpSslVerifySkip) gitConfig.push(['http.sslVerify', 'false']);
  let helperDir: string | null = null;
  try {
    const addresses = await assertAllowedHost(url.hostname, ctx.env.allowPrivateHosts);
    if (!isIP(url.hostname.replace(/^\[|\]$/g, ''))) {
      const port = url.port || (url.protocol === 'https:' ? '443' : '80');
      const pinned = addresses.map((a) => (isIP(a) === 6 ? `[${a}]` : a)).join(',');
      gitConfig.push(['http.curloptResolve', `${url.hostname}:${port}:${pinned}`]);
    }
    const env: Record<string, string> = {
      GIT_TERMINAL_PROMPT: '0',
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_CONFIG_GLOBAL: '/dev/null',
      GIT_ALLOW_PROTOCOL: 'http:https',
      LC_ALL: 'C', // git's messages are matched below
      GIT_CONFIG_COUNT: String(gitConfig.length),
    };
    gitConfig.forEach(([k, v], i) => { env[`GIT_CONFIG_KEY_${i}`] = k; env[`GIT_CONFIG_VALUE_${i}`] = v; });
    if (cfg.password || cfg.userId) {
      helperDir = await mkdtemp(path.join(ctx.tempDir, 'git-'));
      const helper = path.join(helperDir, 'askpass');
      await writeFile(helper, ASKPASS, { mode: 0o700 });
      Object.assign(env, { GIT_ASKPASS: helper, BUILDGATE_GIT_USERNAME: user, BUILDGATE_GIT_PASSWORD: cfg.password ?? '' });
    }

    const problems: string[] = [];
    const timeoutSec = ctx.env.defaultStepTimeoutSec;
    const clone = await runProcess('git', ['clone', '--progress', '--branch', branch, '--single-branch', '--', url.toString(), target], {
      cwd: ctx.workspace,
      env,
      signal: ctx.signal,
      timeoutMs: timeoutSec > 0 ? timeoutSec * 1000 : 0,
      onLine: (stream, text, partial, redraw) => {
        // git redraws its progress with \r: only the state a line ends in is worth a log line
        if (redraw || (!partial && !text.trim())) return;
        if (/^(fatal|error|remote):/.test(text)) problems.push(text);
        return ctx.log(stream, text, partial);
      },
    });
    if (clone.aborted) return { ok: false, error: 'CODE_DOWN step canceled' };
    if (clone.timedOut) return { ok: false, error: `git clone timed out after ${timeoutSec}s` };
    if (clone.exitCode !== 0) return { ok: false, error: explain(problems, url, branch, clone.exitCode) };

    let revision = '';
    const rev = await runProcess('git', ['rev-parse', 'HEAD'], {
      cwd: target, env: { GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' }, signal: ctx.signal,
      onLine: (stream, text) => { if (stream === 'STDOUT') revision = text.trim(); },
    });
    if (rev.exitCode !== 0 || !/^[0-9a-f]{40,64}$/.test(revision)) return { ok: false, error: 'git rev-parse HEAD failed after the clone' };
    ctx.log('SYSTEM', `checked out ${branch} at ${revision}`);
    return { ok: true, sourceRevision: revision };
  } catch (e) {
    return { ok: false, error: `CODE_DOWN ${url} failed: ${(e as Error).message}` };
  } finally {
    if (helperDir) await rm(helperDir, { recursive: true, force: true });
  }
};

/** Turns git's last words into a message that says what to fix. */
function explain(problems: string[], url: URL, branch: string, exitCode: number | null): string {
  const all = problems.join('\n');
  if (/Authentication failed|returned error: 403/.test(all)) {
    return `git clone ${url}: authentication failed (check userId and password/token)`;
  }
  if (/could not read (Username|Password)/.test(all)) {
    return `git clone ${url}: the repository requires credentials (set userId and password/token)`;
  }
  if (/Remote branch .* not found/.test(all)) return `git clone ${url}: branch ${JSON.stringify(branch)} not found`;
  if (/not found|returned error: 404/.test(all)) return `git clone ${url}: repository not found`;
  if (/already exists and is not an empty directory/.test(all)) return `git clone: codeSaveDir already exists and is not empty`;
  const last = problems.at(-1) ?? 'no message';
  return `git clone ${url} failed (exit code ${exitCode}): ${last}`;
}
