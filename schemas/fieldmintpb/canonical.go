package fieldmintpb

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"sync"

	voi "github.com/oasisprotocol/curve25519-voi/primitives/ed25519"
	"google.golang.org/protobuf/proto"
)

// SigningDomain prefixes every signed reading of wire format v1 so that a
// signature over a reading can never be replayed as a signature over
// anything else.
const SigningDomain = "fieldmint/reading/v1\n"

// SigningDomainV2 prefixes the bytes a device signs in wire format v2. It
// differs from v1's, so a signature of one format never verifies as the other.
const SigningDomainV2 = "fieldmint/reading/v2\n"

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

// SignedBytesV2 returns what a v2 signature covers: SigningDomainV2
// followed by the reading's bytes as sent.
func SignedBytesV2(reading []byte) []byte {
	msg := make([]byte, 0, len(SigningDomainV2)+len(reading))
	return append(append(msg, SigningDomainV2...), reading...)
}

// SignV2 encodes r and signs the encoding in wire format v2. Any valid
// encoding would do, since the server verifies the bytes as sent; this one
// is deterministic so that a reading signed twice gives the same bytes.
func SignV2(r *Reading, key ed25519.PrivateKey) (*SignedReadingV2, error) {
	body, err := proto.MarshalOptions{Deterministic: true}.Marshal(r)
	if err != nil {
		return nil, err
	}
	return &SignedReadingV2{Reading: body, Signature: ed25519.Sign(key, SignedBytesV2(body))}, nil
}

// VerifyV2 checks a v2 signature against the device's public key, over the
// bytes as sent (nothing is decoded).
func VerifyV2(s *SignedReadingV2, pub ed25519.PublicKey) error {
	if len(pub) != ed25519.PublicKeySize || len(s.GetSignature()) != ed25519.SignatureSize ||
		!voi.VerifyWithOptions(voi.PublicKey(pub), SignedBytesV2(s.GetReading()), s.GetSignature(), verifyOptions) {
		return ErrBadSignature
	}
	return nil
}

// Sign signs r with the device's private key in wire format v1.
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

// Verify checks a v1 signature against the device's public key.
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

// VerifyBatch verifies many signatures at once, sigs[i] over msgs[i] (what
// the device signed: CanonicalBytes of a v1 reading, SignedBytesV2 of a v2
// one) under keys[i] (nil: unknown, never valid), and reports whether all
// are valid and, per signature, which are. A batch is checked in one multi-scalar
// multiplication; only a batch that fails is checked again one by one, to
// name the bad readings.
//
// github.com/oasisprotocol/curve25519-voi does this about 4x faster than
// verifying one by one with the standard library, 5x with expanded keys
// (BenchmarkVerify); it is the batch verifier of Oasis's consensus layer.
func VerifyBatch(msgs, sigs [][]byte, keys []*Key) (bool, []bool) {
	if len(msgs) != len(keys) || len(sigs) != len(keys) {
		panic("fieldmintpb: VerifyBatch needs one message, signature and key each")
	}
	bv := batchVerifiers.Get().(*voi.BatchVerifier)
	defer func() { batchVerifiers.Put(bv.Reset()) }()
	for i, msg := range msgs {
		// A nil key makes an entry that fails (curve25519-voi marks it
		// invalid at once), so it is named below.
		bv.AddExpandedWithOptions(keys[i], msg, sigs[i], verifyOptions)
	}
	return bv.Verify(rand.Reader)
}

// batchVerifiers are reused: a verifier's entries (about 400 bytes a
// signature: the decompressed points and scalars) were ingest's largest
// allocation. Reset keeps them and drops the keys.
var batchVerifiers = sync.Pool{New: func() any { return voi.NewBatchVerifier() }}

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
