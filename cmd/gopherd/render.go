package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/spf13/pflag"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"gopherd/internal/config"
	"gopherd/internal/gopher"
	"gopherd/internal/gopherplus"
	"gopherd/internal/search"
	"gopherd/internal/server"
)

type renderFlags struct {
	configFile string
	root       string
	raw        bool
	help       bool
}

func newRenderFlagSet(o *renderFlags, output io.Writer) *pflag.FlagSet {
	fs := pflag.NewFlagSet("gopherd render", pflag.ContinueOnError)
	fs.SetOutput(output)
	fs.SortFlags = false
	fs.StringVarP(&o.configFile, "config", "c", "", "answer as configuration `FILE` would")
	fs.StringVarP(&o.root, "root", "r", "", "answer from `DIR` with the defaults of gopherd --root DIR")
	fs.BoolVar(&o.raw, "raw", false, "print the exact bytes a client gets")
	fs.BoolVarP(&o.help, "help", "h", false, "print this help and exit")
	fs.Usage = func() { printRenderUsage(fs, output) }
	return fs
}

func printRenderUsage(fs *pflag.FlagSet, w io.Writer) {
	fmt.Fprint(w, `Usage: gopherd render [--config FILE | --root DIR] [--raw] SELECTOR

Print what a client gets for SELECTOR (with a TAB and a query, if it is a
search), answered by the very handler chain the server runs for the same
configuration and the default host, without binding a port: with --raw
the exact bytes, otherwise one menu item a line (its type, display string
and target, TABs and control characters shown as \t and \xNN) or the
document. Nothing is ever executed: where the server would run a program,
the answer is an error item that says "Not run". Problems with the maps
are logged to standard error.

Flags:
`)
	fs.SetOutput(w)
	fs.PrintDefaults()
}

// renderTimeout bounds the whole answer: the server's own limits end a
// slow one first.
const renderTimeout = 5 * time.Minute

// runRender is `gopherd render`.
func runRender(s streams, args []string) int {
	var o renderFlags
	fs := newRenderFlagSet(&o, s.Stderr)
	usage := func(format string, a ...any) int {
		fmt.Fprintf(s.Stderr, "gopherd render: "+format+"\n", a...)
		printRenderUsage(fs, s.Stderr)
		return exitUsage
	}
	if err := fs.Parse(args); err != nil {
		return usage("%v", err)
	}
	switch {
	case o.help:
		printRenderUsage(fs, s.Stdout)
		return exitOK
	case o.configFile != "" && o.root != "":
		return usage("--config and --root exclude each other: the configuration names its root")
	case fs.NArg() != 1:
		return usage("want one SELECTOR (\"\" or / for the root), got %d arguments", fs.NArg())
	}
	cfg, err := loadConfig(&options{configFile: o.configFile, root: o.root})
	if err == nil {
		err = cfg.Validate()
	}
	if err != nil {
		fmt.Fprintln(s.Stderr, err)
		return exitUsage
	}
	// --raw streams the answer, whatever its size; a preview reads at
	// most previewMax bytes of it.
	var out io.Writer = s.Stdout
	head := &headBuffer{max: previewMax}
	if !o.raw {
		out = head
	}
	served, st, err := renderOffline(cfg, fs.Arg(0), out, s.Stderr)
	if err == nil && !o.raw {
		err = writePreview(s.Stdout, head, served, st.Hostname, st.Port)
	}
	if err != nil {
		fmt.Fprintf(s.Stderr, "gopherd render: %v\n", err)
		return exitFailure
	}
	return exitOK
}

// previewMax is how much of an answer a preview shows.
const previewMax = 16 << 20

// headBuffer keeps the first max bytes written to it and counts the rest.
// (It has no ReadFrom, so that io.Copy cannot bypass Write.)
type headBuffer struct {
	buf  []byte
	max  int
	more int64
}

func (h *headBuffer) Write(p []byte) (int, error) {
	keep := min(len(p), h.max-len(h.buf))
	h.buf = append(h.buf, p[:keep]...)
	h.more += int64(len(p) - keep)
	return len(p), nil
}

