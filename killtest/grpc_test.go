package killtest

import (
	"context"
	"testing"
	"time"

	"github.com/fieldmint/fieldmint/ingest/client"
	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
)

// grpcGateways is how many streams the gRPC kill test's devices share.
const grpcGateways = 20

// TestGRPCDevicesSurviveIngestKill is the MQTT kill test over gRPC: 1,000
// devices behind 20 gateways, each gateway one Stream (the SDK's, in this
// test's process), every tenth device on its own with unary Submit calls,
// while ingest is killed with SIGKILL three times, once with Kafka stalled.
// The streams send every batch not acknowledged again, in order, on a new
// stream. Afterwards every reading acknowledged is stored exactly once, every
// device got every batch acknowledged (each valid reading accepted, each
// forged one rejected), and no forged reading is stored.
func TestGRPCDevicesSurviveIngestKill(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a pipeline for about a minute")
	}
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	p := newPipeline(t, ctx)
	ingest := p.start("ingest", "ingest")
	p.start("validate", "validate")
	p.start("aggregate", "aggregate")
	p.register() // the maker, and the kill tests' 30 stations over HTTP
	f := newKillFleet(p, "gr")
	g := client.NewGRPC(client.GRPCOptions{URL: p.sdk.URL, MaxBackoff: time.Second, OnRetry: func(error) { f.resends.Add(1) }})
	streams := make([]*client.Stream, grpcGateways)
	for i := range streams {
		streams[i] = g.Stream(ctx, 0)
	}
	defer func() {
		for _, st := range streams {
			st.Close(ctx)
		}
	}()
	f.dial = func(ctx context.Context, d int, _ string) (sender, func(), error) {
		if d%10 == 0 {
			return g.Submit, func() {}, nil
		}
		st := streams[d%grpcGateways]
		return func(ctx context.Context, batch []*pb.SignedReadingV2) (*client.Result, error) {
			a, err := st.Send(ctx, batch)
			if err != nil {
				return nil, err
			}
			return a.Wait(ctx)
		}, func() {}, nil
	}
	f.run(ctx, ingest)
}
