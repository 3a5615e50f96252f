package fs

import (
	"bytes"
	"fmt"
	"os"
	"unicode/utf8"
)

// This file exports the visibility rules of serving, so that other packages
// that walk the tree (the search index) apply exactly the same ones instead
// of copies that could drift apart. The Handler uses them too.

// SniffLen is how many leading bytes of a file TypeOf looks at.
const SniffLen = sniffLen

// MaxGophermapBytes is the largest gophermap that is rendered; a larger one
// is refused whole (its clients get an error item), never shown in part.
const MaxGophermapBytes = maxGophermapBytes

// AllowedName reports whether a directory entry called name may be served
// and listed at all: no dotfiles (so no "." or ".." either) and no
// gophermaps, whatever the case of their letters.
func AllowedName(name string) bool {
	return allowedName(name)
}

// MenuSafeName reports whether a name that AllowedName accepts can also be
// linked from a menu, as its display string and selector. TAB, CR and LF
// would break the menu line; a backslash and NUL are refused in requests.
// Every other C0 control, DEL and every C1 control would reach the
// client's screen and act there (ESC and CSI start terminal escape
// sequences, BS overstrikes, BEL rings): C1 as a character (U+0080–U+009F)
// or as a byte 0x80–0x9F outside any UTF-8 sequence, which an 8-bit
// terminal reads as the same control. Listings leave such names out (with
// a warning) rather than show them escaped: an escaped name is not the
// file's name, so a client could not request it by what it sees, and a
// name like that is a mistake or an attack.
func MenuSafeName(name string) bool {
	for i := 0; i < len(name); {
		c := name[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f || c == '\\' {
				return false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(name[i:])
		if r == utf8.RuneError && size == 1 {
			r = rune(c) // a byte of another encoding
		}
		if r < 0xa0 {
			return false
		}
		i += size
	}
	return true
}

// OpenDir opens directory dir (relative to root) for reading its entries.
// If dir was swapped for a FIFO since it was looked at, the open fails
// instead of blocking.
func OpenDir(root *os.Root, dir string) (*os.File, error) {
	return root.OpenFile(dir, os.O_RDONLY|openDirectory, 0)
}

// OpenRegular opens p (relative to root) for reading only if it is a
// regular file, without ever blocking on a FIFO or touching a device's open
// routine in a blocking way: a stat made before can be outdated by a
// rename, so the opened file itself is checked. O_NONBLOCK makes the open of
// a FIFO return at once; it is cleared again for the regular file that is
// actually read, so that file systems honouring it (FUSE) cannot return
// EAGAIN mid-transfer.
func OpenRegular(root *os.Root, p string) (*os.File, error) {
	f, err := root.OpenFile(p, os.O_RDONLY|openNonblock, 0)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		_ = f.Close()
		return nil, fmt.Errorf("%s: %w", p, errSpecial)
	}
	if err := clearNonblock(f); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("%s: clearing O_NONBLOCK: %w", p, err)
	}
	return f, nil
}

// FindGophermap returns the path and stat result of the gophermap that
// applies to directory dir (relative to root, "." for the root), or ok false
// when there is none. When a directory holds both gophermap and .gophermap,
// gophermap applies.
func FindGophermap(root *os.Root, dir string) (p string, fi os.FileInfo, ok bool) {
	for _, name := range gophermapNames {
		p := joinPath(dir, name)
		fi, err := root.Stat(p)
		if err != nil || !fi.Mode().IsRegular() {
			continue
		}
		return p, fi, true
	}
	return "", nil, false
}

// IsProgramMap reports whether a gophermap whose content starts with data
// is a program (its first line starts with "#!", Bucktooth's moles and
// Gophernicus' executable maps): such a map is run or refused, never shown
// as text, so nothing may index or render its source.
func IsProgramMap(data []byte) bool {
	return bytes.HasPrefix(data, []byte(programPrefix))
}

// FileID identifies one state of a file or directory: its device and inode
// and its modification and change times. Two equal FileIDs mean the same
// file, neither replaced nor written in between (up to the time stamps'
// resolution). It is comparable, so it can key a map.
type FileID struct {
	id dirID
}

// IdentityOf returns fi's FileID. ok is false where the platform's stat
// layout is not known; callers then fall back to size and modification
// time.
func IdentityOf(fi os.FileInfo) (FileID, bool) {
	id, ok := dirIdentity(fi)
	return FileID{id}, ok
}
