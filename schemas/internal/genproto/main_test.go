package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestGeneratedCodeIsCurrent fails when schemas/fieldmintpb differs from what
// the .proto files generate: run `make generate` and commit.
func TestGeneratedCodeIsCurrent(t *testing.T) {
	files, err := generate("../..")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("generator produced no files")
	}
	for name, want := range files {
		got, err := os.ReadFile(filepath.Join("../../fieldmintpb", name))
		if err != nil {
			t.Fatalf("%s: %v (run make generate)", name, err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("fieldmintpb/%s is stale: run `make generate` and commit", name)
		}
	}
}
