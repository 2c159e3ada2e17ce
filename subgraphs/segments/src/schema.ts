/** The segments subgraph's federated schema. */
import { buildFederatedSchema } from '@marketing/platform';
import type { SegmentsContext } from './context.js';
import { ErasureResolver } from './erasure/erasure.resolver.js';
import { CustomerResolver } from './profile/customer.resolver.js';
import { SegmentPreviewResolver, SegmentResolver } from './segment/segment.resolver.js';

export function buildSegmentsSchema() {
  return buildFederatedSchema({
    resolvers: [CustomerResolver, SegmentResolver, SegmentPreviewResolver, ErasureResolver],
    referenceResolvers: {
      // Every customer id is a valid reference here: marketing data may exist before e-commerce's.
      Customer: { __resolveReference: (ref: { id: string }) => ({ id: ref.id }) },
      Segment: {
        __resolveReference: (ref: { id: string }, ctx: SegmentsContext) =>
          ctx.loaders.segment.load(ref.id),
      },
    },
  });
}
