package validators

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
)

// TestAbortLeavesNoTrace: a checker that decided transactions and aborted
// some of them decides every later transaction as one that only ever saw
// the committed ones. The streams mix fresh readings, exact retries (some of
// them of readings long gone from the duplicate window), replays, readings
// out of range (the rejected window) and a stuck sensor, over devices with
// hundreds of readings each, so that both rings wrap inside transactions
// that are then aborted.
func TestAbortLeavesNoTrace(t *testing.T) {
	for seed := range 8 {
		rng := rand.New(rand.NewPCG(uint64(seed), 26))
		all := NewChecker(DefaultRules(), 2*time.Minute, time.Hour) // decides every transaction, aborts some
		committed := NewChecker(DefaultRules(), 2*time.Minute, time.Hour)
		const devices = 4
		var seq [devices]uint64
		var eventMs [devices]int64
		var sent []*pb.RawReading
		aborted, decided := 0, 0
		reasons := map[string]int{}
		for tx := range 150 {
			var batch []*pb.RawReading
			for range 1 + rng.IntN(120) {
				if len(sent) > 0 && rng.IntN(8) == 0 { // a retry of any reading sent before
					batch = append(batch, sent[rng.IntN(len(sent))])
					continue
				}
				d := rng.IntN(devices)
				eventMs[d] += 1000 + rng.Int64N(2000)
				seq[d]++
				s := seq[d]
				if rng.IntN(10) == 0 && s > 2 { // a replay: an older number, another signature
					s -= 1 + uint64(rng.IntN(2))
				}
				temp := 20_000 + rng.Int64N(50)*10
				if d == devices-1 {
					temp = 20_000 // a stuck sensor
				}
				if rng.IntN(12) == 0 {
					temp = 61_000 + rng.Int64N(1000) // out of range
				}
				r := &pb.Reading{DeviceId: fmt.Sprintf("d%d", d), Seq: s, EventTimeMs: t0 + eventMs[d], Kind: pb.ResourceKind_RESOURCE_KIND_WEATHER,
					Measurements: map[string]int64{"temperature_c": temp, "humidity_pct": 50_000}}
				raw := &pb.RawReading{Signed: &pb.SignedReading{Reading: r, Signature: []byte(fmt.Sprintf("sig-%d-%d-%d", d, s, rng.IntN(1<<30)))}, ReceivedAtMs: t0 + eventMs[d] + 100}
				batch = append(batch, raw)
				sent = append(sent, raw)
			}
			var got []Decision
			for _, raw := range batch {
				got = append(got, all.Check(raw, nil))
			}
			if rng.IntN(3) == 0 {
				all.Abort()
				aborted++
				continue
			}
			for i, raw := range batch {
				reasons[got[i].Reason]++
				if want := committed.Check(raw, nil); got[i] != want {
					r := raw.Signed.Reading
					t.Fatalf("seed %d, transaction %d (%d aborted before it), %s seq %d: %+v after aborted transactions, %+v without them",
						seed, tx, aborted, r.DeviceId, r.Seq, got[i], want)
				}
			}
			decided += len(batch)
			all.Commit()
			committed.Commit()
		}
		if aborted == 0 || decided < 2000 {
			t.Fatalf("seed %d: %d transactions aborted, %d readings decided in committed ones: too few to tell", seed, aborted, decided)
		}
		for _, reason := range []string{"", ReasonDuplicate, ReasonSequenceReplay, ReasonOutOfRange, ReasonStuckSensor} {
			if reasons[reason] == 0 {
				t.Fatalf("seed %d: no reading decided %q in %v: the streams do not exercise what an abort must take back", seed, reason, reasons)
			}
		}
		if seed == 0 {
			t.Logf("seed 0: %d readings decided in committed transactions, %d transactions aborted: %v", decided, aborted, reasons)
		}
	}
}
