package search

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"go.uber.org/zap"

	"gopherd/internal/fs"
	"gopherd/internal/gopher"
	"gopherd/internal/gophermap"
)

// racyWindow: a file modified less than this long before it was read is
// read again at the next scan, because a write made later within the same
// time-stamp tick (coarse clocks, 2 s on FAT) would leave its key unchanged.
const racyWindow = 2 * time.Second

// maxLogPath bounds how much of a path a log line repeats.
const maxLogPath = 1024

// candidate is a file the walk found that the index should hold.
type candidate struct {
	sel   string // selector of the result link
	src   string // root-relative path of the file to read
	name  string // what the title falls back to
	isMap bool
	key   fileKey
}

func keyOf(fi os.FileInfo) fileKey {
	id, ok := fs.IdentityOf(fi)
	return fileKey{id: id, hasID: ok, size: fi.Size(), mtime: fi.ModTime().UnixNano()}
}

func joinPath(dir, name string) string {
	if dir == "." {
		return name
	}
	return dir + "/" + name
}

func selectorOf(p string) string {
	if p == "." {
		return "/"
	}
	return "/" + p
}

// walk lists what the index should hold, in a fixed order (depth first,
// names sorted bytewise, a directory's gophermap before its files), under
// the rules of serving: every component allowed by fs.AllowedName and
// fs.MenuSafeName, every open and stat through the os.Root (so nothing
// outside the root, and no symlink that leaves it), regular files only. A
// symlink to a file is indexed under its own name; a symlink to a directory
// is not descended, since it could lead back to an ancestor, and a
// directory inside the root is indexed under its own path anyway. A file
// reached twice (hard links, symlinks) is indexed once, under the first
// path.
func (h *Handler) walk(ctx context.Context) ([]candidate, error) {
	type dirWork struct {
		p        string
		included bool // an include pattern matched an ancestor
	}
	stack := []dirWork{{p: "."}}
	seen := make(map[fs.FileID]bool)
	var out []candidate
	add := func(c candidate) {
		if c.key.hasID {
			if seen[c.key.id] {
				return
			}
			seen[c.key.id] = true
		}
		out = append(out, c)
	}
	for len(stack) > 0 {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		d := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		des, err := h.readDir(d.p)
		if err != nil {
			if d.p == "." {
				return nil, fmt.Errorf("reading the root directory: %w", err)
			}
			h.log.Debug("search: not indexing directory", quotedPath(d.p), quotedErr(err))
			continue
		}
		if mp, mfi, ok := fs.FindGophermap(h.root, d.p); ok {
			name := path.Base(mp)
			msel := "/" + mp
			if !matchAny(h.exclude, msel, name, false) && (d.included || matchAny(h.include, msel, name, false)) {
				dirName := path.Base(selectorOf(d.p))
				add(candidate{sel: selectorOf(d.p), src: mp, name: dirName, isMap: true, key: keyOf(mfi)})
			}
		}
		var subdirs []dirWork
		for _, de := range des {
			name := de.Name()
			if !fs.AllowedName(name) || !fs.MenuSafeName(name) {
				continue
			}
			p := joinPath(d.p, name)
			sel := "/" + p
			// Entries of a directory opened through an os.Root carry their
			// lstat result already.
			fi, err := de.Info()
			if err != nil {
				continue
			}
			if fi.Mode()&os.ModeSymlink != 0 {
				if fi, err = h.root.Stat(p); err != nil {
					h.log.Debug("search: not indexing symlink: it leads nowhere or out of the root", quotedPath(p))
					continue
				}
				if fi.IsDir() {
					continue
				}
			}
			switch {
			case fi.IsDir():
				if matchAny(h.exclude, sel, name, true) {
					continue
				}
				subdirs = append(subdirs, dirWork{p: p, included: d.included || matchAny(h.include, sel, name, true)})
			case fi.Mode().IsRegular():
				if matchAny(h.exclude, sel, name, false) || !(d.included || matchAny(h.include, sel, name, false)) {
					continue
				}
				add(candidate{sel: sel, src: p, name: name, key: keyOf(fi)})
			}
		}
		for i := len(subdirs) - 1; i >= 0; i-- {
			stack = append(stack, subdirs[i])
		}
	}
	return out, nil
}

