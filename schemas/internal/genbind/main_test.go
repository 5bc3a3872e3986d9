package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestBindingsAreCurrent fails when the committed bindings differ from what
// the committed ABI and bytecode generate.
func TestBindingsAreCurrent(t *testing.T) {
	files, err := generate("../../contracts/out")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != len(bindings) {
		t.Fatalf("generated %d files, want %d", len(files), len(bindings))
	}
	for path, want := range files {
		got, err := os.ReadFile(filepath.Join("../..", path))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is stale: run `make generate` and commit", path)
		}
	}
}

// TestCompiledContractsAreCurrent recompiles the Solidity sources with the
// pinned solc-js and fails when the committed ABI or bytecode differ.
func TestCompiledContractsAreCurrent(t *testing.T) {
	dir := "../../contracts"
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "solc")); err != nil {
		t.Fatal("solc-js is not installed: run `make deps` (npm install in schemas/contracts)")
	}
	tmp := t.TempDir()
	cmd := exec.Command("node", "build.js", tmp)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("node build.js: %v\n%s", err, out)
	}
	for _, b := range bindings {
		for _, ext := range []string{".abi", ".bin"} {
			want, err := os.ReadFile(filepath.Join(tmp, b.contract+ext))
			if err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(filepath.Join(dir, "out", b.contract+ext))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("contracts/out/%s%s is stale: run `make generate` and commit", b.contract, ext)
			}
		}
	}
}
