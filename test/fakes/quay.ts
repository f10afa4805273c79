import { createHash, randomUUID } from 'node:crypto';
import { empty, FakeServer, gzipJson, json, type RouteRequest } from './common.js';

/**
 * A fake Quay speaking the build API of seed 004 as upstreams.md §1 describes it:
 * BuildView bodies with RFC 2822 `started`, phases moving with wall time (no timers) through
 * waiting -> build-scheduled -> unpacking -> pulling -> building -> pushing -> complete
 * (`phaseMs` each; a tag ending in "-fail" ends in `error` after building), logs by `start`
 * index with phase/command/error entries, archived logs as a gzip JSON `logs_url`, cancel as
 * DELETE -> 201 "Okay", and Quay's ApiException error bodies. Repository notifications
 * (endpoints/api/repositorynotification.py, method "webhook") are POSTed as Quay's webhook
 * method does (notifications/notificationmethod.py: the event data as JSON) when a build is
 * queued, starts building, succeeds, fails or is cancelled — on timers at those instants.
 */

export const QUAY_DEMO_TOKEN = 'quay-demo-token-5d1e0b';
const PHASES = ['waiting', 'build-scheduled', 'unpacking', 'pulling', 'building', 'pushing'] as const;
const NOT_CANCELLABLE = new Set(['pushing', 'complete', 'error', 'internalerror', 'cancelled']);

interface BuildRow {
  uuid: string; repo: string; t0: number; tags: string[]; archiveUrl: string | null; dockerfilePath: string; context: string;
  pullRobot: string | null; manualUser: string | null; trigger: Record<string, unknown> | null;
  triggerMetadata: Record<string, unknown> | null; fail: boolean; cancelledAt?: number; archived?: boolean;
}
interface Entry { message: string; type?: string; data?: { datetime: string } }
export const QUAY_BUILD_EVENTS = ['build_queued', 'build_start', 'build_success', 'build_failure', 'build_cancelled'] as const;
export type QuayBuildEvent = (typeof QUAY_BUILD_EVENTS)[number];
interface Notification { uuid: string; repo: string; event: string; method: string; config: { url?: string }; event_config: Record<string, unknown>; title: string | null; number_of_failures: number }
/** A notification POST the fake made: where, for what, and how the receiver answered (or the network error). */
export interface SentNotification { event: QuayBuildEvent; url: string; buildId: string; at: number; status: number | null; error?: string }

const quayError = (status: number, type: string, detail: string) =>
  json({ detail, error_message: detail, error_type: type, title: type, type: `https://quay.local/api/v1/error/${type}`, status }, status);
/** Quay's format_date: RFC 2822 in UTC with "-0000". */
const rfc2822 = (ms: number) => new Date(ms).toUTCString().replace('GMT', '-0000');
/** The builder's str(datetime.now()). */
const pyTime = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '000');

export class FakeQuayState {
  repos = new Map<string, { description: string; isPublic: boolean }>();
  /** Repositories the token may not read: Quay answers 403 for them, as for one it will not admit exists. */
  forbidden = new Set<string>();
  builds: BuildRow[] = [];
  notifications: Notification[] = [];
  /** Every notification POST made, in order. */
  sent: SentNotification[] = [];
  /** Host the fake serves on (docker_url and homepage of notifications). */
  host = 'quay.local';
  private readonly timers = new Map<string, Set<NodeJS.Timeout>>();
  private closed = false;
  constructor(readonly phaseMs: number) {}

  addBuild(repo: string, o: Partial<BuildRow> = {}): BuildRow {
    const tags = o.tags ?? ['latest'];
    const row: BuildRow = {
      uuid: randomUUID(), repo, t0: Date.now(), archiveUrl: null, dockerfilePath: '/Dockerfile', context: '/', pullRobot: null,
      manualUser: 'alice', trigger: null, triggerMetadata: null, fail: tags.some((t) => t.endsWith('-fail')), ...o, tags,
    };
    this.builds.push(row);
    this.scheduleEvents(row);
    return row;
  }

