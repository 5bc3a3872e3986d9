package fieldmintpb

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// idlePriority puts the calling thread at SCHED_IDLE: it runs only on a
// core that would otherwise idle (sched(7)).
func idlePriority() error {
	attr := unix.SchedAttr{Size: unix.SizeofSchedAttr, Policy: unix.SCHED_IDLE}
	if err := unix.SchedSetAttr(0, &attr, 0); err != nil {
		return fmt.Errorf("fieldmintpb: a spare verification's thread at idle priority (SCHED_IDLE): %w", err)
	}
	return nil
}
