/**
 * A periodic profile: `bins` values around a period, read and learned with
 * linear interpolation between bin centres, so a 15-minute daily profile
 * still gives a smooth expectation minute by minute.
 */

/** Where a phase falls in a profile: the two bins and the weight of the second. */
export interface ProfileSlot {
  i0: number;
  i1: number;
  w1: number;
}

/** Locates time `t` (ms) in a profile of `bins` bins over `periodMs`, into `slot`. */
export function locate(t: number, periodMs: number, bins: number, slot: ProfileSlot): void {
  const phase = (((t % periodMs) + periodMs) % periodMs) / periodMs;
  const p = phase * bins - 0.5;
  const f = Math.floor(p);
  slot.w1 = p - f;
  slot.i0 = (f + bins) % bins;
  slot.i1 = (f + 1) % bins;
}

/** The profile's value at a slot. */
export function readProfile(prof: Float32Array, off: number, slot: ProfileSlot): number {
  return (1 - slot.w1) * prof[off + slot.i0]! + slot.w1 * prof[off + slot.i1]!;
}

/** Moves the profile at a slot by `delta`, shared between the two bins by their weights. */
export function learnProfile(prof: Float32Array, off: number, slot: ProfileSlot, delta: number): void {
  prof[off + slot.i0] = prof[off + slot.i0]! + (1 - slot.w1) * delta;
  prof[off + slot.i1] = prof[off + slot.i1]! + slot.w1 * delta;
}