  /** Cancels a build now: its later events are dropped and build_cancelled is sent. */
  cancel(b: BuildRow, at = Date.now()): void {
    b.cancelledAt = at;
    for (const t of this.timers.get(b.uuid) ?? []) clearTimeout(t);
    this.timers.delete(b.uuid);
    void this.notify(b, 'build_cancelled');
  }

  /** Events at the instants the build's phases change (queued at t0, start at `building`, then its end); past ones are not sent. */
  private scheduleEvents(b: BuildRow): void {
    const at: Array<[QuayBuildEvent, number]> = [['build_queued', b.t0], ['build_start', b.t0 + 4 * this.phaseMs],
      b.fail ? ['build_failure', b.t0 + 5 * this.phaseMs] : ['build_success', b.t0 + 6 * this.phaseMs]];
    const now = Date.now();
    for (const [event, t] of at) {
      if (t < now - 1000 || b.cancelledAt !== undefined) continue;
      const timer = setTimeout(() => { this.timers.get(b.uuid)?.delete(timer); void this.notify(b, event); }, Math.max(0, t - now));
      timer.unref();
      if (!this.timers.has(b.uuid)) this.timers.set(b.uuid, new Set());
      this.timers.get(b.uuid)!.add(timer);
    }
  }

  /** The event data Quay's webhook method POSTs (build_repository_event_data + the build event's fields). */
  eventData(b: BuildRow, event: QuayBuildEvent) {
    const [namespace, name] = b.repo.split('/');
    return {
      repository: b.repo, namespace, name, docker_url: `${this.host}/${b.repo}`, homepage: `http://${this.host}/repository/${b.repo}/build/${b.uuid}`,
      build_id: b.uuid, build_name: b.uuid.slice(0, 7), docker_tags: b.tags,
      ...(b.trigger ? { trigger_id: b.trigger.id, trigger_kind: b.trigger.service, trigger_metadata: b.triggerMetadata ?? {} } : {}),
      ...(event === 'build_queued' ? { is_manual: !b.trigger } : {}),
      ...(event === 'build_success' ? { image_id: b.uuid.replace(/-/g, '').slice(0, 12) } : {}),
      ...(event === 'build_failure' ? { error_message: "The command '/bin/sh -c make' returned a non-zero code: 2" } : {}),
    };
  }

