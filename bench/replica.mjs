// A second gateway replica for bench/fanout.mjs --via-redis, in its own process: same store
// (DATABASE_URL) and Redis (REDIS_URL) as the gateway running the build; subscribers connect here.
import { startBenchGateway } from './gateway.mjs';

const g = await startBenchGateway('replica', { databaseUrl: process.env.DATABASE_URL, redisUrl: process.env.REDIS_URL });
process.on('message', (m) => {
  if (m === 'stats') process.send({ stats: g.server.services.live.feeds.stats(), rss: process.memoryUsage().rss });
  if (m === 'close') g.close().then(() => process.exit(0));
});
process.send({ url: g.server.url });
