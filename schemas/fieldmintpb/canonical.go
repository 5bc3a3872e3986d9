package fieldmintpb

import (
	"crypto/ed25519"
	"errors"

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

// Verify checks s's signature against the device's public key.
func Verify(s *SignedReading, pub ed25519.PublicKey) error {
	if len(pub) != ed25519.PublicKeySize || len(s.GetSignature()) != ed25519.SignatureSize {
		return ErrBadSignature
	}
	msg, err := CanonicalBytes(s.GetReading())
	if err != nil {
		return err
	}
	if !ed25519.Verify(pub, msg, s.GetSignature()) {
		return ErrBadSignature
	}
	return nil
}

// RegistrationDomain prefixes the bytes a device signs to prove possession of
// its key when it is registered.
const RegistrationDomain = "fieldmint/register/v1\n"

// RegistrationBytes returns what a device signs at registration: the device
// record without the fields the registry sets itself.
func RegistrationBytes(d *Device) ([]byte, error) {
	c := proto.Clone(d).(*Device)
	c.RegisteredAtMs, c.Active = 0, false
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
	if !ed25519.Verify(pub, msg, r.GetSignature()) {
		return ErrBadSignature
	}
	return nil
}
