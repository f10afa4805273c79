import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Config } from '../config/index.js';
import { closeRedis } from '../net/redis-close.js';
import { LiveHub, redisNamespace } from '../live/hub.js';
import { BuildStore } from '../store/build-store.js';
import { openSecrets } from '../store/crypto.js';
import type { Store } from '../store/db.js';
import { openMigratedStore } from '../store/open.js';
import { Engine, type RunDispatch } from './engine.js';
import { stepExecutors } from './steps/index.js';

/**
 * Build agents (`engine.runOn: agents`): the gateway puts each native run on a BullMQ queue
 * named after its build's `buildServerHost` ("default" when it has none); `buildgate agent`
 * processes on any machine that reaches the store and Redis take runs from their queues and
 * execute them with the same engine. States and log lines go to the shared store and, through
 * the Redis live channels, to every gateway's subscribers; a cancel reaches the agent running
 * the run (and removeRun the agent holding its workspace) on a Redis channel.
 */

/** BullMQ queue names may not hold ':' (build server hosts often do: host:port). */
export function runQueueName(buildServerHost: string | null | undefined): string {
  return `runs.${(buildServerHost || 'default').replace(/[^A-Za-z0-9._-]/g, '_')}`;
}

/**
 * An agent's heartbeat for a run it executes: a key that expires `agentStallMs` after the last
 * beat. Gateways read it (AgentDispatch.alive) to end a run whose agent is gone, whether or not
 * any other agent is left to notice through BullMQ.
 */
const heartbeatKey = (namespace: string, runRowId: number) => `${namespace}:run-alive:${runRowId}`;

async function beatFor(connection: Redis, key: string, ttlMs: number, onError: (e: Error) => void): Promise<() => Promise<void>> {
  const beat = () => connection.set(key, String(process.pid), 'PX', ttlMs).catch(onError);
  await beat();
  const timer = setInterval(() => void beat(), Math.max(100, Math.floor(ttlMs / 3)));
  return async () => {
    clearInterval(timer);
    await connection.del(key).catch(onError);
  };
}

/** One Redis connection as BullMQ wants it (blocking commands must not time out). */
const connect = (url: string) => new Redis(url, { maxRetriesPerRequest: null });

/** How long a gateway waits for Redis to take a run before the run fails (a Redis that is down must not hang runBuild). */
const QUEUE_TIMEOUT_MS = 5000;

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_r, reject) => { timer = setTimeout(() => reject(new Error(`${what}: Redis did not answer within ${ms / 1000} s`)), ms); });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/** Logs a failing connection once a minute, not once per reconnect attempt. */
function throttledWarn(logger: Logger, msg: string): (e: Error) => void {
  let last = 0;
  return (e) => {
    if (Date.now() - last < 60_000) return;
    last = Date.now();
    logger.warn({ err: e }, msg);
  };
}

/** The gateway side: queues runs, takes waiting ones back, asks agents to cancel. */
export class AgentDispatch implements RunDispatch {
  private readonly queues = new Map<string, Queue>();
  private readonly connection: Redis;
  private readonly warn: (e: Error) => void;

  /** When the connection last came up: a Redis that restarted holds no heartbeats until the agents beat again. */
  private upSince = Infinity;

  constructor(redisUrl: string, private readonly namespace: string, private readonly live: LiveHub, logger: Logger, private readonly stallMs: number) {
    this.warn = throttledWarn(logger, 'build agent queues: Redis connection failing');
    // Not BullMQ's blocking-connection settings: a gateway's calls should fail, not wait forever.
    this.connection = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
    this.connection.on('error', this.warn);
    this.connection.on('ready', () => { this.upSince = Date.now(); });
    this.connection.on('close', () => { this.upSince = Infinity; });
  }

  private queue(host: string | null): Queue {
    const name = runQueueName(host);
    let q = this.queues.get(name);
    if (!q) {
      q = new Queue(name, { connection: this.connection, prefix: this.namespace });
      q.on('error', this.warn);
      this.queues.set(name, q);
    }
    return q;
  }

  async add(runRowId: number, host: string | null): Promise<void> {
    // jobId from the run id (BullMQ refuses all-digit ids): queuing the same run twice is a no-op.
    // One attempt: a run is not retried behind the user's back. Should the add still land after
    // the timeout, the agent finds the run ended (ERROR) and skips it.
    await within(this.queue(host).add('run', { runRowId }, { jobId: `run-${runRowId}`, attempts: 1, removeOnComplete: 1000, removeOnFail: 1000 }), QUEUE_TIMEOUT_MS, 'queueing the run');
  }

  async remove(runRowId: number, host: string | null): Promise<boolean> {
    const job = await within(this.queue(host).getJob(`run-${runRowId}`), QUEUE_TIMEOUT_MS, 'finding the queued run');
    if (!job || !(await job.isWaiting() || await job.isDelayed())) return false;
    await job.remove();
    return true;
  }