// renderOffline answers request (a request line without its CRLF) as the
// daemon would for configuration c, on a connection of the default host's
// listener, and copies the answer to out: the daemon's settings and
// handler chains (site) behind a real server.Server, which serves one
// in-memory connection. Nothing is bound and nothing is run (see
// offlineDaemon). served is what the server's access log says the answer
// was ("menu", "file", an error kind...). Warnings go to logTo.
func renderOffline(c *config.Config, request string, out, logTo io.Writer) (served string, st server.Settings, err error) {
	rec := &servedCore{}
	enc := zap.NewProductionEncoderConfig()
	enc.TimeKey = ""
	enc.ConsoleSeparator = " "
	warn := zapcore.NewCore(zapcore.NewConsoleEncoder(enc), zapcore.Lock(zapcore.AddSync(logTo)), zapcore.WarnLevel)
	logger := zap.New(zapcore.NewTee(warn, rec))
	defer func() { _ = logger.Sync() }()

	d := offlineDaemon(c, version, logger)
	// TLS certificates are not loaded: the connection is a plain one,
	// and their keys may be readable by the daemon's user only.
	st, plan, err := d.settings(c, certificates{vhosts: make([]*tls.Certificate, len(c.Vhosts))})
	if err != nil {
		return "", st, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), renderTimeout)
	defer cancel()
	if err := prepareSearch(ctx, d, st, plan, request); err != nil {
		return "", st, err
	}
	defer d.searches.close(logger)
	srv := server.New(logger, st)
	defer func() { _ = srv.Shutdown(ctx) }()

	client, conn := net.Pipe()
	defer client.Close()
	_ = client.SetDeadline(time.Now().Add(renderTimeout))
	ln := d.hostListener(c.Hosts()[0], true)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.ServeConn(conn, d.lopts[ln])
	}()
	// The request is written while the answer is read: a server that
	// answers before reading it all (a request too large) must not
	// block the pipe.
	go func() { _, _ = io.WriteString(client, request+"\r\n") }()
	_, err = io.Copy(out, client)
	// Unblocks the server when out failed (a closed stdout).
	_ = client.Close()
	<-done
	if err != nil {
		return "", st, fmt.Errorf("copying the answer: %w", err)
	}
	return rec.get(), st, nil
}

// prepareSearch starts the search indexes of plan and waits until the
// one that answers request has its first index, when the default host's
// router sends request to a search: the answer is then the one a server
// that has finished indexing gives. Any other request needs no index, and
// nothing is indexed.
func prepareSearch(ctx context.Context, d *daemon, st server.Settings, plan *searchPlan, request string) error {
	next := st.Handler
	if gp, ok := next.(gopherplus.Handler); ok {
		next = gp.Next
	}
	mux, _ := next.(*gopher.ServeMux)
	req, err := gopher.ParseRequest([]byte(request))
	if mux == nil || err != nil {
		plan.abort()
		return nil
	}
	h, _ := mux.Handler(req)
	sh, ok := h.(*search.Handler)
	if !ok {
		plan.abort()
		return nil
	}
	d.searches.commit(plan)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !sh.Stats().Ready {
		select {
		case <-ctx.Done():
			return fmt.Errorf("the search index was not built in time: %w", ctx.Err())
		case <-tick.C:
		}
	}
	return nil
}

// servedCore is a zap core that keeps what the access log says was
// served (its "served" field), so that the preview knows a menu from a
// document exactly as the server classified it.
type servedCore struct {
	mu     sync.Mutex
	served string
}

func (c *servedCore) Enabled(l zapcore.Level) bool      { return l == zapcore.InfoLevel }
func (c *servedCore) With([]zapcore.Field) zapcore.Core { return c }
func (c *servedCore) Sync() error                       { return nil }

func (c *servedCore) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if e.Level == zapcore.InfoLevel && e.Message == "request" {
		return ce.AddCore(e, c)
	}
	return ce
}

func (c *servedCore) Write(_ zapcore.Entry, fields []zapcore.Field) error {
	for _, f := range fields {
		if f.Key == "served" {
			c.mu.Lock()
			c.served = f.String
			c.mu.Unlock()
		}
	}
	return nil
}

