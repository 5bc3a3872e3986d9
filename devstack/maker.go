package devstack

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/fieldmint/fieldmint/ingest/client"
	"github.com/fieldmint/fieldmint/internal/chain"
)

// MakerInfo is a maker as dev.json shows it: its id and ed25519 key, the
// public key and the private key's 32-byte seed, 0x-prefixed hex.
type MakerInfo struct {
	ID         string `json:"id"`
	PublicKey  string `json:"publicKey"`
	PrivateKey string `json:"privateKey"`
}

// DevMaker is the dev stack's maker. Its key derives from a fixed name, like
// the other dev keys, so `fieldmint simulate` attests with it too.
func DevMaker() client.Maker {
	return client.Maker{ID: "dev-maker", Key: ed25519.NewKeyFromSeed(crypto.Keccak256([]byte("fieldmint-dev/maker")))}
}

func makerInfo(m client.Maker) *MakerInfo {
	return &MakerInfo{ID: m.ID, PublicKey: "0x" + hex.EncodeToString(m.Key.Public().(ed25519.PublicKey)), PrivateKey: "0x" + hex.EncodeToString(m.Key.Seed())}
}

// AddMaker registers the dev maker with the stack's ingest, signed by the
// dev admin (a restart registers it again: a newer signed change).
func (s *Stack) AddMaker(ctx context.Context) error {
	if s.admin == nil {
		return errors.New("dev: ingest.admins is set, so the dev stack holds no admin key to register its maker: register dev.json's maker with an admin's key")
	}
	k, err := chain.ParseKey(s.admin.PrivateKey)
	if err != nil {
		return err
	}
	m := DevMaker()
	c := &client.Client{URL: s.Info().IngestURL, Network: s.Config.Ingest.Network}
	if err := c.AddMaker(ctx, m.ID, "fieldmint dev maker", m.Key.Public().(ed25519.PublicKey), client.OwnerKey(k)); err != nil {
		return fmt.Errorf("dev: register the dev maker: %w", err)
	}
	return nil
}

// LoadMaker reads a maker from a JSON file holding a MakerInfo, or an
// object whose "maker" field holds one (dev.json). Empty path: DevMaker.
func LoadMaker(path string) (client.Maker, error) {
	if path == "" {
		return DevMaker(), nil
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return client.Maker{}, err
	}
	var file struct {
		MakerInfo
		Maker *MakerInfo `json:"maker"`
	}
	if err := json.Unmarshal(raw, &file); err != nil {
		return client.Maker{}, fmt.Errorf("maker file %s: %w", path, err)
	}
	info := file.MakerInfo
	if file.Maker != nil {
		info = *file.Maker
	}
	seed, err := hex.DecodeString(strings.TrimPrefix(info.PrivateKey, "0x"))
	if err != nil || len(seed) != ed25519.SeedSize || info.ID == "" {
		return client.Maker{}, fmt.Errorf("maker file %s: want {\"id\", \"privateKey\": 0x and a 32-byte ed25519 seed in hex}", path)
	}
	return client.Maker{ID: info.ID, Key: ed25519.NewKeyFromSeed(seed)}, nil
}
