import { writeSync } from 'node:fs';
import { FAULT_POINTS, type FaultPoint, type FaultPoints } from '@promstream/stream-processors';
import { ConfigError } from '../config/errors.js';

/**
 * Fault points armed from the command line, for crash tests: the role reads
 * `PROMSTREAM_FAULT=<point>[:<hit>]` and hands the builder a FaultPoints that
 * ends the process with SIGKILL the `hit`-th time it passes `point` (default
 * the first), so nothing is flushed, closed or committed on the way out.
 */

/** The environment variable that arms a fault point. */
export const FAULT_ENV = 'PROMSTREAM_FAULT';

/** What a killed process writes to stderr just before the kill, followed by a JSON report. */
export const FAULT_REPORT_PREFIX = 'promstream fault point reached: ';

/** A parsed `<point>[:<hit>]`. */
export interface FaultSpec {
  point: FaultPoint;
  hit: number;
}

/** The report line's JSON. */
export interface FaultReport extends FaultSpec {
  pid: number;
  detail: Record<string, unknown>;
}

/** Parses `<point>[:<hit>]`; a ConfigError names the points when the text is none of them. */
export function parseFaultSpec(text: string): FaultSpec {
  const m = /^([a-z-]+)(?::(\d+))?$/.exec(text.trim());
  const point = FAULT_POINTS.find((p) => p === m?.[1]);
  const hit = Number(m?.[2] ?? 1);
  if (m === null || point === undefined || !(hit >= 1))
    throw new ConfigError(
      'config_invalid',
      `${FAULT_ENV}=${text}: expected <point>[:<hit>] with a point of ${FAULT_POINTS.join(', ')} and a hit of 1 or more`,
    );
  return { point, hit };
}

/** Fault points that call `die` with the report the `hit`-th time `point` is reached. */
export function armedFaultPoints(spec: FaultSpec, die: (report: FaultReport) => void = killNow): FaultPoints {
  let seen = 0;
  return {
    reached(point, detail) {
      if (point !== spec.point) return;
      seen++;
      if (seen === spec.hit) die({ ...spec, pid: process.pid, detail });
    },
  };
}

/** Writes the report synchronously (nothing else is flushed) and kills the process. */
function killNow(report: FaultReport): void {
  writeSync(2, `${FAULT_REPORT_PREFIX}${JSON.stringify(report)}\n`);
  process.kill(process.pid, 'SIGKILL');
}
