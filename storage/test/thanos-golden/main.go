// Command generate writes the Thanos bucket-format golden files that
// storage/test/catalog-formats.test.ts compares promstream's catalog against,
// using Thanos' own types and encoders (v0.42.5), and checks files written by
// promstream with Thanos' own readers.
//
//	go run . write ../   # regenerate the golden files
//	go run . check DIR   # read DIR/<name>.json files with Thanos' readers
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/go-kit/log"
	"github.com/oklog/ulid/v2"
	"github.com/prometheus/prometheus/tsdb"
	"github.com/thanos-io/objstore"
	"github.com/thanos-io/objstore/providers/filesystem"
	"github.com/thanos-io/thanos/pkg/block/metadata"
)

var (
	blockID = ulid.MustParse("01HF816CEH0049R3BH1RNJ9KXH")
	src1    = ulid.MustParse("01HF7ZQ4A0SEQ9VJ8K2M3N4P5Q")
	src2    = ulid.MustParse("01HF86KZ80SEQ9VJ8K2M3N4P5R")
)

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// marshal encodes a mark as block.MarkForDeletion / MarkForNoCompact / MarkForNoDownsample do.
func marshal(v any) []byte {
	b, err := json.Marshal(v)
	must(err)
	return b
}

// writeMeta encodes a meta as metadata.Meta.WriteToDir does.
func writeMeta(m metadata.Meta) []byte {
	var buf bytes.Buffer
	must(m.Write(&buf))
	return buf.Bytes()
}

func write(dir string) {
	files := map[string][]byte{
		"deletion-mark.json": marshal(metadata.DeletionMark{
			ID: blockID, DeletionTime: 1700000000, Version: metadata.DeletionMarkVersion1,
			Details: "compacted into 01HF8GZS00SEQ9VJ8K2M3N4P5S",
		}),
		"deletion-mark-no-details.json": marshal(metadata.DeletionMark{
			ID: blockID, DeletionTime: 1700000001, Version: metadata.DeletionMarkVersion1,
		}),
		"deletion-mark-escaped.json": marshal(metadata.DeletionMark{
			ID: blockID, DeletionTime: 1700000005, Version: metadata.DeletionMarkVersion1,
			Details: "sources <2h> & \"vertical\"\n\u2028\x01",
		}),
		"no-compact-mark.json": marshal(metadata.NoCompactMark{
			ID: blockID, Version: metadata.NoCompactMarkVersion1, NoCompactTime: 1700000002,
			Reason: metadata.ManualNoCompactReason, Details: "operator asked",
		}),
		"no-compact-mark-out-of-order.json": marshal(metadata.NoCompactMark{
			ID: blockID, Version: metadata.NoCompactMarkVersion1, NoCompactTime: 1700000003,
			Reason: metadata.OutOfOrderChunksNoCompactReason,
		}),
		"no-downsample-mark.json": marshal(metadata.NoDownsampleMark{
			ID: blockID, Version: metadata.NoDownsampleMarkVersion1, NoDownsampleTime: 1700000004,
			Reason: metadata.ManualNoDownsampleReason,
		}),
		"meta-compactor-5m.json": writeMeta(metadata.Meta{
			BlockMeta: tsdb.BlockMeta{
				ULID: blockID, MinTime: 1699920000000, MaxTime: 1700092800000,
				Stats: tsdb.BlockStats{NumSamples: 57600, NumSeries: 12, NumChunks: 480},
				Compaction: tsdb.BlockMetaCompaction{
					Level: 3, Sources: []ulid.ULID{src1, src2},
					Parents: []tsdb.BlockDesc{
						{ULID: src1, MinTime: 1699920000000, MaxTime: 1700006400000},
						{ULID: src2, MinTime: 1700006400000, MaxTime: 1700092800000},
					},
				},
				Version: metadata.TSDBVersion1,
			},
			Thanos: metadata.Thanos{
				Labels:       map[string]string{"replica": "a", "cluster": "eu1"},
				Downsample:   metadata.ThanosDownsample{Resolution: 300000},
				Source:       metadata.CompactorSource,
				SegmentFiles: []string{"000001"},
				Files: []metadata.File{
					{RelPath: "chunks/000001", SizeBytes: 123456},
					{RelPath: "index", SizeBytes: 7890},
					{RelPath: "meta.json"},
				},
				IndexStats: metadata.IndexStats{SeriesMaxSize: 512, ChunkMaxSize: 2048},
			},
		}),
		"meta-sidecar-raw.json": writeMeta(metadata.Meta{
			BlockMeta: tsdb.BlockMeta{
				ULID: src1, MinTime: 1699920000000, MaxTime: 1699927200000,
				Stats:      tsdb.BlockStats{NumSamples: 2880, NumSeries: 12, NumChunks: 24},
				Compaction: tsdb.BlockMetaCompaction{Level: 1, Sources: []ulid.ULID{src1}},
				Version:    metadata.TSDBVersion1,
			},
			Thanos: metadata.Thanos{
				Downsample: metadata.ThanosDownsample{Resolution: 0},
				Source:     metadata.SidecarSource,
			},
		}),
	}
	// A plain Prometheus block's meta.json (no thanos section), as tsdb writes it.
	prom, err := json.MarshalIndent(tsdb.BlockMeta{
		ULID: src2, MinTime: 1700006400000, MaxTime: 1700013600000,
		Stats:      tsdb.BlockStats{NumSamples: 100, NumSeries: 1, NumChunks: 1},
		Compaction: tsdb.BlockMetaCompaction{Level: 1, Sources: []ulid.ULID{src2}},
		Version:    1,
	}, "", "\t")
	must(err)
	files["meta-prometheus.json"] = prom
	for name, b := range files {
		must(os.WriteFile(filepath.Join(dir, name), b, 0o644))
	}
}

