import { BAD_TENANT_IDS } from '@promstream/testkit';
import { describe, expect, it } from 'vitest';
import { listTenants } from '../src/block/bucket-catalog.js';
import { StorageError } from '../src/errors.js';
import { MemoryObjectStore } from '../src/objstore/memory.js';
import { tenantStore } from '../src/objstore/prefixed.js';
import { checkTenantId, isValidTenantId, MAX_TENANT_ID_LENGTH, tenantIdProblem } from '../src/tenant.js';

describe('the tenant-ID rule', () => {
  it.each(BAD_TENANT_IDS)('refuses $name with a reason and an invalid_tenant error', ({ id }) => {
    const problem = tenantIdProblem(id);
    expect(problem).toBeTypeOf('string');
    expect(problem).toMatch(/tenant ID/);
    expect(isValidTenantId(id)).toBe(false);
    expect(() => checkTenantId(id)).toThrow(StorageError);
    try {
      checkTenantId(id);
    } catch (err) {
      expect((err as StorageError).code).toBe('invalid_tenant');
      expect((err as StorageError).retryable).toBe(false);
    }
    expect(() => tenantStore(new MemoryObjectStore(), id)).toThrow(/tenant ID/);
  });

  it('accepts every character of Mimir’s set, 150 characters, and dots inside a name', () => {
    for (const id of [
      'anonymous',
      'team-a',
      "a!b-c_d.e*f'g(h)i",
      'x'.repeat(MAX_TENANT_ID_LENGTH),
      '...',
      '.hidden',
      'a..b',
      '0123456789',
      'ABCxyz',
    ]) {
      expect(tenantIdProblem(id), id).toBeUndefined();
      expect(checkTenantId(id)).toBe(id);
    }
  });

  it('names the rule each refusal breaks, and never echoes a long ID whole', () => {
    expect(tenantIdProblem('')).toBe('the tenant ID is empty');
    expect(tenantIdProblem('a'.repeat(151))).toMatch(/151 characters long; at most 150/);
    expect(tenantIdProblem('a'.repeat(151))!.length).toBeLessThan(150);
    expect(tenantIdProblem('a/b')).toMatch(/unsupported character '\/'/);
    expect(tenantIdProblem('a\u0000b')).toMatch(/U\+0000/);
    expect(tenantIdProblem('tеam')).toMatch(/U\+0435/);
    expect(tenantIdProblem('😀')).toMatch(/U\+1F600/);
    expect(tenantIdProblem('..')).toMatch(/path segment/);
    expect(tenantIdProblem('01ARZ3NDEKTSV4RRFFQ69G5FAV')).toMatch(/ULID/);
  });

  it('lists only valid tenant IDs as the tenants of a bucket', async () => {
    const bucket = new MemoryObjectStore();
    const body = new Uint8Array(1);
    await bucket.put('team-a/01ARZ3NDEKTSV4RRFFQ69G5FAV/meta.json', body);
    await bucket.put('_promstream/block-builder/t/0.json', body);
    await bucket.put('01ARZ3NDEKTSV4RRFFQ69G5FAV/meta.json', body);
    await bucket.put('has space/x', body);
    expect(await listTenants(bucket)).toEqual(['team-a']);
  });
});
