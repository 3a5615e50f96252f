package cgi

import (
	"context"
	"os"
	"strconv"

	"go.uber.org/zap"

	"gopherd/internal/gopher"
	"gopherd/internal/gophermap"
)

// serve runs program sc for r and answers with its output (see the
// package comment for the failure answers).
func (g *Gateway) serve(ctx context.Context, w gopher.ResponseWriter, r *gopher.Request, sc script, mode Output) {
	if g.o.NoExec {
		gopher.Served(w, "not-run")
		item := gopher.Item{Type: gopher.TypeError, Display: NotRunMessage(sc.rel), Selector: gopher.ErrorSelector, Host: r.Host, Port: r.Port}
		_, _ = w.Write(gopher.Menu{item}.Bytes())
		return
	}
	ip := r.RemoteAddr.Addr()
	if !g.slots.acquire(ip, g.o.MaxConcurrent, g.o.MaxConcurrentPerIP) {
		g.log.Warn("cgi: too many programs running: busy", quoted("selector", r.Selector),
			zap.Int("max-concurrent", g.o.MaxConcurrent), zap.Int("max-concurrent-per-ip", g.o.MaxConcurrentPerIP))
		g.observe(RunBusy)
		_ = gopher.WriteError(w, r, gopher.Busy)
		return
	}
	defer g.slots.release(ip)
	if os.Geteuid() == 0 {
		g.rootOnce.Do(func() {
			g.log.Warn(`cgi: programs run as root: set "user" in the configuration (or run under the shipped gopherd.service) so that a program's bug cannot become a root compromise`)
		})
	}
	p, err := g.start(sc, g.env(r, sc))
	if err != nil {
		g.log.Warn("cgi: cannot start program", quoted("selector", r.Selector), quoted("path", sc.rel),
			zap.String("error", gopher.Quote(err.Error(), 2*maxLogField)))
		g.observe(RunStartFailed)
		_ = gopher.WriteError(w, r, gopher.Internal)
		return
	}
	go p.supervise(ctx)
	var out outputSink
	if mode == Menu {
		out = newMenuSink(g, w, r, sc)
	} else {
		out = rawSink{w}
	}
	// An error item written later records its kind instead.
	gopher.Served(w, "cgi")
	n := p.readStdout(g.o.MaxOutputBytes, out.write)
	<-p.done

	why := p.stopped()
	failed := why != stopNone || p.outCut || !p.state.Success()
	g.logRun(r, sc, p, n, why)
	g.observe(outcome(why, failed))
	switch {
	case why == stopGone:
		// Nobody is listening; the server notes the broken connection.
	case n == 0 && why == stopTimeout:
		_ = gopher.WriteError(w, r, gopher.TimedOut)
	case n == 0 && failed:
		_ = gopher.WriteError(w, r, gopher.Internal)
	case mode == Raw:
		if failed {
			gopher.Abort(w)
		}
	default:
		m := out.(*menuSink)
		kind := gopher.Internal
		if why == stopTimeout {
			kind = gopher.TimedOut
		}
		m.finish(failed, kind)
	}
}

// outcome names how a run ended for Options.Observe.
func outcome(why stopReason, failed bool) string {
	switch {
	case why == stopTimeout:
		return RunTimeout
	case why == stopGone:
		return RunClientGone
	case why == stopCap:
		return RunOutputLimit
	case failed:
		return RunFailed
	}
	return RunOK
}

func (g *Gateway) observe(outcome string) {
	if g.o.Observe != nil {
		g.o.Observe(outcome)
	}
}

// logRun logs how a run ended: a warning when it failed or wrote to
// stderr, else a debug line.
func (g *Gateway) logRun(r *gopher.Request, sc script, p *process, n int64, why stopReason) {
	fields := []zap.Field{
		quoted("selector", r.Selector),
		quoted("path", sc.rel),
		zap.String("status", p.state.String()),
		zap.Int64("bytes", n),
	}
	if why != stopNone {
		fields = append(fields, zap.String("stopped", why.String()))
	}
	if p.outCut {
		fields = append(fields, zap.Bool("output-cut", true))
	}
	if p.stderrLen > 0 {
		fields = append(fields, zap.String("stderr", gopher.Quote(string(p.stderr), maxStderr)))
		if p.stderrLen > int64(len(p.stderr)) {
			fields = append(fields, zap.Int64("stderr-bytes", p.stderrLen))
		}
	}
	switch {
	case why != stopNone && why != stopGone, p.outCut, !p.state.Success():
		g.log.Warn("cgi: program failed", fields...)
	case p.stderrLen > 0:
		g.log.Warn("cgi: program wrote to stderr", fields...)
	default:
		g.log.Debug("cgi: program ran", fields...)
	}
}

