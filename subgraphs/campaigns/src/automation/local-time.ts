/**
 * Local time in a customer's timezone (IANA names, DST-aware through Intl): the minute of the day,
 * the next instant a local time of day occurs, and quiet hours.
 */

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

export function isTimeZone(name: string): boolean {
  try {
    formatter(name);
    return true;
  } catch {
    return false;
  }
}

/** The wall-clock fields of `at` in `timeZone`. */
function wallClock(at: Date, timeZone: string) {
  const parts = Object.fromEntries(
    formatter(timeZone)
      .formatToParts(at)
      .map((p) => [p.type, p.value]),
  );
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour),
    minute: Number(parts.minute),
    second: Number(parts.second),
  };
}

/** Milliseconds to add to UTC to get local wall-clock time at `at`. */
function offsetMs(at: Date, timeZone: string): number {
  const w = wallClock(at, timeZone);
  const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
  return asUtc - Math.floor(at.getTime() / 1_000) * 1_000;
}

export function minuteOfDay(at: Date, timeZone: string): number {
  const w = wallClock(at, timeZone);
  return w.hour * 60 + w.minute;
}

/** The instant a local wall-clock time occurs (a time skipped by DST moves forward by the gap). */
function instantOf(
  year: number,
  month: number,
  day: number,
  minutes: number,
  timeZone: string,
): Date {
  const local = Date.UTC(year, month - 1, day, Math.floor(minutes / 60), minutes % 60);
  let guess = new Date(local - offsetMs(new Date(local), timeZone));
  guess = new Date(local - offsetMs(guess, timeZone));
  return guess;
}

/** The first instant after `now` at which the local time of day in `timeZone` is `minutes`. */
export function nextLocalTime(now: Date, minutes: number, timeZone: string): Date {
  const w = wallClock(now, timeZone);
  for (let add = 0; add <= 2; add++) {
    const day = new Date(Date.UTC(w.year, w.month - 1, w.day + add));
    const at = instantOf(
      day.getUTCFullYear(),
      day.getUTCMonth() + 1,
      day.getUTCDate(),
      minutes,
      timeZone,
    );
    if (at.getTime() > now.getTime()) return at;
  }
  throw new Error(`no next local time for ${minutes} in ${timeZone}`);
}

export interface QuietHours {
  /** Minutes after local midnight; a window may wrap midnight (21:00-08:00). */
  start: number;
  end: number;
}

export function parseQuietHours(text: string): QuietHours | null {
  if (text.trim() === '') return null;
  const match = /^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$/.exec(text.trim());
  if (!match) throw new Error(`QUIET_HOURS must look like "21:00-08:00", not "${text}"`);
  const start = Number(match[1]) * 60 + Number(match[2]);
  const end = Number(match[3]) * 60 + Number(match[4]);
  if (start === end) throw new Error('QUIET_HOURS start and end must differ');
  return { start, end };
}

/** When quiet hours are on at `now` in `timeZone`, the instant they end; else null. */
export function quietUntil(now: Date, quiet: QuietHours, timeZone: string): Date | null {
  const m = minuteOfDay(now, timeZone);
  const inside =
    quiet.start < quiet.end ? m >= quiet.start && m < quiet.end : m >= quiet.start || m < quiet.end;
  return inside ? nextLocalTime(now, quiet.end, timeZone) : null;
}
