import type { Event } from '@promstream/schemas';
import { tenantIdProblem } from '@promstream/storage';

/** The attribute that names an event's tenant; events without one belong to the default tenant. */
export const TENANT_ATTRIBUTE = 'tenant';

/** The tenant of an event: its `tenant` attribute, or the default. */
export function eventTenant(event: Event, defaultTenant: string): string {
  return event.attributes[TENANT_ATTRIBUTE] ?? defaultTenant;
}

/** Why an event's tenant cannot be a bucket prefix (storage's tenant-ID rule), or undefined. */
export function eventTenantProblem(tenant: string): string | undefined {
  return tenantIdProblem(tenant);
}
