package main

import (
	"bufio"
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// BenchmarkTreeCommand runs `fieldmint tree` as a user does: a CSV of n
// random (address, amount) lines in, the root out and the standard-v1 dump
// streamed to a file. One op is one whole command. Against OpenZeppelin's
// JavaScript library on the same 200k lines (node, CSV in, dump out): 28 to
// 38 s (docs/performance.md).
func BenchmarkTreeCommand(b *testing.B) {
	for _, n := range []int{200_000, 1_000_000} {
		dir := b.TempDir()
		in := filepath.Join(dir, "leaves.csv")
		f, err := os.Create(in)
		if err != nil {
			b.Fatal(err)
		}
		w := bufio.NewWriter(f)
		r := rand.New(rand.NewPCG(1, uint64(n)))
		for range n {
			fmt.Fprintf(w, "0x%016x%016x%08x,%d%018d\n", r.Uint64(), r.Uint64(), r.Uint32(), r.Uint32(), r.Uint64()%1e18)
		}
		w.Flush()
		f.Close()
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			for b.Loop() {
				var out bytes.Buffer
				if err := run([]string{"tree", "--in", in, "--out", filepath.Join(dir, "dump.json")}, &out, &out); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "leaves/s")
		})
	}
}
