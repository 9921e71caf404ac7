// Command promstream-thanos-tool runs Thanos v0.42.5's own downsampling and
// Prometheus' compaction (the library code Thanos' compactor calls) on blocks
// in a directory, so promstream's tests and benchmarks can compare against
// them. Built and cached by infra/scripts/thanos.sh.
//
//	golden-aggr FILE                 write AggrChunk golden vectors (JSON) from DownsampleRaw
//	downsample BLOCK OUTDIR RES      downsample a block directory to RES ms; prints the new ULID
//	dump BLOCK                       print every series with its chunks' decoded samples (JSON lines)
//	compact OUTDIR BLOCK...          compact blocks with Prometheus' leveled compactor; prints the ULID
//	bench-downsample BLOCK RES N     downsample N times; prints samples/s
//	bench-compact N BLOCK...         compact N times; prints samples/s
//	query-range EXPR START END STEP MAXRES BUCKET
//	                                 evaluate a range query (ms times) with Prometheus' engine over
//	                                 Thanos' querier and store gateway reading the directory of
//	                                 blocks at MAXRES ms at most; prints one JSON line per series
package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"github.com/prometheus/prometheus/tsdb/chunks"
	"github.com/prometheus/prometheus/tsdb/index"
	"github.com/thanos-io/thanos/pkg/block/metadata"
	"github.com/thanos-io/thanos/pkg/compact/downsample"
)

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: promstream-thanos-tool golden-aggr FILE | downsample BLOCK OUTDIR RES | dump BLOCK | compact OUTDIR BLOCK... | bench-downsample BLOCK RES N | bench-compact N BLOCK... | query-range EXPR START END STEP MAXRES BUCKET")
	os.Exit(2)
}

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	a := os.Args[2:]
	switch os.Args[1] {
	case "golden-aggr":
		need(a, 1)
		goldenAggr(a[0])
	case "downsample":
		need(a, 3)
		res, err := strconv.ParseInt(a[2], 10, 64)
		must(err)
		id, _ := downsampleBlock(a[0], a[1], res)
		fmt.Println(id)
	case "dump":
		need(a, 1)
		dump(a[0])
	case "compact":
		need(a, 2)
		id, _ := compact(a[0], a[1:])
		fmt.Println(id)
	case "bench-downsample":
		need(a, 3)
		res, err := strconv.ParseInt(a[1], 10, 64)
		must(err)
		n, err := strconv.Atoi(a[2])
		must(err)
		benchDownsample(a[0], res, n)
	case "query-range":
		need(a, 6)
		queryRange(a[0], parseMillis(a[1]), parseMillis(a[2]), parseMillis(a[3]), parseMillis(a[4]), a[5])
	case "bench-compact":
		need(a, 2)
		n, err := strconv.Atoi(a[0])
		must(err)
		benchCompact(n, a[1:])
	default:
		usage()
	}
}

func need(a []string, n int) {
	if len(a) < n {
		usage()
	}
}

type goldenCase struct {
	Name       string        `json:"name"`
	Resolution int64         `json:"resolution"`
	T          []int64       `json:"t"`
	V          []float64     `json:"v"`
	Chunks     []goldenChunk `json:"chunks"`
}

type goldenChunk struct {
	MinTime int64  `json:"minTime"`
	MaxTime int64  `json:"maxTime"`
	Hex     string `json:"hex"`
}

// goldenAggr downsamples named raw series with Thanos' DownsampleRaw and
// writes the AggrChunks it encodes. NaN values are written as null.
func goldenAggr(file string) {
	var cases []goldenCase
	add := func(name string, res int64, ts []int64, vs []float64) {
		in := make([]chunks.Sample, len(ts))
		for i := range ts {
			in[i] = sample{ts[i], vs[i]}
		}
		c := goldenCase{Name: name, Resolution: res, T: ts, V: vs}
		for _, m := range downsample.DownsampleRaw(downsample.SamplesFromTSDBSamples(in), res) {
			c.Chunks = append(c.Chunks, goldenChunk{m.MinTime, m.MaxTime, hex.EncodeToString(m.Chunk.Bytes())})
		}
		cases = append(cases, c)
	}
	// A gauge, one sample a minute for 3 hours, to 5m.
	var ts []int64
	var vs []float64
	for i := 0; i < 180; i++ {
		ts = append(ts, int64(i)*60000)
		vs = append(vs, math.Sin(float64(i)/7)*100)
	}
	add("gauge-1m-3h-to-5m", 300000, ts, vs)
	// A counter with two resets, every 15s for 2 hours, to 5m.
	ts, vs = nil, nil
	c := 0.0
	for i := 0; i < 480; i++ {
		if i == 100 || i == 333 {
			c = 1
		}
		c += float64(i%7) + 0.5
		ts = append(ts, 1700000000000+int64(i)*15000)
		vs = append(vs, c)
	}
	add("counter-resets-15s-2h-to-5m", 300000, ts, vs)
	// Irregular samples across a few windows, to 1h.
	ts = []int64{1000, 2000, 3600000, 3600001, 7199999, 7200000, 9000000, 20000000}
	vs = []float64{5, 3, 8, 1e300, -2.5, 0, 42, 7}
	add("irregular-to-1h", 3600000, ts, vs)
	// One sample.
	add("single-to-5m", 300000, []int64{123456}, []float64{9.75})
	// Three days at 60s, enough for several chunks per series.
	ts, vs = nil, nil
	for i := 0; i < 3*24*60; i++ {
		ts = append(ts, int64(i)*60000)
		vs = append(vs, float64(i/3))
	}
	add("long-60s-3d-to-5m", 300000, ts, vs)
	b, err := json.MarshalIndent(cases, "", " ")
	must(err)
	must(os.WriteFile(file, append(b, '\n'), 0o644))
}

