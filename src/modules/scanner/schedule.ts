/**
 * SECURITY_SCAN_INTERVAL as milliseconds: `off`, or `<n>ms|s|m|h|d` (the config schema has already
 * checked the shape). Clamped below so a typo like `5ms` cannot spawn npm in a tight loop, and
 * above to what setTimeout can hold (~24.8 days).
 */
export const MIN_INTERVAL_MS = 1000;
export const MAX_INTERVAL_MS = 2 ** 31 - 1;

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

export function intervalMs(setting: string): number | 'off' {
  if (setting === 'off') return 'off';
  const m = /^([1-9][0-9]*)(ms|s|m|h|d)$/.exec(setting);
  if (!m) throw new Error(`SECURITY_SCAN_INTERVAL has an invalid format: ${setting}`);
  const ms = Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
  return Math.min(MAX_INTERVAL_MS, Math.max(MIN_INTERVAL_MS, ms));
}

/**
 * The first scan comes shortly after start, not a whole interval later, jittered so replicas
 * started together by a rollout do not all reach for npm in the same second.
 */
export function firstDelayMs(interval: number, random: () => number = Math.random): number {
  const base = Math.min(interval, 30_000);
  return Math.round(base * (0.5 + 0.5 * random()));
}

/** Later scans: the interval ±10 %, for the same reason. */
export function nextDelayMs(interval: number, random: () => number = Math.random): number {
  return Math.min(MAX_INTERVAL_MS, Math.round(interval * (0.9 + 0.2 * random())));
}
