/**
 * Federated subscriptions at the gateway (graphql-ws on /graphql), which @apollo/gateway plans but
 * does not execute (`../shared/notes/federated-subscriptions.md`):
 *
 * 1. The client's `connection_init` carries `{"authorization": "Bearer <JWT>"}`; the token is
 *    verified like on HTTP. Each operation is validated against the API schema and planned.
 * 2. The plan's primary fetch runs as a graphql-ws subscription against the subgraph that owns the
 *    field, with the gateway's proof of origin for that user in its `connection_init`.
 * 3. Each event is completed by executing the rest of the plan (entity fetches to other subgraphs
 *    over HTTP, as for queries), with the event standing in for the primary fetch's result.
 */
import type { Server } from 'node:http';
import { operationFromDocument, Supergraph } from '@apollo/federation-internals';
import { buildOperationContext, executeQueryPlan, type ServiceMap } from '@apollo/gateway';
import { QueryPlanner, type FetchNode, type PlanNode, type QueryPlan } from '@apollo/query-planner';
import {
  ANONYMOUS,
  PROOF_HEADER,
  type GatewayProof,
  type Identity,
  type Logger,
  type UserTokenVerifier,
} from '@marketing/platform';
import {
  GraphQLError,
  parse,
  print,
  specifiedRules,
  validate,
  type DocumentNode,
  type ExecutionResult,
  type GraphQLSchema,
} from 'graphql';
import { createClient } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import WebSocket, { WebSocketServer } from 'ws';
import type { Protection } from './protection.js';
import { SubscriptionHub } from './subscription-hub.js';

const EVENT_SOURCE = '__subscription_event__';
/** Distinct subscription documents kept prepared (the oldest goes first). */
const PREPARED_OPERATIONS_KEPT = 500;

interface PreparedOperation {
  document: DocumentNode;
  plan: QueryPlan;
  /** The document printed: part of the key that identical subscriptions share. */
  printed: string;
}

interface SubscriptionPlanNode {
  kind: 'Subscription';
  primary: FetchNode;
  rest?: PlanNode;
}

