package fieldmintpb

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"

	voi "github.com/oasisprotocol/curve25519-voi/primitives/ed25519"
	"google.golang.org/protobuf/proto"
)

// SigningDomain prefixes every signed reading so that a signature over a
// reading can never be replayed as a signature over anything else.
const SigningDomain = "fieldmint/reading/v1\n"

// ErrBadSignature means the signature does not verify under the device key.
var ErrBadSignature = errors.New("signature does not verify")

// CanonicalBytes returns the exact bytes a device signs: SigningDomain
// followed by the deterministic protobuf encoding of r.
func CanonicalBytes(r *Reading) ([]byte, error) {
	body, err := proto.MarshalOptions{Deterministic: true}.Marshal(r)
	if err != nil {
		return nil, err
	}
	return append([]byte(SigningDomain), body...), nil
}

// Sign signs r with the device's private key.
func Sign(r *Reading, key ed25519.PrivateKey) (*SignedReading, error) {
	msg, err := CanonicalBytes(r)
	if err != nil {
		return nil, err
	}
	return &SignedReading{Reading: r, Signature: ed25519.Sign(key, msg)}, nil
}

// verifyOptions: ZIP 215 rules, in single and batch verification alike, so
// that a signature is judged the same alone or in a batch. Every signature
// an RFC 8032 signer makes verifies under them.
var verifyOptions = &voi.Options{Verify: voi.VerifyOptionsZIP_215}

// Key is a device's public key expanded for verification: the point is
// decompressed once (at registration, say), not for every reading.
type Key = voi.ExpandedPublicKey

// ExpandKey expands a 32-byte ed25519 public key.
func ExpandKey(pub []byte) (*Key, error) {
	if len(pub) != ed25519.PublicKeySize {
		return nil, ErrBadSignature
	}
	return voi.NewExpandedPublicKey(voi.PublicKey(pub))
}

// Verify checks s's signature against the device's public key.
func Verify(s *SignedReading, pub ed25519.PublicKey) error {
	if len(pub) != ed25519.PublicKeySize || len(s.GetSignature()) != ed25519.SignatureSize {
		return ErrBadSignature
	}
	msg, err := CanonicalBytes(s.GetReading())
	if err != nil {
		return err
	}
	if !voi.VerifyWithOptions(voi.PublicKey(pub), msg, s.GetSignature(), verifyOptions) {
		return ErrBadSignature
	}
	return nil
}

// VerifyBatch verifies many signed readings at once, keys[i] being the key
// of readings[i] (nil: unknown, never valid), and reports whether all are
// valid and, per reading, which are. A batch is checked in one multi-scalar
// multiplication; only a batch that fails is checked again one by one, to
// name the bad readings.
//
// github.com/oasisprotocol/curve25519-voi does this about 4x faster than
// verifying one by one with the standard library, 5x with expanded keys
// (BenchmarkVerify); it is the batch verifier of Oasis's consensus layer.
func VerifyBatch(readings []*SignedReading, keys []*Key) (bool, []bool) {
	if len(readings) != len(keys) {
		panic("fieldmintpb: VerifyBatch needs one key per reading")
	}
	bv := voi.NewBatchVerifierWithCapacity(len(readings))
	for i, s := range readings {
		// A nil key or message makes an entry that fails (curve25519-voi
		// marks it invalid at once), so it is named below.
		msg, _ := CanonicalBytes(s.GetReading())
		bv.AddExpandedWithOptions(keys[i], msg, s.GetSignature(), verifyOptions)
	}
	return bv.Verify(rand.Reader)
}

// RegistrationDomain prefixes the bytes a device signs to prove possession of
// its key when it is registered.
const RegistrationDomain = "fieldmint/register/v1\n"

// RegistrationBytes returns what a device signs at registration: the fields
// a registrant sets (id, key, kind, owner, location), none of those the
// registry sets itself.
func RegistrationBytes(d *Device) ([]byte, error) {
	c := &Device{DeviceId: d.GetDeviceId(), PublicKey: d.GetPublicKey(), Kind: d.GetKind(), Owner: d.GetOwner(), Location: d.GetLocation()}
	body, err := proto.MarshalOptions{Deterministic: true}.Marshal(c)
	if err != nil {
		return nil, err
	}
	return append([]byte(RegistrationDomain), body...), nil
}

// SignRegistration signs d with the device key, proving possession.
func SignRegistration(d *Device, key ed25519.PrivateKey) (*Registration, error) {
	msg, err := RegistrationBytes(d)
	if err != nil {
		return nil, err
	}
	return &Registration{Device: d, Signature: ed25519.Sign(key, msg)}, nil
}

// VerifyRegistration checks that the registration is signed by the key it registers.
func VerifyRegistration(r *Registration) error {
	pub := ed25519.PublicKey(r.GetDevice().GetPublicKey())
	if len(pub) != ed25519.PublicKeySize || len(r.GetSignature()) != ed25519.SignatureSize {
		return ErrBadSignature
	}
	msg, err := RegistrationBytes(r.GetDevice())
	if err != nil {
		return err
	}
	if !voi.VerifyWithOptions(voi.PublicKey(pub), msg, r.GetSignature(), verifyOptions) {
		return ErrBadSignature
	}
	return nil
}
