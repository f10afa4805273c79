import type { ProviderFactory } from '../factory.js';
import { UpstreamClient } from '../upstream/client.js';
import { CodeArtsApi } from './api.js';
import { CodeArtsLogReader } from './logs.js';
import { parseCodeArtsOptions } from './options.js';
import { CodeArtsProvider } from './provider.js';
import { describeCodeArtsError } from './wire.js';

export { CodeArtsProvider } from './provider.js';
export { codeArtsOptionsSchema } from './options.js';

/** CODEARTS provider instance: options validated (errors name the key), token sent as `X-Auth-Token`. */
export const createCodeArtsProvider: ProviderFactory = (instance, deps) => {
  const opts = parseCodeArtsOptions(instance.id, instance.options);
  const client = new UpstreamClient({
    providerId: instance.id,
    baseUrl: instance.baseUrl,
    headers: { 'x-auth-token': opts.token },
    secrets: [opts.token],
    timeoutMs: instance.timeoutMs,
    retries: instance.retries,
    cacheTtlMs: instance.cacheTtlMs,
    cache: deps.cache,
    logger: deps.logger,
    describeError: describeCodeArtsError,
  });
  const api = new CodeArtsApi(client, opts.projectId);
  return new CodeArtsProvider(instance.id, client.baseUrl, client, api, new CodeArtsLogReader(api, opts.logChunkLength), opts);
};
