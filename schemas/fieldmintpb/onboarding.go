package fieldmintpb

import (
	"crypto/ecdsa"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/ethereum/go-ethereum/accounts"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

// The owner's side of onboarding: the texts an owner's wallet signs with
// EIP-191 personal_sign ("\x19Ethereum Signed Message:\n" + length + text,
// hashed with Keccak-256). They are plain lines a wallet shows as they are,
// one "name: value" per line after a title, so an owner sees what they bind.
// Every field that decides the outcome is in the text, and so is the network
// name, so that a signature made for one deployment means nothing to another.

// ErrBadOwnerSignature means an owner signature is not 65 bytes, or no
// address can be recovered from it.
var ErrBadOwnerSignature = errors.New("owner signature is not a valid 65-byte secp256k1 signature")

// RegistrationMessage is the text the owner signs to register d.
func RegistrationMessage(network string, d *Device, issuedAtMs int64) string {
	return fmt.Sprintf("fieldmint: register device\nnetwork: %s\ndevice: %s\npublic key: 0x%s\nkind: %s\nlocation: lat_e7 %d, lon_e7 %d\nowner: %s\nissued at ms: %d",
		network, d.GetDeviceId(), hex.EncodeToString(d.GetPublicKey()), d.GetKind(),
		d.GetLocation().GetLatE7(), d.GetLocation().GetLonE7(), checksummed(d.GetOwner()), issuedAtMs)
}

// ChangeMessage is the text the owner (TRANSFER, DEACTIVATE) or an admin
// (DENY, ALLOW) signs for c. Only the fields of c's kind are in it.
func ChangeMessage(network string, c *DeviceChange) string {
	var b strings.Builder
	action := strings.ToLower(strings.TrimPrefix(c.GetKind().String(), "CHANGE_KIND_"))
	fmt.Fprintf(&b, "fieldmint: %s device\nnetwork: %s\ndevice: %s\n", action, network, c.GetDeviceId())
	switch c.GetKind() {
	case ChangeKind_CHANGE_KIND_TRANSFER:
		fmt.Fprintf(&b, "new owner: %s\n", checksummed(c.GetNewOwner()))
	case ChangeKind_CHANGE_KIND_DENY:
		fmt.Fprintf(&b, "reason: %s\n", c.GetReason())
	}
	fmt.Fprintf(&b, "issued at ms: %d", c.GetIssuedAtMs())
	return b.String()
}

// checksummed writes a valid address in its EIP-55 form, so that the case
// the client used does not change the text; anything else is kept as is
// (and refused before any signature is checked).
func checksummed(a string) string {
	if common.IsHexAddress(a) {
		return common.HexToAddress(a).Hex()
	}
	return a
}

// SignText signs text as EIP-191 personal_sign does, with v = 27 or 28 as
// wallets return it.
func SignText(text string, key *ecdsa.PrivateKey) ([]byte, error) {
	sig, err := crypto.Sign(accounts.TextHash([]byte(text)), key)
	if err != nil {
		return nil, err
	}
	sig[crypto.RecoveryIDOffset] += 27
	return sig, nil
}

// RecoverText returns the address whose key made sig, a personal_sign
// signature of text. v may be 27/28 (wallets) or 0/1.
func RecoverText(text string, sig []byte) (common.Address, error) {
	if len(sig) != crypto.SignatureLength {
		return common.Address{}, ErrBadOwnerSignature
	}
	s := append([]byte(nil), sig...)
	if s[crypto.RecoveryIDOffset] >= 27 {
		s[crypto.RecoveryIDOffset] -= 27
	}
	if s[crypto.RecoveryIDOffset] > 1 {
		return common.Address{}, ErrBadOwnerSignature
	}
	pub, err := crypto.SigToPub(accounts.TextHash([]byte(text)), s)
	if err != nil {
		return common.Address{}, ErrBadOwnerSignature
	}
	return crypto.PubkeyToAddress(*pub), nil
}
