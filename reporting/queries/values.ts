/**
 * Stored values as the report model holds them: ISO timestamps, and numbers or intervals read from
 * jsonb metrics, null rather than NaN or a malformed value.
 */
export const iso = (d: Date | string | null) => (d === null ? null : new Date(d).toISOString());
export const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
export const ratio = (a: number, b: number) => (b > 0 ? a / b : null);
export const interval = (v: unknown) =>
  Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === 'number') ? (v as [number, number]) : null;
