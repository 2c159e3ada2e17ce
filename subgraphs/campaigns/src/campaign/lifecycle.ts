/**
 * The campaign lifecycle as an explicit state machine. Every change of status goes through
 * `transition`, which refuses anything the table does not allow with a CONFLICT naming the current
 * state.
 */
import { ConflictError } from '@marketing/platform';
import { CampaignStatus } from './campaign.entity.js';

export type CampaignAction =
  'schedule' | 'unschedule' | 'launch' | 'pause' | 'resume' | 'complete' | 'archive';

const { DRAFT, SCHEDULED, RUNNING, PAUSED, COMPLETED, ARCHIVED } = CampaignStatus;

export const TRANSITIONS: Record<CampaignAction, { from: CampaignStatus[]; to: CampaignStatus }> = {
  schedule: { from: [DRAFT, SCHEDULED], to: SCHEDULED },
  /** A scheduled launch that could not happen (e.g. the audience was empty) goes back to DRAFT. */
  unschedule: { from: [SCHEDULED], to: DRAFT },
  launch: { from: [DRAFT, SCHEDULED], to: RUNNING },
  pause: { from: [RUNNING], to: PAUSED },
  resume: { from: [PAUSED], to: RUNNING },
  complete: { from: [RUNNING], to: COMPLETED },
  archive: { from: [DRAFT, SCHEDULED, PAUSED, COMPLETED], to: ARCHIVED },
};

/** The status after `action`, or a CONFLICT error naming the current status. */
export function transition(current: CampaignStatus, action: CampaignAction): CampaignStatus {
  const rule = TRANSITIONS[action];
  if (!rule.from.includes(current)) {
    throw new ConflictError(
      `cannot ${action} a campaign that is ${current}; ${action} applies to ${rule.from.join(' or ')}`,
      { status: current, action },
    );
  }
  return rule.to;
}

/** Only a campaign that has not started may change. */
export function assertEditable(current: CampaignStatus): void {
  if (current !== DRAFT && current !== SCHEDULED) {
    throw new ConflictError(
      `cannot change a campaign that is ${current}; only DRAFT or SCHEDULED`,
      {
        status: current,
      },
    );
  }
}
