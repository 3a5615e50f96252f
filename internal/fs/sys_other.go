//go:build !unix

package fs

import "os"

// Without FIFOs there is nothing to guard against: plain opens.
const (
	openNonblock  = 0
	openDirectory = 0
)

func clearNonblock(*os.File) error { return nil }

func readDirTypes(f *os.File) ([]os.DirEntry, error) { return f.ReadDir(-1) }
