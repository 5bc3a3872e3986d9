//go:build !linux

package fieldmintpb

import "errors"

func idlePriority() error {
	return errors.New("fieldmintpb: spare verifications need Linux's idle priority (SCHED_IDLE)")
}
