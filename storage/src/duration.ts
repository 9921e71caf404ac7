/**
 * Durations, written as Prometheus writes them: `1h30m`, `2h`, `90s`,
 * `500ms`, `0`. Units y (365 days), w, d, h, m, s and ms, each at most once
 * and the largest first, as Prometheus' `model.ParseDuration` reads them.
 * PromQL, the block commands, flags and the config file all read durations
 * through this one grammar.
 */

const DURATION_RE = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;
const UNIT_MS = [365 * 86_400_000, 7 * 86_400_000, 86_400_000, 3_600_000, 60_000, 1000, 1] as const;

/** The duration in milliseconds, or undefined when the text is not a duration. */
export function parseDuration(text: string): number | undefined {
  if (text === '0') return 0;
  if (text === '') return undefined;
  const m = DURATION_RE.exec(text);
  if (m === null) return undefined;
  let ms = 0;
  for (let i = 0; i < UNIT_MS.length; i++) {
    const part = m[i + 1];
    if (part !== undefined) ms += Number(part) * UNIT_MS[i]!;
  }
  return Number.isSafeInteger(ms) ? ms : undefined;
}

/**
 * A duration in a config file or flag: a Prometheus duration, or a plain
 * number of milliseconds (YAML numbers and environment values); undefined
 * when it is neither.
 */
export function parseDurationSetting(text: string): number | undefined {
  const t = text.trim();
  if (/^\d+(?:\.\d+)?$/.test(t)) return Math.round(Number(t));
  return parseDuration(t);
}
