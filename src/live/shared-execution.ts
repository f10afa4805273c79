import { createSourceEventStream, execute, print, type DocumentNode, type ExecutionArgs, type ExecutionResult } from 'graphql';

/**
 * graphql-ws `subscribe` that executes each event once per distinct operation instead of
 * once per subscriber. When several subscribers receive the *same* event object (a live
 * log batch is one object shared by everyone following the run), and ask the same
 * operation with the same variables under the same principal, they get one shared result;
 * only its serialisation on each socket stays per subscriber. Events that are not shared
 * objects simply miss the cache and execute as usual.
 */
const docKeys = new WeakMap<DocumentNode, string>();
const results = new WeakMap<object, Map<string, Promise<ExecutionResult> | ExecutionResult>>();

function operationKey(args: ExecutionArgs, principalKey: (ctx: unknown) => string): string {
  let doc = docKeys.get(args.document);
  if (doc === undefined) {
    doc = print(args.document);
    docKeys.set(args.document, doc);
  }
  return `${doc}\u0000${args.operationName ?? ''}\u0000${JSON.stringify(args.variableValues ?? {})}\u0000${principalKey(args.contextValue)}`;
}

function isAsyncIterable(v: unknown): v is AsyncIterable<unknown> {
  return typeof (v as AsyncIterable<unknown>)?.[Symbol.asyncIterator] === 'function';
}

export function sharedSubscribe(principalKey: (ctx: unknown) => string) {
  return async (args: ExecutionArgs): Promise<AsyncGenerator<ExecutionResult> | ExecutionResult> => {
    const source = await createSourceEventStream(args);
    if (!isAsyncIterable(source)) return source as ExecutionResult;
    const key = operationKey(args, principalKey);
    const iterator = source[Symbol.asyncIterator]();
    const run = (payload: unknown) => {
      if (payload === null || typeof payload !== 'object') return execute({ ...args, rootValue: payload });
      let perEvent = results.get(payload);
      if (!perEvent) {
        perEvent = new Map();
        results.set(payload, perEvent);
      }
      let r = perEvent.get(key);
      if (!r) {
        r = execute({ ...args, rootValue: payload });
        perEvent.set(key, r);
      }
      return r;
    };
    async function* mapped(): AsyncGenerator<ExecutionResult> {
      try {
        for (;;) {
          const n = await iterator.next();
          if (n.done) return;
          yield await run(n.value);
        }
      } finally {
        await iterator.return?.();
      }
    }
    return mapped();
  };
}
