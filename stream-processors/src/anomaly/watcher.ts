/**
 * The scoring path shared by the backtest and the online role: one query's
 * result series, each with its own model and episode tracker, fed one
 * evaluation at a time. A series that appears gets a new model (it warms up
 * like any new series); one that vanishes keeps its state, and its open
 * episode closes when `flush` is called (the end of a backtest, the role's
 * stop).
 */
import type { Label, Labels } from '@promstream/storage';
import { StreamError } from '../errors.js';
import { decodeCheckpoint, encodeCheckpoint } from './checkpoint.js';
import type { WatchedQuery } from './config.js';
import { type ModelContext, newContext } from './context.js';
import { type Episode, EpisodeTracker } from './episodes.js';
import type { AnomalyModel, ModelOptions, Scored } from './model.js';
import { createModel } from './models.js';

/** An episode of one series of one watched query. */
export interface SeriesEpisode extends Episode {
  /** The query's name (`for` on the outputs). */
  query: string;
  /** The series' labels from the query result, plus `for`, sorted by name. */
  labels: Label[];
}

interface Watched {
  labels: Label[];
  model: AnomalyModel;
  tracker: EpisodeTracker;
}

/** Everything watched for one query. */
export class QueryWatch {
  private readonly series = new Map<string, Watched>();
  private readonly ctx: ModelContext = newContext();

  /** Watches `query` with the shared model options and episode rule. */
  constructor(
    readonly query: WatchedQuery,
    private readonly options: ModelOptions,
    private readonly closeAfter: number,
  ) {}

  /** Series currently watched. */
  get size(): number {
    return this.series.size;
  }

  /**
   * Scores one point of the series `labels` into `out`; returns the episode
   * it closed, if any. Returns undefined and leaves `out.score` NaN when the
   * point is not scored (the input rule of `model.ts`).
   */
  observe(labels: Labels, t: number, v: number, out: Scored): SeriesEpisode | undefined {
    const key = seriesKey(labels);
    let w = this.series.get(key);
    if (w === undefined) {
      w = {
        labels: withFor(labels, this.query.name),
        model: createModel(this.query.model, this.options, this.ctx),
        tracker: new EpisodeTracker(this.query.model, this.closeAfter),
      };
      this.series.set(key, w);
    }
    out.score = Number.NaN;
    if (!w.model.update(t, v, out)) return undefined;
    const e = w.tracker.observe(t, v, out);
    return e === undefined ? undefined : { ...e, query: this.query.name, labels: w.labels };
  }

  /** The state of every series, for a checkpoint (`checkpoint.ts`). */
  checkpoint(): Uint8Array {
    const series = [...this.series.values()].map((w) => ({
      labels: w.labels,
      model: w.model.state,
      tracker: w.tracker.state,
    }));
    return encodeCheckpoint(this.query.model, series);
  }

  /**
   * Replaces what is watched with a checkpoint's series. A checkpoint of
   * another model, or whose states are not this build's size, is refused
   * (`STATE_FORMAT`), so the series are learned again rather than misread.
   */
  restore(bytes: Uint8Array): void {
    const { kind, series } = decodeCheckpoint(bytes);
    if (kind !== this.query.model) {
      throw new StreamError(
        'STATE_FORMAT',
        `read anomaly checkpoint: model ${kind}, the query uses ${this.query.model}`,
      );
    }
    const size = createModel(kind, this.options, this.ctx).state.byteLength;
    const restored = new Map<string, Watched>();
    for (const s of series) {
      if (s.model.byteLength !== size) {
        throw new StreamError(
          'STATE_FORMAT',
          `read anomaly checkpoint: a ${kind} state of ${s.model.byteLength} bytes, not ${size}`,
        );
      }
      const labels = s.labels.filter((l) => l.name !== 'for');
      restored.set(seriesKey(labels), {
        labels: s.labels,
        model: createModel(kind, this.options, this.ctx, s.model),
        tracker: new EpisodeTracker(kind, this.closeAfter, s.tracker),
      });
    }
    this.series.clear();
    for (const [k, w] of restored) this.series.set(k, w);
  }

  /** Closes every open episode and returns them. */
  flush(): SeriesEpisode[] {
    const out: SeriesEpisode[] = [];
    for (const w of this.series.values()) {
      const e = w.tracker.flush();
      if (e !== undefined) out.push({ ...e, query: this.query.name, labels: w.labels });
    }
    return out;
  }
}

/** A map key of a label set (labels arrive sorted by name from the engine). */
function seriesKey(labels: Labels): string {
  let k = '';
  for (const l of labels) k += `${l.name}\u0000${l.value}\u0001`;
  return k;
}

/** The labels plus `for="<query>"`, sorted by name; a `for` label of the result is replaced. */
export function withFor(labels: Labels, query: string): Label[] {
  const out = labels.filter((l) => l.name !== 'for').map((l) => ({ name: l.name, value: l.value }));
  out.push({ name: 'for', value: query });
  out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return out;
}
