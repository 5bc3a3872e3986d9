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