  async alive(runRowIds: number[]): Promise<Array<boolean | null>> {
    if (!runRowIds.length) return [];
    const values = await within(this.connection.mget(runRowIds.map((id) => heartbeatKey(this.namespace, id))), 2000, 'reading the agents\' heartbeats');
    // Up for less than agentStallMs: a missing key may only mean the agents have not beaten since Redis came back.
    const trusted = Date.now() - this.upSince >= this.stallMs;
    return values.map((v) => (v !== null ? true : trusted ? false : null));
  }

  request(action: 'cancel' | 'removeWorkspace', runKey: string): void {
    this.live.pubSub.publish('AGENT_REQUEST', 'native', { action, runKey });
  }

  async close(): Promise<void> {
    // With Redis gone, a queue would wait for it (and for an add that timed out) for a minute.
    await within(Promise.all([...this.queues.values()].map((q) => q.close())), 2000, 'closing the run queues').catch((e: Error) => this.warn(e));
    await closeRedis(this.connection);
  }
}

export interface RunningAgent {
  /** The queues it takes runs from. */
  queues: string[];
  close(): Promise<void>;
}

/** Starts a build agent: the engine of this machine, fed by the named queues. */
export async function startAgent(config: Config, opts: { buildServerHosts: string[]; logger: Logger; pgSchema?: string }): Promise<RunningAgent> {
  const redisUrl = config.redis.url;
  if (!redisUrl) throw new Error('a build agent needs redis.url (its queues and the live channels)');
  const { logger } = opts;
  const store: Store = await openMigratedStore(config.database.url, { pgSchema: opts.pgSchema });
  const namespace = redisNamespace(config.database.url, opts.pgSchema);
  const live = new LiveHub({ settings: config.live, onError: (e) => logger.warn({ err: e }, 'live channel error') });
  await live.useRedis(redisUrl, `${namespace}:`);
  const secrets = await openSecrets(store.db, config.secrets, config.database.url).catch(async (e: unknown) => { await store.close(); throw e; });
  if (secrets.sealed) logger.info({ rows: secrets.sealed }, 'sealed stored secrets with the current secrets key');
  const engine = new Engine(store, new BuildStore(store, secrets.box), config.engine, live, logger.child({ part: 'engine' }), stepExecutors);
  await engine.reapLeftovers(); // what this host's previous agent left when it died
  const requests = live.listen('AGENT_REQUEST', 'native', (e) => {
    if (e.action === 'cancel') engine.cancelLocal(e.runKey);
    else engine.removeWorkspace(e.runKey).catch((err) => logger.warn({ err, runKey: e.runKey }, 'could not delete a removed run\'s workspace'));
  });
  await requests.ready;
  const connection = connect(redisUrl);
  const redisWarn = throttledWarn(logger, 'build agent: Redis connection failing');
  connection.on('error', redisWarn);
  // Not the queues' connection, whose commands wait for Redis forever: a beat fails instead.
  const beats = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  beats.on('error', redisWarn);
  const queues = (opts.buildServerHosts.length ? opts.buildServerHosts : ['default']).map((h) => runQueueName(h === 'default' ? null : h));
  const workers = queues.map((name) => {
    const w = new Worker(name, async (job) => {
      const runRowId = Number((job.data as { runRowId: number }).runRowId);
      // Beating before the run is claimed: a gateway never sees it RUNNING without a heartbeat.
      const stop = await beatFor(beats, heartbeatKey(namespace, runRowId), config.engine.agentStallMs, redisWarn);
      try {
        await engine.runQueued(runRowId);
      } finally {
        await stop();
      }
    }, {
      connection, prefix: namespace, concurrency: config.engine.maxConcurrentRuns,
      // A dead agent's lock runs out after agentStallMs; a live agent's stall check then hands its job out once more.
      lockDuration: config.engine.agentStallMs, stalledInterval: config.engine.agentStallMs, maxStalledCount: 1,
    });
    w.on('failed', (job, err) => logger.error({ err, runRowId: job?.data?.runRowId }, 'run failed unexpectedly on this agent'));
    w.on('error', throttledWarn(logger, `build agent: queue ${name} failing`));
    return w;
  });
  await Promise.all(workers.map((w) => w.waitUntilReady()));
  logger.info({ queues }, 'build agent ready');
  return {
    queues,
    async close() {
      // Stop taking runs, end the running ones, then let go of the connections.
      // With Redis down BullMQ would wait for it to come back: bounded, like the gateway's queues.
      const bounded = (p: Promise<unknown>, what: string) => within(p, 2000, what).catch((e: Error) => redisWarn(e));
      await bounded(Promise.all(workers.map((w) => w.pause(true))), 'pausing the run queues');
      await engine.shutdown();
      await bounded(Promise.all(workers.map((w) => w.close())), 'closing the run queues');
      requests.off();
      await live.close();
      // QUIT on a connection that is down would wait for Redis to come back.
      for (const c of [connection, beats]) {
        await closeRedis(c);
      }
      await store.close();
    },
  };
}
