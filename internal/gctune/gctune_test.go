package gctune

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestApply runs Apply in a child process (the Go runtime reads GOGC and
// GOMEMLIMIT at start, so each case needs its own process) and reads what
// it left in force.
func TestApply(t *testing.T) {
	if os.Getenv("GCTUNE_CHILD") != "" {
		s := Apply()
		fmt.Printf("percent=%d limit=%d err=%v\n", s.Percent, s.MemLimit, s.Err)
		return
	}
	cases := []struct {
		name string
		env  []string
		want string // a prefix of the child's line
	}{
		{"defaults", nil, fmt.Sprintf("percent=%d ", Percent)},
		{"GOGC wins", []string{"GOGC=50"}, "percent=50 "},
		{"GOGC=off wins", []string{"GOGC=off"}, "percent=-1 "},
		{"GOMEMLIMIT wins", []string{"GOMEMLIMIT=123MiB"}, fmt.Sprintf("percent=%d limit=%d err=<nil>", Percent, 123<<20)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestApply$")
			cmd.Env = append(withoutGC(os.Environ()), append(c.env, "GCTUNE_CHILD=1")...)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("child: %v\n%s", err, out)
			}
			line := strings.SplitN(string(out), "\n", 2)[0]
			if !strings.HasPrefix(line, c.want) {
				t.Fatalf("child says %q, want it to start with %q", line, c.want)
			}
			if !strings.Contains(line, "err=<nil>") {
				t.Fatalf("child says %q: reading the container's limit failed", line)
			}
		})
	}
}

func withoutGC(env []string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, "GOGC=") && !strings.HasPrefix(kv, "GOMEMLIMIT=") && !strings.HasPrefix(kv, "AUTOMEMLIMIT=") {
			out = append(out, kv)
		}
	}
	return out
}