type sample struct {
	t int64
	v float64
}

func (s sample) T() int64                      { return s.t }
func (s sample) F() float64                    { return s.v }
func (s sample) H() *histogram.Histogram       { return nil }
func (s sample) FH() *histogram.FloatHistogram { return nil }
func (s sample) Type() chunkenc.ValueType      { return chunkenc.ValFloat }
func (s sample) Copy() chunks.Sample           { return s }

func openBlock(dir string) (*tsdb.Block, *metadata.Meta) {
	m, err := metadata.ReadFromDir(dir)
	must(err)
	var pool chunkenc.Pool
	if m.Thanos.Downsample.Resolution == 0 {
		pool = chunkenc.NewPool()
	} else {
		pool = downsample.NewPool()
	}
	b, err := tsdb.OpenBlock(nil, dir, pool, nil)
	must(err)
	return b, m
}

func downsampleBlock(dir, out string, res int64) (string, int) {
	b, m := openBlock(dir)
	defer b.Close()
	must(os.MkdirAll(out, 0o755))
	id, err := downsample.Downsample(context.Background(), log.NewNopLogger(), m, b, out, res)
	must(err)
	return id.String(), int(b.Meta().Stats.NumSamples)
}

type dumpChunk struct {
	MinTime int64               `json:"minTime"`
	MaxTime int64               `json:"maxTime"`
	Enc     string              `json:"enc"`
	Samples [][2]any            `json:"samples,omitempty"`
	Aggr    map[string][][2]any `json:"aggr,omitempty"`
}

func fmtV(v float64) any {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	return v
}

func samplesOf(c chunkenc.Chunk) [][2]any {
	out := [][2]any{}
	it := c.Iterator(nil)
	for it.Next() == chunkenc.ValFloat {
		t, v := it.At()
		out = append(out, [2]any{t, fmtV(v)})
	}
	must(it.Err())
	return out
}

// dump prints one JSON line per series: labels and chunks, raw samples for
// XOR chunks, each aggregate's samples for AggrChunks.
func dump(dir string) {
	b, _ := openBlock(dir)
	defer b.Close()
	// Block.Close waits for its readers, so they are closed first (defers run last-in first-out).
	ir, err := b.Index()
	must(err)
	defer ir.Close()
	cr, err := b.Chunks()
	must(err)
	defer cr.Close()
	k, v := index.AllPostingsKey()
	p, err := ir.Postings(context.Background(), k, v)
	must(err)
	enc := json.NewEncoder(os.Stdout)
	sb := labels.NewScratchBuilder(16)
	var metas []chunks.Meta
	for p.Next() {
		must(ir.Series(p.At(), &sb, &metas))
		line := map[string]any{"labels": sb.Labels().Map()}
		var out []dumpChunk
		for _, m := range metas {
			c, _, err := cr.ChunkOrIterable(m)
			must(err)
			d := dumpChunk{MinTime: m.MinTime, MaxTime: m.MaxTime, Enc: c.Encoding().String()}
			if ac, ok := c.(*downsample.AggrChunk); ok {
				d.Enc = "aggr"
				d.Aggr = map[string][][2]any{}
				for t := downsample.AggrCount; t <= downsample.AggrCounter; t++ {
					sub, err := ac.Get(t)
					if err == downsample.ErrAggrNotExist {
						continue
					}
					must(err)
					d.Aggr[t.String()] = samplesOf(sub)
				}
			} else {
				d.Samples = samplesOf(c)
			}
			out = append(out, d)
		}
		line["chunks"] = out
		must(enc.Encode(line))
	}
	must(p.Err())
}

func compact(out string, dirs []string) (string, int) {
	must(os.MkdirAll(out, 0o755))
	c, err := tsdb.NewLeveledCompactor(context.Background(), nil, nil, []int64{2 * 3600000}, chunkenc.NewPool(), storage.NewCompactingChunkSeriesMerger(storage.ChainedSeriesMerge))
	must(err)
	samples := 0
	for _, d := range dirs {
		m, err := metadata.ReadFromDir(d)
		must(err)
		samples += int(m.Stats.NumSamples)
	}
	ids, err := c.Compact(out, dirs, nil)
	must(err)
	if len(ids) == 0 {
		return "", samples
	}
	return ids[0].String(), samples
}

func benchDownsample(dir string, res int64, n int) {
	tmp, err := os.MkdirTemp("", "thanos-bench-")
	must(err)
	defer os.RemoveAll(tmp)
	start, cpu := time.Now(), cpuSeconds()
	total := 0
	for i := 0; i < n; i++ {
		_, s := downsampleBlock(dir, filepath.Join(tmp, strconv.Itoa(i)), res)
		total += s
	}
	printRate(total, time.Since(start).Seconds(), cpuSeconds()-cpu)
}

func benchCompact(n int, dirs []string) {
	tmp, err := os.MkdirTemp("", "thanos-bench-")
	must(err)
	defer os.RemoveAll(tmp)
	start, cpu := time.Now(), cpuSeconds()
	total := 0
	for i := 0; i < n; i++ {
		_, s := compact(filepath.Join(tmp, strconv.Itoa(i)), dirs)
		total += s
	}
	printRate(total, time.Since(start).Seconds(), cpuSeconds()-cpu)
}

// cpuSeconds is the CPU time of the whole process so far, user and system, all threads.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	must(syscall.Getrusage(syscall.RUSAGE_SELF, &ru))
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

func printRate(samples int, wall, cpu float64) {
	fmt.Printf("{\"samples\":%d,\"seconds\":%f,\"cpuSeconds\":%f,\"samplesPerSecond\":%f,\"samplesPerCpuSecond\":%f}\n",
		samples, wall, cpu, float64(samples)/wall, float64(samples)/cpu)
}
