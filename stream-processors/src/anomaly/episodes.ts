/**
 * Anomalous episodes: a run of points scoring above 1, closed once
 * `closeAfter` scored points in a row are normal again. One series'
 * tracker state is 8 doubles, checkpointed with its model.
 */
import type { ModelKind, Scored } from './model.js';

/** One anomalous episode of one series. */
export interface Episode {
  /** Time of the first anomalous point (ms). */
  start: number;
  /** Time of the last anomalous point (ms). */
  end: number;
  /** The highest score, and when, what was expected and what was seen then. */
  peakScore: number;
  peakAt: number;
  expected: number;
  actual: number;
  /** The model that judged. */
  model: ModelKind;
}

/** Normal points in a row that close an episode by default. */
export const DEFAULT_CLOSE_AFTER = 5;

const OPEN = 0;
const START = 1;
const END = 2;
const PEAK = 3;
const PEAK_AT = 4;
const EXPECTED = 5;
const ACTUAL = 6;
const QUIET = 7;
/** Bytes of one tracker's state. */
export const EPISODE_STATE_BYTES = 8 * 8;

/** Turns one series' scores into episodes. */
export class EpisodeTracker {
  readonly state: ArrayBuffer;
  private readonly s: Float64Array;

  /** A tracker for `model`'s scores, new or restored from `state`. */
  constructor(
    private readonly model: ModelKind,
    private readonly closeAfter = DEFAULT_CLOSE_AFTER,
    state?: ArrayBuffer,
  ) {
    this.state = state ?? new ArrayBuffer(EPISODE_STATE_BYTES);
    this.s = new Float64Array(this.state);
  }

  /** Whether an episode is open. */
  get open(): boolean {
    return this.s[OPEN] === 1;
  }

  /** Takes the score of the point (t, v); returns the episode this point closed, if any. */
  observe(t: number, v: number, scored: Scored): Episode | undefined {
    const s = this.s;
    if (scored.score > 1) {
      if (s[OPEN] !== 1) {
        s[OPEN] = 1;
        s[START] = t;
        s[PEAK] = 0;
      }
      s[END] = t;
      s[QUIET] = 0;
      if (scored.score > s[PEAK]!) {
        s[PEAK] = scored.score;
        s[PEAK_AT] = t;
        s[EXPECTED] = scored.yhat;
        s[ACTUAL] = v;
      }
      return undefined;
    }
    if (s[OPEN] !== 1) return undefined;
    s[QUIET] = s[QUIET]! + 1;
    return s[QUIET]! >= this.closeAfter ? this.close() : undefined;
  }

  /** Closes the open episode, if any (end of data, or the series went away). */
  flush(): Episode | undefined {
    return this.s[OPEN] === 1 ? this.close() : undefined;
  }

  private close(): Episode {
    const s = this.s;
    s[OPEN] = 0;
    s[QUIET] = 0;
    return {
      start: s[START]!,
      end: s[END]!,
      peakScore: s[PEAK]!,
      peakAt: s[PEAK_AT]!,
      expected: s[EXPECTED]!,
      actual: s[ACTUAL]!,
      model: this.model,
    };
  }
}
