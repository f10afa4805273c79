import type { LogLineData } from '../types.js';
import type { ZadigApi } from './api.js';
import { jobKey, stepState, taskJobs, type RunRef } from './map.js';
import type { ZadigTask } from './wire.js';

/**
 * Zadig logs have no line numbers or offsets, so they are numbered here, the same way on
 * every call and after a restart: seq = jobIndex * JOB_SEQ_SPAN + line number (from 1),
 * jobIndex being the job's position in the task (stages in order). Lines are always read
 * from the start of a job's log: the archived text once the job ended, the SSE stream
 * (asked for a tail covering the whole log) while it runs. Caveat: parallel jobs in one
 * stage grow side by side, so a reader that already saw a line of a later job must ask
 * per job (stepRunKey) to catch up on the earlier one.
 */
export const JOB_SEQ_SPAN = 1_000_000;

export interface LogArgs { stepRunKey?: string | null; afterSeq?: number | null; limit: number; tail?: boolean }

export async function collectLogs(api: ZadigApi, task: ZadigTask, ref: RunRef, args: LogArgs) {
  const after = args.afterSeq ?? 0;
  const jobs = taskJobs(task).map((job, index) => ({ job, index, key: jobKey({ ...ref, jobName: job.name }) }));
  const wanted = args.stepRunKey ? jobs.filter((j) => j.key === args.stepRunKey) : jobs;
  let lastExisting = 0;
  const lines: LogLineData[] = [];
  for (const { job, index, key } of wanted) {
    if (!args.tail && (index + 1) * JOB_SEQ_SPAN <= after) { lastExisting = Math.max(lastExisting, Math.min(after, (index + 1) * JOB_SEQ_SPAN)); continue; }
    if (!args.tail && lines.length > args.limit) break;
    const state = stepState(job.status);
    if (!job.start_time || state === 'WAIT') continue; // never started: no log exists
    const text = state === 'RUNNING'
      ? (await api.jobLogLive(ref.workflowKey, ref.taskId, job.name)).lines
      : splitLines(await api.jobLogText(ref.workflowKey, ref.taskId, job.name));
    text.forEach((t, i) => {
      const seq = index * JOB_SEQ_SPAN + i + 1;
      if (seq > after) lines.push({ seq, stepRunKey: key, source: 'STDOUT', time: null, text: t });
      else lastExisting = seq;
    });
  }
  const out = args.tail ? lines.slice(-args.limit) : lines.slice(0, args.limit);
  // Nothing after `after`: resume after the last line there is, not after a seq that does not exist.
  return { lines: out, lastSeq: out.at(-1)?.seq ?? lastExisting, hasMore: !args.tail && lines.length > out.length };
}

/** Text -> lines; a final newline does not start an empty line. */
export function splitLines(text: string): string[] {
  if (text === '') return [];
  const parts = text.split(/\r?\n/);
  if (parts.at(-1) === '') parts.pop();
  return parts;
}
