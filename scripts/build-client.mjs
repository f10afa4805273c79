#!/usr/bin/env node
/**
 * Builds the offline GraphiQL playground (client/) into dist/graphiql/.
 * Two esbuild builds in parallel: the page bundle (main.js + main.css + fonts) and the three
 * Monaco workers as entries of their own (client/workers.ts points Monaco at them); the GraphQL
 * one is client/graphql.worker.ts, monaco-graphql's worker with the variables schema corrected.
 * Exits non-zero if either build fails.
 */
import { build } from 'esbuild';
import { readdirSync, rmSync, statSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = join(root, 'dist', 'graphiql');

const common = {
  absWorkingDir: root,
  bundle: true,
  minify: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  outdir,
  logLevel: 'warning',
  define: { 'process.env.NODE_ENV': '"production"' },
};

const started = performance.now();
// Stale files (e.g. an old codicon-[hash].ttf) would otherwise be served forever.
rmSync(outdir, { recursive: true, force: true });
try {
  await Promise.all([
    build({
      ...common,
      entryPoints: { main: 'client/main.tsx' },
      jsx: 'automatic',
      loader: { '.ttf': 'file', '.woff': 'file', '.woff2': 'file', '.svg': 'file' },
    }),
    build({
      ...common,
      entryPoints: {
        'editor.worker': 'monaco-editor/esm/vs/editor/editor.worker.js',
        'json.worker': 'monaco-editor/esm/vs/language/json/json.worker.js',
        'graphql.worker': 'client/graphql.worker.ts',
      },
    }),
  ]);
} catch (err) {
  // esbuild has already printed the located errors; keep the summary short.
  console.error(`build-client: failed: ${err instanceof Error ? err.message.split('\n')[0].replace(/:$/, '') : err}`);
  process.exit(1);
}

const kb = (n) => `${(n / 1024).toFixed(0).padStart(6)} KB`;
let raw = 0;
let gz = 0;
for (const name of readdirSync(outdir).sort()) {
  const path = join(outdir, name);
  const size = statSync(path).size;
  const gzSize = gzipSync(readFileSync(path)).length;
  raw += size;
  gz += gzSize;
  console.log(`  ${name.padEnd(28)} ${kb(size)}  (gzip ${kb(gzSize)})`);
}
const secs = ((performance.now() - started) / 1000).toFixed(1);
console.log(`build-client: dist/graphiql/ ${kb(raw).trim()} (gzip ${kb(gz).trim()}) in ${secs} s`);