  private async notify(b: BuildRow, event: QuayBuildEvent): Promise<void> {
    if (this.closed) return;
    const targets = this.notifications.filter((n) => n.repo === b.repo && n.event === event && n.method === 'webhook' && n.config.url);
    await Promise.all(targets.map(async (n) => {
      const rec: SentNotification = { event, url: n.config.url!, buildId: b.uuid, at: Date.now(), status: null };
      this.sent.push(rec);
      try {
        const res = await fetch(n.config.url!, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(this.eventData(b, event)), signal: AbortSignal.timeout(10_000) });
        rec.status = res.status;
        if (res.status >= 300) n.number_of_failures++;
        await res.arrayBuffer();
      } catch (e) {
        rec.error = String(e);
        n.number_of_failures++;
      }
    }));
  }

  stop(): void {
    this.closed = true;
    for (const ts of this.timers.values()) for (const t of ts) clearTimeout(t);
    this.timers.clear();
  }

  /** Phase at `now`, and when each reached phase began. */
  timeline(b: BuildRow, now = Date.now()): { phase: string; marks: Array<{ phase: string; at: number }> } {
    const t = Math.min(now, b.cancelledAt ?? Infinity);
    const k = Math.floor((t - b.t0) / this.phaseMs);
    const marks: Array<{ phase: string; at: number }> = [];
    for (let i = 1; i < PHASES.length && i <= k; i++) {
      if (b.fail && i === 5) break;
      marks.push({ phase: PHASES[i]!, at: b.t0 + i * this.phaseMs });
    }
    let phase: string = PHASES[Math.min(Math.max(k, 0), 5)]!;
    if (b.fail && k >= 5) phase = 'error', marks.push({ phase, at: b.t0 + 5 * this.phaseMs });
    else if (k >= 6) phase = 'complete', marks.push({ phase, at: b.t0 + 6 * this.phaseMs });
    if (b.cancelledAt !== undefined) phase = 'cancelled', marks.push({ phase, at: b.cancelledAt });
    return { phase, marks };
  }

  logs(b: BuildRow, now = Date.now()): Entry[] {
    const out: Entry[] = [];
    const { marks } = this.timeline(b, now);
    for (const m of marks) {
      const dt = { datetime: pyTime(m.at) };
      out.push({ message: m.phase, type: 'phase', data: dt });
      if (m.phase === 'unpacking') out.push({ message: 'Unpacking build package', data: dt });
      if (m.phase === 'pulling') out.push({ message: 'Pulling base image: alpine:3.19', data: dt }, { message: 'alpine:3.19: Pulling from library/alpine', data: dt });
      if (m.phase === 'building') {
        out.push({ message: 'Step 1/2 : FROM alpine:3.19', type: 'command', data: dt }, { message: ' ---> 4bc1e4b2d8c3', data: dt },
          { message: 'Step 2/2 : RUN make', type: 'command', data: dt });
        out.push(b.fail ? { message: "The command '/bin/sh -c make' returned a non-zero code: 2", type: 'error', data: dt } : { message: 'make: done', data: dt });
      }
      if (m.phase === 'pushing') out.push({ message: `Pushing image quay.local/${b.repo}:${b.tags.join(',')}`, data: dt });
    }
    return out;
  }

  /** Tags pushed by complete builds of `repo`, newest push first, as Quay's tag API lists them. */
  tagHistory(repo: string, now = Date.now()) {
    const pushes = this.builds.filter((b) => b.repo === repo && this.timeline(b, now).phase === 'complete')
      .flatMap((b) => b.tags.map((name) => ({ b, name, at: b.t0 + 6 * this.phaseMs })))
      .sort((x, y) => y.at - x.at);
    const seen = new Map<string, number>();
    return pushes.map(({ b, name, at }) => {
      const ended = seen.get(name);
      seen.set(name, at);
      const digest = `sha256:${createHash('sha256').update(`${b.uuid}:${name}`).digest('hex')}`;
      return { name, reversion: false, start_ts: Math.floor(at / 1000), ...(ended !== undefined ? { end_ts: Math.floor(ended / 1000) } : {}),
        manifest_digest: digest, is_manifest_list: false, size: 1_000_000 + (parseInt(digest.slice(7, 13), 16) % 50_000_000), last_modified: rfc2822(at) };
    });
  }

  view(b: BuildRow, now = Date.now()) {
    const { phase } = this.timeline(b, now);
    const [namespace, name] = b.repo.split('/');
    const terminal = !(PHASES as readonly string[]).includes(phase);
    return {
      id: b.uuid, phase, started: rfc2822(b.t0), display_name: b.uuid.slice(0, 7),
      status: terminal ? {} : { total_commands: 2, current_command: phase === 'building' ? 2 : 0, push_completion: 0, pull_completion: 0, heartbeat: Math.floor(now / 1000) },
      subdirectory: b.dockerfilePath, dockerfile_path: b.dockerfilePath, context: b.context, tags: b.tags,
      manual_user: b.manualUser, is_writer: true, trigger: b.trigger, trigger_metadata: b.triggerMetadata,
      resource_key: null, pull_robot: b.pullRobot ? { name: b.pullRobot, kind: 'user', is_robot: true } : null,
      repository: { namespace, name }, error: null, archive_url: b.archiveUrl,
    };
  }
}

export function seedDemo(s: FakeQuayState): void {
  const day = 86_400_000;
  const now = Date.now();
  s.repos.set('demo/web', { description: 'Demo web image', isPublic: true });
  s.repos.set('demo/api', { description: 'Demo API image', isPublic: false });
  const archive = 'https://files.example/web.tar.gz?Signature=abc123';
  s.addBuild('demo/web', { t0: now - 3 * day, tags: ['latest', '1.0'], archiveUrl: archive, archived: true });
  s.addBuild('demo/web', { t0: now - 2 * day, tags: ['1.1-fail'], archiveUrl: archive });
  const c = s.addBuild('demo/web', { t0: now - day, tags: ['1.1'], archiveUrl: archive });
  c.cancelledAt = c.t0 + Math.round(s.phaseMs * 3.5);
  s.addBuild('demo/web', { t0: now - day / 2, tags: ['1.2'], archiveUrl: archive });
  s.addBuild('demo/api', {
    t0: now - day, tags: ['main'], manualUser: null,
    trigger: { id: 'trig-1', service: 'github', is_active: true, build_source: 'example/api', repository_url: 'https://github.com/example/api' },
    triggerMetadata: { commit: '3f2a9c1d4b5e', ref: 'refs/heads/main', default_branch: 'main' },
  });
}

