import { z } from 'zod';
import { ErrorCode, UpstreamError } from '../../errors.js';
import type { UpstreamClient } from '../upstream/client.js';
import * as w from './wire.js';

type Out<S extends z.ZodType> = z.output<S>;

/** CodeArts Build endpoints, one method each, answers checked against their wire shapes. */
export class CodeArtsApi {
  constructor(private readonly client: UpstreamClient, private readonly projectId: string) {}

  async listJobs(pageIndex: number, pageSize: number): Promise<Out<typeof w.jobList>> {
    return this.client.get(`/v3/${encodeURIComponent(this.projectId)}/jobs`, { searchParams: { page_index: pageIndex, page_size: pageSize }, schema: w.jobList });
  }
  /** POST /v3/jobs/build; the build number comes back as a string. */
  async runJob(jobId: string): Promise<number> {
    const res: Out<typeof w.runResp> = await this.client.post('/v3/jobs/build', { json: { job_id: jobId, parameter: [] }, schema: w.runResp });
    await this.client.invalidate(`/v3/jobs/${jobId}`);
    const n = Number(res.actual_build_number);
    if (!Number.isInteger(n) || n < 1) {
      throw new UpstreamError(ErrorCode.UPSTREAM_BAD_RESPONSE, this.client.providerId, `POST /v3/jobs/build: actual_build_number "${res.actual_build_number}" is not a build number`);
    }
    return n;
  }
  /** "Is a build of this job running?" (per job, not per build). */
  async isRunning(jobId: string): Promise<boolean> {
    return ((await this.client.get(`/v3/jobs/${jobId}/status`, { schema: w.jobStatus, cache: false })) as Out<typeof w.jobStatus>).result;
  }
  async stop(jobId: string, buildNo: number): Promise<void> {
    const res: Out<typeof w.stopResp> = await this.client.post(`/v3/jobs/${jobId}/${buildNo}/stop`, { schema: w.stopResp });
    await this.client.invalidate(`/v3/jobs/${jobId}`);
    await this.client.invalidate(`/v4/jobs/${jobId}`);
    if (!res.success) {
      throw new UpstreamError(ErrorCode.UPSTREAM_REJECTED, this.client.providerId, `POST /v3/jobs/${jobId}/${buildNo}/stop was rejected`, { upstream: res });
    }
  }
  /** null when CodeArts does not know the build (CB.00000404). */
  async record(jobId: string, buildNo: number, fresh = false): Promise<w.CodeArtsRecord | null> {
    try {
      const res = await this.enveloped(`/v4/jobs/${jobId}/${buildNo}/record-info`, w.record, fresh);
      return res ?? null;
    } catch (err) {
      if (err instanceof UpstreamError && err.code === ErrorCode.UPSTREAM_NOT_FOUND) return null;
      throw err;
    }
  }
  /** offset = page number (0-based), interval = days back (≤ 30). */
  async history(jobId: string, page: number, limit: number, interval: number): Promise<Out<typeof w.history>> {
    return this.client.get(`/v3/jobs/${jobId}/history`, { searchParams: { offset: page, limit, interval }, schema: w.history });
  }
  async steps(jobId: string, buildNo: number): Promise<Out<typeof w.historyDetails>> {
    return this.client.get(`/v3/jobs/${jobId}/${buildNo}/history-details`, { schema: w.historyDetails });
  }
  async logChunk(jobId: string, buildNo: number, offset: number, length: number): Promise<Out<typeof w.realTimeLog>> {
    const r = await this.enveloped(`/v3/jobs/${jobId}/${buildNo}/real-time-log`, w.realTimeLog, true, { offset, length });
    if (!r) throw new UpstreamError(ErrorCode.UPSTREAM_BAD_RESPONSE, this.client.providerId, `GET /v3/jobs/${jobId}/${buildNo}/real-time-log: no result`);
    return r;
  }

  /** `{status, error, result}` answers: a 200 with status "fail" is an error like any other. */
  private async enveloped<S extends z.ZodType>(path: string, schema: S, fresh: boolean, searchParams?: Record<string, number>): Promise<z.output<S> | null | undefined> {
    const env = (await this.client.get(path, { searchParams, schema: w.envelope(schema), cache: fresh ? false : undefined })) as {
      status: string; error?: unknown; result?: z.output<S> | null;
    };
    if (env.status !== 'success') {
      const e = env.error as { error_msg?: unknown; error_code?: unknown } | string | null | undefined;
      const msg = typeof e === 'string' ? e : typeof e?.error_msg === 'string' ? `${e.error_msg}${typeof e.error_code === 'string' ? ` (${e.error_code})` : ''}` : 'no reason given';
      const code = w.classifyCodeArtsError(200, e) ?? ErrorCode.UPSTREAM_REJECTED;
      throw new UpstreamError(code, this.client.providerId, `GET ${path} answered status "${env.status}": ${msg}`, { status: 200, upstream: env.error ?? null });
    }
    return env.result;
  }
}
