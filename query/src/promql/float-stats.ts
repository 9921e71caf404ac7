import { kahanInc } from './aggregate.js';

/** Statistics over the float values of a window (`avg_over_time`, `stddev_over_time`, ...). */

/** The mean of the values, Kahan-summed; an incremental mean when the sum overflows, as Prometheus does. */
export function mean(values: number[]): number {
  let sum = 0;
  let c = 0;
  for (const v of values) [sum, c] = kahanInc(v, sum, c);
  if (Number.isFinite(sum + c) || values.some((v) => !Number.isFinite(v))) return (sum + c) / values.length;
  let m = 0;
  let mc = 0;
  values.forEach((v, k) => {
    [m, mc] = kahanInc(v / (k + 1) - (m + mc) / (k + 1), m, mc);
  });
  return m + mc;
}

/** The population variance of the values (Welford). */
export function variance(values: number[]): number {
  let m = 0;
  let m2 = 0;
  let n = 0;
  for (const v of values) {
    n++;
    const d = v - m;
    m += d / n;
    m2 += d * (v - m);
  }
  return m2 / n;
}
