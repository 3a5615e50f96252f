// Package fs serves a directory tree over Gopher: it maps selectors to paths
// inside an os.Root, refuses dotfiles, gophermap files and special files,
// lists directories as menus and streams files byte-exact.
//
// Selectors follow spacecookie: "", "/" and "/dir/" name directories and
// files relative to the root; empty path components are ignored. Any
// component starting with "." (so "." and ".." too), containing NUL or a
// backslash, or naming a gophermap file is refused with "not allowed" before
// the file system is touched. Everything else is resolved by os.Root, so a
// symlink that leads out of the root is refused by the resolution itself,
// never followed. The rules apply to what the client asks for: a symlink
// inside the root that points at a dotfile was put there by the operator and
// is followed like any other.
//
// Error answers: a path that does not exist, is not a directory where one is
// needed, loops, or resolves outside the root gets NotFound ("does not exist
// or is not available": from outside, a symlink to elsewhere is exactly
// that, and the answer reveals nothing about what lies beyond the root).
// Dotfiles, gophermaps, special files (FIFO, socket, device) and files the
// server may not read get NotAllowed. Anything else is logged with the path
// and answered with Internal.
package fs

import (
	"context"
	"errors"
	"fmt"
	"io"
	iofs "io/fs"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"go.uber.org/zap"

	"gopherd/internal/gopher"
)

// gophermapName is Bucktooth's gophermap file name. It is never listed or
// served raw, whatever the case of its letters: on a case-insensitive file
// system "GOPHERMAP" opens the map. spacecookie's ".gophermap" falls under
// the dotfile rule.
const gophermapName = "gophermap"

// maxLogPath bounds how much of a path a log line repeats.
const maxLogPath = 1024

// Options configures a Handler.
type Options struct {
	// Root is the directory to serve.
	Root string
	// Logger receives warnings (unlistable names, symlinks leaving the
	// root, bad gophermap lines: a few per version of a map or directory)
	// and unexpected errors, each with the path concerned. nil means no
	// logging.
	Logger *zap.Logger
	// RenderTimeout bounds the making of one menu (a gophermap rendered,
	// a directory listed) and how long any request waits for one: past
	// it the client gets a TimedOut error item. The daemon passes
	// limits.request-timeout; 0 means DefaultRenderTimeout.
	RenderTimeout time.Duration
	// Maps answers for directories whose gophermap is a program. nil
	// refuses them with a "not allowed" error item and a warning.
	Maps MapRunner
	// RootItems are appended to the automatic listing of the root (not to
	// a gophermap, whose author decides what it shows): the items other
	// handlers offer, such as the search. An item with an empty Host
	// names the request's host and port, as the listing's own items do.
	RootItems []gopher.Item
}

// Handler serves the files under one root directory. It implements
// gopher.Handler and is safe for concurrent use. Menus and error items name
// the request's Host and Port.
type Handler struct {
	root  *os.Root
	log   *zap.Logger
	cache *listingCache
	maps  MapRunner
	// rootItems are fixed for the Handler's life, so a cached root
	// listing that holds them stays right.
	rootItems []gopher.Item
	now       func() time.Time
	// ctx ends when the handler is closed; menus being made stop then.
	ctx    context.Context
	cancel context.CancelFunc
	// flights are the menus being made, slots bound how many at once.
	flights       flights
	slots         chan struct{}
	renderTimeout time.Duration
	reported      reported
	// entryBytes is the largest menu kept as bytes; larger ones are kept
	// in their compact form and streamed. Tests lower it.
	entryBytes int
	// made counts the menus made, for tests.
	made atomic.Int64
	// errEscape is the error os.Root wraps when a path would leave the
	// root. The os package does not export it, so New provokes it once and
	// keeps it for errors.Is instead of matching its text.
	errEscape error
}

var _ gopher.Handler = (*Handler)(nil)

