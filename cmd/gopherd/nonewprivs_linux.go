//go:build linux

package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// errThreadsUnreachable means the process attributes below cannot be set
// on every thread: syscall.AllThreadsSyscall is unavailable when cgo is
// linked in (threads created by C code are out of the Go runtime's reach).
// make, the Debian package and the Nix package build with CGO_ENABLED=0.
var errThreadsUnreachable = errors.New("built with cgo, so no_new_privs and the capability bounding set cannot be applied to every thread (build with CGO_ENABLED=0, as make does)")

// forbidNewPrivileges empties the capability bounding set and sets
// no_new_privs, on every thread of the process: the Linux attributes that
// keep a process that started as root, and every program it runs (the
// gateway's), from gaining privileges again through execve (setuid and
// setgid bits, file capabilities). Both are per thread and inherited by
// new threads and children. Emptying the bounding set needs CAP_SETPCAP,
// so it must run before setuid, which clears the effective capabilities;
// no_new_privs needs no privilege.
func forbidNewPrivileges() error {
	for c := 0; ; c++ {
		in, err := unix.PrctlRetInt(unix.PR_CAPBSET_READ, uintptr(c), 0, 0, 0)
		if errors.Is(err, unix.EINVAL) {
			break // past the last capability this kernel knows
		}
		if err != nil {
			return fmt.Errorf("reading capability %d of the bounding set: %w", c, err)
		}
		if in == 0 {
			continue
		}
		if err := allThreadsPrctl(unix.PR_CAPBSET_DROP, uintptr(c)); err != nil {
			if errors.Is(err, unix.EPERM) {
				return fmt.Errorf("dropping capability %d from the bounding set: %w (it needs CAP_SETPCAP: a unit's CapabilityBoundingSet= must keep it)", c, err)
			}
			return fmt.Errorf("dropping capability %d from the bounding set: %w", c, err)
		}
	}
	if err := allThreadsPrctl(unix.PR_SET_NO_NEW_PRIVS, 1); err != nil {
		return fmt.Errorf("setting no_new_privs: %w", err)
	}
	return nil
}

func allThreadsPrctl(option int, arg uintptr) error {
	_, _, errno := syscall.AllThreadsSyscall(syscall.SYS_PRCTL, uintptr(option), arg, 0)
	switch {
	case errno == syscall.ENOTSUP:
		return errThreadsUnreachable
	case errno != 0:
		return errno
	}
	return nil
}

// verifyNoNewPrivileges checks that forbidNewPrivileges holds: on this
// thread through prctl, and on every thread through /proc when it can be
// read (a sandbox may hide it).
func verifyNoNewPrivileges() error {
	nnp, err := unix.PrctlRetInt(unix.PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0)
	if err != nil {
		return fmt.Errorf("reading no_new_privs: %w", err)
	}
	if nnp != 1 {
		return errors.New("no_new_privs is not set")
	}
	for c := 0; ; c++ {
		in, err := unix.PrctlRetInt(unix.PR_CAPBSET_READ, uintptr(c), 0, 0, 0)
		if errors.Is(err, unix.EINVAL) {
			break
		}
		if err != nil {
			return fmt.Errorf("reading capability %d of the bounding set: %w", c, err)
		}
		if in != 0 {
			return fmt.Errorf("capability %d is still in the bounding set", c)
		}
	}
	tasks, _ := filepath.Glob("/proc/self/task/*/status")
	for _, task := range tasks {
		status, err := os.ReadFile(task)
		if err != nil {
			continue // the thread ended meanwhile
		}
		for _, line := range strings.Split(string(status), "\n") {
			key, val, _ := strings.Cut(line, ":")
			val = strings.TrimSpace(val)
			switch {
			case key == "NoNewPrivs" && val != "1":
				return fmt.Errorf("%s: no_new_privs is %s", task, val)
			case key == "CapBnd" && strings.Trim(val, "0") != "":
				return fmt.Errorf("%s: bounding set %s is not empty", task, val)
			}
		}
	}
	return nil
}
