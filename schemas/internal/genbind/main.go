// Command genbind regenerates the abigen v2 bindings in schemas/bindings from
// the committed ABI and bytecode in schemas/contracts/out. It calls the same
// generator as `abigen --v2`, in process. Run from schemas/: go run ./internal/genbind
package main

import (
	"fmt"
	"go/format"
	"os"
	"path/filepath"
	"strings"

	"github.com/ethereum/go-ethereum/accounts/abi/abigen"
)

// binding maps a contract to the Go package that binds it.
type binding struct{ contract, pkg string }

var bindings = []binding{
	{"RewardsDistributor", "distributor"},
	{"RewardToken", "token"},
}

// generate returns output path (relative to schemas/) -> Go source, reading
// ABIs and bytecode from outDir.
func generate(outDir string) (map[string][]byte, error) {
	files := map[string][]byte{}
	for _, b := range bindings {
		abiJSON, err := os.ReadFile(filepath.Join(outDir, b.contract+".abi"))
		if err != nil {
			return nil, err
		}
		bin, err := os.ReadFile(filepath.Join(outDir, b.contract+".bin"))
		if err != nil {
			return nil, err
		}
		code, err := abigen.BindV2([]string{b.contract}, []string{string(abiJSON)}, []string{strings.TrimSpace(string(bin))}, b.pkg, nil, nil)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", b.contract, err)
		}
		src, err := format.Source([]byte(code))
		if err != nil {
			return nil, err
		}
		files[filepath.Join("bindings", b.pkg, b.pkg+".go")] = src
	}
	return files, nil
}

func main() {
	files, err := generate(filepath.Join("contracts", "out"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "genbind:", err)
		os.Exit(1)
	}
	for path, src := range files {
		if err := os.WriteFile(path, src, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "genbind:", err)
			os.Exit(1)
		}
		fmt.Println("wrote", path)
	}
}
