/**
 * Prints why a suite does not run. Vitest shows console output beside the
 * file it came from, so the reason lands next to the skipped suite.
 */
export function announceSkip(suite: string, reason: string): void {
  console.warn(`[skip] ${suite}: ${reason}`);
}
