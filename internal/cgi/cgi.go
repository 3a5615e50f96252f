// Package cgi runs programs to answer Gopher requests: a CGI gateway in
// the GPGI tradition (the selector and query in, an output stream and a
// log stream out; the server ends menus with the "." line), built so that
// a program can neither leak the daemon's secrets nor outlive its request.
//
// A request inside one of the gateway's directories is mapped to a program
// by internal/fs's rules (fs.SelectorPath, then an os.Root): the selector is
// split at its first "?" into a path and a query, the longest leading part
// of the path that names a regular file is the program (SCRIPT_NAME), the
// rest is PATH_INFO, and a directory runs its "index.cgi". A file that is
// not executable, is world-writable, is setuid or setgid, or sits in a
// world-writable directory without the sticky bit, is refused with an error
// item and a warning: it is never served as its source.
//
// The program is started with execve (no shell anywhere; argv is its path
// alone), stdin /dev/null, its directory as the working directory, in a
// process group of its own, with no descriptor but 0, 1 and 2, and an
// environment built from scratch (see env.go): nothing of gopherd's own
// environment reaches it except Options.Env.
//
// Output is streamed, never buffered whole: "raw" directories pass the
// program's bytes through, "menu" directories read each line as a
// gophermap line (internal/gophermap) and end the menu themselves. stderr
// goes to the log (escaped, at most 4 KiB per run), never to the client.
//
// Limits: at Timeout, when the client goes away, or when MaxOutputBytes
// is reached, the process group gets SIGTERM, and SIGKILL after KillGrace.
// A program that exits by itself has its leftover group members treated
// the same way, so that no process of a request outlives it by more than
// KillGrace. The program is always reaped, and a descendant that escapes
// the group while holding the output pipe cannot hold the connection: the
// pipe is read for at most KillGrace of silence once the program has
// exited. Runs are capped at MaxConcurrent at once, MaxConcurrentPerIP for
// one client address, across reloads when the Slots are shared.
//
// Failures: an exec failure or a non-zero exit before any output is a
// type-3 error item (a timeout one after a timeout); after output started,
// a raw response is reset (gopher.Abort) unless the program exited 0 with
// its output whole, and a menu gets an error item before its ".". Over a
// concurrency cap the client gets a busy error item.
//
// This package implements the configuration's "cgi" section; the messages
// that name a setting use its key names.
package cgi

import (
	"context"
	"errors"
	"fmt"
	iofs "io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"gopherd/internal/fs"
	"gopherd/internal/gopher"
)

// Defaults for the limits an Options leaves at zero: the cgi section's.
const (
	DefaultTimeout            = 10 * time.Second
	DefaultKillGrace          = 2 * time.Second
	DefaultMaxOutputBytes     = 8 << 20
	DefaultMaxConcurrent      = 8
	DefaultMaxConcurrentPerIP = 2
)

// IndexName is the program a gateway directory runs when the selector
// names the directory itself.
const IndexName = "index.cgi"

// Output says how a directory's programs answer.
type Output int

const (
	// Raw passes the program's bytes to the client as they come: the
	// program owns the framing.
	Raw Output = iota
	// Menu reads each output line as a gophermap line and ends the menu
	// with the "." line.
	Menu
)

// AddrMode says what a program learns of the client's address.
type AddrMode int

const (
	// AddrFull gives the address and port.
	AddrFull AddrMode = iota
	// AddrPrefix gives the network only: an IPv4 address with its last
	// byte zeroed (/24), an IPv6 address cut to its /48, and no port.
	AddrPrefix
	// AddrNone gives nothing: REMOTE_ADDR, REMOTE_HOST and REMOTE_PORT are
	// not set.
	AddrNone
)

// Dir is one gateway directory.
type Dir struct {
	// Selector names the directory: it starts and ends with "/" and is in
	// canonical form ("/cgi-bin/").
	Selector string
	Output   Output
}

