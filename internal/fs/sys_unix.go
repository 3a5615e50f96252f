//go:build unix

package fs

import (
	"fmt"
	"os"
	"syscall"
)

// Open flags: O_NONBLOCK keeps an open of a FIFO (or a device that waits
// for carrier) from blocking; O_DIRECTORY makes opening anything but a
// directory fail instead of opening it.
const (
	openNonblock  = syscall.O_NONBLOCK
	openDirectory = syscall.O_DIRECTORY
)

// clearNonblock puts f back into blocking mode.
func clearNonblock(f *os.File) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return fmt.Errorf("raw conn: %w", err)
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		serr = syscall.SetNonblock(int(fd), false)
	}); err != nil {
		return fmt.Errorf("raw conn control: %w", err)
	}
	return serr
}

// readDirTypes lists the open directory f with each entry's type as the
// directory itself reports it (d_type). os.File.ReadDir on a file opened
// through an os.Root lstats every entry instead, because it cannot load
// FileInfo lazily there: one system call per entry that a listing does not
// need. Reading through a duplicate descriptor that is not marked as
// belonging to the Root avoids it. That is safe here because listings use
// only Name and Type: DirEntry.Info on these entries would resolve a path
// outside the Root and must not be called. Entries whose type the file
// system does not report are still lstat'ed, relative to the descriptor.
func readDirTypes(f *os.File) ([]os.DirEntry, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return nil, fmt.Errorf("raw conn: %w", err)
	}
	nfd := -1
	var derr error
	if err := rc.Control(func(fd uintptr) {
		// As os does for descriptors it cannot create close-on-exec
		// atomically: no fork may copy it in between.
		syscall.ForkLock.RLock()
		defer syscall.ForkLock.RUnlock()
		nfd, derr = syscall.Dup(int(fd))
		if derr == nil {
			syscall.CloseOnExec(nfd)
		}
	}); err != nil {
		return nil, fmt.Errorf("raw conn control: %w", err)
	}
	if derr != nil {
		return nil, fmt.Errorf("dup: %w", derr)
	}
	d := os.NewFile(uintptr(nfd), f.Name())
	defer d.Close()
	des, err := d.ReadDir(-1)
	if err != nil {
		return nil, fmt.Errorf("reading directory: %w", err)
	}
	return des, nil
}
