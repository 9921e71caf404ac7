/**
 * The modes of Confluent's registry, per subject or global: READWRITE takes
 * registrations and deletions, READONLY and READONLY_OVERRIDE refuse them
 * (42205); a global READONLY_OVERRIDE holds over every subject's own mode.
 * IMPORT (registering with given ids) is not offered by this registry.
 */
export const MODES = ['READWRITE', 'READONLY', 'READONLY_OVERRIDE'] as const;
export type Mode = (typeof MODES)[number];

/** Whether a string names a mode this registry offers. */
export function isMode(s: unknown): s is Mode {
  return typeof s === 'string' && (MODES as readonly string[]).includes(s);
}

/** Whether a mode refuses changes. */
export function isReadOnly(mode: Mode): boolean {
  return mode !== 'READWRITE';
}
