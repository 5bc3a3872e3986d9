package ingest

import (
	"bytes"
	"encoding/binary"
	"io"
	"net/http"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
	"github.com/fieldmint/fieldmint/schemas/fieldmintpb/fieldmintpbconnect"
)

// frame is a gRPC length-prefixed message.
func frame(m []byte) []byte {
	return append(binary.BigEndian.AppendUint32([]byte{0}, uint32(len(m))), m...)
}

// FuzzGRPC: whatever bytes a client sends as a unary Submit (Connect
// protocol, binary) or as the frames of a Stream (gRPC), ingest writes to
// Kafka exactly the readings its answers say it accepted, and answers
// everything else with an error.
func FuzzGRPC(fz *testing.F) {
	f := newFixture(fz)
	good := marshal(&pb.SubmitRequest{Readings: []*pb.SignedReadingV2{f.readingV2(1), f.readingV2(2)}})
	forged := marshal(&pb.SubmitRequest{Readings: []*pb.SignedReadingV2{f.forged(3)}})
	streamed := marshal(&pb.StreamRequest{Batch: 7, Readings: []*pb.SignedReadingV2{f.readingV2(4)}})
	fz.Add(false, good)
	fz.Add(false, forged)
	fz.Add(false, []byte{0x0a, 0x02, 0x0a, 0x00})
	fz.Add(true, append(frame(streamed), frame(forged)...))
	fz.Add(true, frame(streamed)[:6])
	fz.Add(true, []byte{1, 0, 0, 0, 3, 1, 2, 3}) // compressed flag without a compressor
	fz.Add(true, []byte{0, 0xff, 0xff, 0xff, 0xff})
	t := &http.Transport{Protocols: new(http.Protocols)}
	t.Protocols.SetUnencryptedHTTP2(true)
	h2c := &http.Client{Transport: t, Timeout: 5 * time.Second}
	fz.Fuzz(func(t *testing.T, stream bool, body []byte) {
		before := f.rawRecords(t)
		accepted := 0
		if stream {
			accepted = fuzzStream(t, h2c, f.srv.URL, body)
		} else {
			accepted = fuzzSubmit(t, f.srv.URL, body)
		}
		if added := f.rawRecords(t) - before; added != int64(accepted) {
			t.Fatalf("answers accepted %d readings, %d records written", accepted, added)
		}
	})
}

// fuzzSubmit posts body as a Connect unary Submit and returns how many
// readings the answer says were accepted.
func fuzzSubmit(t *testing.T, url string, body []byte) int {
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Post(url+fieldmintpbconnect.IngestServiceSubmitProcedure, "application/proto", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return 0
	}
	var out pb.SubmitResponse
	if err := proto.Unmarshal(raw, &out); err != nil {
		t.Fatalf("200 with an undecodable body: %v", err)
	}
	if out.Accepted == 0 {
		t.Fatal("200 with no reading accepted: want an error")
	}
	return int(out.Accepted)
}

// fuzzStream sends body as a gRPC Stream's request and returns how many
// readings its acknowledgements say were accepted.
func fuzzStream(t *testing.T, c *http.Client, url string, body []byte) int {
	req, _ := http.NewRequest(http.MethodPost, url+fieldmintpbconnect.IngestServiceStreamProcedure, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/grpc")
	req.Header.Set("TE", "trailers")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	accepted := 0
	for len(raw) >= 5 {
		n := int(binary.BigEndian.Uint32(raw[1:5]))
		if len(raw) < 5+n {
			t.Fatalf("truncated frame in the answer")
		}
		var m pb.StreamResponse
		if err := proto.Unmarshal(raw[5:5+n], &m); err != nil {
			t.Fatalf("undecodable acknowledgement: %v", err)
		}
		accepted += int(m.GetResult().GetAccepted())
		raw = raw[5+n:]
	}
	return accepted
}