// readDir returns the entries of directory dir sorted by name.
func (h *Handler) readDir(dir string) ([]os.DirEntry, error) {
	f, err := fs.OpenDir(h.root, dir)
	if err != nil {
		return nil, err
	}
	des, err := f.ReadDir(-1)
	_ = f.Close()
	if err != nil && len(des) == 0 {
		return nil, err
	}
	slices.SortFunc(des, func(a, b os.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	return des, nil
}

// errNotText means an included file is not text by gopherd's typing.
var errNotText = errors.New("not a text file")

// read reads candidate c into a doc whose text lives in texts. key is the
// file's key as read (also when the file is not text, so that the scan can
// remember it). buf is scratch space kept between calls.
func (h *Handler) read(c candidate, buf *[]byte, texts *textArena) (d doc, key fileKey, err error) {
	f, err := fs.OpenRegular(h.root, c.src)
	if err != nil {
		return doc{}, fileKey{}, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return doc{}, fileKey{}, fmt.Errorf("stat: %w", err)
	}
	key = keyOf(fi)
	if time.Since(fi.ModTime()) < racyWindow {
		key.racy = true
	}
	limit := h.lim.MaxFileBytes
	if c.isMap {
		limit = min(limit, fs.MaxGophermapBytes)
	}
	n := min(fi.Size(), limit)
	if int64(cap(*buf)) < n {
		*buf = make([]byte, n)
	}
	data := (*buf)[:n]
	got, err := io.ReadFull(f, data)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return doc{}, fileKey{}, fmt.Errorf("reading: %w", err)
	}
	data = data[:got]
	truncated := int64(got) < fi.Size()
	d = doc{sel: c.sel, src: c.src, key: key}
	if c.isMap {
		if fs.IsProgramMap(data) {
			// Run or refused by serving, never shown: its text is the
			// program's source.
			return doc{}, key, errNotText
		}
		d.typ = gopher.TypeMenu
		d.text = mapText(data)
	} else {
		if fs.TypeOf(c.name, data[:min(len(data), fs.SniffLen)]) != gopher.TypeText {
			return doc{}, key, errNotText
		}
		if truncated {
			data = cutAtBoundary(data)
		}
		d.typ = gopher.TypeText
		d.text = texts.add(data)
	}
	d.title = titleOf(d.text, c.name)
	return d, key, nil
}

// mapText is the text of a gophermap that the index holds: its display
// strings and info text, one per line, never its selectors or hosts.
func mapText(data []byte) string {
	entries, _ := gophermap.Parse(data)
	var b strings.Builder
	for i, e := range entries {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Display)
	}
	return b.String()
}

// cutAtBoundary drops the end of a file cut at max-file-bytes after its last
// ASCII separator, so that neither half a character nor half a word is
// indexed.
func cutAtBoundary(data []byte) []byte {
	for i := len(data) - 1; i >= 0 && i >= len(data)-4*maxTermRunes*utf8.UTFMax; i-- {
		if c := data[i]; c < utf8.RuneSelf && foldASCII(c) == 0 {
			return data[:i+1]
		}
	}
	return data
}

// update scans the tree and installs a new index when anything changed:
// only new and changed files are read, the postings of the others are
// copied from the current index.
func (h *Handler) update(ctx context.Context) error {
	started := time.Now()
	old := h.cur.Load()
	first := old == nil
	if first {
		old = emptyIndex()
	}
	cands, err := h.walk(ctx)
	if err != nil {
		return err
	}
	keep := make([]bool, len(old.docs))
	skipped := make(map[string]fileKey)
	var toRead []candidate
	kept := 0
	for _, c := range cands {
		if i, ok := old.bySel[c.sel]; ok {
			if d := &old.docs[i]; d.src == c.src && d.key.same(c.key) {
				keep[i] = true
				kept++
				continue
			}
		}
		if k, ok := old.skipped[c.src]; ok && k.same(c.key) {
			skipped[c.src] = k
			continue
		}
		toRead = append(toRead, c)
	}
	if !first && len(toRead) == 0 && kept == len(old.docs) && len(skipped) == len(old.skipped) {
		h.log.Debug("search index unchanged", zap.Int("docs", len(old.docs)), zap.Duration("took", time.Since(started)))
		return nil
	}

	used := old.bytes
	for i := range old.docs {
		if !keep[i] {
			used -= old.docs[i].cost()
		}
	}
	b := newBuilder(uint32(kept))
	var buf []byte
	for _, c := range toRead {
		b.texts.left += min(c.key.size, h.lim.MaxFileBytes)
	}
	full, read := false, 0
	for _, c := range toRead {
		if err := ctx.Err(); err != nil {
			return err
		}
		if used+b.bytes >= h.lim.MaxIndexBytes {
			full = true
			break
		}
		read++
		b.texts.left -= min(c.key.size, h.lim.MaxFileBytes)
		d, key, err := h.read(c, &buf, &b.texts)
		switch {
		case errors.Is(err, errNotText):
			skipped[c.src] = key
		case err != nil:
			h.log.Debug("search: not indexing file", quotedPath(c.src), quotedErr(err))
		default:
			b.add(d)
		}
	}
	nx := merge(old, keep, b, skipped, full)
	if !h.noAnswers {
		nx.answers = newAnswers(answerBudget(h.lim.MaxIndexBytes))
	}
	h.cur.Store(nx)
	h.log.Info("search index updated",
		zap.Int("docs", len(nx.docs)), zap.Int("terms", nx.numTerms()), zap.Int("files_read", read),
		zap.Int64("text_bytes", nx.textBytes), zap.Int64("index_bytes", nx.bytes),
		zap.Duration("took", time.Since(started)))
	switch {
	case full && !h.capWarned:
		h.capWarned = true
		h.log.Warn("search index reached max-index-bytes: indexing stopped, later files are not searchable",
			zap.Int64("max_index_bytes", h.lim.MaxIndexBytes), zap.Int("docs", len(nx.docs)),
			zap.Int("not_indexed", len(toRead)-read))
	case !full:
		h.capWarned = false
	}
	return nil
}

func quotedPath(p string) zap.Field {
	return zap.String("path", gopher.Quote(p, maxLogPath))
}

func quotedErr(err error) zap.Field {
	return zap.String("error", gopher.Quote(err.Error(), 2*maxLogPath))
}
