package fieldmintpb

import "runtime"

// Spare verifications: CPU that no process wants, spent on signatures.
//
// Ingest verifies on half the cores by default (see Verifier), and on a
// machine it shares with other processes the cores still idle for moments
// (4 to 7% of two cores in `bench pipeline`, docs/performance.md). A second
// verification at ordinary priority took that share and more: the
// readings' way to ClickHouse then waited for CPU, and its p99 went over
// 2 s. A spare verification runs on a thread of its own at the operating
// system's idle priority (Linux's SCHED_IDLE), which gets a core only when
// nothing else on the machine wants it; it takes one waiting request's
// batch at a time, and only while every ordinary verification is busy.

// StartSpare starts n spare verifications, until Close. It returns an
// error, and starts no more, where the operating system refuses a thread
// idle priority: at ordinary priority they would take CPU from the rest.
func (v *Verifier) StartSpare(n int) error {
	for range n {
		ready := make(chan error)
		v.spare.Add(1)
		go v.spareLoop(ready)
		if err := <-ready; err != nil {
			return err
		}
	}
	return nil
}

// Close stops the spare verifications, each once it has answered what it
// took. Verify still works after it, without them.
func (v *Verifier) Close() {
	v.closeOnce.Do(func() { close(v.quit) })
	v.spare.Wait()
}

// spareLoop is a spare verification: on a thread of its own (which exits
// with it: the thread's priority is never handed to other goroutines), at
// idle priority, or not at all (the error on ready).
func (v *Verifier) spareLoop(ready chan<- error) {
	defer v.spare.Done()
	runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
	if err := idlePriority(); err != nil {
		ready <- err
		return
	}
	ready <- nil
	for {
		select {
		case <-v.quit:
			return
		case <-v.work:
		}
		for {
			jobs := v.takeSpare()
			if len(jobs) == 0 {
				break
			}
			v.spared.Add(1)
			v.verify(jobs)
		}
	}
}

// takeSpare removes the oldest waiting batch, if every ordinary
// verification is busy (a caller that finds a slot free verifies its own at
// ordinary priority).
func (v *Verifier) takeSpare() []*verifyJob {
	if len(v.slots) < cap(v.slots) {
		return nil
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if len(v.queue) == 0 {
		return nil
	}
	jobs := v.queue[:1:1]
	v.queue = v.queue[1:]
	return jobs
}
