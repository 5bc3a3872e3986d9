package ingest

import (
	"crypto/ed25519"
	"net/http"
	"time"
	"unicode"

	"github.com/ethereum/go-ethereum/common"
	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
)

// Reason codes of refused registrations and device changes (besides
// MALFORMED and the transport ones).
const (
	CodeBadOwner           = "BAD_OWNER"             // owner or new_owner is not a 0x-prefixed 20-byte address
	CodeBadLocation        = "BAD_LOCATION"          // asserted location missing or off the globe
	CodeBadDeviceSignature = "BAD_DEVICE_SIGNATURE"  // the device key did not sign the registration (no proof of possession)
	CodeBadOwnerSignature  = "BAD_OWNER_SIGNATURE"   // owner/admin signature is not a valid secp256k1 signature
	CodeNotOwner           = "NOT_OWNER"             // the signature is valid but not by the device's owner
	CodeNotAdmin           = "NOT_ADMIN"             // a denylist change not signed by a configured admin
	CodeSignatureExpired   = "SIGNATURE_EXPIRED"     // issued_at_ms older than ingest.changeMaxAge
	CodeSignatureFuture    = "SIGNATURE_FROM_FUTURE" // issued_at_ms ahead of the ingest clock by more than ingest.changeMaxFuture
	CodeChangeReplayed     = "CHANGE_REPLAYED"       // issued_at_ms not newer than the device's last signed change
	CodeDeviceExists       = "DEVICE_EXISTS"         // the id is registered with another key or kind, or to another owner
	CodeKeyInUse           = "KEY_IN_USE"            // the public key already belongs to another device id
	CodeMovedTooSoon       = "MOVED_TOO_SOON"        // a second move of the asserted location within ingest.minMoveInterval
)

// postDevice registers a device (201), re-registers it (200: a newer
// owner-signed registration may move its asserted location or reactivate it),
// or answers an exact retry with the stored record (200).
func (s *Service) postDevice(w http.ResponseWriter, r *http.Request) {
	var reg pb.Registration
	if !s.decode(w, r, &reg) {
		return
	}
	d := reg.GetDevice()
	switch {
	case d == nil || !pb.ValidID(d.DeviceId):
		fail(w, http.StatusBadRequest, CodeMalformed, "device.device_id must be 1-64 characters of A-Z a-z 0-9 . _ : -")
		return
	case len(d.PublicKey) != ed25519.PublicKeySize:
		fail(w, http.StatusBadRequest, CodeMalformed, "device.public_key must be a 32-byte ed25519 key")
		return
	case d.Kind == pb.ResourceKind_RESOURCE_KIND_UNSPECIFIED || pb.ResourceKind_name[int32(d.Kind)] == "":
		fail(w, http.StatusBadRequest, CodeMalformed, "device.kind must be a known resource kind")
		return
	case !isAddress(d.Owner):
		fail(w, http.StatusBadRequest, CodeBadOwner, "device.owner must be a 0x-prefixed 20-byte hex address")
		return
	case d.Location == nil || d.Location.LatE7 < -90e7 || d.Location.LatE7 > 90e7 || d.Location.LonE7 < -180e7 || d.Location.LonE7 > 180e7 ||
		(d.Location.LatE7 == 0 && d.Location.LonE7 == 0):
		fail(w, http.StatusBadRequest, CodeBadLocation, "device.location must be set: lat_e7 within ±90e7, lon_e7 within ±180e7, not 0,0")
		return
	case d.RegisteredAtMs != 0 || d.Active || d.LastChangeMs != 0 || d.Denied || d.DeniedReason != "" || d.MakerId != "" || d.MovedAtMs != 0 || d.DeniedBy != "":
		fail(w, http.StatusBadRequest, CodeMalformed, "device.registered_at_ms, active, last_change_ms, denied, denied_reason, denied_by, maker_id and moved_at_ms are set by the registry, leave them out")
		return
	}
	if !s.freshChange(w, reg.IssuedAtMs) {
		return
	}
	if pb.VerifyRegistration(&reg) != nil {
		fail(w, http.StatusUnauthorized, CodeBadDeviceSignature, "registration must be signed by the device key being registered")
		return
	}
	if !s.attested(w, &reg) {
		return
	}
	owner := common.HexToAddress(d.Owner)
	signer, err := pb.RecoverText(pb.RegistrationMessage(s.cfg.Network, d, reg.IssuedAtMs), reg.OwnerSignature)
	if err != nil {
		fail(w, http.StatusUnauthorized, CodeBadOwnerSignature, "owner_signature: %v", err)
		return
	}
	if signer != owner {
		fail(w, http.StatusUnauthorized, CodeNotOwner, "owner_signature is not by %s: sign the registration message of network %q with the owner's key", owner.Hex(), s.cfg.Network)
		return
	}

	s.change(w, r, func() (*kgo.Record, func()) {
		if id := s.reg.ByKey(d.PublicKey); id != "" && id != d.DeviceId {
			fail(w, http.StatusConflict, CodeKeyInUse, "this public key is registered to device %q; every device needs its own key", id)
			return nil, nil
		}
		dev := &pb.Device{DeviceId: d.DeviceId, PublicKey: d.PublicKey, Kind: d.Kind, Owner: owner.Hex(), Location: d.Location,
			Active: true, LastChangeMs: reg.IssuedAtMs, RegisteredAtMs: s.now().UnixMilli(), MakerId: reg.Attestation.MakerId, Attestation: reg.Attestation}
		status := http.StatusCreated
		if old := s.reg.Get(d.DeviceId); old != nil {
			switch {
			case string(old.PublicKey) != string(d.PublicKey) || old.Kind != d.Kind || old.Owner != dev.Owner:
				fail(w, http.StatusConflict, CodeDeviceExists, "device %q is registered with another key, kind or owner (an owner change is a transfer)", d.DeviceId)
				return nil, nil
			case old.Denied:
				fail(w, http.StatusForbidden, CodeDeviceDenylisted, "device %q is denylisted: %s", d.DeviceId, old.DeniedReason)
				return nil, nil
			case reg.IssuedAtMs == old.LastChangeMs && old.Active && proto.Equal(old.Location, d.Location) && old.MakerId == dev.MakerId:
				writeDevice(w, http.StatusOK, old) // the same registration, retried: nothing to do
				return nil, nil
			case reg.IssuedAtMs <= old.LastChangeMs:
				fail(w, http.StatusConflict, CodeChangeReplayed, "issued_at_ms %d is not after the device's last signed change (%d)", reg.IssuedAtMs, old.LastChangeMs)
				return nil, nil
			}
			dev.RegisteredAtMs, dev.MovedAtMs, status = old.RegisteredAtMs, old.MovedAtMs, http.StatusOK
			if !proto.Equal(old.Location, d.Location) {
				// A move: the first is free (a location set wrong at
				// registration), the next wait ingest.minMoveInterval.
				if since := time.Duration(reg.IssuedAtMs-old.MovedAtMs) * time.Millisecond; old.MovedAtMs != 0 && since < s.cfg.MinMoveInterval {
					fail(w, http.StatusConflict, CodeMovedTooSoon, "device %q moved %s ago; it may move again %s after that (ingest.minMoveInterval)",
						d.DeviceId, since.Round(time.Second), s.cfg.MinMoveInterval)
					return nil, nil
				}
				dev.MovedAtMs = reg.IssuedAtMs
			}
		}
		return s.deviceRecord(dev), func() {
			s.reg.Put(dev)
			s.log.Info("device registered", "device", dev.DeviceId, "kind", dev.Kind.String(), "owner", dev.Owner)
			writeDevice(w, status, dev)
		}
	})
}

