import type { ProviderFactory } from '../factory.js';
import { clientForInstance } from '../upstream/client.js';
import { ZadigApi } from './api.js';
import { parseZadigOptions } from './options.js';
import { ZadigProvider } from './provider.js';
import { classifyZadigError, describeZadigError } from './wire.js';

export { ZadigProvider } from './provider.js';
export { zadigOptionsSchema } from './options.js';
export { zadigBuildRequest, zadigTemplateBuildRequest, type ZadigBuildRequest, type ZadigTemplateBuildRequest } from './requests.js';

/** The Zadig OpenAPI routes this adapter calls (metric labels and span names). */
const ZADIG_ROUTES = [
  '/openapi/build', '/openapi/build/:name/detail', '/openapi/build/:name/template',
  '/openapi/workflows/custom/:workflowKey/tasks', '/openapi/workflows/custom/task',
  '/openapi/logs/log/v4/workflow/:workflowKey/:taskId/:jobName',
];

/** ZADIG provider instance: options validated (errors name the key), token sent as `Authorization: Bearer`. */
export const createZadigProvider: ProviderFactory = (instance, deps) => {
  const opts = parseZadigOptions(instance.id, instance.options);
  const client = clientForInstance(instance, deps, { headers: { authorization: `Bearer ${opts.token}` }, secrets: [opts.token], describeError: describeZadigError, classifyError: classifyZadigError, routes: ZADIG_ROUTES });
  const api = new ZadigApi(client, { token: opts.token, timeoutMs: instance.timeoutMs, sseTailLines: opts.sseTailLines, sseIdleMs: opts.sseIdleMs });
  return new ZadigProvider(instance.id, client.baseUrl, client, api, opts);
};
