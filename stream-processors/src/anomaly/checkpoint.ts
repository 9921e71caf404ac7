/**
 * The checkpoint of one watched query: every series' labels, model state
 * and episode-tracker state, so a restart resumes without relearning. The
 * byte layout is in the README ("Checkpoint of a watch"); model states are
 * the models' own `ArrayBuffer`s, copied as they are.
 */
import type { Label } from '@promstream/storage';
import { StreamError } from '../errors.js';
import { EPISODE_STATE_BYTES } from './episodes.js';
import { MODEL_KINDS, type ModelKind } from './model.js';

/** The checkpoint's first four bytes: "PSAN". */
const MAGIC = 0x4e415350;
/** The version this code writes and reads. */
export const CHECKPOINT_VERSION = 1;
/** magic (4), version (1), model kind (1), reserved (2), series count (4). */
const HEADER = 12;

/** One series in a checkpoint. */
export interface SeriesState {
  labels: Label[];
  model: ArrayBuffer;
  tracker: ArrayBuffer;
}

/** Encodes the series of a watch of `kind`. */
export function encodeCheckpoint(kind: ModelKind, series: readonly SeriesState[]): Uint8Array {
  const enc = new TextEncoder();
  const encoded = series.map((s) => ({
    labels: s.labels.map((l) => [enc.encode(l.name), enc.encode(l.value)] as const),
    s,
  }));
  let size = HEADER;
  for (const e of encoded) {
    size += 2 + 4 + e.s.model.byteLength + EPISODE_STATE_BYTES;
    for (const [n, v] of e.labels) size += 4 + n.length + v.length;
  }
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, MAGIC, true);
  dv.setUint8(4, CHECKPOINT_VERSION);
  dv.setUint8(5, MODEL_KINDS.indexOf(kind));
  dv.setUint32(8, series.length, true);
  let at = HEADER;
  for (const e of encoded) {
    dv.setUint16(at, e.labels.length, true);
    at += 2;
    for (const [n, v] of e.labels) {
      dv.setUint16(at, n.length, true);
      out.set(n, at + 2);
      at += 2 + n.length;
      dv.setUint16(at, v.length, true);
      out.set(v, at + 2);
      at += 2 + v.length;
    }
    dv.setUint32(at, e.s.model.byteLength, true);
    out.set(new Uint8Array(e.s.model), at + 4);
    at += 4 + e.s.model.byteLength;
    out.set(new Uint8Array(e.s.tracker, 0, EPISODE_STATE_BYTES), at);
    at += EPISODE_STATE_BYTES;
  }
  return out;
}

/** Decodes a checkpoint; throws `STATE_FORMAT` when it is not one this version wrote. */
export function decodeCheckpoint(bytes: Uint8Array): { kind: ModelKind; series: SeriesState[] } {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const need = (at: number, n: number) => {
    if (at + n > bytes.length) throw bad(`truncated at byte ${at}`);
  };
  need(0, HEADER);
  if (dv.getUint32(0, true) !== MAGIC) throw bad('not an anomaly checkpoint (magic)');
  if (dv.getUint8(4) !== CHECKPOINT_VERSION)
    throw bad(`version ${dv.getUint8(4)}, this build reads ${CHECKPOINT_VERSION}`);
  const kind = MODEL_KINDS[dv.getUint8(5)];
  if (kind === undefined) throw bad(`model kind ${dv.getUint8(5)}`);
  const count = dv.getUint32(8, true);
  const dec = new TextDecoder('utf-8', { fatal: true });
  const series: SeriesState[] = [];
  let at = HEADER;
  const text = () => {
    need(at, 2);
    const n = dv.getUint16(at, true);
    need(at + 2, n);
    const s = dec.decode(bytes.subarray(at + 2, at + 2 + n));
    at += 2 + n;
    return s;
  };
  for (let i = 0; i < count; i++) {
    need(at, 2);
    const nLabels = dv.getUint16(at, true);
    at += 2;
    const labels: Label[] = [];
    for (let k = 0; k < nLabels; k++) labels.push({ name: text(), value: text() });
    need(at, 4);
    const len = dv.getUint32(at, true);
    need(at + 4, len + EPISODE_STATE_BYTES);
    const model = bytes.slice(at + 4, at + 4 + len).buffer;
    at += 4 + len;
    const tracker = bytes.slice(at, at + EPISODE_STATE_BYTES).buffer;
    at += EPISODE_STATE_BYTES;
    series.push({ labels, model, tracker });
  }
  if (at !== bytes.length) throw bad(`${bytes.length - at} bytes after the last series`);
  return { kind, series };
}

function bad(what: string): StreamError {
  return new StreamError('STATE_FORMAT', `read anomaly checkpoint: ${what}`);
}
