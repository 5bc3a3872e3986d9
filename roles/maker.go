package roles

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/fieldmint/fieldmint/ingest/client"
)

// RunAddMaker is `fieldmint add-maker`: an admin (one of ingest.admins)
// registers a maker, whose key attests the devices it builds. Only the
// maker's public key is sent; the admin's key signs the change.
func RunAddMaker(ctx context.Context, fs *flag.FlagSet, args []string, out io.Writer) error {
	url := fs.String("url", EnvOr("FIELDMINT_INGEST_URL", "http://127.0.0.1:8080"), "ingest endpoint (env FIELDMINT_INGEST_URL)")
	network := fs.String("network", "fieldmint", "the endpoint's ingest.network: the admin signs for it")
	id := fs.String("id", "", "the maker's id, 1-64 characters of A-Z a-z 0-9 . _ : - (required)")
	name := fs.String("name", "", "the maker's name, shown with its devices (required)")
	pub := fs.String("public-key", "", "the maker's ed25519 public key, 64 hex characters (required)")
	keyFile := fs.String("key-file", "", "file holding the admin's hex secp256k1 key (else env FIELDMINT_ADMIN_KEY; never a flag value)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("add-maker: unexpected arguments %q", fs.Args())
	}
	if *id == "" || *name == "" || *pub == "" {
		return fmt.Errorf("add-maker: --id, --name and --public-key are required (fieldmint add-maker --help)")
	}
	pubKey, err := hex.DecodeString(strings.TrimPrefix(*pub, "0x"))
	if err != nil || len(pubKey) != ed25519.PublicKeySize {
		return fmt.Errorf("add-maker: --public-key must be 32 bytes in hex (64 characters), got %d characters", len(*pub))
	}
	admin, err := ReadKey("add-maker", "FIELDMINT_ADMIN_KEY", *keyFile)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	c := &client.Client{URL: *url, Network: *network}
	if err := c.AddMaker(ctx, *id, *name, ed25519.PublicKey(pubKey), client.OwnerKey(admin)); err != nil {
		return fmt.Errorf("add-maker: %w", err)
	}
	_, err = fmt.Fprintf(out, "maker %s (%s) registered by admin %s\n", *id, *name, client.OwnerKey(admin).Address().Hex())
	return err
}
