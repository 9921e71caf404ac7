package main

import (
	"context"
	"encoding/json"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/tsdb"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"github.com/prometheus/prometheus/tsdb/chunks"
	"github.com/thanos-io/thanos/pkg/compact/downsample"
	"github.com/thanos-io/thanos/pkg/query"
	"github.com/thanos-io/thanos/pkg/store/labelpb"
	"github.com/thanos-io/thanos/pkg/store/storepb"
)

// blockStore is a Thanos StoreAPI over block directories, answering Series
// as the store gateway does for what the querier reads: each series' chunks
// from every block, raw chunks as Raw and AggrChunks split into their
// aggregates. It honours the request's MaxResolutionWindow by reading the
// coarsest resolution the given blocks have within it (the tests give blocks
// that cover the range at each resolution, so no gap filling is needed).
type blockStore struct {
	storepb.UnimplementedStoreServer
	dirs []string
}

type storeSeries struct {
	lset   labels.Labels
	chunks []storepb.AggrChunk
}

// xorChunk copies the chunk's bytes: they view the block's files, closed before the querier reads them.
func xorChunk(c chunkenc.Chunk) *storepb.Chunk {
	return &storepb.Chunk{Type: storepb.Chunk_XOR, Data: append([]byte(nil), c.Bytes()...)}
}

func aggrChunk(meta chunks.Meta, c chunkenc.Chunk) storepb.AggrChunk {
	out := storepb.AggrChunk{MinTime: meta.MinTime, MaxTime: meta.MaxTime}
	ac, ok := c.(*downsample.AggrChunk)
	if !ok {
		out.Raw = xorChunk(c)
		return out
	}
	for t, dst := range map[downsample.AggrType]**storepb.Chunk{
		downsample.AggrCount: &out.Count, downsample.AggrSum: &out.Sum, downsample.AggrMin: &out.Min,
		downsample.AggrMax: &out.Max, downsample.AggrCounter: &out.Counter,
	} {
		sub, err := ac.Get(t)
		if err == downsample.ErrAggrNotExist {
			continue
		}
		must(err)
		*dst = xorChunk(sub)
	}
	return out
}

func (s *blockStore) Series(req *storepb.SeriesRequest, srv storepb.Store_SeriesServer) error {
	ms, err := storepb.MatchersToPromMatchers(req.Matchers...)
	if err != nil {
		return err
	}
	// The coarsest resolution allowed that the blocks have.
	var res int64 = -1
	for _, dir := range s.dirs {
		b, m := openBlock(dir)
		r := m.Thanos.Downsample.Resolution
		b.Close()
		if r <= req.MaxResolutionWindow && r > res {
			res = r
		}
	}
	byKey := map[string]*storeSeries{}
	for _, dir := range s.dirs {
		b, m := openBlock(dir)
		if m.Thanos.Downsample.Resolution != res || m.MinTime > req.MaxTime || m.MaxTime <= req.MinTime {
			b.Close()
			continue
		}
		ir, err := b.Index()
		must(err)
		cr, err := b.Chunks()
		must(err)
		p, err := tsdb.PostingsForMatchers(context.Background(), ir, ms...)
		must(err)
		sb := labels.NewScratchBuilder(16)
		var metas []chunks.Meta
		for p.Next() {
			must(ir.Series(p.At(), &sb, &metas))
			// A copy: the builder's labels view the index, closed with the block.
			cb := labels.NewScratchBuilder(16)
			sb.Labels().Range(func(l labels.Label) { cb.Add(strings.Clone(l.Name), strings.Clone(l.Value)) })
			lset := cb.Labels()
			key := lset.String()
			e, ok := byKey[key]
			if !ok {
				e = &storeSeries{lset: lset}
				byKey[key] = e
			}
			for _, cm := range metas {
				if cm.MaxTime < req.MinTime || cm.MinTime > req.MaxTime {
					continue
				}
				c, _, err := cr.ChunkOrIterable(cm)
				must(err)
				e.chunks = append(e.chunks, aggrChunk(cm, c))
			}
		}
		must(p.Err())
		cr.Close()
		ir.Close()
		b.Close()
	}
	list := make([]*storeSeries, 0, len(byKey))
	for _, e := range byKey {
		if len(e.chunks) > 0 {
			sort.SliceStable(e.chunks, func(i, j int) bool { return e.chunks[i].MinTime < e.chunks[j].MinTime })
			list = append(list, e)
		}
	}
	sort.Slice(list, func(i, j int) bool { return labels.Compare(list[i].lset, list[j].lset) < 0 })
	for _, e := range list {
		series := &storepb.Series{Labels: labelpb.ZLabelsFromPromLabels(e.lset), Chunks: e.chunks}
		if err := srv.Send(storepb.NewSeriesResponse(series)); err != nil {
			return err
		}
	}
	return nil
}

// queryRange evaluates a range query with Prometheus' engine over Thanos'
// querier (its downsampled-chunk iterators and aggregate choice) reading the
// blocks, and prints one JSON line per series: labels and [t, v] points.
func queryRange(expr string, start, end, step, maxRes int64, dirs []string) {
	creator := query.NewQueryableCreator(log.NewNopLogger(), prometheus.NewRegistry(), &blockStore{dirs: dirs}, 4, time.Minute, "", 1)
	queryable := creator(false, nil, nil, maxRes, false, false, nil, query.NoopSeriesStatsReporter)
	engine := promql.NewEngine(promql.EngineOpts{MaxSamples: 50_000_000, Timeout: time.Minute})
	q, err := engine.NewRangeQuery(context.Background(), queryable, nil, expr,
		time.UnixMilli(start), time.UnixMilli(end), time.Duration(step)*time.Millisecond)
	must(err)
	r := q.Exec(context.Background())
	must(r.Err)
	m, err := r.Matrix()
	must(err)
	enc := json.NewEncoder(os.Stdout)
	for _, s := range m {
		points := make([][2]any, 0, len(s.Floats))
		for _, p := range s.Floats {
			points = append(points, [2]any{p.T, fmtV(p.F)})
		}
		must(enc.Encode(map[string]any{"labels": s.Metric.Map(), "points": points}))
	}
}

func parseMillis(a string) int64 {
	n, err := strconv.ParseInt(a, 10, 64)
	must(err)
	return n
}
