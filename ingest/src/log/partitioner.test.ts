import { partitionFor } from '@promstream/schemas';
import type { Label } from '@promstream/storage';
import { seededRandom } from '@promstream/testkit';
import { describe, expect, it } from 'vitest';
import { requestPlacer } from './partitioner.js';

function text(next: () => number, nonAscii: boolean): string {
  const len = Math.floor(next() * 24);
  let out = '';
  for (let i = 0; i < len; i++) {
    const r = next();
    if (nonAscii && r < 0.05) out += r < 0.02 ? 'é' : r < 0.04 ? '日' : '\ud800';
    else out += String.fromCharCode(0x20 + Math.floor(next() * 0x5f));
  }
  return out;
}

/**
 * Series of one request as the decoder hands them over: label objects
 * drawn from a shared pool (the same object for the same label), so labels
 * repeat across series; `reuse` is how likely a label comes from the pool.
 */
function request(seed: number, count: number, reuse: number, nonAscii: boolean): Label[][] {
  const next = seededRandom(seed);
  const pool: Label[] = [];
  const series: Label[][] = [];
  for (let i = 0; i < count; i++) {
    const labels: Label[] = [];
    const n = 1 + Math.floor(next() * 6);
    for (let j = 0; j < n; j++) {
      if (pool.length > 0 && next() < reuse) labels.push(pool[Math.floor(next() * pool.length)]!);
      else {
        const label = { name: text(next, nonAscii), value: text(next, nonAscii) };
        pool.push(label);
        labels.push(label);
      }
    }
    series.push(labels);
  }
  return series;
}

describe('requestPlacer', () => {
  it('places every series where partitionFor does, for every power-of-two count and reuse', () => {
    let checked = 0;
    for (const partitions of [1, 2, 8, 64, 256]) {
      for (const reuse of [0, 0.5, 0.95]) {
        for (let seed = 1; seed <= 6; seed++) {
          const nonAscii = seed % 3 === 0;
          const series = request(seed * 1000 + partitions, 500, reuse, nonAscii);
          const place = requestPlacer(partitions, partitionFor);
          for (const labels of series) {
            expect(place(labels)).toBe(partitionFor(labels, partitions));
            checked++;
          }
        }
      }
    }
    expect(checked).toBe(5 * 3 * 6 * 500);
  });

  it('places the same label set the same way at its first, second and later sightings', () => {
    const labels: Label[] = [
      { name: '__name__', value: 'node_cpu_seconds_total' },
      { name: 'cpu', value: '3' },
      { name: 'instance', value: 'host-7.example.net:9100' },
    ];
    const place = requestPlacer(8, partitionFor);
    const expected = partitionFor(labels, 8);
    for (let i = 0; i < 5; i++) expect(place(labels)).toBe(expected);
  });

  it('keeps placing exactly once it stops remembering labels that do not repeat', () => {
    const series = request(77, 400, 0, false);
    const place = requestPlacer(16, partitionFor);
    for (const labels of series) expect(place(labels)).toBe(partitionFor(labels, 16));
    // A repeated set after the switch still lands where the exact placement puts it.
    expect(place(series[0]!)).toBe(partitionFor(series[0]!, 16));
  });

  it('hands counts it cannot take through transitions to the exact placement', () => {
    const calls: number[] = [];
    const exact = (labels: readonly Label[], n: number): number => {
      calls.push(n);
      return partitionFor(labels, n);
    };
    const labels: Label[] = [{ name: '__name__', value: 'up' }];
    for (const n of [3, 12, 512]) expect(requestPlacer(n, exact)(labels)).toBe(partitionFor(labels, n));
    expect(calls).toEqual([3, 12, 512]);
  });
});
