/**
 * Builds an Apollo Federation 2 subgraph schema from type-graphql resolvers: type-graphql produces
 * the types and resolvers, @apollo/subgraph adds `_entities`/`_service`, and reference resolvers
 * (`__resolveReference`) are merged in. Every subgraph uses the same federation imports.
 */
import { buildSubgraphSchema, type GraphQLResolverMap } from '@apollo/subgraph';
import { printSchemaWithDirectives } from '@graphql-tools/utils';
import type { GraphQLSchema } from 'graphql';
import { GraphQLDateTime } from 'graphql-scalars';
import { gql } from 'graphql-tag';
import { buildSchema, createResolversMap, type BuildSchemaOptions } from 'type-graphql';

const FEDERATION_LINK = `extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key", "@shareable", "@external", "@requires", "@provides", "@inaccessible", "@tag"])`;

export type ReferenceResolvers = Record<
  string,
  { __resolveReference: (...args: any[]) => unknown }
>;

export interface SubgraphSchemaOptions {
  resolvers: BuildSchemaOptions['resolvers'];
  orphanedTypes?: BuildSchemaOptions['orphanedTypes'];
  referenceResolvers?: ReferenceResolvers;
  authChecker?: BuildSchemaOptions['authChecker'];
}

export async function buildFederatedSchema(options: SubgraphSchemaOptions): Promise<GraphQLSchema> {
  const schema = await buildSchema({
    resolvers: options.resolvers,
    orphanedTypes: options.orphanedTypes,
    authChecker: options.authChecker,
    scalarsMap: [{ type: Date, scalar: GraphQLDateTime }],
    validate: { forbidUnknownValues: false },
    skipCheck: true,
    // Subscriptions bring their own `subscribe` (an async iterable); none uses type-graphql topics.
    pubSub: {
      publish: () => {
        throw new Error('subscriptions here use `subscribe`, not pubSub topics');
      },
      subscribe: () => {
        throw new Error('subscriptions here use `subscribe`, not pubSub topics');
      },
    },
  });
  const resolvers = createResolversMap(schema) as GraphQLResolverMap<unknown>;
  for (const [typeName, refs] of Object.entries(options.referenceResolvers ?? {})) {
    resolvers[typeName] = { ...(resolvers[typeName] as object), ...refs } as never;
  }
  return buildSubgraphSchema([
    {
      typeDefs: gql`
        ${FEDERATION_LINK}
        ${printSchemaWithDirectives(schema)}
      `,
      resolvers,
    },
  ]);
}
