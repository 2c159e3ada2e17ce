/**
 * Composition: prints each subgraph's SDL and composes the supergraph the gateway serves.
 * The printed files are committed; a test fails when they are stale.
 */
import { printSubgraphSchema } from '@apollo/subgraph';
import { composeSupergraph } from '@marketing/gateway';
import { parse } from 'graphql';
import { SUBGRAPHS } from './services.js';

export interface Composition {
  subgraphs: Record<string, string>;
  supergraph: string;
}

/** URLs in the committed supergraph are the docker-compose service names; the gateway remaps them. */
export async function composeAll(): Promise<Composition> {
  const subgraphs: Record<string, string> = {};
  for (const entry of SUBGRAPHS) {
    subgraphs[entry.name] = printSubgraphSchema(await entry.definition.buildSchema()) + '\n';
  }
  const supergraph = composeSupergraph(
    SUBGRAPHS.map((entry) => ({
      name: entry.name,
      url: `http://${entry.name}:${entry.port}/graphql`,
      typeDefs: parse(subgraphs[entry.name]),
    })),
  );
  return { subgraphs, supergraph: supergraph + '\n' };
}