export async function startFakeQuay(opts: { token?: string; phaseMs?: number; seed?: boolean } = {}) {
  const token = opts.token ?? QUAY_DEMO_TOKEN;
  const state = new FakeQuayState(opts.phaseMs ?? 400);
  if (opts.seed !== false) seedDemo(state);
  const fake = new FakeServer('quay');
  let baseUrl = '';
  // The archive link is pre-signed: it needs no token (like an S3 URL).
  fake.auth((r) => r.path.startsWith('/archive/') || r.headers.authorization === `Bearer ${token}`,
    quayError(401, 'invalid_token', 'Requires authentication'));
  const repoOf = (r: RouteRequest) => `${r.params.ns}/${r.params.name}`;
  const buildOf = (r: RouteRequest) => state.builds.find((b) => b.uuid === r.params.uuid && b.repo === repoOf(r));
  const base = '/api/v1/repository/:ns/:name';
  /** Quay's answer when the repository is unreadable (403) or unknown (404); null when it may be read. */
  const refused = (r: RouteRequest) => state.forbidden.has(repoOf(r)) ? quayError(403, 'insufficient_scope', 'Unauthorized')
    : !state.repos.has(repoOf(r)) ? quayError(404, 'not_found', 'Not Found') : null;

  fake.get(base, (r) => {
    const no = refused(r);
    if (no) return no;
    const repo = state.repos.get(repoOf(r))!;
    return { namespace: r.params.ns, name: r.params.name, kind: 'image', description: repo.description, is_public: repo.isPublic, state: 'NORMAL', can_write: true, can_admin: true };
  });
  fake.get(`${base}/build/`, (r) => {
    const no = refused(r);
    if (no) return no;
    const limit = r.query.limit ? Number(r.query.limit) : 5;
    const since = r.query.since ? Number(r.query.since) * 1000 : 0;
    const rows = state.builds.filter((b) => b.repo === repoOf(r) && b.t0 >= since).sort((a, b) => b.t0 - a.t0).slice(0, limit);
    return { builds: rows.map((b) => state.view(b)) };
  });
  fake.post(`${base}/build/`, (r) => {
    if (!state.repos.has(repoOf(r))) return quayError(404, 'not_found', 'Not Found');
    const body = (r.body ?? {}) as Record<string, any>;
    if (!body.file_id && !body.archive_url) return quayError(400, 'invalid_request', 'file_id or archive_url required');
    if (body.docker_tags !== undefined && (!Array.isArray(body.docker_tags) || body.docker_tags.length < 1)) {
      return quayError(400, 'invalid_request', 'docker_tags: minItems 1');
    }
    const b = state.addBuild(repoOf(r), {
      tags: body.docker_tags ?? ['latest'], archiveUrl: body.archive_url ?? null, dockerfilePath: body.dockerfile_path ?? '/Dockerfile',
      context: body.context ?? '/', pullRobot: body.pull_robot ?? null, manualUser: 'robot-buildgate',
    });
    return json(state.view(b), 201, { location: `${baseUrl}/api/v1/repository/${b.repo}/build/${b.uuid}/status` });
  });
  fake.get(`${base}/build/:uuid`, (r) => { const b = buildOf(r); return b ? state.view(b) : refused(r) ?? quayError(404, 'not_found', 'Not Found'); });
  fake.get(`${base}/build/:uuid/status`, (r) => { const b = buildOf(r); return b ? state.view(b) : quayError(404, 'not_found', 'Not Found'); });
  fake.get(`${base}/build/:uuid/logs`, (r) => {
    const b = buildOf(r);
    if (!b) return quayError(404, 'not_found', 'Not Found');
    if (b.archived) return { logs_url: `${baseUrl}/archive/${b.uuid}.json.gz?X-Signature=s3cr3t` };
    const all = state.logs(b);
    const start = Math.max(0, Number(r.query.start ?? 0) || 0);
    return { start, total: all.length, logs: all.slice(start) };
  });
  fake.delete(`${base}/build/:uuid`, (r) => {
    const b = buildOf(r);
    if (!b) return quayError(404, 'not_found', 'Not Found');
    if (NOT_CANCELLABLE.has(state.timeline(b).phase)) return quayError(400, 'invalid_request', 'Build is currently running or has finished');
    state.cancel(b);
    return json('Okay', 201);
  });
  // Repository notifications (createRepoNotification / listRepoNotifications / deleteRepoNotification).
  // Real Quay refuses webhook URLs on localhost/127.0.0.1; the fake takes them, the gateway under test is there.
  fake.post(`${base}/notification/`, (r) => {
    const no = refused(r);
    if (no) return no;
    const body = (r.body ?? {}) as Record<string, any>;
    for (const k of ['event', 'method', 'config', 'eventConfig']) if (body[k] === undefined) return quayError(400, 'invalid_request', `'${k}' is a required property`);
    if (!(QUAY_BUILD_EVENTS as readonly string[]).includes(body.event) && body.event !== 'repo_push') return quayError(400, 'invalid_request', `Unable to find event: ${body.event}`);
    if (body.method !== 'webhook') return quayError(400, 'invalid_request', `Unable to find method: ${body.method}`);
    if (!/^https?:\/\//.test(String(body.config?.url ?? ''))) return quayError(400, 'invalid_request', body.config?.url ? 'Invalid webhook URL' : 'Missing webhook URL');
    const n: Notification = { uuid: randomUUID(), repo: repoOf(r), event: body.event, method: body.method, config: { ...body.config }, event_config: body.eventConfig, title: body.title ?? null, number_of_failures: 0 };
    state.notifications.push(n);
    const { repo: _repo, ...view } = n;
    return json(view, 201);
  });
  fake.get(`${base}/notification/`, (r) => {
    const no = refused(r);
    if (no) return no;
    return { notifications: state.notifications.filter((n) => n.repo === repoOf(r)).map(({ repo: _repo, ...view }) => view) };
  });
  fake.delete(`${base}/notification/:uuid`, (r) => {
    const i = state.notifications.findIndex((n) => n.uuid === r.params.uuid && n.repo === repoOf(r));
    if (i < 0) return quayError(400, 'invalid_request', `No repository notification found for: ${r.params.ns}, ${r.params.name}, ${r.params.uuid}`);
    state.notifications.splice(i, 1);
    return empty(204);
  });
  // Tag history (endpoints/api/tag.py ListRepositoryTags): what complete builds pushed, newest first; a
  // tag pushed again ends its older entry (end_ts). limit ≤ 100, page from 1, has_additional.
  fake.get(`${base}/tag/`, (r) => {
    const no = refused(r);
    if (no) return no;
    const limit = Number(r.query.limit ?? 50);
    const page = Number(r.query.page ?? 1);
    if (!(limit >= 1 && limit <= 100) || !(page >= 1)) return quayError(400, 'invalid_request', 'limit must be 1..100, page ≥ 1');
    const all = state.tagHistory(repoOf(r)).filter((t) => r.query.onlyActiveTags !== 'true' || t.end_ts === undefined)
      .filter((t) => !r.query.specificTag || t.name === r.query.specificTag);
    return { tags: all.slice((page - 1) * limit, page * limit), page, has_additional: all.length > page * limit };
  });
  fake.get('/archive/:file', (r) => {
    const b = state.builds.find((x) => `${x.uuid}.json.gz` === r.params.file);
    if (!b) return json({ message: 'NoSuchKey' }, 404);
    const all = state.logs(b);
    return gzipJson({ start: 0, total: all.length, logs: all });
  });

  const started = await fake.start();
  baseUrl = started.url;
  state.host = new URL(started.url).host;
  const close = async () => { state.stop(); await started.close(); };
  return { url: started.url, close, fake, state, token };
}
