package config

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// Validate checks the values of c: ranges, host names, addresses, users,
// the keys that depend on each other (a TLS-only listener needs a
// certificate, two listeners must not share an address), and the file
// system: that Root exists, is a directory and can be read, and that the
// tls files, when set, are regular files that can be opened (whether they
// hold a usable certificate is for the TLS code to find out). It checks a
// Config built or changed by hand the same way. It reports every problem
// it finds as an *Error, naming the line the key came from when the Config
// was parsed from a file.
func (c *Config) Validate() error {
	if c == nil {
		return &Error{Problems: []Problem{{Msg: "no configuration"}}}
	}
	if ps := c.check(true); len(ps) > 0 {
		return &Error{Problems: ps}
	}
	return nil
}

// check runs the declarations over c and returns the problems of its
// values in file order; checkFS adds the file system checks.
func (c *Config) check(checkFS bool) []Problem {
	w := &walk{file: c.Source, where: c.where, checkFS: checkFS}
	c.keys(w.top(nil))
	sortProblems(w.problems)
	return w.problems
}

// fileProblem checks that the file at path exists, is a regular file and
// can be opened for reading, and returns what is wrong, or "".
func fileProblem(path string) (string, error) {
	q := quote(path)
	// Stat first: opening a FIFO would block until a writer came along.
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Sprintf("file %s does not exist", q), err
	case err != nil:
		return fmt.Sprintf("cannot access %s: %s", q, cause(err)), err
	case !fi.Mode().IsRegular():
		return fmt.Sprintf("%s is not a regular file", q), nil
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Sprintf("cannot open %s: %s", q, cause(err)), err
	}
	_ = f.Close()
	return "", nil
}

// dirProblem opens the directory at path and reads one entry, which is
// what serving it needs: a directory with search permission but no read
// permission would pass a Stat and fail on the first listing.
func dirProblem(path string) (string, error) {
	q := quote(path)
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Sprintf("directory %s does not exist", q), err
	case err != nil:
		return fmt.Sprintf("cannot access %s: %s", q, cause(err)), err
	case !fi.IsDir():
		return fmt.Sprintf("%s is not a directory", q), nil
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Sprintf("cannot open %s: %s", q, cause(err)), err
	}
	defer f.Close()
	if _, err := f.ReadDir(1); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Sprintf("cannot read directory %s: %s", q, cause(err)), err
	}
	return "", nil
}

// cause strips the operation and path an *fs.PathError repeats, since the
// message already names the file.
func cause(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}
