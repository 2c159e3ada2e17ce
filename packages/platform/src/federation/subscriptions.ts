/**
 * A subgraph's subscriptions over graphql-ws on its /graphql path. Like its HTTP endpoint it
 * answers only the gateway: `connection_init` must carry the gateway's proof of origin
 * (`{"x-gateway-proof": "<token>"}`) naming a user with a role, else the socket is closed (4403).
 */
import type { Server } from 'node:http';
import type { GraphQLSchema } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import { PROOF_HEADER, type GatewayProof } from '../auth/gateway-proof.js';
import type { Identity } from '../auth/identity.js';
import { formatError } from '../errors.js';
import type { Logger } from '../logger.js';

export function serveSubscriptions(options: {
  server: Server;
  schema: GraphQLSchema;
  proof: GatewayProof;
  logger: Logger;
  context: (viewer: Identity) => unknown;
}) {
  const wss = new WebSocketServer({ server: options.server, path: '/graphql' });
  const viewers = new WeakMap<object, Identity>();
  const cleanup = useServer(
    {
      schema: options.schema,
      onConnect: async (ctx) => {
        const token = ctx.connectionParams?.[PROOF_HEADER];
        const viewer = await options.proof.verify(typeof token === 'string' ? token : undefined);
        if (!viewer || viewer.roles.length === 0) return false;
        viewers.set(ctx, viewer);
        return true;
      },
      context: (ctx) => options.context(viewers.get(ctx)!),
      onError: (_ctx, _id, _payload, errors) => {
        return errors.map((e) =>
          formatError(e, e, (err) => options.logger.error({ err }, 'subscription error')),
        ) as never;
      },
    },
    wss,
  );
  return {
    dispose: async () => {
      await cleanup.dispose();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
