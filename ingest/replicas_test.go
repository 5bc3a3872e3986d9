package ingest

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"sync"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/fieldmint/fieldmint/ingest/client"
	"github.com/fieldmint/fieldmint/internal/kafka"
	"github.com/fieldmint/fieldmint/internal/testenv"
	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
)

// TestReplicasRegisterOneKeyOnce: two ingest replicas on one broker receive,
// at the same moment, registrations that cannot both stand: one key under
// two device ids, and one device id for two owners. In every round exactly
// one registration wins, the other is refused with the conflict's code, and
// both replicas (and a third started afterwards) hold the winner.
func TestReplicasRegisterOneKeyOnce(t *testing.T) {
	kc := kafka.Config{Brokers: testenv.Kafka(t), TopicPrefix: "t.", Partitions: 2}
	a, srvA := startService(t, testConfig(), kc)
	b, srvB := startService(t, testConfig(), kc)
	replicas := []*client.Client{{URL: srvA.URL}, {URL: srvB.URL}}
	owners := []client.Owner{client.OwnerKey(testKey("owner")), client.OwnerKey(testKey("bob"))}
	ctx := context.Background()

	device := func(id string, key ed25519.PrivateKey, owner client.Owner) *pb.Device {
		return &pb.Device{DeviceId: id, PublicKey: key.Public().(ed25519.PublicKey), Kind: pb.ResourceKind_RESOURCE_KIND_WEATHER,
			Owner: owner.Address().Hex(), Location: &pb.Location{LatE7: 387_223_000, LonE7: -91_393_000}}
	}
	// race sends regs[i] to replica i, both released at once, and returns
	// each one's error.
	race := func(regs [2]*pb.Device, keys [2]ed25519.PrivateKey, signers [2]client.Owner) [2]error {
		var errs [2]error
		var start, done sync.WaitGroup
		start.Add(1)
		for i := range 2 {
			done.Go(func() {
				start.Wait()
				errs[i] = replicas[i].Register(ctx, regs[i], keys[i], attest(regs[i]), signers[i])
			})
		}
		start.Done()
		done.Wait()
		return errs
	}
	refused := func(err error) string {
		var e *client.Error
		if errors.As(err, &e) {
			return e.Code
		}
		return fmt.Sprint(err)
	}
	const rounds = 20
	wins := [2]int{}
	var winners []*pb.Device
	for round := range rounds {
		_, key, _ := ed25519.GenerateKey(nil)
		keys := [2]ed25519.PrivateKey{key, key}
		var regs [2]*pb.Device
		var signers [2]client.Owner
		var code string
		if round%2 == 0 { // one key, two ids
			regs = [2]*pb.Device{device(fmt.Sprintf("key-%d-a", round), key, owners[0]), device(fmt.Sprintf("key-%d-b", round), key, owners[0])}
			signers, code = [2]client.Owner{owners[0], owners[0]}, CodeKeyInUse
		} else { // one id, two owners
			regs = [2]*pb.Device{device(fmt.Sprintf("id-%d", round), key, owners[0]), device(fmt.Sprintf("id-%d", round), key, owners[1])}
			signers, code = [2]client.Owner{owners[0], owners[1]}, CodeDeviceExists
		}
		errs := race(regs, keys, signers)
		switch {
		case errs[0] == nil && errs[1] == nil:
			t.Fatalf("round %d: both replicas accepted %s and %s", round, regs[0].DeviceId, regs[1].DeviceId)
		case errs[0] != nil && errs[1] != nil:
			t.Fatalf("round %d: both refused: %v; %v", round, errs[0], errs[1])
		}
		winner := 0
		if errs[0] != nil {
			winner = 1
		}
		wins[winner]++
		if got := refused(errs[1-winner]); got != code {
			t.Fatalf("round %d: the loser was refused with %s, want %s", round, got, code)
		}
		winners = append(winners, regs[winner])
	}
	t.Logf("wins by replica: %v", wins)

	third, _ := startService(t, testConfig(), kc)
	for _, svc := range []*Service{a, b, third} {
		if err := svc.reg.CaughtUp(ctx); err != nil {
			t.Fatal(err)
		}
		for _, w := range winners {
			got := svc.reg.Get(w.DeviceId)
			if got == nil || got.Owner != w.Owner || !proto.Equal(got.Location, w.Location) || svc.reg.ByKey(w.PublicKey) != w.DeviceId {
				t.Fatalf("a replica holds %v for %s, want the winner %v", got, w.DeviceId, w)
			}
		}
	}
}
