package cgi

import (
	"errors"
	"math"
	"os"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// supported: the gateway runs where waitExit can wait without reaping.
const supported = true

// waitExit closes exited when the program has exited, without reaping it
// (WNOWAIT): until it is reaped, its pid, which is the group's ID, cannot
// be given to another process, so signalling the group cannot hit a
// stranger.
func (p *process) waitExit() {
	defer close(p.exited)
	for {
		var info unix.Siginfo
		err := unix.Waitid(unix.P_PID, p.cmd.Process.Pid, &info, unix.WEXITED|unix.WNOWAIT, nil)
		if !errors.Is(err, unix.EINTR) {
			return
		}
	}
}

// closeRangeCloexec is CLOSE_RANGE_CLOEXEC (linux/close_range.h), which
// x/sys/unix does not define.
const closeRangeCloexec = 1 << 2

// closeOnExecAll marks every descriptor above 2 close-on-exec. Go opens
// all of its own that way, but a descriptor gopherd inherited from its
// parent (a shell, a supervisor) is not, and would reach every program.
func closeOnExecAll() error {
	if err := unix.CloseRange(3, math.MaxUint32, closeRangeCloexec); err == nil {
		return nil
	}
	// Before Linux 5.11: one by one.
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return err
	}
	for _, e := range ents {
		if fd, err := strconv.Atoi(e.Name()); err == nil && fd > 2 {
			syscall.CloseOnExec(fd)
		}
	}
	return nil
}