// postChange applies an owner's transfer or deactivation, or an admin's
// denylisting, to a registered device.
func (s *Service) postChange(w http.ResponseWriter, r *http.Request) {
	var c pb.DeviceChange
	if !s.decode(w, r, &c) {
		return
	}
	if !pb.ValidID(c.DeviceId) {
		fail(w, http.StatusBadRequest, CodeMalformed, "device_id must be 1-64 characters of A-Z a-z 0-9 . _ : -")
		return
	}
	switch c.Kind {
	case pb.ChangeKind_CHANGE_KIND_TRANSFER:
		if !isAddress(c.NewOwner) {
			fail(w, http.StatusBadRequest, CodeBadOwner, "new_owner must be a 0x-prefixed 20-byte hex address")
			return
		}
	case pb.ChangeKind_CHANGE_KIND_DENY:
		if !oneLine(c.Reason) {
			fail(w, http.StatusBadRequest, CodeMalformed, "reason must be 1-200 printable characters on one line")
			return
		}
	case pb.ChangeKind_CHANGE_KIND_DEACTIVATE, pb.ChangeKind_CHANGE_KIND_ALLOW:
	default:
		fail(w, http.StatusBadRequest, CodeMalformed, "kind must be CHANGE_KIND_TRANSFER, _DEACTIVATE, _DENY or _ALLOW")
		return
	}
	if (c.NewOwner != "" && c.Kind != pb.ChangeKind_CHANGE_KIND_TRANSFER) || (c.Reason != "" && c.Kind != pb.ChangeKind_CHANGE_KIND_DENY) {
		fail(w, http.StatusBadRequest, CodeMalformed, "new_owner is for transfers and reason for denials only")
		return
	}
	if !s.freshChange(w, c.IssuedAtMs) {
		return
	}
	signer, err := pb.RecoverText(pb.ChangeMessage(s.cfg.Network, &c), c.Signature)
	if err != nil {
		fail(w, http.StatusUnauthorized, CodeBadOwnerSignature, "signature: %v", err)
		return
	}
	byAdmin := c.Kind == pb.ChangeKind_CHANGE_KIND_DENY || c.Kind == pb.ChangeKind_CHANGE_KIND_ALLOW
	if byAdmin && !s.admins[signer] {
		fail(w, http.StatusForbidden, CodeNotAdmin, "%s is not an admin of this registry (ingest.admins)", signer.Hex())
		return
	}

	s.change(w, r, func() (*kgo.Record, func()) {
		old := s.reg.Get(c.DeviceId)
		if old == nil {
			fail(w, http.StatusNotFound, CodeUnknownDevice, "device %q is not registered", c.DeviceId)
			return nil, nil
		}
		dev := proto.Clone(old).(*pb.Device)
		dev.LastChangeMs = c.IssuedAtMs
		switch c.Kind {
		case pb.ChangeKind_CHANGE_KIND_TRANSFER:
			dev.Owner = common.HexToAddress(c.NewOwner).Hex()
		case pb.ChangeKind_CHANGE_KIND_DEACTIVATE:
			dev.Active = false
		case pb.ChangeKind_CHANGE_KIND_DENY:
			dev.Denied, dev.DeniedReason, dev.DeniedBy = true, c.Reason, signer.Hex()
		case pb.ChangeKind_CHANGE_KIND_ALLOW:
			dev.Denied, dev.DeniedReason, dev.DeniedBy = false, "", ""
		}
		if c.IssuedAtMs == old.LastChangeMs && proto.Equal(dev, old) {
			// The same change, retried (a transfer's signer is no longer the owner
			// by then): it is already applied.
			writeDevice(w, http.StatusOK, old)
			return nil, nil
		}
		if !byAdmin && signer.Hex() != old.Owner {
			fail(w, http.StatusForbidden, CodeNotOwner, "the signature is by %s, not by the device's owner", signer.Hex())
			return nil, nil
		}
		if c.IssuedAtMs <= old.LastChangeMs {
			fail(w, http.StatusConflict, CodeChangeReplayed, "issued_at_ms %d is not after the device's last signed change (%d)", c.IssuedAtMs, old.LastChangeMs)
			return nil, nil
		}
		if c.Kind == pb.ChangeKind_CHANGE_KIND_TRANSFER {
			switch {
			case old.Denied:
				fail(w, http.StatusForbidden, CodeDeviceDenylisted, "device %q is denylisted and cannot change hands: %s", c.DeviceId, old.DeniedReason)
				return nil, nil
			case !old.Active:
				fail(w, http.StatusForbidden, CodeDeviceInactive, "device %q is deactivated; register it again before a transfer", c.DeviceId)
				return nil, nil
			case dev.Owner == old.Owner:
				fail(w, http.StatusBadRequest, CodeBadOwner, "new_owner is already the device's owner")
				return nil, nil
			}
		}
		return s.deviceRecord(dev), func() {
			s.reg.Put(dev)
			s.log.Info("device changed", "device", dev.DeviceId, "change", c.Kind.String(), "by", signer.Hex())
			writeDevice(w, http.StatusOK, dev)
		}
	})
}

