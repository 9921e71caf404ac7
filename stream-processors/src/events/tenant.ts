import type { Event } from '@promstream/schemas';
import { tenantIdProblem, eventTenant as tenantOfAttributes } from '@promstream/storage';

/** The tenant of an event (storage's rule: its `tenant` attribute, or the default). */
export function eventTenant(event: Event, defaultTenant: string): string {
  return tenantOfAttributes(event.attributes, defaultTenant);
}

/** Why an event's tenant cannot be a bucket prefix (storage's tenant-ID rule), or undefined. */
export function eventTenantProblem(tenant: string): string | undefined {
  return tenantIdProblem(tenant);
}
