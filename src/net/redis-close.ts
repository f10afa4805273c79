import type { Redis } from 'ioredis';

/**
 * Ends an ioredis connection whatever its state, leaving nothing behind that keeps the
 * process alive. Up: QUIT (pending replies are answered). Down (connecting, reconnecting):
 * disconnect(), as QUIT would wait for Redis to come back. Already ended: nothing.
 * ioredis's disconnect() arms a 2 s timer to destroy the socket that only the socket's
 * 'close' event clears; a socket already closed (Redis went away) never emits it again, so
 * that timer would hold the process open for 2 s after shutdown (a test worker "failed to
 * exit gracefully"). For such a socket the timer is made to fire at once (destroying a
 * destroyed socket is a no-op).
 */
export async function closeRedis(c: Redis): Promise<void> {
  if (c.status === 'end') return;
  if (c.status === 'ready') {
    await c.quit().catch(() => undefined);
    return;
  }
  const connector = (c as unknown as { connector?: { stream?: { destroyed?: boolean }; disconnectTimeout?: number } }).connector;
  if (connector && (!connector.stream || connector.stream.destroyed)) connector.disconnectTimeout = 0;
  c.disconnect();
}
