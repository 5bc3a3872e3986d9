package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/fieldmint/fieldmint/settler/merkle"
)

// runTree is `fieldmint tree`: the reward tree of a CSV, its root, and the
// standard-v1 dump streamed to a file (what OpenZeppelin's library and the
// proof API read), each step timed on stderr-free stdout lines.
func runTree(_ context.Context, fs *flag.FlagSet, args []string, out io.Writer) error {
	in := fs.String("in", "-", "CSV of address,amount lines (amounts in base units); - for standard input")
	dst := fs.String("out", "", "where to write the standard-v1 dump (JSON); empty: not written")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var r io.Reader = os.Stdin
	if *in != "-" {
		f, err := os.Open(*in)
		if err != nil {
			return err
		}
		defer f.Close()
		r = f
	}
	start := time.Now()
	rewards, err := merkle.ReadRewards(r)
	if err != nil {
		return fmt.Errorf("tree: %s: %w", *in, err)
	}
	read := time.Since(start)
	start = time.Now()
	tree, err := merkle.OfRewards(rewards)
	if err != nil {
		return err
	}
	built := time.Since(start)
	fmt.Fprintf(out, "root %s\nleaves %d (read in %s, built in %s)\n", tree.Root().Hex(), tree.Len(), read.Round(time.Millisecond), built.Round(time.Millisecond))
	if *dst == "" {
		return nil
	}
	start = time.Now()
	f, err := os.Create(*dst)
	if err != nil {
		return err
	}
	if err := tree.WriteDump(f); err != nil {
		f.Close()
		return fmt.Errorf("tree: writing %s: %w", *dst, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("tree: writing %s: %w", *dst, err)
	}
	fmt.Fprintf(out, "dump %s (written in %s)\n", *dst, time.Since(start).Round(time.Millisecond))
	return nil
}
