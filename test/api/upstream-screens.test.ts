import { describe, expect, it } from '@jest/globals';
import { measureScreenCalls, type ScreenRow } from '../../bench/upstream-calls.js';

/**
 * Upstream calls of each screen (BuildsList `first: 20`, BuildDetail, RunPage of
 * schema/operations/) per provider, against the fake upstreams over HTTP through a real
 * gateway: cold, then again within the cache TTL. The expected figures are the minimum each
 * upstream API allows for the screen (bench/README.md, "Upstream calls per screen", says
 * why); a call more — an N+1 coming back, a read repeated within a request — fails here.
 */
const EXPECTED: Record<string, Record<ScreenRow['screen'], string[]>> = {
  // The demo Cocktail has 2 builds: the list (with stats) + the runs of each; the build; runs; images.
  'cocktail-demo': {
    BuildsList: ['GET /v1/build', 'GET /v1/build/1/runs', 'GET /v1/build/2/runs'],
    BuildDetail: ['GET /v1/build/1', 'GET /v1/build/1/images?order=DESC&orderColumn=END_TIME', 'GET /v1/build/1/runs'],
    RunPage: ['GET /v1/build/1', 'GET /v1/build/1/runs', 'GET /v1/build/run/log/3'],
  },
  // 2 configured repositories: each repository + its latest build; the build screen reads the
  // newest builds once for the runs page and for linking tags to runs.
  'quay-demo': {
    BuildsList: ['GET /api/v1/repository/demo/api', 'GET /api/v1/repository/demo/api/build/?limit=1', 'GET /api/v1/repository/demo/web', 'GET /api/v1/repository/demo/web/build/?limit=1'],
    // + the phase log of each finished run of the page (its end time; the demo repository has one).
    BuildDetail: ['GET /api/v1/repository/demo/api', 'GET /api/v1/repository/demo/api/build/<uuid>/logs?start=0', 'GET /api/v1/repository/demo/api/build/?limit=100', 'GET /api/v1/repository/demo/api/tag/?limit=100&onlyActiveTags=true&page=1'],
    RunPage: ['GET /api/v1/repository/demo/api', 'GET /api/v1/repository/demo/api/build/<uuid>', 'GET /api/v1/repository/demo/api/build/<uuid>/logs?start=0'],
  },
  // The run page reads its (finished) task once: the log read uses the one the request holds.
  'zadig-demo': {
    BuildsList: ['GET /openapi/build?pageNum=1&pageSize=100&projectKey=demo', 'GET /openapi/workflows/custom/build-demo/tasks?pageNum=1&pageSize=50&projectKey=demo', 'GET /openapi/workflows/custom/task?taskId=1&workflowKey=build-demo'],
    BuildDetail: ['GET /openapi/build/api-build/detail?projectKey=demo&serviceModule=api&serviceName=api', 'GET /openapi/build?pageNum=1&pageSize=100&projectKey=demo', 'GET /openapi/workflows/custom/build-demo/tasks?pageNum=1&pageSize=50&projectKey=demo', 'GET /openapi/workflows/custom/task?taskId=1&workflowKey=build-demo'],
    RunPage: ['GET /openapi/build/api-build/detail?projectKey=demo&serviceModule=api&serviceName=api', 'GET /openapi/build?pageNum=1&pageSize=100&projectKey=demo', 'GET /openapi/logs/log/v4/workflow/build-demo/1/build', 'GET /openapi/logs/log/v4/workflow/build-demo/1/deploy-api', 'GET /openapi/workflows/custom/task?taskId=1&workflowKey=build-demo'],
  },
  'codearts-demo': {
    BuildsList: ['GET /v3/<project>/jobs?page_index=0&page_size=100', 'GET /v3/jobs/<job>/history?interval=30&limit=1&offset=0', 'GET /v3/jobs/<job>/history?interval=30&limit=1&offset=0', 'GET /v3/jobs/<job>/history?interval=30&limit=1&offset=0'],
    BuildDetail: ['GET /v3/<project>/jobs?page_index=0&page_size=100', 'GET /v3/jobs/<job>/history?interval=30&limit=10&offset=0'],
    RunPage: ['GET /v3/<project>/jobs?page_index=0&page_size=100', 'GET /v3/jobs/<job>/2/history-details', 'GET /v3/jobs/<job>/2/real-time-log?length=1000000&offset=0', 'GET /v4/jobs/<job>/2/record-info'],
  },
};

/** Ids that differ per run (Quay build UUIDs) or are long constants (CodeArts project and job ids) as placeholders; sorted: order is concurrency's. */
const shape = (requests: string[]) => requests.map((r) => r
  .replace(/\/build\/[0-9a-f-]{36}/, '/build/<uuid>')
  .replace(/\/v3\/[0-9a-f]{32}\/jobs/, '/v3/<project>/jobs')
  .replace(/\/jobs\/[0-9a-f]{32}\//, '/jobs/<job>/')).sort();

describe('upstream calls per screen, per provider, against the fakes', () => {
  it('each screen makes the calls its upstream requires, cold; none again within the cache TTL', async () => {
    const rows = await measureScreenCalls();
    expect(rows).toHaveLength(12);
    for (const r of rows) {
      expect([r.provider, r.screen, r.otherErrors]).toEqual([r.provider, r.screen, []]);
      expect([r.provider, r.screen, shape(r.coldRequests)]).toEqual([r.provider, r.screen, [...EXPECTED[r.provider]![r.screen]].sort()]);
      expect([r.provider, r.screen, r.warmRequests]).toEqual([r.provider, r.screen, []]);
    }
  }, 240_000);
});
