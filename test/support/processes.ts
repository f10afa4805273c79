import fs from 'node:fs';
import path from 'node:path';

/** Pids of live processes whose command line contains `marker` (zombies not counted). */
export function processesWith(marker: string): number[] {
  const found: number[] = [];
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${e}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) continue;
      if (fs.readFileSync(`/proc/${e}/cmdline`, 'utf8').split('\0').join(' ').includes(marker)) found.push(Number(e));
    } catch { /* gone meanwhile */ }
  }
  return found;
}

export function killAll(marker: string): void {
  for (const pid of processesWith(marker)) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
}

/** Every file under `dir` (paths relative to it). */
export function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return (fs.readdirSync(dir, { recursive: true }) as string[]).filter((f) => fs.statSync(path.join(dir, f)).isFile());
}

/**
 * A SHELL script whose processes carry `marker` (a number) in their command line: one in the
 * background that ignores SIGTERM and lets go of the step's pipes, one in the background, one
 * in the foreground — three `sleep <marker>…` in all, for as long as nobody kills them.
 */
export function sleepyScript(marker: string): string {
  return [
    `(trap '' TERM; sleep ${marker}1) >/dev/null 2>&1 &`,
    `sleep ${marker}2 &`,
    'echo started',
    `sleep ${marker}3`,
  ].join('\n');
}

/** A marker unlikely to be in anyone else's command line. */
export const newMarker = () => String(10000 + Math.floor(Math.random() * 80000));
