/** Request-scoped DataLoaders of the segments subgraph: one SQL statement per batch. */
import { byKeyLoader } from '@marketing/platform';
import type { EntityManager } from '@mikro-orm/postgresql';
import DataLoader from 'dataloader';
import { CustomerProfile } from './profile/profile.entity.js';
import { Segment, SegmentMembership } from './segment/segment.entity.js';

export function createLoaders(em: EntityManager) {
  return {
    profile: byKeyLoader(em, CustomerProfile, 'customerId'),
    segment: byKeyLoader(em, Segment, 'id', { deletedAt: null }),
    segmentsByCustomer: new DataLoader<string, Segment[]>(async (customerIds) => {
      const memberships = await em.find(
        SegmentMembership,
        { customerId: { $in: [...customerIds] }, exitedAt: null, segment: { deletedAt: null } },
        { populate: ['segment'], orderBy: { segment: { name: 'asc' } } },
      );
      const byCustomer = new Map<string, Segment[]>(customerIds.map((id) => [id, []]));
      for (const m of memberships) byCustomer.get(m.customerId)?.push(m.segment);
      return customerIds.map((id) => byCustomer.get(id) ?? []);
    }),
    memberCount: new DataLoader<string, number>(async (segmentIds) => {
      const rows = await em
        .getConnection()
        .execute<{ segment_id: string; n: string }[]>(
          'select segment_id, count(*) as n from segments.segment_membership where segment_id in (select jsonb_array_elements_text(?::jsonb)::uuid) and exited_at is null group by segment_id',
          [JSON.stringify(segmentIds)],
        );
      const counts = new Map(rows.map((r) => [r.segment_id, Number(r.n)]));
      return segmentIds.map((id) => counts.get(id) ?? 0);
    }),
  };
}

export type SegmentsLoaders = ReturnType<typeof createLoaders>;
