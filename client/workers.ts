/**
 * Monaco worker wiring. Must be imported before anything that loads monaco.
 *
 * graphiql's own `setup-workers/*` helpers are unusable offline with esbuild (one loads from
 * a CDN, the others rely on vite/webpack worker imports), so the build emits the three
 * workers as entries of their own next to main.js and we point Monaco at them here.
 */
type WorkerLabel = 'json' | 'graphql' | string;

// Resolved against this module's URL, i.e. the asset prefix the server mounts (/graphiql-assets/).
const base = new URL('./', import.meta.url);

function workerFile(label: WorkerLabel): string {
  if (label === 'json') return 'json.worker.js';
  if (label === 'graphql') return 'graphql.worker.js';
  return 'editor.worker.js';
}

(globalThis as unknown as { MonacoEnvironment: object }).MonacoEnvironment = {
  getWorker(_workerId: string, label: WorkerLabel): Worker {
    // Module workers: the bundles are ESM (Chrome 80+, Firefox 114+, Safari 15+).
    return new Worker(new URL(workerFile(label), base), { type: 'module', name: label });
  },
};