// outputSink is where a program's output goes.
type outputSink interface {
	// write forwards b; false means the client is gone.
	write(b []byte) bool
}

// rawSink passes the bytes through: the program owns the framing.
type rawSink struct{ w gopher.ResponseWriter }

func (s rawSink) write(b []byte) bool {
	_, err := s.w.Write(b)
	return err == nil
}

// maxMenuLine bounds one line of menu output; a longer line is skipped
// with a warning.
const maxMenuLine = 16 << 10

// maxMenuWarnings bounds the warnings one run's menu output may log.
const maxMenuWarnings = 10

// menuSink reads the output as gophermap lines, one at a time, and writes
// the items each chunk of output completes.
type menuSink struct {
	g   *Gateway
	w   gopher.ResponseWriter
	r   *gopher.Request
	sc  script
	ctx gophermap.Context

	line     []byte // the line read so far
	long     bool   // the current line passed maxMenuLine
	lineNo   int
	ended    bool // a "." line was read: the rest is ignored
	warnings int
	out      []byte
	err      bool
}

func (s *menuSink) write(b []byte) bool {
	for len(b) > 0 && !s.ended {
		i := indexNL(b)
		part := b
		if i >= 0 {
			part = b[:i]
		}
		if !s.long {
			if len(s.line)+len(part) > maxMenuLine {
				s.long = true
				s.line = s.line[:0]
			} else {
				s.line = append(s.line, part...)
			}
		}
		if i < 0 {
			break
		}
		b = b[i+1:]
		s.endLine()
	}
	return s.flush()
}

func indexNL(b []byte) int {
	for i, c := range b {
		if c == '\n' {
			return i
		}
	}
	return -1
}

// endLine renders the complete line in s.line.
func (s *menuSink) endLine() {
	s.lineNo++
	if s.long {
		s.long = false
		s.warn(s.lineNo, "line longer than "+strconv.Itoa(maxMenuLine)+" bytes; line skipped")
		return
	}
	line := s.line
	s.line = s.line[:0]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	if string(line) == "." {
		s.ended = true
		return
	}
	items, warnings := renderLine(line, s.ctx)
	for _, w := range warnings {
		s.warn(s.lineNo, w)
	}
	for _, it := range items {
		s.out = it.AppendTo(s.out)
	}
}

func (s *menuSink) warn(line int, msg string) {
	s.warnings++
	if s.warnings > maxMenuWarnings {
		return
	}
	s.g.log.Warn("cgi: menu output: "+gopher.Quote(s.sc.rel+":"+strconv.Itoa(line)+": "+msg, 2*maxLogField),
		quoted("selector", s.r.Selector))
}

// flush writes what the output so far has rendered.
func (s *menuSink) flush() bool {
	if s.err {
		return false
	}
	if len(s.out) > 0 {
		_, err := s.w.Write(s.out)
		s.out = s.out[:0]
		if err != nil {
			s.err = true
			return false
		}
	}
	return true
}

// finish renders a last line without a newline, appends an error item
// when the run failed, and ends the menu.
func (s *menuSink) finish(failed bool, kind gopher.ErrorKind) {
	if !failed && !s.ended && (len(s.line) > 0 || s.long) {
		s.endLine()
	}
	if s.warnings > maxMenuWarnings {
		s.g.log.Warn("cgi: menu output: more warnings not logged", quoted("selector", s.r.Selector),
			zap.Int("warnings", s.warnings))
	}
	if failed {
		s.out = gopher.ErrorItem(kind, s.r.Selector, s.r.Host, s.r.Port).AppendTo(s.out)
	}
	s.out = append(s.out, gopher.Terminator...)
	s.flush()
}

func newMenuSink(g *Gateway, w gopher.ResponseWriter, r *gopher.Request, sc script) *menuSink {
	return &menuSink{g: g, w: w, r: r, sc: sc, ctx: gophermap.Context{Dir: sc.dir, Host: r.Host, Port: r.Port}}
}

// renderLine renders one line of menu output (without its line ending)
// by internal/gophermap's rules: relative selectors are joined to the
// program's directory, missing hosts and ports filled in, a bad line
// skipped with a warning.
func renderLine(line []byte, c gophermap.Context) (gopher.Menu, []string) {
	// The newline makes an empty line an empty info line, as in a file.
	entries, pw := gophermap.Parse(append(line, '\n'))
	menu, rw := gophermap.Resolve(entries, c)
	var msgs []string
	for _, w := range append(pw, rw...) {
		msgs = append(msgs, w.Msg)
	}
	return menu, msgs
}
