/**
 * Conflict resolution for identify traits: each trait keeps the value of the message with the
 * highest source version (event time, then messageId). The merge is commutative, associative and
 * idempotent, so duplicates and any arrival order give the same profile.
 */
import type { IngestedMessage } from './segment-message.js';

export interface TraitState {
  traits: Record<string, unknown>;
  traitVersions: Record<string, string>;
}

/** ISO timestamps of the same shape sort as strings; the messageId breaks ties. */
export function messageVersion(m: Pick<IngestedMessage, 'timestamp' | 'messageId'>): string {
  return `${m.timestamp}|${m.messageId}`;
}

export function mergeTraits(
  state: TraitState,
  traits: Record<string, unknown>,
  version: string,
): TraitState {
  const next: TraitState = {
    traits: { ...state.traits },
    traitVersions: { ...state.traitVersions },
  };
  for (const [key, value] of Object.entries(traits)) {
    const current = Object.hasOwn(next.traitVersions, key) ? next.traitVersions[key] : undefined;
    if (current === undefined || version > current) {
      Object.defineProperty(next.traits, key, {
        value,
        enumerable: true,
        writable: true,
        configurable: true,
      });
      Object.defineProperty(next.traitVersions, key, {
        value: version,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
  }
  return next;
}

export interface ProfileColumns {
  email: string | null;
  firstName: string | null;
  lastName: string | null;
  country: string | null;
  timezone: string | null;
}

/** The profile columns segments filter on, derived from the merged traits. */
export function profileColumns(traits: Record<string, unknown>): ProfileColumns {
  const text = (...keys: string[]) => {
    for (const key of keys) {
      const value = traits[key];
      if (typeof value === 'string' && value.trim() !== '') return value.trim();
    }
    return null;
  };
  const timezone = text('timezone', 'time_zone');
  return {
    email: text('email')?.toLowerCase() ?? null,
    firstName: text('firstName', 'first_name'),
    lastName: text('lastName', 'last_name'),
    country: text('country')?.toUpperCase() ?? null,
    timezone: timezone && isTimeZone(timezone) ? timezone : null,
  };
}

function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

export function laterOf(a: string | null, b: string | null): string | null {
  if (a === null) return b;
  if (b === null) return a;
  return a > b ? a : b;
}
