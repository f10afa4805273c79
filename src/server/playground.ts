/**
 * The GraphiQL playground at GET /graphql: an Apollo landing page that loads the offline
 * bundle built by `npm run build:client` (scripts/build-client.mjs → dist/graphiql/).
 *
 * Mount order (the WebSocket upgrade on /graphql never reaches express):
 *   app.use('/graphiql-assets', playgroundAssets());
 *   app.use('/graphql', express.json(), expressMiddleware(apollo));  // apollo has playgroundPlugin(...)
 *
 * Apollo answers a browser GET (content negotiation prefers text/html) with the landing page
 * before its CSRF check, and a plugin landing page replaces Apollo's default one, which would
 * load Apollo Sandbox from a CDN.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import compression from 'compression';
import express, { type RequestHandler } from 'express';
import type { ApolloServerPlugin } from '@apollo/server';
import { packageRoot } from './package-root.js';

export interface PlaygroundOptions {
  /** Page title. Default `buildgate`. */
  title?: string;
  /**
   * Folder of example operations (`*.graphql`), each file offered as a ready-made tab, in file
   * name order, the first one active. A sibling `name.variables.json` gives that tab's variables.
   * Read once at server start.
   */
  operationsDir: string;
}

/** One example operation as embedded in the page (client/main.tsx reads the same shape). */
export interface ExampleOperation {
  file: string;
  query: string;
  variables?: string;
}

/** URL prefix the assets are mounted at; the page refers to it. */
export const PLAYGROUND_ASSETS_PATH = '/graphiql-assets';

const BUILD_HINT = 'The GraphiQL bundle is not built: run `npm run build:client`.';

/** dist/graphiql of the package, found the same way from src/ (ts-jest) and dist/src/ (tsc). */
export function playgroundAssetsDir(): string {
  return join(packageRoot(), 'dist', 'graphiql');
}

function bundleBuilt(dir: string): boolean {
  return existsSync(join(dir, 'main.js')) && existsSync(join(dir, 'main.css'));
}

/** Reads the example operations; a broken variables file fails server start with its name. */
export async function loadExampleOperations(operationsDir: string): Promise<ExampleOperation[]> {
  let names: string[];
  try {
    names = await readdir(operationsDir);
  } catch (err) {
    throw new Error(`playground: cannot read operations folder ${operationsDir}: ${(err as Error).message}`);
  }
  const files = names.filter((n) => n.endsWith('.graphql')).sort();
  return Promise.all(
    files.map(async (file): Promise<ExampleOperation> => {
      const query = (await readFile(join(operationsDir, file), 'utf8')).trimEnd() + '\n';
      const varsFile = file.replace(/\.graphql$/, '.variables.json');
      if (!names.includes(varsFile)) return { file, query };
      const text = await readFile(join(operationsDir, varsFile), 'utf8');
      try {
        // Re-serialised so the variables editor shows valid, consistently indented JSON.
        return { file, query, variables: JSON.stringify(JSON.parse(text), null, 2) };
      } catch (err) {
        throw new Error(`playground: ${varsFile} is not valid JSON: ${(err as Error).message}`);
      }
    }),
  );
}

/** JSON that cannot end the surrounding <script> element nor open an HTML comment in it. */
function scriptSafeJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The page; no inline script or style, so a strict Content-Security-Policy can apply. */
export function playgroundHtml(title: string, operations: ExampleOperation[], built: boolean): string {
  const body = built
    ? `<div id="graphiql">Loading GraphiQL…</div>
<script type="application/json" id="bg-operations">${scriptSafeJson(operations)}</script>
<script type="module" src="${PLAYGROUND_ASSETS_PATH}/main.js"></script>`
    : `<p>${escapeHtml(BUILD_HINT)}</p>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<link rel="stylesheet" href="${PLAYGROUND_ASSETS_PATH}/main.css">
</head>
<body>
${body}
</body>
</html>
`;
}

/** Apollo Server plugin serving the playground as the landing page of GET /graphql. */
export function playgroundPlugin(opts: PlaygroundOptions): ApolloServerPlugin {
  const title = opts.title ?? 'buildgate';
  const assetsDir = playgroundAssetsDir();
  return {
    async serverWillStart() {
      const operations = await loadExampleOperations(opts.operationsDir);
      return {
        async renderLandingPage() {
          // Built per request: the bundle may be built while the server runs.
          return { html: async () => playgroundHtml(title, operations, bundleBuilt(assetsDir)) };
        },
      };
    },
  };
}

/**
 * Serves dist/graphiql/ (mount at PLAYGROUND_ASSETS_PATH). Names are not content-hashed, so
 * caching is ETag revalidation, not `immutable`. Responses are compressed (main.js is ~5 MB raw).
 * `dir` is for tests; the server uses the package's dist/graphiql.
 */
export function playgroundAssets(dir: string = playgroundAssetsDir()): RequestHandler {
  const router = express.Router();
  router.use((_req, res, next) => {
    if (bundleBuilt(dir)) return next();
    res.status(503).type('text/plain').send(`${BUILD_HINT}\n`);
  });
  router.use(compression());
  router.use(express.static(dir, { index: false, immutable: false }));
  return router;
}
