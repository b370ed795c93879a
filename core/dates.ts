/** A UTC calendar day as a whole number of days since 1970-01-01. */
export type DayNumber = number;

const MS_PER_DAY = 86_400_000;

/** The UTC day of a `YYYY-MM-DD` date (already checked by the schema). */
export function dayOf(date: string): DayNumber {
  return Math.floor(Date.parse(`${date}T00:00:00Z`) / MS_PER_DAY);
}

/** The UTC day an instant falls on. */
export function dayOfInstant(instant: Date): DayNumber {
  return Math.floor(instant.getTime() / MS_PER_DAY);
}

/** `YYYY-MM-DD` of a day number. */
export function formatDay(day: DayNumber): string {
  return new Date(day * MS_PER_DAY).toISOString().slice(0, 10);
}

/**
 * "Now" from a `MANDATE_NOW`-style value (ISO date or date-time), or undefined
 * when the text is not a date; callers decide what to do with a bad value.
 */
export function parseNow(text: string): Date | undefined {
  const trimmed = text.trim();
  if (!/^\d{4}-\d{2}-\d{2}(?:[T ][\d:.]+(?:Z|[+-]\d{2}:?\d{2})?)?$/.test(trimmed)) return undefined;
  const instant = new Date(/^\d{4}-\d{2}-\d{2}$/.test(trimmed) ? `${trimmed}T00:00:00Z` : trimmed);
  if (Number.isNaN(instant.getTime())) return undefined;
  // Date rolls 2026-02-30 over to March; a calendar date must survive the round trip.
  const [year, month, day] = trimmed.slice(0, 10).split('-').map(Number);
  const calendar = new Date(Date.UTC(year!, month! - 1, day!));
  const real = calendar.getUTCFullYear() === year && calendar.getUTCMonth() === month! - 1 && calendar.getUTCDate() === day;
  return real ? instant : undefined;
}
