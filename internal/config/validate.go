package config

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
)

// Validate checks everything Parse checks that can still be checked on the
// struct (so it also catches a hand-built or changed Config), that Root
// exists, is a directory and can be read, and that the tls files, when set,
// are regular files that can be opened (whether they hold a usable
// certificate is for the TLS code to find out). It reports every problem it
// finds as an *Error, naming the line the key came from when the Config
// was parsed from a file.
func (c *Config) Validate() error {
	if c == nil {
		return &Error{Problems: []Problem{{Msg: "no configuration"}}}
	}
	ps := c.invariants()
	if checkRoot(c.Root) == "" {
		if p, bad := c.checkRootDir(); bad {
			ps = append(ps, p)
		}
	}
	if c.TLS.Enabled() {
		for _, f := range []struct{ key, path string }{
			{"tls.certificate", c.TLS.Certificate}, {"tls.key", c.TLS.Key},
		} {
			if checkPath(f.path) == "" {
				if p, bad := c.checkFile(f.key, f.path); bad {
					ps = append(ps, p)
				}
			}
		}
	}
	if len(ps) == 0 {
		return nil
	}
	sortProblems(ps)
	return &Error{Problems: ps}
}

// invariants returns the problems of c that do not need the file system.
// A Config returned by Parse or Default has none, except a missing root,
// which the command line may still supply.
func (c *Config) invariants() []Problem {
	var ps []Problem
	add := func(key, msg string) {
		if msg != "" {
			ps = append(ps, Problem{File: c.Source, Line: c.lineOf(key), Key: key, Msg: msg})
		}
	}
	add("hostname", checkHostname(c.Hostname))
	if c.Root == "" && c.lineOf("root") == 0 {
		add("root", "required key is missing (the directory to serve; --root also sets it)")
	} else {
		add("root", checkRoot(c.Root))
	}
	if len(c.Listen) == 0 {
		add("listen", "must not be empty")
	}
	for i, l := range c.Listen {
		k := c.listenKey(i)
		add(k+".addr", checkAddr(l.Addr))
		add(k+".port", checkListenPort(l.Port))
		switch {
		case l.TLS < TLSAuto || l.TLS > TLSOff:
			add(k+".tls", fmt.Sprintf("unknown mode %d", int(l.TLS)))
		case l.TLS == TLSOnly && !c.TLS.Enabled():
			add(k+".tls", tlsOnlyWithoutCert)
		}
	}
	for _, d := range duplicateListeners(c.Listen) {
		i, j := d[0], d[1]
		add(c.listenKey(j), fmt.Sprintf("same address as %s (%s)", c.listenKey(i), c.Listen[i]))
	}
	if c.PublicPort != 0 {
		add("public-port", checkPort(c.PublicPort))
	}
	if c.User != "" {
		add("user", checkUser(c.User))
	}
	add("log.level", checkLevel(c.Log.Level))
	add("limits.request-bytes", checkCount(c.Limits.RequestBytes, MaxRequestBytes))
	add("limits.request-timeout", checkTimeout(c.Limits.RequestTimeout))
	add("limits.idle-timeout", checkTimeout(c.Limits.IdleTimeout))
	add("limits.max-connections", checkCount(c.Limits.MaxConnections, maxCount))
	add("limits.max-connections-per-ip", checkCount(c.Limits.MaxConnectionsPerIP, maxCount))
	if c.TLS.Enabled() {
		add("tls.certificate", checkPath(c.TLS.Certificate))
		add("tls.key", checkPath(c.TLS.Key))
	}
	return ps
}

// checkFile checks that the file named by key exists, is a regular file
// and can be opened for reading.
func (c *Config) checkFile(key, path string) (Problem, bool) {
	bad := func(err error, format string, args ...any) (Problem, bool) {
		return Problem{File: c.Source, Line: c.lineOf(key), Key: key, Msg: fmt.Sprintf(format, args...), Err: err}, true
	}
	q := quote(path)
	// Stat first: opening a FIFO would block until a writer came along.
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return bad(err, "file %s does not exist", q)
	case err != nil:
		return bad(err, "cannot access %s: %s", q, cause(err))
	case !fi.Mode().IsRegular():
		return bad(nil, "%s is not a regular file", q)
	}
	f, err := os.Open(path)
	if err != nil {
		return bad(err, "cannot open %s: %s", q, cause(err))
	}
	_ = f.Close()
	return Problem{}, false
}

// checkRootDir opens Root and reads one entry, which is what serving it
// needs: a directory with search permission but no read permission would
// pass a Stat and fail on the first listing.
func (c *Config) checkRootDir() (Problem, bool) {
	bad := func(err error, format string, args ...any) (Problem, bool) {
		return Problem{File: c.Source, Line: c.lineOf("root"), Key: "root", Msg: fmt.Sprintf(format, args...), Err: err}, true
	}
	q := quote(c.Root)
	fi, err := os.Stat(c.Root)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return bad(err, "directory %s does not exist", q)
	case err != nil:
		return bad(err, "cannot access %s: %s", q, cause(err))
	case !fi.IsDir():
		return bad(nil, "%s is not a directory", q)
	}
	f, err := os.Open(c.Root)
	if err != nil {
		return bad(err, "cannot open %s: %s", q, cause(err))
	}
	defer f.Close()
	if _, err := f.ReadDir(1); err != nil && !errors.Is(err, io.EOF) {
		return bad(err, "cannot read directory %s: %s", q, cause(err))
	}
	return Problem{}, false
}

// cause strips the operation and path an *fs.PathError repeats, since the
// message already names the directory.
func cause(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// lineOf returns the line key was read from, or of the nearest enclosing
// key that was ("listen[1]" for "listen[1].port" when port was defaulted),
// or 0.
func (c *Config) lineOf(key string) int {
	if c.where == nil {
		return 0
	}
	for key != "" {
		if l, ok := c.where.lines[key]; ok {
			return l
		}
		i := strings.LastIndexAny(key, ".[")
		if i < 0 {
			break
		}
		key = key[:i]
	}
	return 0
}

// listenKey names Listen[i] as the file did.
func (c *Config) listenKey(i int) string {
	if c.where != nil && len(c.where.listenKeys) == len(c.Listen) {
		return c.where.listenKeys[i]
	}
	return indexPath("listen", i)
}
