import { readdir } from 'node:fs/promises';
import path from 'node:path';
import type { GroupSpec } from './rule-file.js';
import { loadRuleFiles } from './rule-file.js';

/**
 * Where the role finds its rule files: globs for one tenant (`--rules
 * 'rules/*.yml'`), and a folder per tenant (`--rules-dir`, each subfolder
 * named for its tenant, holding `*.yml` and `*.yaml`).
 */

/** The files a glob names, sorted. Wildcards (`*`, `?`, `[...]`) may appear in the last path segment. */
export async function expandGlob(pattern: string): Promise<string[]> {
  const dir = path.dirname(pattern);
  const base = path.basename(pattern);
  if (!/[*?[]/.test(base)) return [pattern];
  const re = new RegExp(
    `^${base
      .replace(/[.+^${}()|\\]/g, '\\$&')
      .replace(/\*/g, '[^/]*')
      .replace(/\?/g, '[^/]')}$`,
  );
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  return names
    .filter((n) => re.test(n))
    .sort()
    .map((n) => path.join(dir, n));
}

/** Options naming the rule files of each tenant. */
export interface RuleFileSources {
  /** Comma-separated globs of `tenant`'s files. */
  globs?: string;
  tenant: string;
  /** A folder per tenant. */
  dir?: string;
}

/** Reads every tenant's rule files; throws a `RULE_FILE` error naming every problem. */
export async function loadTenantRules(sources: RuleFileSources): Promise<Map<string, GroupSpec[]>> {
  const files = new Map<string, string[]>();
  const add = (tenant: string, list: string[]) => files.set(tenant, [...(files.get(tenant) ?? []), ...list]);
  for (const g of (sources.globs ?? '').split(',').map((s) => s.trim())) {
    if (g !== '') add(sources.tenant, await expandGlob(g));
  }
  if (sources.dir !== undefined && sources.dir !== '') {
    const entries = await readdir(sources.dir, { withFileTypes: true });
    for (const e of entries.filter((x) => x.isDirectory()).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const folder = path.join(sources.dir, e.name);
      const names = (await readdir(folder)).filter((n) => n.endsWith('.yml') || n.endsWith('.yaml')).sort();
      add(
        e.name,
        names.map((n) => path.join(folder, n)),
      );
    }
  }
  const out = new Map<string, GroupSpec[]>();
  for (const [tenant, list] of files) out.set(tenant, await loadRuleFiles(list));
  return out;
}
