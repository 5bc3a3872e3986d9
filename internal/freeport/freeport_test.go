package freeport

import "testing"

// TestPortsNeverRepeat: ports handed out one after the other are all
// different, though each was released before the next was asked for.
func TestPortsNeverRepeat(t *testing.T) {
	seen := map[int]bool{}
	for range 2000 {
		p, err := Port("")
		if err != nil {
			t.Fatal(err)
		}
		if seen[p] {
			t.Fatalf("port %d handed out twice", p)
		}
		seen[p] = true
	}
}
