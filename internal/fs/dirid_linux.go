package fs

import (
	"os"
	"syscall"
)

// dirIdentity returns what tells one state of a directory from another: the
// inode (a directory replaced by another one at the same path) and the
// modification and change times (an entry added, removed or renamed).
func dirIdentity(fi os.FileInfo) (dirID, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return dirID{}, false
	}
	cs, cns := st.Ctim.Unix()
	return dirID{
		dev:   uint64(st.Dev),
		ino:   uint64(st.Ino),
		mtime: fi.ModTime().UnixNano(),
		ctime: cs*1e9 + cns,
	}, true
}
