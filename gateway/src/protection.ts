/**
 * What the gateway refuses before planning anything, for HTTP and WebSocket alike: too deep, too
 * many aliases, directives or tokens, too costly (graphql-armor); and too many mutations from one
 * identity (RATE_LIMITED). Field suggestions in errors are hidden in production.
 */
import type { ApolloServerPlugin } from '@apollo/server';
import { ApolloArmor } from '@escape.tech/graphql-armor';
import type { Identity } from '@marketing/platform';
import { GraphQLError, type ValidationRule } from 'graphql';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import type { GatewayContext } from './data-source.js';

export const QUERY_LIMITS = {
  depth: 12,
  aliases: 15,
  directives: 10,
  tokens: 3_000,
  cost: 10_000,
} as const;

export interface Protection {
  plugins: ApolloServerPlugin<GatewayContext>[];
  validationRules: ValidationRule[];
  maxTokens: number;
  /** Throws RATE_LIMITED when `identity` has made too many mutations. */
  checkMutation(identity: Identity): Promise<void>;
}

export function createProtection(options: {
  production: boolean;
  mutationsPerMinute: number;
}): Protection {
  const armor = new ApolloArmor({
    maxDepth: { n: QUERY_LIMITS.depth, ignoreIntrospection: true, flattenFragments: true },
    maxAliases: { n: QUERY_LIMITS.aliases },
    maxDirectives: { n: QUERY_LIMITS.directives },
    maxTokens: { n: QUERY_LIMITS.tokens },
    costLimit: { maxCost: QUERY_LIMITS.cost },
    blockFieldSuggestion: { enabled: options.production },
  }).protect();
  const limiter = new RateLimiterMemory({ points: options.mutationsPerMinute, duration: 60 });
  const checkMutation = async (identity: Identity) => {
    try {
      await limiter.consume(identity.sub);
    } catch (rejection) {
      const ms = (rejection as { msBeforeNext?: number }).msBeforeNext ?? 60_000;
      throw new GraphQLError(`Too many changes; try again in ${Math.ceil(ms / 1_000)} s`, {
        extensions: { code: 'RATE_LIMITED', retryAfterSeconds: Math.ceil(ms / 1_000) },
      });
    }
  };
  const rateLimit: ApolloServerPlugin<GatewayContext> = {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation, contextValue }) {
          if (operation?.operation === 'mutation') await checkMutation(contextValue.identity);
        },
      };
    },
  };
  return {
    plugins: [...(armor.plugins as ApolloServerPlugin<GatewayContext>[]), rateLimit],
    validationRules: armor.validationRules,
    maxTokens: QUERY_LIMITS.tokens,
    checkMutation,
  };
}
