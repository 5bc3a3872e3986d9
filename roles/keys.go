package roles

import (
	"crypto/ecdsa"
	"fmt"
	"os"

	"github.com/fieldmint/fieldmint/internal/chain"
)

// ReadKey reads a private key from the file keyFile, else from the
// environment variable env: never from a flag's value, which ps shows. The
// key pays gas and is never printed, not even in errors.
func ReadKey(cmd, env, keyFile string) (*ecdsa.PrivateKey, error) {
	keyHex := os.Getenv(env)
	if keyFile != "" {
		raw, err := os.ReadFile(keyFile)
		if err != nil {
			return nil, fmt.Errorf("%s: --key-file: %w", cmd, err)
		}
		keyHex = string(raw)
	}
	if keyHex == "" {
		return nil, fmt.Errorf("%s: no key: set %s or pass --key-file (it is never printed)", cmd, env)
	}
	key, err := chain.ParseKey(keyHex)
	if err != nil {
		return nil, fmt.Errorf("%s: the key: %w", cmd, err)
	}
	return key, nil
}

func EnvOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
