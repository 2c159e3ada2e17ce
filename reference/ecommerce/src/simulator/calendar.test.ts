/**
 * The simulator's hand-written daylight-saving rules, checked against the ICU timezone data that
 * Intl carries, so shoppers' local shopping hours are right on both sides of each clock change.
 */
import { DAY_MS, HOUR_MS, shoppingTimeOnDay, utcOffsetMinutes } from './calendar.js';
import { createRandom } from './random.js';

const TIMEZONES = [
  'Europe/London',
  'Europe/Dublin',
  'Europe/Berlin',
  'Europe/Vienna',
  'Europe/Paris',
  'Europe/Brussels',
  'Europe/Amsterdam',
  'Europe/Madrid',
  'Europe/Rome',
  'Europe/Warsaw',
  'America/New_York',
  'America/Chicago',
  'America/Denver',
  'America/Los_Angeles',
];

// Building a formatter is the slow part, so keep one per timezone.
const formatters = new Map<string, Intl.DateTimeFormat>();

function intlOffsetMinutes(timeZone: string, atMs: number): number {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
    });
    formatters.set(timeZone, formatter);
  }
  const parts = formatter.formatToParts(new Date(atMs));
  const part = (type: string) => Number(parts.find((p) => p.type === type)!.value);
  const wallClock = Date.UTC(
    part('year'),
    part('month') - 1,
    part('day'),
    part('hour'),
    part('minute'),
  );
  return Math.round((wallClock - atMs) / 60_000);
}

/** Noon every day, and every hour of the months in which clocks change. */
function instantsToCheck(): number[] {
  const instants: number[] = [];
  for (let day = Date.UTC(2025, 0, 1, 12); day < Date.UTC(2028, 0, 1); day += DAY_MS) {
    instants.push(day);
  }
  for (const year of [2025, 2026, 2027]) {
    for (const month of [2, 9, 10]) {
      for (let at = Date.UTC(year, month, 1); at < Date.UTC(year, month + 1, 1); at += HOUR_MS) {
        instants.push(at);
      }
    }
  }
  return instants;
}

describe('utcOffsetMinutes', () => {
  it('agrees with the IANA database around every clock change of 2025-2027', () => {
    const mismatches: string[] = [];
    for (const timezone of TIMEZONES) {
      for (const at of instantsToCheck()) {
        if (utcOffsetMinutes(timezone, at) !== intlOffsetMinutes(timezone, at)) {
          mismatches.push(`${timezone} ${new Date(at).toISOString()}`);
        }
      }
    }
    expect(mismatches).toEqual([]);
  });

  it('refuses a timezone it has no rules for', () => {
    expect(() => utcOffsetMinutes('Asia/Tokyo', 0)).toThrow(RangeError);
  });
});

describe('shoppingTimeOnDay', () => {
  it('stays within the day it was asked for, even when the day starts off midnight', () => {
    const rng = createRandom(3);
    const dayStart = Date.UTC(2026, 2, 29, 7, 30);
    for (let i = 0; i < 2000; i++) {
      const at = shoppingTimeOnDay(rng, dayStart, 'America/Los_Angeles');
      expect(at).toBeGreaterThanOrEqual(dayStart);
      expect(at).toBeLessThan(dayStart + DAY_MS);
    }
  });
});
