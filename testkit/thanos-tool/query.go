package main

import (
	"context"
	"encoding/json"
	"os"
	"strconv"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/promql"
	"github.com/thanos-io/objstore"
	"github.com/thanos-io/objstore/providers/filesystem"
	"github.com/thanos-io/thanos/pkg/block"
	"github.com/thanos-io/thanos/pkg/query"
	"github.com/thanos-io/thanos/pkg/store"
)

// bucketStore opens Thanos' store gateway (its BucketStore) over a
// directory of blocks, with the metadata filters the store gateway uses:
// blocks marked for deletion are left out at once (the store gateway's
// --ignore-deletion-marks-delay set to 0) and blocks whose sources a newer
// block holds are dropped (its deduplicate filter). Blocks are picked per
// resolution by the store itself (max_source_resolution, gap filling).
func bucketStore(dir string) *store.BucketStore {
	logger := log.NewNopLogger()
	bkt, err := filesystem.NewBucket(dir)
	must(err)
	ins := objstore.WithNoopInstr(bkt)
	cache, err := os.MkdirTemp("", "thanos-store-")
	must(err)
	fetcher, err := block.NewMetaFetcher(logger, 4, ins, block.NewConcurrentLister(logger, ins), cache, nil, []block.MetadataFilter{
		block.NewIgnoreDeletionMarkFilter(logger, ins, 0, 4),
		block.NewDeduplicateFilter(4),
	})
	must(err)
	s, err := store.NewBucketStore(ins, fetcher, cache,
		store.NewChunksLimiterFactory(0), store.NewSeriesLimiterFactory(0), store.NewBytesLimiterFactory(0),
		store.NewGapBasedPartitioner(store.PartitionerMaxGapSize), 4, store.DefaultPostingOffsetInMemorySampling,
		false, false, time.Minute)
	must(err)
	must(s.SyncBlocks(context.Background()))
	return s
}

// queryRange evaluates a range query with Prometheus' engine over Thanos'
// querier (its aggregate choice per function and its downsampled-chunk
// iterators) and store gateway reading the bucket directory, reading at
// most maxRes ms, and prints one JSON line per series: labels and [t, v] points.
func queryRange(expr string, start, end, step, maxRes int64, dir string) {
	s := bucketStore(dir)
	defer s.Close()
	creator := query.NewQueryableCreator(log.NewNopLogger(), prometheus.NewRegistry(), s, 4, time.Minute, "", 1)
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
	for _, series := range m {
		points := make([][2]any, 0, len(series.Floats))
		for _, p := range series.Floats {
			points = append(points, [2]any{p.T, fmtV(p.F)})
		}
		must(enc.Encode(map[string]any{"labels": series.Metric.Map(), "points": points}))
	}
}

func parseMillis(a string) int64 {
	n, err := strconv.ParseInt(a, 10, 64)
	must(err)
	return n
}
