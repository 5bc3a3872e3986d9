package ingest

import (
	"crypto/ed25519"
	"net/http"

	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
)

// Reason codes of attestations and maker changes.
const (
	CodeNoAttestation  = "NO_ATTESTATION"  // a registration without a maker's attestation
	CodeUnknownMaker   = "UNKNOWN_MAKER"   // the attestation names a maker the network does not know
	CodeMakerRemoved   = "MAKER_REMOVED"   // the attestation's maker was removed by an admin
	CodeBadAttestation = "BAD_ATTESTATION" // the attestation does not verify under the maker's key
)

// attested checks a registration's attestation: an active maker's
// signature over the device's key and kind. It answers the refusal itself.
func (s *Service) attested(w http.ResponseWriter, reg *pb.Registration) bool {
	a, d := reg.GetAttestation(), reg.GetDevice()
	if a == nil {
		fail(w, http.StatusUnauthorized, CodeNoAttestation, "attestation is required: the device maker's signature over the device's public key and kind (docs/wire-format.md)")
		return false
	}
	m := s.reg.Maker(a.MakerId)
	switch {
	case m == nil:
		fail(w, http.StatusUnauthorized, CodeUnknownMaker, "maker %q is not registered with this network", a.MakerId)
	case !m.Active:
		fail(w, http.StatusForbidden, CodeMakerRemoved, "maker %q was removed from this network; its devices are not accepted", a.MakerId)
	case pb.VerifyAttestation(a, m.PublicKey, d.PublicKey, d.Kind) != nil:
		fail(w, http.StatusUnauthorized, CodeBadAttestation, "the attestation does not verify under maker %q's key for this device key and kind %s", a.MakerId, d.Kind)
	default:
		return true
	}
	return false
}

// makerRemoved reports whether an admin removed the maker. A maker this
// instance has not heard of yet is not removed: the device's registration
// checked it, and the makers topic may be a little behind the devices one.
func (s *Service) makerRemoved(id string) bool {
	m := s.reg.Maker(id)
	return m != nil && !m.Active
}

// postMaker adds, replaces or removes a maker: an admin's signed change.
func (s *Service) postMaker(w http.ResponseWriter, r *http.Request) {
	var c pb.MakerChange
	if !s.decode(w, r, &c) {
		return
	}
	switch {
	case !pb.ValidID(c.MakerId):
		fail(w, http.StatusBadRequest, CodeMalformed, "maker_id must be 1-64 characters of A-Z a-z 0-9 . _ : -")
		return
	case c.Remove && (len(c.PublicKey) != 0 || c.Name != ""):
		fail(w, http.StatusBadRequest, CodeMalformed, "a removal names the maker only: leave public_key and name out")
		return
	case !c.Remove && len(c.PublicKey) != ed25519.PublicKeySize:
		fail(w, http.StatusBadRequest, CodeMalformed, "public_key must be the maker's 32-byte ed25519 key")
		return
	case !c.Remove && !oneLine(c.Name):
		fail(w, http.StatusBadRequest, CodeMalformed, "name must be 1-200 printable characters on one line")
		return
	}
	if !s.freshChange(w, c.IssuedAtMs) {
		return
	}
	signer, err := pb.RecoverText(pb.MakerMessage(s.cfg.Network, &c), c.Signature)
	if err != nil {
		fail(w, http.StatusUnauthorized, CodeBadOwnerSignature, "signature: %v", err)
		return
	}
	if !s.admins[signer] {
		fail(w, http.StatusForbidden, CodeNotAdmin, "%s is not an admin of this registry (ingest.admins)", signer.Hex())
		return
	}
	s.change(w, r, func() (*kgo.Record, func()) {
		old := s.reg.Maker(c.MakerId)
		m := &pb.Maker{MakerId: c.MakerId, PublicKey: c.PublicKey, Name: c.Name, Active: !c.Remove, LastChangeMs: c.IssuedAtMs}
		if c.Remove && old != nil {
			m.PublicKey, m.Name = old.PublicKey, old.Name
		}
		switch {
		case old == nil && c.Remove:
			fail(w, http.StatusNotFound, CodeUnknownMaker, "maker %q is not registered", c.MakerId)
			return nil, nil
		case old != nil && proto.Equal(old, m):
			writeMaker(w, http.StatusOK, old) // the same change, retried
			return nil, nil
		case old != nil && c.IssuedAtMs <= old.LastChangeMs:
			fail(w, http.StatusConflict, CodeChangeReplayed, "issued_at_ms %d is not after the maker's last signed change (%d)", c.IssuedAtMs, old.LastChangeMs)
			return nil, nil
		}
		value, _ := proto.Marshal(m)
		rec := &kgo.Record{Topic: s.topics.Makers, Key: []byte(m.MakerId), Value: value}
		return rec, func() {
			s.reg.PutMaker(m)
			s.log.Info("maker changed", "maker", m.MakerId, "active", m.Active, "by", signer.Hex())
			status := http.StatusOK
			if old == nil {
				status = http.StatusCreated
			}
			writeMaker(w, status, m)
		}
	})
}

// getMaker answers GET /v1/makers/{id}.
func (s *Service) getMaker(w http.ResponseWriter, r *http.Request) {
	m := s.reg.Maker(r.PathValue("id"))
	if m == nil {
		fail(w, http.StatusNotFound, CodeUnknownMaker, "maker %q is not registered", r.PathValue("id"))
		return
	}
	writeMaker(w, http.StatusOK, m)
}

func writeMaker(w http.ResponseWriter, status int, m *pb.Maker) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	b, _ := protojson.Marshal(m)
	w.Write(b)
}
