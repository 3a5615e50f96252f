package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"

	"gopherd/internal/fs"
	"gopherd/internal/gophermap"
)

type convertOptions struct {
	from, to string
	root     string
	help     bool
}

func newConvertFlagSet(o *convertOptions, output io.Writer) *pflag.FlagSet {
	f := pflag.NewFlagSet("gopherd convert", pflag.ContinueOnError)
	f.SetOutput(output)
	f.SortFlags = false
	f.StringVar(&o.from, "from", "", "the `DIALECT` FILE is written in: gph (geomyidae) or gophernicus (required)")
	f.StringVar(&o.to, "to", gophermap.DialectBucktooth, "the `DIALECT` to write: bucktooth")
	f.StringVar(&o.root, "root", "", "the served root `DIR` that includes are read from, as gopherd serves them (default: FILE's directory)")
	f.BoolVarP(&o.help, "help", "h", false, "print this help and exit")
	f.Usage = func() { printConvertUsage(f, output) }
	return f
}

func printConvertUsage(f *pflag.FlagSet, w io.Writer) {
	fmt.Fprint(w, `Usage: gopherd convert --from gph|gophernicus [--to bucktooth] [--root DIR] FILE

Print FILE, a geomyidae .gph file or a Gophernicus gophermap, as the
equivalent gophermap in the Bucktooth dialect gopherd reads by default, so
that a migration can be completed for good. Maps that FILE includes ("=")
are written in place, read from the root as gopherd would (never run). A
warning on standard error names each line that cannot be expressed and
what is lost ("*", the appended listing, above all); the exit status is 0
whenever the map was written. Relative selectors stay relative: put the
result in the directory FILE is in.

Flags:
`)
	f.SetOutput(w)
	f.PrintDefaults()
}

// runConvert is `gopherd convert`.
func runConvert(m streams, args []string) int {
	var o convertOptions
	f := newConvertFlagSet(&o, m.Stderr)
	if err := f.Parse(args); err != nil {
		fmt.Fprintf(m.Stderr, "gopherd convert: %v\n", err)
		printConvertUsage(f, m.Stderr)
		return exitUsage
	}
	var d gophermap.Dialect
	switch {
	case o.help:
		printConvertUsage(f, m.Stdout)
		return exitOK
	case f.NArg() != 1:
		fmt.Fprintln(m.Stderr, "gopherd convert: want exactly one FILE")
		printConvertUsage(f, m.Stderr)
		return exitUsage
	case o.to != gophermap.DialectBucktooth:
		fmt.Fprintf(m.Stderr, "gopherd convert: --to %q: only bucktooth can be written\n", o.to)
		return exitUsage
	case o.from == gophermap.DialectGPH || o.from == gophermap.DialectGophernicus:
		d, _ = gophermap.LookupDialect(o.from)
	default:
		fmt.Fprintf(m.Stderr, "gopherd convert: --from %q: want gph or gophernicus\n", o.from)
		printConvertUsage(f, m.Stderr)
		return exitUsage
	}
	file := f.Arg(0)
	text, err := readMap(file)
	if err != nil {
		fmt.Fprintf(m.Stderr, "gopherd convert: %v\n", err)
		return exitFailure
	}
	cv := gophermap.Converter{Dialect: d, Warn: func(w gophermap.Warning) {
		fmt.Fprintf(m.Stderr, "%s:%d: %s\n", file, w.Line, w.Msg)
	}}
	if o.from == gophermap.DialectGophernicus {
		tree, name, closeTree, err := includeTree(file, o.root)
		if err != nil {
			fmt.Fprintf(m.Stderr, "gopherd convert: %v\n", err)
			return exitUsage
		}
		defer closeTree()
		cv.Tree, cv.Path = tree, name
	}
	out := bufio.NewWriter(m.Stdout)
	err = cv.Bucktooth(context.Background(), out, text)
	if err == nil {
		err = out.Flush()
	}
	if err != nil {
		fmt.Fprintf(m.Stderr, "gopherd convert: writing: %v\n", err)
		return exitFailure
	}
	return exitOK
}

// readMap reads map file name whole, within the size gopherd renders.
func readMap(name string) (string, error) {
	fh, err := os.Open(name)
	if err != nil {
		return "", err
	}
	defer fh.Close()
	var b strings.Builder
	n, err := io.Copy(&b, io.LimitReader(fh, fs.MaxGophermapBytes+1))
	if err != nil {
		return "", fmt.Errorf("reading %s: %w", name, err)
	}
	if n > fs.MaxGophermapBytes {
		return "", fmt.Errorf("%s is larger than %d MiB, which gopherd does not render", name, fs.MaxGophermapBytes>>20)
	}
	if fs.IsProgramMap([]byte(b.String()[:min(int(n), 2)])) {
		return "", fmt.Errorf("%s is a program (its first line starts with #!): it has no map to convert", name)
	}
	return b.String(), nil
}

// includeTree is the tree that file's includes are read from: the served
// root root (default: file's directory), which must hold file. name is
// file's path in it.
func includeTree(file, root string) (tree gophermap.Tree, name string, closeTree func(), err error) {
	abs, err := filepath.Abs(file)
	if err != nil {
		return nil, "", nil, err
	}
	if root == "" {
		root = filepath.Dir(abs)
	}
	if root, err = filepath.Abs(root); err != nil {
		return nil, "", nil, err
	}
	rel, err := filepath.Rel(root, abs)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return nil, "", nil, fmt.Errorf("--root %s does not hold %s", root, file)
	}
	h, err := fs.New(fs.Options{Root: root})
	if err != nil {
		return nil, "", nil, errors.Unwrap(err)
	}
	rel = filepath.ToSlash(rel)
	dir := filepath.ToSlash(filepath.Dir(rel))
	return h.MapTree(dir), rel, func() { _ = h.Close() }, nil
}
