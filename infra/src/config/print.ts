import { stringify } from 'yaml';
import type { PromstreamConfig } from './config.js';
import { SETTINGS, shownValue } from './schema.js';

/** What `config print` shows for a secret that is set. */
export const REDACTED = '<redacted>';

/** A copy of a config with every secret that is set replaced by `<redacted>`. */
export function redacted(config: PromstreamConfig): Record<string, unknown> {
  const copy = structuredClone(config) as unknown as Record<string, unknown>;
  for (const s of SETTINGS) {
    if (s.secret !== true) continue;
    const parts = s.key.split('.');
    const parent = parts
      .slice(0, -1)
      .reduce<Record<string, unknown> | undefined>(
        (node, part) => node?.[part] as Record<string, unknown> | undefined,
        copy,
      );
    const leaf = parts.at(-1)!;
    if (parent !== undefined && parent[leaf] !== undefined) parent[leaf] = REDACTED;
  }
  return copy;
}

/** A copy with durations and sizes written as people write them (`2h`, `256MiB`). */
function readable(config: Record<string, unknown>): Record<string, unknown> {
  for (const s of SETTINGS) {
    if (s.kind !== 'duration' && s.kind !== 'bytes') continue;
    const parts = s.key.split('.');
    const parent = parts
      .slice(0, -1)
      .reduce<Record<string, unknown>>((node, part) => node[part] as Record<string, unknown>, config);
    const leaf = parts.at(-1)!;
    if (typeof parent[leaf] === 'number') parent[leaf] = shownValue(s, parent[leaf]);
  }
  return config;
}

/**
 * The effective configuration as YAML that `--config` reads back (secrets
 * aside): every setting, unset optional ones as comments, durations and
 * sizes with their units.
 */
export function printConfig(config: PromstreamConfig): string {
  const shown = readable(redacted(config));
  const unset = SETTINGS.filter((s) => {
    const v = s.key
      .split('.')
      .reduce<unknown>((node, part) => (node as Record<string, unknown> | undefined)?.[part], shown);
    return v === undefined;
  }).map((s) => `# ${s.key}: unset`);
  return `${stringify(shown, { lineWidth: 0 }).trimEnd()}\n${unset.length > 0 ? `${unset.join('\n')}\n` : ''}`;
}
