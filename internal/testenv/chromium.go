package testenv

import (
	"context"
	"os/exec"
	"testing"
)

// Chromium loads url in headless Chromium and returns the DOM once the page
// is idle (or a virtual 30 s are spent). When screenshot is not empty it
// also saves the page, 1280 pixels wide, as a PNG there.
func Chromium(t testing.TB, ctx context.Context, url, screenshot string) string {
	t.Helper()
	bin, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("chromium is not installed: run `make deps` (Debian package chromium)")
	}
	args := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--hide-scrollbars",
		"--user-data-dir=" + t.TempDir(), "--virtual-time-budget=30000", "--dump-dom"}
	if screenshot != "" {
		args = append(args, "--window-size=1280,1000", "--screenshot="+screenshot)
	}
	out, err := exec.CommandContext(ctx, bin, append(args, url)...).Output()
	if err != nil {
		t.Fatalf("chromium %s: %v", url, err)
	}
	return string(out)
}
