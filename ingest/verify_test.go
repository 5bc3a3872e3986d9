package ingest

import (
	"context"
	"fmt"
	"sync"
	"testing"

	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
)

// TestConcurrentBatchesVerifiedTogether: requests at once, their signatures
// verified together (one verification at a time, so they queue and merge),
// each get their own answer: the forged reading named in the request that
// sent it, every other reading accepted and written once.
func TestConcurrentBatchesVerifiedTogether(t *testing.T) {
	f := newFixtureWith(t, func(c *Config) { c.Verifiers = 1; c.DeviceRate = 0 })
	before := endOffsets(t, f.kc, f.kc.Topics().Raw)
	const senders, requests = 12, 6
	var wg sync.WaitGroup
	errs := make(chan error, senders*requests)
	accepted := make(chan int, senders*requests)
	for g := range senders {
		wg.Go(func() {
			for r := range requests {
				forged := -1
				if r%2 == 0 {
					forged = (g + r) % 10
				}
				batch := make([]*pb.SignedReadingV2, 10)
				for i := range batch {
					seq := uint64(1 + (g*requests+r)*10 + i)
					if batch[i] = f.readingV2(seq); i == forged {
						batch[i] = f.forged(seq)
					}
				}
				res, err := f.sdk.Send(context.Background(), batch)
				if err != nil {
					errs <- err
					return
				}
				accepted <- res.Accepted
				for i, rr := range res.Results {
					if want := i == forged; (rr.Code == CodeBadSignature) != want || (rr.Status == "accepted") == want {
						errs <- fmt.Errorf("sender %d, request %d, reading %d (forged %v): %+v", g, r, i, want, rr)
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	close(accepted)
	for err := range errs {
		t.Fatal(err)
	}
	total := 0
	for n := range accepted {
		total += n
	}
	if want := senders*requests*10 - senders*requests/2; total != want {
		t.Fatalf("%d readings accepted, want %d", total, want)
	}
	if n := endOffsets(t, f.kc, f.kc.Topics().Raw) - before; n != int64(total) {
		t.Fatalf("%d readings written, want the %d accepted", n, total)
	}
}

func TestVerifiersConfig(t *testing.T) {
	cfg := testConfig()
	cfg.Verifiers = -1
	if err := cfg.Validate(); err == nil {
		t.Fatal("verifiers -1 validated")
	}
	cfg.Verifiers = 3
	if err := cfg.Validate(); err != nil {
		t.Fatalf("verifiers 3: %v", err)
	}
}
