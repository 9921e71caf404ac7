import { seededRandom } from '@promstream/testkit';
/**
 * Encode and decode rates of the XOR chunk codec for named data shapes, one
 * core. Run: `npm run bench` in storage (or `npx tsx src/tsz/xor.bench.ts`).
 * Targets from issue 4: decode >= 50M samples/s, encode >= 15M samples/s.
 */
import { ValueType } from '../model.js';
import { XorAppender, XorIterator } from './xor.js';

const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 2_000_000);
const PER_CHUNK = 120;
// Rounds per figure: the best one is reported (other work on a shared core
// only ever slows a round down), the median beside it; one warm-up round first.
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 9);

/** Named shapes: times and values. */
function shapes(): [string, Float64Array, Float64Array][] {
  const r = seededRandom(1);
  const base = 1_700_000_000_000;
  const mk = (tf: (i: number) => number, vf: (i: number) => number): [Float64Array, Float64Array] => {
    const ts = new Float64Array(SAMPLES);
    const vs = new Float64Array(SAMPLES);
    for (let i = 0; i < SAMPLES; i++) {
      ts[i] = tf(i);
      vs[i] = vf(i);
    }
    return [ts, vs];
  };
  const regular = (i: number) => base + i * 15_000;
  let c = 0;
  let w = 100;
  return [
    ['constant', ...mk(regular, () => 1)],
    [
      'counter with jitter',
      ...mk(
        (i) => base + i * 15_000 + Math.floor(r() * 50),
        () => (c += Math.floor(r() * 100)),
      ),
    ],
    ['gauge random walk', ...mk(regular, () => (w += Math.round((r() - 0.5) * 100) / 100))],
    ['float noise', ...mk(regular, () => r() * 1e6)],
  ];
}

function encodeAll(ts: Float64Array, vs: Float64Array): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < ts.length; i += PER_CHUNK) {
    const app = new XorAppender();
    const end = Math.min(i + PER_CHUNK, ts.length);
    for (let k = i; k < end; k++) app.append(ts[k]!, vs[k]!);
    chunks.push(app.bytes());
  }
  return chunks;
}

function decodeAll(chunks: Uint8Array[], it: XorIterator): number {
  let n = 0;
  let sum = 0;
  for (const c of chunks) {
    it.reset(c);
    while (it.next() === ValueType.Float) {
      sum += it.at();
      n++;
    }
  }
  if (sum === 0.123) console.log('');
  return n;
}

/** Seconds of the best and the median round of `f`, after one warm-up round. */
function rounds(f: () => void): { best: number; median: number } {
  f();
  const times: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const t0 = process.hrtime.bigint();
    f();
    times.push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  times.sort((a, b) => a - b);
  return { best: times[0]!, median: times[times.length >> 1]! };
}

/** Checks, outside the timed rounds, that the chunks give back every sample bit for bit. */
function verify(chunks: Uint8Array[], ts: Float64Array, vs: Float64Array, it: XorIterator): void {
  const got = new Float64Array(1);
  const gotBits = new Uint32Array(got.buffer);
  const want = new Float64Array(1);
  const wantBits = new Uint32Array(want.buffer);
  let i = 0;
  for (const c of chunks) {
    it.reset(c);
    while (it.next() === ValueType.Float) {
      got[0] = it.at();
      want[0] = vs[i]!;
      if (it.atT() !== ts[i] || gotBits[0] !== wantBits[0] || gotBits[1] !== wantBits[1]) {
        throw new Error(`sample ${i} does not round-trip`);
      }
      i++;
    }
    if (it.err() !== undefined) throw it.err();
  }
  if (i !== ts.length) throw new Error(`decoded ${i} of ${ts.length} samples`);
}

const rate = (s: number) => (SAMPLES / s / 1e6).toFixed(1);

console.log(
  `XOR chunk codec, ${SAMPLES.toLocaleString('en')} samples per shape, ${PER_CHUNK} per chunk, ` +
    `one core, best (median) of ${ROUNDS} rounds`,
);
console.log('shape                  encode M/s      decode M/s      bytes/sample');
const it = new XorIterator();
for (const [name, ts, vs] of shapes()) {
  let chunks: Uint8Array[] = [];
  const enc = rounds(() => {
    chunks = encodeAll(ts, vs);
  });
  const dec = rounds(() => {
    if (decodeAll(chunks, it) !== SAMPLES) throw new Error('decode lost samples');
  });
  verify(chunks, ts, vs, it);
  const bytes = chunks.reduce((a, c) => a + c.length, 0);
  const encCol = `${rate(enc.best)} (${rate(enc.median)})`;
  const decCol = `${rate(dec.best)} (${rate(dec.median)})`;
  console.log(
    `${name.padEnd(22)} ${encCol.padStart(13)}   ${decCol.padStart(13)}   ${(bytes / SAMPLES).toFixed(3).padStart(12)}`,
  );
}
console.log('targets: encode >= 15 M/s, decode >= 50 M/s');
