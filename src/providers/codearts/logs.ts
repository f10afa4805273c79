import type { LogLineData } from '../types.js';
import type { CodeArtsApi } from './api.js';
import { runKey, type RunRef } from './map.js';

/**
 * CodeArts serves a build log as text chunks addressed by character offset. Lines are
 * numbered here, from offset 0, so the numbering is the same on every call and after a
 * restart. A line still being written (no "\n" yet) is held back until it is complete or
 * the log is over (`has_more_data` false), so a line never changes text under its seq.
 * What was read is kept per run (bounded), so a poll only asks for the new part.
 */
interface LogState { offset: number; lines: string[]; partial: string; over: boolean }
const MAX_RUNS = 200;
const MAX_CHUNKS_PER_READ = 100;

export class CodeArtsLogReader {
  private readonly states = new Map<string, LogState>();
  private readonly reading = new Map<string, Promise<LogState>>();

  constructor(private readonly api: CodeArtsApi, private readonly chunkLength: number) {}

  async read(ref: RunRef, args: { afterSeq?: number | null; limit: number; tail?: boolean }) {
    const key = runKey(ref);
    // One read per run at a time: two concurrent reads would append the same chunk twice.
    let p = this.reading.get(key);
    if (!p) {
      p = this.advance(ref).finally(() => this.reading.delete(key));
      this.reading.set(key, p);
    }
    const st = await p;
    const after = Math.max(0, args.afterSeq ?? 0);
    const all: LogLineData[] = st.lines.slice(after).map((text, i) => ({ seq: after + i + 1, stepRunKey: null, source: 'STDOUT', time: null, text }));
    const lines = args.tail ? all.slice(-args.limit) : all.slice(0, args.limit);
    // Nothing after `after`: resume after the last line there is, not after a seq that does not exist.
    return { lines, lastSeq: lines.at(-1)?.seq ?? Math.min(after, st.lines.length), hasMore: !args.tail && all.length > lines.length };
  }

  private async advance(ref: RunRef): Promise<LogState> {
    const key = runKey(ref);
    const st = this.states.get(key) ?? { offset: 0, lines: [], partial: '', over: false };
    for (let i = 0; i < MAX_CHUNKS_PER_READ && !st.over; i++) {
      const chunk = await this.api.logChunk(ref.jobId, ref.buildNo, st.offset, this.chunkLength);
      const content = chunk.content ?? '';
      const parts = (st.partial + content).split('\n');
      st.partial = parts.pop() ?? '';
      st.lines.push(...parts.map((l) => l.replace(/\r$/, '')));
      st.offset = chunk.offset > st.offset ? chunk.offset : st.offset + content.length;
      if (!chunk.has_more_data) {
        if (st.partial !== '') st.lines.push(st.partial.replace(/\r$/, ''));
        st.partial = '';
        st.over = true;
      }
      if (content === '') break; // nothing new yet ("content may be empty, request again" later)
    }
    this.states.delete(key);
    this.states.set(key, st);
    if (this.states.size > MAX_RUNS) this.states.delete(this.states.keys().next().value!);
    return st;
  }
}