// getDevice answers GET /v1/devices/{id} with the registry's record.
func (s *Service) getDevice(w http.ResponseWriter, r *http.Request) {
	d := s.reg.Get(r.PathValue("id"))
	if d == nil {
		fail(w, http.StatusNotFound, CodeUnknownDevice, "device %q is not registered", r.PathValue("id"))
		return
	}
	writeDevice(w, http.StatusOK, d)
}

// freshChange refuses a signed change issued too long ago or in the future.
func (s *Service) freshChange(w http.ResponseWriter, issuedAtMs int64) bool {
	now := s.now()
	issued := time.UnixMilli(issuedAtMs)
	switch {
	case issuedAtMs <= 0:
		fail(w, http.StatusBadRequest, CodeMalformed, "issued_at_ms is required: the Unix time in milliseconds the signer signed at")
	case issued.After(now.Add(s.cfg.ChangeMaxFuture)):
		fail(w, http.StatusBadRequest, CodeSignatureFuture, "issued_at_ms is %s ahead of the ingest clock (limit %s)", issued.Sub(now).Round(time.Millisecond), s.cfg.ChangeMaxFuture)
	case issued.Before(now.Add(-s.cfg.ChangeMaxAge)):
		fail(w, http.StatusBadRequest, CodeSignatureExpired, "issued_at_ms is %s old (limit %s): sign again", now.Sub(issued).Round(time.Second), s.cfg.ChangeMaxAge)
	default:
		return true
	}
	return false
}

// deviceRecord is dev's record in the compacted devices topic.
func (s *Service) deviceRecord(dev *pb.Device) *kgo.Record {
	value, _ := proto.Marshal(dev) // cannot fail: a Device has no required fields or maps of messages
	return &kgo.Record{Topic: s.topics.Devices, Key: []byte(dev.DeviceId), Value: value}
}

func writeDevice(w http.ResponseWriter, status int, d *pb.Device) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	b, _ := protojson.Marshal(d)
	w.Write(b)
}

func isAddress(a string) bool { return len(a) == 42 && common.IsHexAddress(a) }

// oneLine reports whether s is 1-200 printable characters without line breaks:
// it goes into a signed text, one field per line.
func oneLine(s string) bool {
	if s == "" || len(s) > 200 {
		return false
	}
	for _, c := range s {
		if !unicode.IsPrint(c) {
			return false
		}
	}
	return true
}
