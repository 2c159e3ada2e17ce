/**
 * Which supergraph the gateway serves. By default the committed, statically composed
 * `schema/supergraph.graphql` (no introspection of our subgraphs in production). With
 * ECOMMERCE_SUBGRAPH_URL set, the real e-commerce graph's SDL is fetched once and composed with the
 * committed SDLs of the four marketing subgraphs; composition errors stop the start.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { composeServices } from '@apollo/composition';
import { parse } from 'graphql';

export const MARKETING_SUBGRAPHS = ['campaigns', 'segments', 'email', 'analytics'] as const;

export async function loadSupergraph(options: {
  schemaDir: string;
  ecommerceUrl?: string;
  ecommerceHeaders?: Record<string, string>;
}): Promise<string> {
  if (!options.ecommerceUrl) return readFile(join(options.schemaDir, 'supergraph.graphql'), 'utf8');
  const ecommerceSdl = await fetchSubgraphSdl(options.ecommerceUrl, options.ecommerceHeaders ?? {});
  const marketing = await Promise.all(
    MARKETING_SUBGRAPHS.map(async (name) => ({
      name,
      url: `http://${name}`,
      typeDefs: parse(await readFile(join(options.schemaDir, `${name}.graphql`), 'utf8')),
    })),
  );
  return composeSupergraph([
    ...marketing,
    { name: 'ecommerce', url: options.ecommerceUrl, typeDefs: parse(ecommerceSdl) },
  ]);
}

export function composeSupergraph(services: Parameters<typeof composeServices>[0]): string {
  const result = composeServices(services);
  if (result.errors) {
    throw new Error(
      `Supergraph composition failed:\n${result.errors.map((e) => `  - ${e.message}`).join('\n')}`,
    );
  }
  return result.supergraphSdl;
}

async function fetchSubgraphSdl(url: string, headers: Record<string, string>): Promise<string> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query: '{ _service { sdl } }' }),
  });
  if (!response.ok)
    throw new Error(`Could not fetch the e-commerce SDL from ${url}: HTTP ${response.status}`);
  const body = (await response.json()) as { data?: { _service?: { sdl?: string } } };
  const sdl = body.data?._service?.sdl;
  if (!sdl)
    throw new Error(`${url} did not answer { _service { sdl } }: is it a federation subgraph?`);
  return sdl;
}
