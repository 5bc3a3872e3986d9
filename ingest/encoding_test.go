package ingest

import (
	"bytes"
	"compress/gzip"
	"net/http"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
	"google.golang.org/protobuf/encoding/protojson"

	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
)

func gzipped(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

func zstded(b []byte) []byte {
	enc, _ := zstd.NewWriter(nil)
	defer enc.Close()
	return enc.EncodeAll(b, nil)
}

// TestBodyEncodings: gzip and zstd bodies, newline-delimited JSON, and the
// refusals around them, each with its reason and nothing written to Kafka.
func TestBodyEncodings(t *testing.T) {
	f := newFixture(t) // bodies up to 64 KiB, batches up to 10
	ndjson := func(seqs ...uint64) []byte {
		var lines []string
		for _, s := range seqs {
			j, _ := protojson.Marshal(f.reading(s))
			lines = append(lines, string(j))
		}
		return []byte(strings.Join(lines, "\n") + "\n\n")
	}
	jsonBody, _ := protojson.Marshal(&pb.ReadingBatch{Readings: []*pb.SignedReading{f.reading(40)}})
	bomb := gzipped(bytes.Repeat([]byte{0}, 1<<20)) // 1 KiB that inflates to 1 MiB

	for _, c := range []struct {
		name, contentType, encoding string
		body                        []byte
		status                      int
		code                        string
		accepted                    int
	}{
		{"gzip protobuf", "application/x-protobuf", "gzip", gzipped(f.batch(1, 2, 3)), 200, "", 3},
		{"zstd JSON", "application/json", "zstd", zstded(jsonBody), 200, "", 1},
		{"newline-delimited JSON", "application/x-ndjson", "", ndjson(10, 11), 200, "", 2},
		{"gzip newline-delimited JSON", "application/x-ndjson", "GZIP", gzipped(ndjson(20, 21, 22)), 200, "", 3},
		{"unknown encoding", "application/x-protobuf", "br", f.batch(30), 415, CodeUnsupportedEncoding, 0},
		{"gzip header, plain body", "application/x-protobuf", "gzip", f.batch(31), 400, CodeMalformed, 0},
		{"truncated zstd", "application/x-protobuf", "zstd", zstded(f.batch(32, 33))[:20], 400, CodeMalformed, 0},
		{"gzip bomb", "application/x-protobuf", "gzip", bomb, 413, CodeTooLarge, 0},
		{"bad NDJSON line", "application/x-ndjson", "", append(ndjson(34), []byte("{not json\n")...), 400, CodeMalformed, 0},
		{"empty NDJSON", "application/x-ndjson", "", []byte("\n\n"), 400, CodeEmptyBatch, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := rawRecords(t, f.kc)
			status, res := f.send(t, http.MethodPost, "/v1/readings", c.contentType, c.encoding, c.body)
			if status != c.status || res.Code != c.code || res.Accepted != c.accepted {
				t.Fatalf("%d %+v, want %d %q accepted %d", status, res, c.status, c.code, c.accepted)
			}
			if got := rawRecords(t, f.kc) - before; got != int64(c.accepted) {
				t.Fatalf("%d readings written to Kafka, want %d", got, c.accepted)
			}
		})
	}
}
