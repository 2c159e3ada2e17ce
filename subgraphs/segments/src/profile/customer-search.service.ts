/**
 * Search over the synced profiles: exact customer id, email prefix, or first/last name prefix,
 * with keyset pagination by customer id.
 */
import { findPage } from '@marketing/platform';
import type { FilterQuery } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { SegmentsLoaders } from '../loaders.js';
import { CustomerConnection } from '../segment/segment.types.js';
import { CustomerProfile } from './profile.entity.js';

export class CustomerSearchService {
  constructor(
    private readonly em: EntityManager,
    private readonly loaders: SegmentsLoaders,
  ) {}

  async search(
    query: string | null | undefined,
    first: number | null | undefined,
    after?: string | null,
  ) {
    const where = searchFilter(query);
    const page = await findPage(this.em, CustomerProfile, where, 'customerId', { first, after });
    for (const { node } of page.edges) this.loaders.profile.prime(node.customerId, node);
    const connection = new CustomerConnection(() => this.em.count(CustomerProfile, where));
    connection.pageInfo = page.pageInfo;
    connection.edges = page.edges.map(({ cursor: c, node }) => ({
      cursor: c,
      node: { id: node.customerId },
    }));
    return connection;
  }
}

function searchFilter(query: string | null | undefined): FilterQuery<CustomerProfile> {
  const q = query?.trim();
  if (!q) return {};
  const prefix = `${escapeLike(q)}%`;
  return {
    $or: [
      { customerId: q },
      { email: { $like: escapeLike(q.toLowerCase()) + '%' } },
      { firstName: { $ilike: prefix } },
      { lastName: { $ilike: prefix } },
    ],
  };
}

function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (c) => `\\${c}`);
}
