/**
 * How the gateway calls a subgraph: keep-alive pooled HTTP (undici), the verified identity signed
 * into the proof-of-origin header on every request.
 */
import { RemoteGraphQLDataSource } from '@apollo/gateway';
import { ANONYMOUS, type GatewayProof, PROOF_HEADER, type Identity } from '@marketing/platform';
import { type Agent, fetch as undiciFetch } from 'undici';

export interface GatewayContext {
  identity: Identity;
}

export function createPooledFetcher(agent: Agent) {
  return ((input: string, init?: Record<string, unknown>) =>
    undiciFetch(input, {
      ...init,
      dispatcher: agent,
    } as never)) as unknown as RemoteGraphQLDataSource['fetcher'];
}

export class SubgraphDataSource extends RemoteGraphQLDataSource<GatewayContext> {
  constructor(url: string, proof: GatewayProof, fetcher: RemoteGraphQLDataSource['fetcher']) {
    super({
      url,
      fetcher,
      willSendRequest: async ({ request, context }) => {
        const identity = (context as Partial<GatewayContext>).identity ?? ANONYMOUS;
        request.http?.headers.set(PROOF_HEADER, await proof.sign(identity));
      },
    });
  }
}
