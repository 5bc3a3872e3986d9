package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// runProbe is `fieldmint probe URL`: a health check for images without a
// shell or curl (the production image is distroless). It succeeds when URL
// answers 2xx within --timeout, and otherwise says what it got.
func runProbe(ctx context.Context, fs *flag.FlagSet, args []string, out io.Writer) error {
	timeout := fs.Duration("timeout", 3*time.Second, "how long to wait for the answer")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("probe: want one URL, e.g. fieldmint probe http://127.0.0.1:9464/readyz")
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fs.Arg(0), nil)
	if err != nil {
		return fmt.Errorf("probe: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("probe: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("probe: %s answered %s: %s", fs.Arg(0), resp.Status, strings.TrimSpace(string(body)))
	}
	_, err = out.Write(body)
	return err
}
