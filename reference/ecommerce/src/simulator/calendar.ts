/**
 * Time in the shop simulator: the timezones shoppers live in (with their daylight-saving rules, so
 * no ICU data is involved), when in their local day people shop, and how busy a given day is
 * (weekend peaks and a ramp toward the end of the simulated period).
 */
import { type Random, WeightedTable } from './random.js';

export const MINUTE_MS = 60_000;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;

type DaylightSavingRule = 'eu' | 'us';

interface Zone {
  standardOffsetMinutes: number;
  daylightSaving: DaylightSavingRule;
}

const ZONES: Readonly<Record<string, Zone>> = {
  'Europe/London': { standardOffsetMinutes: 0, daylightSaving: 'eu' },
  'Europe/Dublin': { standardOffsetMinutes: 0, daylightSaving: 'eu' },
  'Europe/Berlin': { standardOffsetMinutes: 60, daylightSaving: 'eu' },
  'Europe/Vienna': { standardOffsetMinutes: 60, daylightSaving: 'eu' },
  'Europe/Paris': { standardOffsetMinutes: 60, daylightSaving: 'eu' },
  'Europe/Brussels': { standardOffsetMinutes: 60, daylightSaving: 'eu' },
  'Europe/Amsterdam': { standardOffsetMinutes: 60, daylightSaving: 'eu' },
  'Europe/Madrid': { standardOffsetMinutes: 60, daylightSaving: 'eu' },
  'Europe/Rome': { standardOffsetMinutes: 60, daylightSaving: 'eu' },
  'Europe/Warsaw': { standardOffsetMinutes: 60, daylightSaving: 'eu' },
  'Europe/Stockholm': { standardOffsetMinutes: 60, daylightSaving: 'eu' },
  'America/New_York': { standardOffsetMinutes: -300, daylightSaving: 'us' },
  'America/Chicago': { standardOffsetMinutes: -360, daylightSaving: 'us' },
  'America/Denver': { standardOffsetMinutes: -420, daylightSaving: 'us' },
  'America/Los_Angeles': { standardOffsetMinutes: -480, daylightSaving: 'us' },
};

/** Minutes to add to UTC to get local wall-clock time in `timezone` at `atMs`. */
export function utcOffsetMinutes(timezone: string, atMs: number): number {
  const zone = ZONES[timezone];
  if (!zone) throw new RangeError(`The simulator has no rules for timezone ${timezone}`);
  return zone.standardOffsetMinutes + (inDaylightSaving(zone, atMs) ? 60 : 0);
}

function inDaylightSaving(zone: Zone, atMs: number): boolean {
  const year = new Date(atMs).getUTCFullYear();
  if (zone.daylightSaving === 'eu') {
    // The EU switches everywhere at once, at 01:00 UTC on the last Sundays of March and October.
    return atMs >= lastSundayUtc(year, 2) + HOUR_MS && atMs < lastSundayUtc(year, 9) + HOUR_MS;
  }
  // The US switches at 02:00 local wall-clock time, which is 01:00 standard time in November.
  const standardMs = zone.standardOffsetMinutes * MINUTE_MS;
  const begins = nthSundayUtc(year, 2, 2) + 2 * HOUR_MS - standardMs;
  const ends = nthSundayUtc(year, 10, 1) + HOUR_MS - standardMs;
  return atMs >= begins && atMs < ends;
}

function nthSundayUtc(year: number, month: number, n: number): number {
  const firstWeekday = new Date(Date.UTC(year, month, 1)).getUTCDay();
  return Date.UTC(year, month, 1 + ((7 - firstWeekday) % 7) + 7 * (n - 1));
}

function lastSundayUtc(year: number, month: number): number {
  const lastDay = Date.UTC(year, month + 1, 0);
  return lastDay - new Date(lastDay).getUTCDay() * DAY_MS;
}

// Relative shopping activity per local hour: quiet nights, a lunch bump and an evening peak.
const HOUR_WEIGHTS = [
  0.6, 0.3, 0.15, 0.1, 0.1, 0.2, 0.5, 1.1, 1.6, 1.8, 1.9, 2.1, 2.6, 2.4, 2.0, 1.9, 2.0, 2.4, 3.0,
  3.6, 3.9, 3.5, 2.5, 1.3,
];
const HOURS = new WeightedTable(
  HOUR_WEIGHTS.map((_, hour) => hour),
  HOUR_WEIGHTS,
);

/**
 * An instant within the 24 hours from `dayStartMs` whose local time of day in `timezone` follows
 * the shopping-hours curve. Wrapping into that window, rather than using the exact local date,
 * lets every day's activity be generated and flushed as one batch.
 */
export function shoppingTimeOnDay(rng: Random, dayStartMs: number, timezone: string): number {
  const localMs = HOURS.sample(rng) * HOUR_MS + Math.floor(rng() * HOUR_MS);
  const offsetMs = utcOffsetMinutes(timezone, dayStartMs + DAY_MS / 2) * MINUTE_MS;
  return dayStartMs + modulo(localMs - offsetMs - dayStartMs, DAY_MS);
}

function modulo(value: number, divisor: number): number {
  return ((value % divisor) + divisor) % divisor;
}

// Sunday first, as Date#getUTCDay counts.
const WEEKDAY_FACTORS = [1.3, 0.9, 0.88, 0.92, 0.97, 1.03, 1.2];

/** How busy a simulated day is relative to an average one (the mean over a period is about 1). */
export function activityFactor(dayStartMs: number, dayIndex: number, days: number): number {
  const weekday = new Date(dayStartMs + DAY_MS / 2).getUTCDay();
  const progress = (dayIndex + 0.5) / days;
  return WEEKDAY_FACTORS[weekday] * (0.8 + 0.6 * progress * progress);
}
