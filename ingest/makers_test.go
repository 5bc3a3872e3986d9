package ingest

import (
	"context"
	"crypto/ed25519"
	"errors"
	"net/http"
	"testing"

	"github.com/fieldmint/fieldmint/ingest/client"
	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
)

// TestMakerAttestation: a device registers only with an attestation of its
// key and kind by a maker an admin added; a maker's removal refuses its
// devices' registrations and readings, and adding it back restores them.
// Every refusal carries its code and writes nothing.
func TestMakerAttestation(t *testing.T) {
	f := newFixture(t) // dev-1 registered, attested by the test maker
	ctx := context.Background()
	owner, admin := client.OwnerKey(f.owner), client.OwnerKey(f.admin)
	maker := testMaker()
	_, homeMade, _ := ed25519.GenerateKey(nil)
	_, key2, _ := ed25519.GenerateKey(nil)
	d2 := f.device("dev-2")
	d2.PublicKey = key2.Public().(ed25519.PublicKey)
	otherKind := pb.ResourceKind_RESOURCE_KIND_ENERGY

	refused := func(err error) (int, string) {
		var e *client.Error
		if !errors.As(err, &e) {
			return 0, ""
		}
		return e.Status, e.Code
	}
	before := endOffsets(t, f.kc, f.svc.topics.Devices) + endOffsets(t, f.kc, f.svc.topics.Makers)
	for _, c := range []struct {
		name   string
		att    *pb.Attestation
		status int
		code   string
	}{
		{"no attestation", nil, 401, CodeNoAttestation},
		{"an unknown maker", client.Maker{ID: "garage", Key: homeMade}.Attest(d2.PublicKey, d2.Kind), 401, CodeUnknownMaker},
		{"a home-made key under the maker's name", client.Maker{ID: maker.ID, Key: homeMade}.Attest(d2.PublicKey, d2.Kind), 401, CodeBadAttestation},
		{"the maker's word for another kind", maker.Attest(d2.PublicKey, otherKind), 401, CodeBadAttestation},
		{"the maker's word for another key", maker.Attest(f.key.Public().(ed25519.PublicKey), d2.Kind), 401, CodeBadAttestation},
	} {
		status, code := refused(f.sdk.Register(ctx, d2, key2, c.att, owner))
		if status != c.status || code != c.code {
			t.Errorf("registration with %s: %d %s, want %d %s", c.name, status, code, c.status, c.code)
		}
	}
	// Only an admin adds or removes makers, and only well-formed ones.
	if status, code := refused(f.sdk.AddMaker(ctx, "garage", "my garage", homeMade.Public().(ed25519.PublicKey), owner)); status != 403 || code != CodeNotAdmin {
		t.Errorf("a maker added by an owner: %d %s, want 403 %s", status, code, CodeNotAdmin)
	}
	if status, code := refused(f.sdk.AddMaker(ctx, "garage", "my garage", []byte{1, 2, 3}, admin)); status != 400 || code != CodeMalformed {
		t.Errorf("a maker with a 3-byte key: %d %s, want 400 %s", status, code, CodeMalformed)
	}
	if status, code := refused(f.sdk.RemoveMaker(ctx, "nobody", admin)); status != 404 || code != CodeUnknownMaker {
		t.Errorf("removing an unknown maker: %d %s, want 404 %s", status, code, CodeUnknownMaker)
	}
	if after := endOffsets(t, f.kc, f.svc.topics.Devices) + endOffsets(t, f.kc, f.svc.topics.Makers); after != before {
		t.Fatalf("refused requests wrote %d records", after-before)
	}

	// The maker removed: its devices' readings and registrations are refused.
	if err := f.sdk.RemoveMaker(ctx, maker.ID, admin); err != nil {
		t.Fatal(err)
	}
	if code, e := f.post(t, "/v1/readings", "application/x-protobuf", f.batch(1)); code != http.StatusForbidden || e.Code != CodeMakerRemoved {
		t.Errorf("a reading of a removed maker's device: %d %+v, want 403 %s", code, e, CodeMakerRemoved)
	}
	if status, code := refused(f.sdk.Register(ctx, d2, key2, maker.Attest(d2.PublicKey, d2.Kind), owner)); status != 403 || code != CodeMakerRemoved {
		t.Errorf("registration attested by a removed maker: %d %s, want 403 %s", status, code, CodeMakerRemoved)
	}
	resp, err := http.Get(f.srv.URL + "/v1/makers/" + maker.ID)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET the maker: %v %v", err, resp)
	}
	resp.Body.Close()

	// Added back (a newer signed change: the client's issued_at_ms only
	// grows): registrations and readings pass.
	if err := f.sdk.AddMaker(ctx, maker.ID, "test maker", maker.Key.Public().(ed25519.PublicKey), admin); err != nil {
		t.Fatal(err)
	}
	if err := f.sdk.Register(ctx, d2, key2, maker.Attest(d2.PublicKey, d2.Kind), owner); err != nil {
		t.Errorf("registration after the maker came back: %v", err)
	}
	if code, e := f.post(t, "/v1/readings", "application/x-protobuf", f.batch(1)); code != http.StatusOK {
		t.Errorf("a reading after the maker came back: %d %+v", code, e)
	}
	if got := f.svc.reg.Get("dev-2"); got == nil || got.MakerId != maker.ID {
		t.Errorf("dev-2 in the registry: %v, want maker %s", got, maker.ID)
	}
}
