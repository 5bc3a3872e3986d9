//go:build !nodev

package main

import (
	"context"
	"errors"
	"flag"
	"io"
)

func benchAPI(ctx context.Context, fs *flag.FlagSet, args []string, out io.Writer) error {
	return errors.New("bench api: not yet")
}
