/**
 * A small server wired like buildgate's own (Apollo Server 5 + express 5 + graphql-ws on the
 * same /graphql path), with a tiny schema, for the playground browser test. It records the
 * credentials the playground sends so the test can check the token plumbing.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { expressMiddleware } from '@as-integrations/express5';
import { WebSocketServer } from 'ws';
import { useServer } from 'graphql-ws/use/ws';
import { GraphQLInt, GraphQLNonNull, GraphQLObjectType, GraphQLSchema, GraphQLString } from 'graphql';
import { playgroundAssets, playgroundPlugin } from '../../src/server/playground.js';

export interface PlaygroundServer {
  url: string;
  /** `authorization` header of each GraphQL POST, undefined when absent. */
  httpAuthorization: (string | undefined)[];
  /** `connectionParams.authorization` of each WebSocket connection. */
  wsAuthorization: unknown[];
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const schema = new GraphQLSchema({
  query: new GraphQLObjectType({
    name: 'Query',
    fields: { hello: { type: new GraphQLNonNull(GraphQLString), resolve: () => 'world' } },
  }),
  subscription: new GraphQLObjectType({
    name: 'Subscription',
    fields: {
      countdown: {
        type: new GraphQLNonNull(GraphQLInt),
        args: { from: { type: new GraphQLNonNull(GraphQLInt) } },
        subscribe: async function* (_src: unknown, args: { from: number }) {
          for (let n = args.from; n >= 0; n--) {
            yield { countdown: n };
            await sleep(100);
          }
        },
      },
    },
  }),
});

export async function startPlaygroundServer(operationsDir: string): Promise<PlaygroundServer> {
  const app = express();
  const httpServer: Server = createServer(app);
  const httpAuthorization: (string | undefined)[] = [];
  const wsAuthorization: unknown[] = [];

  const wss = new WebSocketServer({ server: httpServer, path: '/graphql' });
  const wsCleanup = useServer(
    {
      schema,
      onConnect: (ctx) => {
        wsAuthorization.push(ctx.connectionParams?.authorization);
      },
    },
    wss,
  );
  const apollo = new ApolloServer({
    schema,
    plugins: [
      playgroundPlugin({ title: 'buildgate test', operationsDir }),
      ApolloServerPluginDrainHttpServer({ httpServer }),
      { async serverWillStart() { return { async drainServer() { await wsCleanup.dispose(); } }; } },
    ],
  });
  await apollo.start();

  app.use('/graphiql-assets', playgroundAssets());
  app.use(
    '/graphql',
    express.json(),
    expressMiddleware(apollo, {
      context: async ({ req }) => {
        if (req.method === 'POST') httpAuthorization.push(req.headers.authorization);
        return {};
      },
    }),
  );

  await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
  const { port } = httpServer.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    httpAuthorization,
    wsAuthorization,
    close: () => apollo.stop(),
  };
}