// New opens o.Root and returns a Handler serving it. It fails when the root
// cannot be opened or is not a directory.
func New(o Options) (*Handler, error) {
	if o.Root == "" {
		return nil, errors.New("fs: no root directory given")
	}
	root, err := os.OpenRoot(o.Root)
	if err != nil {
		return nil, fmt.Errorf("fs: opening root: %w", err)
	}
	fi, err := root.Stat(".")
	if err != nil {
		_ = root.Close()
		return nil, fmt.Errorf("fs: root %q: %w", o.Root, err)
	}
	if !fi.IsDir() {
		_ = root.Close()
		return nil, fmt.Errorf("fs: root %q is not a directory", o.Root)
	}
	log := o.Logger
	if log == nil {
		log = zap.NewNop()
	}
	h := &Handler{
		root:          root,
		log:           log,
		cache:         newListingCache(cacheMaxEntries, cacheMaxBytes),
		maps:          o.Maps,
		now:           time.Now,
		flights:       flights{m: make(map[flightKey]*flight)},
		slots:         make(chan struct{}, renderSlots()),
		renderTimeout: o.RenderTimeout,
		reported:      reported{m: make(map[string]dirID)},
		entryBytes:    cacheMaxEntryBytes,
		rootItems:     slices.Clone(o.RootItems),
	}
	if h.renderTimeout <= 0 {
		h.renderTimeout = DefaultRenderTimeout
	}
	h.ctx, h.cancel = context.WithCancel(context.Background())
	if _, err := root.Lstat(".."); err != nil {
		var pe *iofs.PathError
		if errors.As(err, &pe) {
			h.errEscape = pe.Err
		}
	}
	return h, nil
}

// Close releases the root directory and stops the menus being made.
// Requests served after Close get an error item.
func (h *Handler) Close() error {
	h.cancel()
	if err := h.root.Close(); err != nil {
		return fmt.Errorf("fs: closing root: %w", err)
	}
	return nil
}

// ServeGopher answers r with a directory menu, a file's bytes or an error
// item. A search string or Gopher+ marker is ignored: the selector is served
// as a plain request.
func (h *Handler) ServeGopher(ctx context.Context, w gopher.ResponseWriter, r *gopher.Request) {
	p, ok := resolve(r.Selector)
	if !ok {
		h.writeError(w, r, gopher.NotAllowed)
		return
	}
	fi, err := h.root.Stat(p)
	if err != nil {
		h.fail(w, r, p, err)
		return
	}
	switch {
	case fi.IsDir():
		h.serveDir(ctx, w, r, p, fi)
	case fi.Mode().IsRegular():
		h.serveFile(w, r, p)
	default:
		h.writeError(w, r, gopher.NotAllowed)
	}
}

