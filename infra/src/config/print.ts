import { stringify } from 'yaml';
import type { PromstreamConfig } from './config.js';
import { SETTINGS } from './schema.js';

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

/**
 * The effective configuration as YAML that `--config` reads back (secrets
 * aside): every setting, unset optional ones as comments, durations in ms.
 */
export function printConfig(config: PromstreamConfig): string {
  const shown = redacted(config);
  const unset = SETTINGS.filter((s) => {
    const v = s.key
      .split('.')
      .reduce<unknown>((node, part) => (node as Record<string, unknown> | undefined)?.[part], shown);
    return v === undefined;
  }).map((s) => `# ${s.key}: unset`);
  return `${stringify(shown, { lineWidth: 0 }).trimEnd()}\n${unset.length > 0 ? `${unset.join('\n')}\n` : ''}`;
}
