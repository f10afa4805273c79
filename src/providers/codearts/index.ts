import type { ProviderFactory } from '../factory.js';
import { clientForInstance } from '../upstream/client.js';
import { CodeArtsApi } from './api.js';
import { CodeArtsLogReader } from './logs.js';
import { parseCodeArtsOptions } from './options.js';
import { CodeArtsProvider } from './provider.js';
import { classifyCodeArtsError, describeCodeArtsError } from './wire.js';

export { CodeArtsProvider } from './provider.js';
export { codeArtsOptionsSchema } from './options.js';

/** The CodeArts Build API routes this adapter calls (metric labels and span names). */
const CODEARTS_ROUTES = [
  '/v3/:projectId/jobs', '/v3/jobs/build', '/v3/jobs/:jobId/status', '/v3/jobs/:jobId/:buildNo/stop', '/v3/jobs/:jobId/history',
  '/v3/jobs/:jobId/:buildNo/history-details', '/v3/jobs/:jobId/:buildNo/real-time-log', '/v4/jobs/:jobId/:buildNo/record-info',
];

/** CODEARTS provider instance: options validated (errors name the key), token sent as `X-Auth-Token`. */
export const createCodeArtsProvider: ProviderFactory = (instance, deps) => {
  const opts = parseCodeArtsOptions(instance.id, instance.options);
  const client = clientForInstance(instance, deps, { headers: { 'x-auth-token': opts.token }, secrets: [opts.token], describeError: describeCodeArtsError, classifyError: classifyCodeArtsError, routes: CODEARTS_ROUTES });
  const api = new CodeArtsApi(client, opts.projectId);
  return new CodeArtsProvider(instance.id, client.baseUrl, client, api, new CodeArtsLogReader(api, opts.logChunkLength), opts);
};
