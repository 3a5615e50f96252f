// Command gopherd serves a directory tree over the Gopher protocol (RFC 1436).
//
// Usage:
//
//	gopherd [flags] [CONFIG]
//	gopherd cert --host NAME [flags]
//	gopherd convert --from gph|gophernicus [--to bucktooth] FILE
//
// Without CONFIG it serves the current directory on 127.0.0.1:7070. See
// gopherd(8) and gopherd.json(5).
//
// The program is the type Main (ParseFlags, Run, Reload, Shutdown, Close),
// so that tests start it in-process exactly as main does; main itself only
// owns the process: its signals, its streams and its exit code.
package main

import (
	// First, so that a SIGHUP during start-up is ignored until main
	// takes it (see the package).
	_ "gopherd/internal/hupguard"

	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// version is set by the Makefile with -ldflags "-X main.version=...".
var version = "dev"

// shutdownGrace is how long transfers in flight may continue after SIGTERM
// or SIGINT. It stays below systemd's default TimeoutStopSec (90 s) so the
// daemon, not the service manager, decides what gets cut. A second signal
// cuts at once.
const shutdownGrace = 30 * time.Second

func main() {
	// Signal handling comes before anything that takes time: SIGHUP's
	// default action is to end the process, so a reload requested while
	// gopherd starts (systemd may send one at any moment) would kill it.
	// Until here internal/hupguard has it ignored; queued from here, it is
	// applied once serving has begun.
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGHUP, syscall.SIGINT, syscall.SIGTERM)
	os.Exit(run(os.Args[1:], streams{Stdout: os.Stdout, Stderr: os.Stderr}, sigs))
}

// streams are a program's standard output and error.
type streams struct {
	Stdout io.Writer
	Stderr io.Writer
}

// run is the whole program: a subcommand, a check, or the daemon until a
// signal stops it. It returns the exit code.
func run(args []string, s streams, sigs <-chan os.Signal) int {
	if len(args) > 0 {
		if cmd := subcommand(args[0]); cmd != nil {
			return cmd(s, args[1:])
		}
	}
	errOut := errorStream(s.Stderr)
	m := &Main{Stdout: s.Stdout, Stderr: s.Stderr, Version: version}
	if err := m.ParseFlags(args); err != nil {
		return report(errOut, err)
	}
	if m.CheckOnly() {
		return report(errOut, m.Check())
	}
	if err := m.Run(context.Background()); err != nil {
		return report(errOut, err)
	}
	for {
		select {
		case sig := <-sigs:
			if sig == syscall.SIGHUP {
				m.Reload()
				continue
			}
			return stop(m, sig, sigs)
		case err := <-m.Failed():
			// Whatever log says, the reason to exit reaches stderr.
			fmt.Fprintf(errOut, "gopherd: %v\n", err)
			ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
			_ = m.Shutdown(ctx)
			cancel()
			return exitFailure
		}
	}
}

// stop shuts the daemon down gracefully after sig; a second signal cuts
// the transfers still in flight at once.
func stop(m *Main, sig os.Signal, sigs <-chan os.Signal) int {
	ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	m.Stopping(sig)
	go func() {
		select {
		case s := <-sigs:
			m.CutNow(s)
			cancel()
		case <-ctx.Done():
		}
	}()
	_ = m.Shutdown(ctx)
	return exitOK
}

// subcommand returns the program for gopherd NAME, or nil.
func subcommand(name string) func(streams, []string) int {
	switch name {
	case "cert":
		return runCert
	case "convert":
		return runConvert
	case "lint":
		return runLint
	case "render":
		return runRender
	}
	return nil
}

// errorStream is where the reasons to exit go: stderr, and when stderr is
// the journal's stream each line behind "<3>", which journald reads as
// priority 3 (error), so that journalctl -p err shows why gopherd stopped.
func errorStream(stderr io.Writer) io.Writer {
	if f, ok := stderr.(*os.File); ok && f == os.Stderr && stderrIsJournal() {
		return prefixLines{w: stderr, prefix: "<3>"}
	}
	return stderr
}

// prefixLines writes each line behind prefix.
type prefixLines struct {
	w      io.Writer
	prefix string
}

func (p prefixLines) Write(b []byte) (int, error) {
	var out []byte
	for l := range bytes.Lines(b) {
		out = append(append(out, p.prefix...), l...)
	}
	if _, err := p.w.Write(out); err != nil {
		return 0, err
	}
	return len(b), nil
}

// report prints err (when it says anything) to stderr and returns the
// exit code it stands for. Errors reach stderr whatever the log settings
// are: with logging off, a daemon that cannot start would otherwise exit
// without a word.
func report(stderr io.Writer, err error) int {
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintln(stderr, ee.err)
		}
		return ee.code
	}
	fmt.Fprintf(stderr, "gopherd: %v\n", err)
	return exitFailure
}

// exitError is an error with the exit code it calls for. A nil err means
// the message was printed already (usage text, --help).
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// usageError is a bad command line or configuration: exit 2.
func usageError(err error) error { return &exitError{code: exitUsage, err: err} }