// Options configures a Gateway. Zero limits take the defaults above.
type Options struct {
	// Root is the served tree; programs are found in it.
	Root string
	// Dirs are the gateway's directories.
	Dirs []Dir
	// ExecutableGophermaps runs a gophermap that is a program (its first
	// line starts with "#!") like a Menu program; false refuses it.
	ExecutableGophermaps bool
	Timeout              time.Duration
	KillGrace            time.Duration
	MaxOutputBytes       int64
	MaxConcurrent        int
	MaxConcurrentPerIP   int
	RemoteAddr           AddrMode
	// Env holds variables added to every program's environment (PATH
	// among them, replacing the default one).
	Env map[string]string
	// Version is gopherd's version, for SERVER_SOFTWARE.
	Version string
	// Logger receives refusals, failures and the programs' stderr. nil
	// means no logging.
	Logger *zap.Logger
	// Slots counts the runs in progress. Share one between the gateways
	// of successive reloads so that runs started before a reload count
	// against the caps after it; nil gives the Gateway its own.
	Slots *Slots
	// Observe, when set, is told how each run ended (one of the Run
	// outcomes), for metrics. It must return quickly.
	Observe func(outcome string)
	// NoExec makes the gateway a stand-in that starts nothing, for
	// previews (gopherd render): everything up to the start of a program
	// is as usual (the program is found, and one that may not run is
	// refused with the usual error item), and where a program would
	// start, the client gets an error item saying that it was not run
	// (see NotRunMessage).
	NoExec bool
}

// NotRunMessage is the text of the error item a NoExec gateway answers
// with where it would run the program at rel (relative to the root).
func NotRunMessage(rel string) string {
	return "Not run: gopherd render executes nothing; the server would run " + gopher.Quote(rel, gopher.MaxEcho) + " here."
}

// How a run ended, as Options.Observe is told.
const (
	RunOK          = "ok"           // the program exited 0 and its output was sent
	RunFailed      = "failed"       // it exited non-zero or was killed by a signal
	RunTimeout     = "timeout"      // it outlived Options.Timeout
	RunOutputLimit = "output-limit" // it wrote more than Options.MaxOutputBytes
	RunClientGone  = "client-gone"  // the client went away first
	RunBusy        = "busy"         // the caps were full: it was not started
	RunStartFailed = "start-failed" // it could not be started
)

// Gateway runs the programs of one configuration. It is safe for
// concurrent use.
type Gateway struct {
	root    *os.Root
	rootAbs string // DOCUMENT_ROOT
	o       Options
	log     *zap.Logger
	slots   *Slots
	// errEscape is the error os.Root gives for a path leaving the root,
	// provoked once as internal/fs does: the os package does not export it.
	errEscape error
	// rootOnce warns once that programs run as root.
	rootOnce sync.Once
}

// New opens o.Root and returns a Gateway for it.
func New(o Options) (*Gateway, error) {
	if !supported {
		return nil, errors.New("cgi: running programs is supported on Linux only")
	}
	if o.Root == "" {
		return nil, errors.New("cgi: no root directory given")
	}
	if err := closeOnExecAll(); err != nil {
		return nil, fmt.Errorf("cgi: marking inherited descriptors close-on-exec: %w", err)
	}
	abs, err := filepath.Abs(o.Root)
	if err != nil {
		return nil, fmt.Errorf("cgi: root: %w", err)
	}
	root, err := os.OpenRoot(abs)
	if err != nil {
		return nil, fmt.Errorf("cgi: opening root: %w", err)
	}
	for _, d := range o.Dirs {
		if !validDirSelector(d.Selector) {
			_ = root.Close()
			return nil, fmt.Errorf("cgi: directory selector %q: must start and end with \"/\", name a directory below the root and be in canonical form", d.Selector)
		}
	}
	if err := checkEnv(o.Env); err != nil {
		_ = root.Close()
		return nil, err
	}
	o.Timeout = orDefault(o.Timeout, DefaultTimeout)
	o.KillGrace = orDefault(o.KillGrace, DefaultKillGrace)
	o.MaxOutputBytes = orDefault(o.MaxOutputBytes, DefaultMaxOutputBytes)
	o.MaxConcurrent = orDefault(o.MaxConcurrent, DefaultMaxConcurrent)
	o.MaxConcurrentPerIP = orDefault(o.MaxConcurrentPerIP, DefaultMaxConcurrentPerIP)
	log := o.Logger
	if log == nil {
		log = zap.NewNop()
	}
	slots := o.Slots
	if slots == nil {
		slots = NewSlots()
	}
	g := &Gateway{root: root, rootAbs: abs, o: o, log: log, slots: slots}
	if _, err := root.Lstat(".."); err != nil {
		var pe *iofs.PathError
		if errors.As(err, &pe) {
			g.errEscape = pe.Err
		}
	}
	for _, d := range o.Dirs {
		rel := strings.Trim(d.Selector, "/")
		if fi, err := root.Stat(rel); err != nil || !fi.IsDir() {
			log.Warn("cgi directory does not exist in the root (yet): its selectors answer not found", quoted("dir", d.Selector))
		}
	}
	return g, nil
}