// IsFile reports whether sel names a regular file that ServeGopher would
// serve (by the same rules, resolved in the same root), so that generated
// documents such as caps.txt can give way to a real file.
func (h *Handler) IsFile(sel string) bool {
	p, ok := resolve(sel)
	if !ok {
		return false
	}
	fi, err := h.root.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

// resolve turns a selector into a path relative to the root ("." for the
// root itself). ok is false when a component is refused by rule.
func resolve(sel string) (p string, ok bool) {
	var b strings.Builder
	for c := range strings.SplitSeq(sel, "/") {
		if c == "" {
			continue
		}
		if !allowedName(c) || strings.ContainsAny(c, "\x00\\") {
			return "", false
		}
		if b.Len() > 0 {
			b.WriteByte('/')
		}
		b.WriteString(c)
	}
	if b.Len() == 0 {
		return ".", true
	}
	return b.String(), true
}

// allowedName reports whether a directory entry called name may be served
// and listed at all: no dotfiles, no gophermaps.
func allowedName(name string) bool {
	return name != "" && name[0] != '.' && !strings.EqualFold(name, gophermapName)
}

// serveDir writes the menu for directory p.
func (h *Handler) serveDir(ctx context.Context, w gopher.ResponseWriter, r *gopher.Request, p string, fi os.FileInfo) {
	m, err := h.dirMenu(ctx, r, p, fi)
	if err != nil {
		// Only here: pm escapes, and the common path should not pay for it.
		var pm *programMap
		if errors.As(err, &pm) {
			h.serveProgramMap(ctx, w, r, p, pm)
			return
		}
		h.fail(w, r, p, err)
		return
	}
	h.writeMenu(ctx, w, r, p, m)
}

// errSpecial means a path that looked like a regular file or directory is
// something else now; it is refused like any special file.
var errSpecial = errors.New("not a regular file")

// serveFile streams regular file p. A file that shrinks while it is sent
// ends in an aborted response: Gopher carries no length, so a clean close
// would pass the cut-off file for a complete one.
func (h *Handler) serveFile(w gopher.ResponseWriter, r *gopher.Request, p string) {
	f, err := h.openRegular(p)
	if err != nil {
		h.fail(w, r, p, err)
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		h.fail(w, r, p, err)
		return
	}
	gopher.Served(w, "file")
	// f goes to io.Copy as the bare *os.File so that the server's
	// ResponseWriter.ReadFrom can hand it to sendfile.
	n, err := io.Copy(w, f)
	switch {
	case err != nil:
		h.clientGone(p, err)
	case n < fi.Size():
		h.log.Warn("file shrank while it was sent: response aborted", quotedPath(p),
			zap.Int64("sent", n), zap.Int64("size", fi.Size()))
		gopher.Abort(w)
	}
}

// openRegular opens p for reading only if it is a regular file, without ever
// blocking on a FIFO or touching a device's open routine in a blocking way:
// the caller's earlier stat can be outdated by a rename, so the opened file
// itself is checked. O_NONBLOCK makes the open of a FIFO return at once; it
// is cleared again for the regular file that is actually read, so that file
// systems honouring it (FUSE) cannot return EAGAIN mid-transfer.
func (h *Handler) openRegular(p string) (*os.File, error) {
	return OpenRegular(h.root, p)
}

// classify maps a file-system error to the error item the client gets.
// internal is true for errors the operator should hear about.
func (h *Handler) classify(err error) (kind gopher.ErrorKind, internal bool) {
	switch {
	case errors.Is(err, iofs.ErrNotExist),
		errors.Is(err, syscall.ENOTDIR),
		errors.Is(err, syscall.ELOOP),
		errors.Is(err, syscall.ENAMETOOLONG):
		return gopher.NotFound, false
	case h.errEscape != nil && errors.Is(err, h.errEscape):
		return gopher.NotFound, false
	case errors.Is(err, iofs.ErrPermission), errors.Is(err, errSpecial):
		return gopher.NotAllowed, false
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		// The server gave up on the connection while a big directory
		// was being listed; nobody is likely to read this answer.
		return gopher.TimedOut, false
	case errors.Is(err, errTooSlow):
		// The menu was not ready within the render timeout; the
		// flight's own problems, if any, were logged with it.
		return gopher.TimedOut, false
	}
	return gopher.Internal, true
}

// fail answers r with the error item for err and logs what the operator
// needs to know.
func (h *Handler) fail(w gopher.ResponseWriter, r *gopher.Request, p string, err error) {
	kind, internal := h.classify(err)
	switch {
	case internal:
		h.log.Error("cannot serve path", quotedPath(p), quotedErr(err))
	case h.errEscape != nil && errors.Is(err, h.errEscape):
		h.log.Warn("refusing path that leaves the root (symlink?)", quotedPath(p))
	case kind == gopher.NotAllowed:
		h.log.Debug("refusing path", quotedPath(p), quotedErr(err))
	}
	h.writeError(w, r, kind)
}

func (h *Handler) writeError(w gopher.ResponseWriter, r *gopher.Request, kind gopher.ErrorKind) {
	if err := gopher.WriteError(w, r, kind); err != nil {
		h.log.Debug("writing error response failed", zap.String("kind", kind.String()))
	}
}

// clientGone notes a response that could not be written completely. The
// write error's text is left out unless it is a file error: network errors
// carry the client's address, which must not reach a log with hidden IPs.
func (h *Handler) clientGone(p string, err error) {
	var pe *iofs.PathError
	if errors.As(err, &pe) {
		h.log.Warn("reading file failed", quotedPath(p), quotedErr(err))
		return
	}
	h.log.Debug("response cut short", quotedPath(p))
}

func quotedPath(p string) zap.Field {
	return zap.String("path", gopher.Quote(p, maxLogPath))
}

// quotedErr logs an error's text escaped: os errors repeat the path, which
// comes from the client and may hold control characters.
func quotedErr(err error) zap.Field {
	return zap.String("error", gopher.Quote(err.Error(), 2*maxLogPath))
}
