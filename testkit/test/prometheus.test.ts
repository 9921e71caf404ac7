import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { prometheusCacheBin, prometheusReference } from '../src/index.js';

// Stand-in binaries that only answer --version: enough to show which
// Prometheus the helper accepts as the reference and which it refuses.
const root = mkdtempSync(path.join(tmpdir(), 'testkit-prometheus-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function fakeBin(name: string, version: string): string {
  const dir = path.join(root, name);
  mkdirSync(dir, { recursive: true });
  for (const tool of ['prometheus', 'promtool']) {
    const file = path.join(dir, tool);
    writeFileSync(file, `#!/bin/sh\necho "${tool}, version ${version} (branch: HEAD, revision: x)"\n`);
    chmodSync(file, 0o755);
  }
  return dir;
}

describe('prometheusReference', () => {
  test('takes Prometheus 3.16 from PROMETHEUS_BIN_DIR', () => {
    const dir = fakeBin('v316', '3.16.0');
    const picked = prometheusReference({ PROMETHEUS_BIN_DIR: dir });
    expect(picked.ok && picked.backend).toEqual({
      prometheus: path.join(dir, 'prometheus'),
      promtool: path.join(dir, 'promtool'),
      version: '3.16.0',
    });
  });

  test("refuses Debian's 2.42 with the reason", () => {
    const picked = prometheusReference({ PROMETHEUS_BIN_DIR: fakeBin('v242', '2.42.0+ds') });
    expect(picked.ok).toBe(false);
    expect(!picked.ok && picked.reason).toMatch(/version 2\.42\.0\+ds, not 3\.16/);
  });

  test('looks in the installer cache and names it when absent', () => {
    const env = { PROMSTREAM_CACHE: path.join(root, 'empty-cache') };
    expect(prometheusCacheBin(env)).toBe(path.join(root, 'empty-cache', 'prometheus-3.16.0', 'bin'));
    const picked = prometheusReference(env);
    expect(!picked.ok && picked.reason).toMatch(/prometheus-3\.16\.0\/bin .*prometheus\.sh install/);
  });
});
