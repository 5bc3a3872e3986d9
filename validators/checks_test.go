package validators

import (
	"strings"
	"testing"
	"time"

	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
)

func raw(seq uint64, eventMs, receivedMs int64, sig byte, m map[string]int64) *pb.RawReading {
	if m == nil {
		m = map[string]int64{"temperature_c": 20_000}
	}
	return &pb.RawReading{
		Signed: &pb.SignedReading{
			Reading:   &pb.Reading{DeviceId: "d", Seq: seq, EventTimeMs: eventMs, Kind: pb.ResourceKind_RESOURCE_KIND_WEATHER, Measurements: m},
			Signature: []byte{sig},
		},
		ReceivedAtMs: receivedMs,
	}
}

func TestChecks(t *testing.T) {
	const now = 1_700_000_000_000
	c := NewChecker(DefaultRules(), 2*time.Minute, time.Hour)
	steps := []struct {
		name   string
		in     *pb.RawReading
		reason string
	}{
		{"first reading", raw(10, now, now, 1, nil), ""},
		{"retried send", raw(10, now, now+5, 1, nil), ReasonDuplicate},
		{"same seq other content", raw(10, now, now, 2, nil), ReasonSequenceReplay},
		{"older seq", raw(9, now, now, 3, nil), ReasonSequenceReplay},
		{"future", raw(11, now+3*60_000, now, 4, nil), ReasonClockFuture},
		{"just inside future limit", raw(12, now+2*60_000, now, 5, nil), ""},
		{"stale", raw(13, now-2*3_600_000, now, 6, nil), ReasonClockStale},
		{"too hot", raw(14, now, now, 7, map[string]int64{"temperature_c": 60_001}), ReasonOutOfRange},
		{"too cold", raw(15, now, now, 8, map[string]int64{"temperature_c": -90_001}), ReasonOutOfRange},
		{"edge of range", raw(16, now, now, 9, map[string]int64{"temperature_c": 60_000, "humidity_pct": 0}), ""},
		{"other kind's measurement", raw(17, now, now, 10, map[string]int64{"power_w": 5}), ReasonUnknownMeasurement},
		{"next valid", raw(18, now, now, 11, nil), ""},
	}
	for _, s := range steps {
		d := c.Check(s.in)
		if d.Reason != s.reason {
			t.Fatalf("%s: reason %q (%s), want %q", s.name, d.Reason, d.Detail, s.reason)
		}
		if s.reason != "" && d.Detail == "" {
			t.Errorf("%s: rejection without evidence", s.name)
		}
		if s.reason == "" && d.Score == 0 {
			t.Errorf("%s: valid reading scored 0", s.name)
		}
		c.Commit()
	}
}

func TestAbortForgetsPendingDecisions(t *testing.T) {
	c := NewChecker(DefaultRules(), time.Minute, time.Hour)
	if d := c.Check(raw(1, 1000, 1000, 1, nil)); d.Reason != "" {
		t.Fatal(d)
	}
	// Within the same transaction the device's history already counts.
	if d := c.Check(raw(1, 1000, 1000, 1, nil)); d.Reason != ReasonDuplicate {
		t.Fatalf("in-transaction duplicate: %q", d.Reason)
	}
	c.Abort()
	// The transaction aborted: the same reading decided again is valid.
	if d := c.Check(raw(1, 1000, 1000, 1, nil)); d.Reason != "" {
		t.Fatalf("after abort: %q %s", d.Reason, d.Detail)
	}
}

func TestDetailNamesTheEvidence(t *testing.T) {
	c := NewChecker(DefaultRules(), time.Minute, time.Hour)
	d := c.Check(raw(1, 1000, 1000, 1, map[string]int64{"humidity_pct": 150_000}))
	if !strings.Contains(d.Detail, "humidity_pct=150000") {
		t.Fatalf("detail %q does not show the value", d.Detail)
	}
}