func (c *servedCore) get() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.served
}

// menuServed reports whether an answer the access log calls served is a
// menu: a directory's, a search's, an error item (the server's or a
// handler's), or the gateway stand-in's "not run".
func menuServed(served string) bool {
	switch served {
	case "menu", "search", "not-run", "tls-required":
		return true
	}
	for k := gopher.NotFound; k <= gopher.Internal; k++ {
		if served == k.String() {
			return true
		}
	}
	return false
}

// writePreview writes the readable form of an answer: a menu one item a
// line, "TYPE DISPLAY → TARGET" (the target a selector of this server's,
// or a gopher URL, or the URL of a URL: link; none for info and error
// lines); a text document as it is; anything else as its size.
func writePreview(w io.Writer, head *headBuffer, served, host string, port int) error {
	body := head.buf
	if head.more > 0 {
		// Cut where a line ends, so that no item is shown in part.
		if i := bytes.LastIndexByte(body, '\n'); i >= 0 {
			head.more += int64(len(body) - i - 1)
			body = body[:i+1]
		}
	}
	var b bytes.Buffer
	switch {
	case menuServed(served):
		for line := range strings.SplitSeq(string(body), "\r\n") {
			if line == "." || line == "" {
				continue
			}
			b.WriteString(previewItem(line, host, port))
			b.WriteByte('\n')
		}
	case isText(body):
		b.Write(body)
		if len(body) > 0 && body[len(body)-1] != '\n' {
			b.WriteByte('\n')
		}
	default:
		fmt.Fprintf(&b, "(%s of binary data, served as %q: see them with --raw)\n", plural(len(body)+int(head.more), "byte", "bytes"), served)
		head.more = 0
	}
	if head.more > 0 {
		fmt.Fprintf(&b, "(and %d more bytes, not shown: see them with --raw)\n", head.more)
	}
	_, err := w.Write(b.Bytes())
	return err
}

// previewItem is one menu line in readable form.
func previewItem(line, host string, port int) string {
	fields := strings.SplitN(line, "\t", 5)
	t := gopher.ItemType(line[0])
	out := visible(line[:1]) + " " + visible(fields[0][1:])
	if t == gopher.TypeInfo || t == gopher.TypeError || len(fields) < 4 {
		return out
	}
	sel, h, p := fields[1], fields[2], fields[3]
	var target string
	switch {
	case strings.HasPrefix(strings.TrimPrefix(sel, "/"), "URL:"):
		target = strings.TrimPrefix(strings.TrimPrefix(sel, "/"), "URL:")
	case gopher.CanonicalHost(h) == gopher.CanonicalHost(host) && p == strconv.Itoa(port):
		target = sel
		if target == "" {
			target = "/"
		}
	default:
		hp := h
		if p != "70" {
			hp = net.JoinHostPort(h, p)
		}
		target = "gopher://" + hp + "/" + line[:1] + sel
	}
	out += " → " + visible(target)
	if len(fields) == 5 {
		out += " (more fields: " + visible(fields[4]) + ")"
	}
	return out
}

// visible writes s with TABs as \t and every other control character, and
// every byte that is not UTF-8, as \xNN, so that a preview shows what the
// bytes are and cannot drive the terminal.
func visible(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '\t':
			b.WriteString(`\t`)
		case r == utf8.RuneError && size == 1, r < 0x20, r == 0x7f, r >= 0x80 && r < 0xa0:
			for _, c := range []byte(s[i : i+size]) {
				fmt.Fprintf(&b, `\x%02x`, c)
			}
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// isText reports whether a document can go to a terminal as it is: UTF-8
// without control characters other than TAB, CR, LF and form feed.
func isText(b []byte) bool {
	if !utf8.Valid(b) {
		return false
	}
	for _, r := range string(b) {
		if r < 0x20 && r != '\t' && r != '\r' && r != '\n' && r != '\f' || r == 0x7f || r >= 0x80 && r < 0xa0 {
			return false
		}
	}
	return true
}
