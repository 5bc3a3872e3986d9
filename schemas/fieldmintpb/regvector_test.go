package fieldmintpb

import (
	"crypto/ed25519"
	"encoding/hex"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/fieldmint/fieldmint/internal/testenv"
)

// TestRegistrationVector holds the registration example of
// docs/wire-format.md to the code: the owner's text to RegistrationMessage,
// the device's signed bytes and signature to RegistrationBytes and ed25519,
// and the owner signature to SignText and to Foundry's cast, an independent
// EIP-191 implementation.
func TestRegistrationVector(t *testing.T) {
	doc, hexField := wireFormatDoc(t)
	field := func(name string) []byte {
		b, _ := hex.DecodeString(hexField(name))
		return b
	}
	text := regexp.MustCompile("(?s)```text\n(fieldmint: register device\n.*?)\n```").FindStringSubmatch(doc)
	if text == nil {
		t.Fatal("docs/wire-format.md has no registration text")
	}
	ownerKey, err := crypto.ToECDSA(field("owner key"))
	if err != nil {
		t.Fatal(err)
	}
	deviceKey := ed25519.NewKeyFromSeed(field("seed"))
	d := &Device{DeviceId: "d1", PublicKey: deviceKey.Public().(ed25519.PublicKey), Kind: ResourceKind_RESOURCE_KIND_WEATHER,
		Owner: crypto.PubkeyToAddress(ownerKey.PublicKey).Hex(), Location: &Location{LatE7: 1, LonE7: -1}}

	if got := RegistrationMessage("fieldmint", d, 1_700_000_000_000); got != text[1] {
		t.Errorf("RegistrationMessage gives\n%s\nthe document\n%s", got, text[1])
	}
	if got, _ := RegistrationBytes(d); hex.EncodeToString(got) != hex.EncodeToString(field("registration bytes")) {
		t.Errorf("RegistrationBytes gives %x", got)
	}
	if !ed25519.Verify(d.PublicKey, field("registration bytes"), field("device signature")) {
		t.Error("the documented device signature does not verify")
	}
	reg, err := SignRegistration(d, deviceKey)
	if err != nil || string(reg.Signature) != string(field("device signature")) {
		t.Errorf("SignRegistration gives %x (%v)", reg.GetSignature(), err)
	}
	ownerSig := field("owner signature")
	if got, _ := SignText(text[1], ownerKey); string(got) != string(ownerSig) {
		t.Errorf("SignText gives %x", got)
	}
	if a, err := RecoverText(text[1], ownerSig); err != nil || a.Hex() != d.Owner {
		t.Errorf("the owner signature recovers %s (%v), want %s", a.Hex(), err, d.Owner)
	}
	out, err := exec.Command(testenv.FoundryBin(t, "cast"), "wallet", "sign", "--private-key", "0x"+hex.EncodeToString(field("owner key")), text[1]).Output()
	if err != nil {
		t.Fatalf("cast wallet sign: %v", err)
	}
	if got := strings.TrimPrefix(strings.TrimSpace(string(out)), "0x"); got != hex.EncodeToString(ownerSig) {
		t.Errorf("cast signs %s, the document says %x", got, ownerSig)
	}
}

// TestAttestationVector holds the attestation example of
// docs/wire-format.md to the hand-assembled bytes (domain, key, kind), to
// AttestationBytes, Attest and VerifyAttestation, and to Node.js's Ed25519.
func TestAttestationVector(t *testing.T) {
	_, field := wireFormatDoc(t)
	seed, makerPub, msg, sig := field("maker seed"), field("maker public key"), field("attestation bytes"), field("attestation")
	devicePub, _ := hex.DecodeString(field("public key"))
	hand := hex.EncodeToString([]byte("fieldmint/attest/v1\n")) + hex.EncodeToString(devicePub) + "00000002"
	if msg != hand {
		t.Errorf("documented attestation bytes differ from domain || key || kind:\n%s\n%s", msg, hand)
	}
	if got := hex.EncodeToString(AttestationBytes(devicePub, ResourceKind_RESOURCE_KIND_WEATHER)); got != msg {
		t.Errorf("AttestationBytes gives %s", got)
	}
	seedBytes, _ := hex.DecodeString(seed)
	key := ed25519.NewKeyFromSeed(seedBytes)
	a := Attest("acme", key, devicePub, ResourceKind_RESOURCE_KIND_WEATHER)
	if hex.EncodeToString(a.Signature) != sig || hex.EncodeToString(key.Public().(ed25519.PublicKey)) != makerPub {
		t.Errorf("Attest gives %x under %x", a.Signature, key.Public())
	}
	pubBytes, _ := hex.DecodeString(makerPub)
	if VerifyAttestation(a, pubBytes, devicePub, ResourceKind_RESOURCE_KIND_WEATHER) != nil {
		t.Error("the documented attestation does not verify")
	}
	if VerifyAttestation(a, pubBytes, devicePub, ResourceKind_RESOURCE_KIND_ENERGY) == nil {
		t.Error("the attestation verifies for another kind")
	}
	out, err := exec.Command(nodeBin(t), "-e", nodeSign, seed, msg).Output()
	if err != nil {
		t.Fatalf("node: %v", err)
	}
	if lines := strings.Fields(string(out)); len(lines) != 2 || lines[0] != makerPub || lines[1] != sig {
		t.Errorf("Node.js derives public key and signature\n%s\nthe document says\n%s\n%s", out, makerPub, sig)
	}
}
