import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DiskBuffer } from './disk-buffer.js';

describe('DiskBuffer', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'ingest-buffer-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('returns entries in order and forgets only acknowledged ones', () => {
    const b = new DiskBuffer({ dir, maxBytes: 1 << 20 });
    for (let i = 0; i < 5; i++) b.append(Buffer.from(`e${i}`));
    const first = b.peek(2);
    expect(first.map((e) => e.payload.toString())).toEqual(['e0', 'e1']);
    b.ack(first[1]!);
    expect(b.peek(10).map((e) => e.payload.toString())).toEqual(['e2', 'e3', 'e4']);
    b.close();
  });

  it('survives a restart with its cursor', () => {
    const b = new DiskBuffer({ dir, maxBytes: 1 << 20, segmentBytes: 64 });
    for (let i = 0; i < 20; i++) b.append(Buffer.from(`entry-${i}`));
    b.ack(b.peek(7).at(-1)!);
    b.close();
    const again = new DiskBuffer({ dir, maxBytes: 1 << 20, segmentBytes: 64 });
    again.append(Buffer.from('after'));
    const rest = again.peek(100).map((e) => e.payload.toString());
    expect(rest[0]).toBe('entry-7');
    expect(rest).toHaveLength(14);
    expect(rest.at(-1)).toBe('after');
    again.close();
  });

  it('drops the oldest segments beyond its bound and counts the entries', () => {
    const b = new DiskBuffer({ dir, maxBytes: 400, segmentBytes: 100 });
    for (let i = 0; i < 100; i++) b.append(Buffer.alloc(12, i));
    expect(b.bytes()).toBeLessThanOrEqual(400 + 100);
    const kept = b.peek(1000);
    expect(kept.length + b.dropped).toBe(100);
    expect(b.dropped).toBeGreaterThan(0);
    // What is kept is the newest, still in order.
    expect(kept.at(-1)!.payload[0]).toBe(99);
    for (let i = 1; i < kept.length; i++) expect(kept[i]!.payload[0]).toBe(kept[i - 1]!.payload[0]! + 1);
    b.close();
  });
});