// check reads every <block>/<file> under dir with Thanos' readers and prints what they saw.
func check(dir string) {
	bkt, err := filesystem.NewBucket(dir)
	must(err)
	ibkt := objstore.WithNoopInstr(bkt)
	ctx := context.Background()
	logger := log.NewNopLogger()
	var lines []string
	must(bkt.Iter(ctx, "", func(name string) error {
		id := strings.TrimSuffix(name, "/")
		return bkt.Iter(ctx, name, func(f string) error {
			switch filepath.Base(f) {
			case metadata.DeletionMarkFilename:
				var m metadata.DeletionMark
				err := metadata.ReadMarker(ctx, logger, ibkt, id, &m)
				lines = append(lines, fmt.Sprintf("%s deletion-mark err=%v %s", id, err, marshal(m)))
			case metadata.NoCompactMarkFilename:
				var m metadata.NoCompactMark
				err := metadata.ReadMarker(ctx, logger, ibkt, id, &m)
				lines = append(lines, fmt.Sprintf("%s no-compact-mark err=%v %s", id, err, marshal(m)))
			case metadata.NoDownsampleMarkFilename:
				var m metadata.NoDownsampleMark
				err := metadata.ReadMarker(ctx, logger, ibkt, id, &m)
				lines = append(lines, fmt.Sprintf("%s no-downsample-mark err=%v %s", id, err, marshal(m)))
			case metadata.MetaFilename:
				r, err := bkt.Get(ctx, f)
				must(err)
				m, err := metadata.Read(r)
				if err != nil {
					lines = append(lines, fmt.Sprintf("%s meta err=%v", id, err))
				} else {
					lines = append(lines, fmt.Sprintf("%s meta ulid=%s minTime=%d maxTime=%d level=%d sources=%v resolution=%d labels=%v source=%s",
						id, m.ULID, m.MinTime, m.MaxTime, m.Compaction.Level, m.Compaction.Sources, m.Thanos.Downsample.Resolution, m.Thanos.Labels, m.Thanos.Source))
				}
			}
			return nil
		})
	}))
	sort.Strings(lines)
	for _, l := range lines {
		fmt.Println(l)
	}
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: generate write|check DIR")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "write":
		write(os.Args[2])
	case "check":
		check(os.Args[2])
	default:
		fmt.Fprintln(os.Stderr, "usage: generate write|check DIR")
		os.Exit(2)
	}
}
