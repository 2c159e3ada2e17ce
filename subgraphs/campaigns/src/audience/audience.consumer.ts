/**
 * Keeps the audience and template projections in step with `marketing.segments` and
 * `marketing.templates`. Both are idempotent and order-independent: a membership change applies
 * only when newer than the one kept, a template version only when higher.
 */
import {
  parseEvent,
  queryWithParams,
  SEGMENT_EVENTS_SUBJECT,
  segmentMembershipEventSchema,
  TEMPLATE_EVENTS_SUBJECT,
  templateSavedSchema,
  type ConsumerDeps,
  reportDeadLetter,
} from '@marketing/platform';

export const AUDIENCE_CONSUMER = 'campaigns.segments';
export const TEMPLATES_CONSUMER = 'campaigns.templates';

export async function startAudienceConsumers(deps: ConsumerDeps) {
  const segments = await deps.bus.consume<unknown>({
    name: AUDIENCE_CONSUMER,
    subjects: [SEGMENT_EVENTS_SUBJECT],
    batchSize: 1_000,
    backoffMs: deps.backoffMs,
    onDeadLetter: reportDeadLetter(AUDIENCE_CONSUMER, deps),
    handle: async (batch) => {
      const events = batch.map((d) => parseEvent(segmentMembershipEventSchema, d.data, d.id));
      await queryWithParams(
        deps.orm.em.fork(),
        `insert into campaigns.segment_member (segment_id, customer_id, member, changed_at)
         select distinct on (segment_id, customer_id) segment_id, customer_id, member, changed_at
         from jsonb_to_recordset($1::jsonb) as r(segment_id uuid, customer_id text, member boolean, changed_at timestamptz)
         order by segment_id, customer_id, changed_at desc, member
         on conflict (segment_id, customer_id) do update set member = excluded.member, changed_at = excluded.changed_at
         where excluded.changed_at > segment_member.changed_at
            or (excluded.changed_at = segment_member.changed_at and not excluded.member)`,
        [
          JSON.stringify(
            events.map((e) => ({
              segment_id: e.segmentId,
              customer_id: e.customerId,
              member: e.type === 'segment.entered',
              changed_at: e.occurredAt,
            })),
          ),
        ],
      );
      deps.metrics?.messages.inc({ stage: AUDIENCE_CONSUMER, result: 'applied' }, events.length);
    },
  });
  const templates = await deps.bus.consume<unknown>({
    name: TEMPLATES_CONSUMER,
    subjects: [TEMPLATE_EVENTS_SUBJECT],
    batchSize: 500,
    backoffMs: deps.backoffMs,
    onDeadLetter: reportDeadLetter(TEMPLATES_CONSUMER, deps),
    handle: async (batch) => {
      const events = batch.map((d) => parseEvent(templateSavedSchema, d.data, d.id));
      await queryWithParams(
        deps.orm.em.fork(),
        `insert into campaigns.template_version (template_id, version, name)
         select distinct on (template_id) template_id, version, name
         from jsonb_to_recordset($1::jsonb) as r(template_id uuid, version int, name text)
         order by template_id, version desc
         on conflict (template_id) do update set version = excluded.version, name = excluded.name
         where excluded.version > template_version.version`,
        [
          JSON.stringify(
            events.map((e) => ({ template_id: e.templateId, version: e.version, name: e.name })),
          ),
        ],
      );
    },
  });
  return async () => {
    await segments.stop();
    await templates.stop();
  };
}
