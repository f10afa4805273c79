/**
 * The GraphiQL playground served at GET /graphql. Bundled offline by scripts/build-client.mjs:
 * nothing here may load from a CDN.
 */
import './workers.js';
import 'graphiql/style.css';
import '@graphiql/plugin-explorer/style.css';
import './page.css';
import { createRoot } from 'react-dom/client';
import { GraphiQL } from 'graphiql';
import type { ComponentProps } from 'react';
import { explorerPlugin } from '@graphiql/plugin-explorer';
import { createGraphiQLFetcher, type Fetcher, type FetcherOpts } from '@graphiql/toolkit';
import { createClient } from 'graphql-ws';
import { Kind, parse, type DocumentNode } from 'graphql';

/** Set by hand (or by later auth work) to call the API as someone. */
const TOKEN_KEY = 'buildgate.token';
/** Where GraphiQL keeps its tabs; when present, GraphiQL ignores defaultTabs. */
const GRAPHIQL_TABS_KEY = 'graphiql:tabState';

/** One example operation file, as embedded by src/server/playground.ts. */
interface ExampleOperation {
  file: string;
  query: string;
  variables?: string;
}

function readExamples(): ExampleOperation[] {
  const text = document.getElementById('bg-operations')?.textContent;
  if (!text) return [];
  try {
    const parsed: unknown = JSON.parse(text);
    return Array.isArray(parsed) ? (parsed as ExampleOperation[]) : [];
  } catch {
    return [];
  }
}

function token(): string | null {
  try {
    return localStorage.getItem(TOKEN_KEY);
  } catch {
    return null; // storage disabled: act anonymously
  }
}

/** Adds the bearer token at call time, so setting it needs no reload; an explicit header wins. */
const authFetch: typeof fetch = (input, init) => {
  const headers = new Headers(init?.headers);
  const t = token();
  if (t && !headers.has('authorization')) headers.set('authorization', `Bearer ${t}`);
  return fetch(input, { ...init, headers });
};

const httpUrl = new URL('/graphql', location.href).toString();
const wsClient = createClient({
  url: httpUrl.replace(/^http/, 'ws'), // http→ws, https→wss
  lazy: true,
  // Evaluated on every (re)connect, like authFetch.
  connectionParams: () => {
    const t = token();
    return t ? { authorization: `Bearer ${t}` } : {};
  },
});
const toolkitFetcher = createGraphiQLFetcher({ url: httpUrl, wsClient, fetch: authFetch });

/**
 * GraphiQL refreshes `documentAST` and `operationName` from the editor with a 100 ms debounce,
 * so a Run right after typing (or pasting) sends stale facts: the toolkit picks WebSocket only
 * when `documentAST` holds a subscription (it would POST a fresh subscription), and a stale
 * `operationName` makes the server reject the document. Re-parsing the text actually sent
 * keeps transport, operation name and query in step.
 */
const fetcher: Fetcher = (params, opts) => {
  let documentAST: DocumentNode | undefined = opts?.documentAST;
  let operationName = params.operationName;
  try {
    documentAST = parse(params.query);
    const names = documentAST.definitions.flatMap((d) =>
      d.kind === Kind.OPERATION_DEFINITION ? [d.name?.value] : [],
    );
    if (!names.includes(operationName ?? undefined)) {
      // A single operation needs no name; with several, let the server ask for one.
      operationName = names.length === 1 ? (names[0] ?? null) : null;
    }
  } catch {
    // Invalid text: let the server answer with its syntax error.
  }
  return toolkitFetcher({ ...params, operationName }, { ...opts, documentAST } as FetcherOpts);
};

type TabDefinition = NonNullable<ComponentProps<typeof GraphiQL>['defaultTabs']>[number];

const examples = readExamples();
const defaultTabs: TabDefinition[] = examples.map((e) => ({
  // GraphiQL titles tabs by operation name and has no title field; the comment names the file.
  query: `# ${e.file}\n${e.query}`,
  variables: e.variables ?? null,
}));
// GraphiQL only seeds the first tab's query from defaultTabs, not its variables.
const firstVisit = (() => {
  try {
    return localStorage.getItem(GRAPHIQL_TABS_KEY) === null;
  } catch {
    return true;
  }
})();
const initialVariables = firstVisit ? (defaultTabs[0]?.variables ?? undefined) : undefined;

const root = document.getElementById('graphiql');
if (!root) throw new Error('playground page has no #graphiql element');
createRoot(root).render(
  <GraphiQL
    fetcher={fetcher}
    plugins={[explorerPlugin()]}
    defaultTabs={defaultTabs.length ? defaultTabs : undefined}
    initialVariables={initialVariables}
  />,
);
