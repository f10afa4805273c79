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
import { useEffect, useState, type ComponentProps } from 'react';
import { explorerPlugin } from '@graphiql/plugin-explorer';
import { createGraphiQLFetcher, type Fetcher, type FetcherOpts } from '@graphiql/toolkit';
import { createClient } from 'graphql-ws';
import { Kind, OperationTypeNode, parse, type DocumentNode } from 'graphql';

/**
 * The page's one credential (an API key or a JWT), sent by every tab over HTTP and in the
 * websocket's connectionParams. Set in the token field, or by hand in the console.
 */
const TOKEN_KEY = 'buildgate.token';
/** Where GraphiQL keeps its tabs; when present, GraphiQL ignores defaultTabs. */
const GRAPHIQL_TABS_KEY = 'graphiql:tabState';
/** GraphiQL's other per-editor keys, read beside its tabs. */
const GRAPHIQL_EDITOR_KEYS = ['graphiql:query', 'graphiql:variables'];
/** Fingerprint of the example operations the stored tabs were made from. */
const EXAMPLES_KEY = 'buildgate.examples';

/** One example operation, as embedded by src/server/playground.ts. */
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
    return localStorage.getItem(TOKEN_KEY) || null;
  } catch {
    return null; // storage disabled: act anonymously
  }
}

function storeToken(value: string): void {
  // Pasting a whole header value ("Bearer bgk_…") is a common slip; keep the token only.
  const t = value.trim().replace(/^bearer\s+/i, '');
  try {
    if (t) localStorage.setItem(TOKEN_KEY, t);
    else localStorage.removeItem(TOKEN_KEY);
  } catch {
    // storage disabled: the field cannot keep a credential
  }
}

/**
 * The Authorization a request goes out with: the tab's own header (Headers tab) wins, else
 * the page token. Read at call time, so a new token needs no reload.
 */
function authorization(headers: Headers | Record<string, unknown> | undefined): string | undefined {
  const own =
    headers instanceof Headers
      ? headers.get('authorization')
      : Object.entries(headers ?? {}).find(([k]) => k.toLowerCase() === 'authorization')?.[1];
  if (typeof own === 'string' && own) return own;
  const t = token();
  return t ? `Bearer ${t}` : undefined;
}

const authFetch: typeof fetch = (input, init) => {
  const headers = new Headers(init?.headers);
  const auth = authorization(headers);
  if (auth) headers.set('authorization', auth);
  return fetch(input, { ...init, headers });
};

const httpUrl = new URL('/graphql', location.href).toString();
const httpFetcher = createGraphiQLFetcher({ url: httpUrl, fetch: authFetch });
const wsUrl = httpUrl.replace(/^http/, 'ws'); // http→ws, https→wss

/**
 * graphql-ws authenticates a socket once, in connection_init, so a socket belongs to one
 * credential: when the credential changes, the old client (and the subscriptions it still
 * carries, which run as the old caller) is closed and a new one connects with the new one.
 */
let current: { auth: string | undefined; fetcher: Fetcher; dispose: () => void } | undefined;
function subscriptionFetcher(auth: string | undefined): Fetcher {
  if (current && current.auth === auth) return current.fetcher;
  current?.dispose();
  const wsClient = createClient({ url: wsUrl, lazy: true, connectionParams: auth ? { authorization: auth } : {} });
  current = {
    auth,
    fetcher: createGraphiQLFetcher({ url: httpUrl, wsClient, fetch: authFetch }),
    dispose: () => void wsClient.dispose(),
  };
  return current.fetcher;
}

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
  let subscription = false;
  try {
    documentAST = parse(params.query);
    const operations = documentAST.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION);
    const names = operations.map((d) => d.name?.value);
    if (!names.includes(operationName ?? undefined)) {
      // A single operation needs no name; with several, let the server ask for one.
      operationName = names.length === 1 ? (names[0] ?? null) : null;
    }
    const chosen = operations.find((d) => (d.name?.value ?? null) === (operationName ?? null));
    subscription = chosen?.operation === OperationTypeNode.SUBSCRIPTION;
  } catch {
    // Invalid text: let the server answer with its syntax error.
  }
  // Only a subscription needs the socket; queries and mutations never touch (or replace) it.
  const transport = subscription ? subscriptionFetcher(authorization(opts?.headers)) : httpFetcher;
  return transport({ ...params, operationName }, { ...opts, documentAST } as FetcherOpts);
};

type TabDefinition = NonNullable<ComponentProps<typeof GraphiQL>['defaultTabs']>[number];

const examples = readExamples();
const defaultTabs: TabDefinition[] = examples.map((e) => ({
  // GraphiQL titles tabs by operation name and has no title field; the comment names the file.
  query: `# ${e.file}\n${e.query}`,
  variables: e.variables ?? null,
}));
/** FNV-1a, 32 bits: enough to notice that the examples changed. */
function fingerprint(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(16);
}

/**
 * GraphiQL restores the tabs of the last visit and ignores defaultTabs, so a browser that saw
 * other examples (an older release, other operations) would keep them forever. When the
 * examples changed, their tabs start over (run operations stay in GraphiQL's history).
 */
(() => {
  try {
    const fp = fingerprint(JSON.stringify(examples));
    if (localStorage.getItem(EXAMPLES_KEY) === fp) return;
    for (const key of [GRAPHIQL_TABS_KEY, ...GRAPHIQL_EDITOR_KEYS]) localStorage.removeItem(key);
    localStorage.setItem(EXAMPLES_KEY, fp);
  } catch {
    // storage disabled: GraphiQL starts from defaultTabs every time anyway
  }
})();

// GraphiQL only seeds the first tab's query from defaultTabs, not its variables.
const firstVisit = (() => {
  try {
    return localStorage.getItem(GRAPHIQL_TABS_KEY) === null;
  } catch {
    return true;
  }
})();
const initialVariables = firstVisit ? (defaultTabs[0]?.variables ?? undefined) : undefined;

/**
 * The token field at the right of the tab bar: one credential for every tab and for
 * subscriptions, kept in localStorage (so a token set in the console shows here too).
 */
function TokenField() {
  const [value, setValue] = useState(() => token() ?? '');
  useEffect(() => {
    // Another window of this origin changed it.
    const onStorage = (e: StorageEvent) => {
      if (e.key === TOKEN_KEY || e.key === null) setValue(token() ?? '');
    };
    addEventListener('storage', onStorage);
    return () => removeEventListener('storage', onStorage);
  }, []);
  return (
    <label className="bg-token" title="Sent as Authorization: Bearer … by every tab and by subscriptions; a tab's own Authorization header wins">
      <span>Token</span>
      <input
        type="password"
        name="buildgate-token"
        value={value}
        placeholder="bgk_… or a JWT"
        autoComplete="off"
        spellCheck={false}
        onChange={(e) => {
          setValue(e.target.value);
          storeToken(e.target.value);
        }}
      />
    </label>
  );
}

const root = document.getElementById('graphiql');
if (!root) throw new Error('playground page has no #graphiql element');
createRoot(root).render(
  <GraphiQL
    fetcher={fetcher}
    plugins={[explorerPlugin()]}
    defaultTabs={defaultTabs.length ? defaultTabs : undefined}
    initialVariables={initialVariables}
  >
    <GraphiQL.Logo>
      <TokenField />
    </GraphiQL.Logo>
  </GraphiQL>,
);
