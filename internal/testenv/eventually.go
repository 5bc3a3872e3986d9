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

// WaitFor calls cond every 50 ms until it is true, and fails the test with
// what it was waiting for if that has not happened within timeout or the
// test's context ends. The one way tests here wait for a condition that has
// no error of its own to report.
func WaitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %s: still waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
