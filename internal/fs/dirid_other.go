//go:build !linux

package fs

import "os"

// dirIdentity is only implemented where the stat layout is known; elsewhere
// listings are simply not cached.
func dirIdentity(os.FileInfo) (dirID, bool) { return dirID{}, false }