func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// validDirSelector reports whether s can name a gateway directory.
func validDirSelector(s string) bool {
	if len(s) < 3 || s[0] != '/' || s[len(s)-1] != '/' || gopher.CanonicalSelector(s) != s || strings.Contains(s, "?") {
		return false
	}
	p, ok := fs.SelectorPath(s)
	return ok && p != "."
}

// Close releases the root directory.
func (g *Gateway) Close() error {
	if err := g.root.Close(); err != nil {
		return fmt.Errorf("cgi: closing root: %w", err)
	}
	return nil
}

// Route is one registration of a gateway directory on a router.
type Route struct {
	// Pattern is the selector or prefix.
	Pattern string
	// Prefix tells a prefix (ServeMux.HandlePrefix) from an exact
	// selector (ServeMux.Handle).
	Prefix  bool
	Handler gopher.Handler
}

// Routes returns what to register on the router for the gateway's
// directories: each directory as a prefix, and its name without the final
// "/" as an exact selector, so that the directory itself is the gateway's
// too (it runs index.cgi; it is never listed).
func (g *Gateway) Routes() []Route {
	var rs []Route
	for _, d := range g.o.Dirs {
		h := &dirHandler{g: g, dir: d}
		rs = append(rs,
			Route{Pattern: d.Selector, Prefix: true, Handler: h},
			Route{Pattern: strings.TrimSuffix(d.Selector, "/"), Handler: h})
	}
	return rs
}

// dirHandler serves one gateway directory.
type dirHandler struct {
	g   *Gateway
	dir Dir
}

// ServeGopher maps r to a program in the directory and runs it.
func (h *dirHandler) ServeGopher(ctx context.Context, w gopher.ResponseWriter, r *gopher.Request) {
	sc, kind := h.g.find(h.dir.Selector, r.Selector)
	if kind != 0 {
		_ = gopher.WriteError(w, r, kind)
		return
	}
	h.g.serve(ctx, w, r, sc, h.dir.Output)
}

// ServeMapProgram runs directory dir's gophermap mapPath, a program, like
// a Menu program when ExecutableGophermaps is set, and refuses it
// otherwise (fs.MapRunner).
func (g *Gateway) ServeMapProgram(ctx context.Context, w gopher.ResponseWriter, r *gopher.Request, dir, mapPath string) {
	if !g.o.ExecutableGophermaps {
		refuseMap(g.log, w, r, mapPath)
		return
	}
	sc, kind := g.mapScript(r.Selector, dir, mapPath)
	if kind != 0 {
		_ = gopher.WriteError(w, r, kind)
		return
	}
	g.serve(ctx, w, r, sc, Menu)
}

// RefuseMaps is the fs.MapRunner of a configuration without a cgi
// section: every gophermap that is a program is refused.
type RefuseMaps struct {
	// Logger receives the warning. nil means no logging.
	Logger *zap.Logger
}

// ServeMapProgram refuses the map with an error item and a warning that
// names the setting that would run it.
func (m RefuseMaps) ServeMapProgram(_ context.Context, w gopher.ResponseWriter, r *gopher.Request, _, mapPath string) {
	log := m.Logger
	if log == nil {
		log = zap.NewNop()
	}
	refuseMap(log, w, r, mapPath)
}

func refuseMap(log *zap.Logger, w gopher.ResponseWriter, r *gopher.Request, mapPath string) {
	log.Warn("gophermap is a program (its first line starts with #!): refused, never shown as its source; set cgi.executable-gophermaps to true to run it",
		quoted("path", mapPath), quoted("selector", r.Selector))
	_ = gopher.WriteError(w, r, gopher.NotAllowed)
}

// maxLogField bounds a path or selector repeated in a log line.
const maxLogField = 256

func quoted(key, s string) zap.Field {
	return zap.String(key, gopher.Quote(s, maxLogField))
}
