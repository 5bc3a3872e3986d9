package fieldmintpb

import (
	"crypto/ed25519"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
)

// Makers vouch for hardware: at manufacture a maker signs each device's
// public key and kind with its own ed25519 key, and the network registers
// only devices whose attestation verifies under an active maker's key. A
// key made up at home has no attestation, so a believable stream from it
// is not paid as a device.

// AttestationDomain prefixes the bytes a maker signs.
const AttestationDomain = "fieldmint/attest/v1\n"

// ErrBadAttestation means an attestation is malformed or its signature does
// not verify under the maker's key.
var ErrBadAttestation = errors.New("attestation does not verify under the maker's key")

// AttestationBytes returns what a maker signs for a device: AttestationDomain,
// the device's 32-byte ed25519 public key, and its kind as a 4-byte
// big-endian number. Fixed-length fields, no encoding library: firmware
// tooling in any language builds the same bytes.
func AttestationBytes(devicePub []byte, kind ResourceKind) []byte {
	b := make([]byte, 0, len(AttestationDomain)+len(devicePub)+4)
	b = append(b, AttestationDomain...)
	b = append(b, devicePub...)
	return binary.BigEndian.AppendUint32(b, uint32(kind))
}

// Attest is the maker's signature over a device's key and kind.
func Attest(makerID string, makerKey ed25519.PrivateKey, devicePub []byte, kind ResourceKind) *Attestation {
	return &Attestation{MakerId: makerID, Signature: ed25519.Sign(makerKey, AttestationBytes(devicePub, kind))}
}

// VerifyAttestation checks a's signature of the device's key and kind under
// the maker's public key.
func VerifyAttestation(a *Attestation, makerPub, devicePub []byte, kind ResourceKind) error {
	if len(makerPub) != ed25519.PublicKeySize || len(devicePub) != ed25519.PublicKeySize || len(a.GetSignature()) != ed25519.SignatureSize {
		return ErrBadAttestation
	}
	if !ed25519.Verify(makerPub, AttestationBytes(devicePub, kind), a.GetSignature()) {
		return ErrBadAttestation
	}
	return nil
}

// MakerMessage is the text an admin signs (EIP-191 personal_sign) to add or
// remove a maker.
func MakerMessage(network string, c *MakerChange) string {
	if c.GetRemove() {
		return fmt.Sprintf("fieldmint: remove maker\nnetwork: %s\nmaker: %s\nissued at ms: %d", network, c.GetMakerId(), c.GetIssuedAtMs())
	}
	return fmt.Sprintf("fieldmint: add maker\nnetwork: %s\nmaker: %s\npublic key: 0x%s\nname: %s\nissued at ms: %d",
		network, c.GetMakerId(), hex.EncodeToString(c.GetPublicKey()), c.GetName(), c.GetIssuedAtMs())
}