export function serveGatewaySubscriptions(options: {
  server: Server;
  supergraphSdl: string;
  urls: Record<string, string>;
  serviceMap: ServiceMap;
  proof: GatewayProof;
  verifier: UserTokenVerifier;
  logger: Logger;
  protection: Protection;
}) {
  const supergraph = Supergraph.build(options.supergraphSdl);
  const apiSchema = supergraph.apiSchema();
  const apiGraphQLSchema = apiSchema.toGraphQLJSSchema();
  const supergraphSchema = supergraph.schema.toGraphQLJSSchema();
  const planner = new QueryPlanner(supergraph);
  const identities = new WeakMap<object, Identity>();
  const hub = new SubscriptionHub();
  // Parsing, validating and planning cost milliseconds, and dashboards send the same few
  // documents (the variables differ): each document is prepared once, as the gateway's query
  // plan cache does for HTTP. Failures are not kept.
  const preparedOperations = new Map<string, PreparedOperation>();
  const prepare = (
    query: string,
    operationName?: string,
  ): PreparedOperation | readonly GraphQLError[] => {
    const cacheKey = JSON.stringify([query, operationName ?? null]);
    const cached = preparedOperations.get(cacheKey);
    if (cached) return cached;
    let document: DocumentNode;
    try {
      document = parse(query, { maxTokens: options.protection.maxTokens });
    } catch (error) {
      return [error as GraphQLError];
    }
    const errors = validate(apiGraphQLSchema, document, [
      ...specifiedRules,
      ...options.protection.validationRules,
    ]);
    if (errors.length > 0) return errors;
    const operation = operationFromDocument(apiSchema, document, { operationName });
    if (operation.rootKind !== 'subscription') {
      return [new GraphQLError('Only subscriptions are served over WebSocket; use HTTP')];
    }
    const prepared = {
      document,
      plan: planner.buildQueryPlan(operation),
      printed: print(document),
    };
    if (preparedOperations.size >= PREPARED_OPERATIONS_KEPT) {
      preparedOperations.delete(preparedOperations.keys().next().value!);
    }
    preparedOperations.set(cacheKey, prepared);
    return prepared;
  };

  const wss = new WebSocketServer({ server: options.server, path: '/graphql' });
  const cleanup = useServer(
    {
      schema: apiGraphQLSchema,
      onConnect: async (ctx) => {
        const header = ctx.connectionParams?.authorization;
        const identity = await options.verifier
          .verifyHeader(typeof header === 'string' ? header : undefined)
          .catch(() => null);
        if (!identity || identity.roles.length === 0) return false;
        identities.set(ctx, identity);
        return true;
      },
      // Validation and execution are ours: the gateway has no resolvers for Subscription.
      onSubscribe: (ctx, _id, payload) => {
        const prepared = prepare(payload.query, payload.operationName ?? undefined);
        if (!('plan' in prepared)) return prepared;
        const { document, plan, printed } = prepared;
        return {
          schema: apiGraphQLSchema,
          document,
          operationName: payload.operationName,
          variableValues: payload.variables,
          contextValue: { identity: identities.get(ctx) ?? ANONYMOUS, plan, printed },
        };
      },
      subscribe: (args) => {
        const context = args.contextValue as {
          identity: Identity;
          plan: QueryPlan;
          printed: string;
        };
        const key = JSON.stringify([
          context.printed,
          args.operationName ?? null,
          args.variableValues ?? {},
          [...context.identity.roles].sort(),
        ]);
        return hub.subscribe(key, (emit, fail) => {
          const abort = new AbortController();
          const events = federatedEvents({
            signal: abort.signal,
            plan: context.plan,
            identity: context.identity,
            document: args.document,
            operationName: args.operationName ?? undefined,
            variables: (args.variableValues ?? {}) as Record<string, unknown>,
            urls: options.urls,
            serviceMap: options.serviceMap,
            proof: options.proof,
            apiGraphQLSchema,
            supergraphSchema,
            apiSchema,
            logger: options.logger,
          });
          void (async () => {
            try {
              for await (const result of events) emit(result);
              fail(undefined);
            } catch (error) {
              fail(error);
            }
          })();
          return () => abort.abort();
        });
      },
    },
    wss,
  );
  return {
    hub,
    dispose: async () => {
      await cleanup.dispose();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

async function* federatedEvents(options: {
  /** Aborting closes the upstream subscription, which ends the stream. */
  signal: AbortSignal;
  plan: QueryPlan;
  identity: Identity;
  document: DocumentNode;
  operationName?: string;
  variables: Record<string, unknown>;
  urls: Record<string, string>;
  serviceMap: ServiceMap;
  proof: GatewayProof;
  apiGraphQLSchema: GraphQLSchema;
  supergraphSchema: GraphQLSchema;
  apiSchema: ReturnType<Supergraph['apiSchema']>;
  logger: Logger;
}): AsyncGenerator<ExecutionResult> {
  const node = options.plan.node as unknown as SubscriptionPlanNode | undefined;
  if (!node || node.kind !== 'Subscription') {
    yield { errors: [new GraphQLError('not a subscription plan')] };
    return;
  }
  const url = options.urls[node.primary.serviceName]!.replace(/^http/, 'ws');
  const proof = await options.proof.sign(options.identity);
  const client = createClient({
    url,
    webSocketImpl: WebSocket,
    connectionParams: { [PROOF_HEADER]: proof },
    lazy: true,
    retryAttempts: 0,
  });
  options.signal.addEventListener('abort', () => void client.dispose(), { once: true });
  const upstream = client.iterate({
    query: node.primary.operation,
    variables: pick(options.variables, node.primary.variableUsages ?? []),
  });
  const operationContext = buildOperationContext({
    schema: options.apiGraphQLSchema,
    operationDocument: options.document,
    operationName: options.operationName,
  });
  try {
    for await (const event of upstream) {
      if (event.errors?.length && !event.data) {
        yield {
          errors: event.errors.map(
            (e) => new GraphQLError(e.message, { extensions: e.extensions }),
          ),
        };
        continue;
      }
      const primary: FetchNode = { ...node.primary, serviceName: EVENT_SOURCE };
      const plan: QueryPlan = {
        kind: 'QueryPlan',
        node: node.rest ? { kind: 'Sequence', nodes: [primary, node.rest] } : primary,
      };
      const serviceMap: ServiceMap = {
        ...options.serviceMap,
        [EVENT_SOURCE]: { process: async () => ({ data: event.data ?? null }) } as never,
      };
      const requestContext = {
        request: { query: '', variables: options.variables, operationName: options.operationName },
        context: { identity: options.identity },
        metrics: {},
        logger: undefined,
        cache: undefined,
        overallCachePolicy: undefined,
      } as never;
      const result = await executeQueryPlan(
        plan,
        serviceMap,
        requestContext,
        operationContext,
        options.supergraphSchema,
        options.apiSchema,
      );
      yield result as ExecutionResult;
    }
  } finally {
    await client.dispose();
  }
}

function pick(variables: Record<string, unknown>, names: string[]) {
  return Object.fromEntries(names.filter((n) => n in variables).map((n) => [n, variables[n]]));
}
