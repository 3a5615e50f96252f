// Package rlimit raises the open-file limit for the benchmark programs,
// which hold thousands of connections at once.
package rlimit

import (
	"fmt"
	"syscall"
)

// RaiseNoFile lifts the soft RLIMIT_NOFILE to the hard limit (child
// processes inherit it) and fails if even that is below need.
func RaiseNoFile(need uint64) error {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return fmt.Errorf("reading RLIMIT_NOFILE: %w", err)
	}
	if lim.Cur < lim.Max {
		lim.Cur = lim.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			return fmt.Errorf("raising RLIMIT_NOFILE to %d: %w", lim.Max, err)
		}
	}
	// Rlimit's fields are int64 on FreeBSD, uint64 elsewhere.
	if uint64(lim.Cur) < need {
		return fmt.Errorf("RLIMIT_NOFILE hard limit %d is below the %d descriptors this run needs; lower -idle or raise the limit (ulimit -Hn)", lim.Max, need)
	}
	return nil
}
