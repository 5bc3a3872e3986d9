package testenv

import (
	"testing"
	"time"
)

// Eventually calls cond every tick until it returns nil, and fails the test
// with cond's last error if that has not happened within timeout. The one
// way tests here wait for something the system does in its own time.
func Eventually(t testing.TB, timeout, tick time.Duration, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %v", timeout, err)
		}
		time.Sleep(tick)
	}
}
