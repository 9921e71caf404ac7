import { MemoryObjectStore } from '@promstream/storage';
import { describe, expect, test } from 'vitest';
import type { FaultPoint } from '../block-builder/seams.js';
import { FaultReportingStore } from './fault-store.js';

function recording() {
  const reached: { point: FaultPoint; detail: Record<string, unknown> }[] = [];
  return {
    reached,
    faults: {
      reached: (point: FaultPoint, detail: Record<string, unknown>) => reached.push({ point, detail }),
    },
  };
}

describe('mid-block fault point', () => {
  test('is reached after each file of a new block but meta.json', async () => {
    const { reached, faults } = recording();
    const store = new FaultReportingStore(new MemoryObjectStore(), faults);
    await store.put('t/01A/chunks/000001', new Uint8Array([1]));
    await store.put('t/01A/index', new Uint8Array([2]));
    await store.put('t/01A/meta.json', new Uint8Array([3]));
    expect(reached.map((r) => r.detail.key)).toEqual(['t/01A/chunks/000001', 't/01A/index']);
  });

  test('is not reached when a rebuilt block rewrites a complete one', async () => {
    const { reached, faults } = recording();
    const inner = new MemoryObjectStore();
    await inner.put('t/01A/meta.json', new Uint8Array([3]));
    const store = new FaultReportingStore(inner, faults);
    await store.put('t/01A/chunks/000001', new Uint8Array([1]));
    await store.put('t/01B/chunks/000001', new Uint8Array([1]));
    expect(reached.map((r) => r.detail.key)).toEqual(['t/01B/chunks/000001']);
  });
});
