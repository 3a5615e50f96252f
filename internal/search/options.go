package search

import (
	"errors"
	"fmt"
	"os"
	"path"
	"strings"
	"time"

	"go.uber.org/zap"
)

// Options configures a Handler. The field names follow the configuration
// block's keys ("max-file-bytes" is Limits.MaxFileBytes).
type Options struct {
	// Root is the directory to index, the same one the file handler
	// serves. Ignored when FS is set.
	Root string
	// FS is an already open root to index instead of Root. The Handler
	// does not close it: its opener does.
	FS *os.Root
	// Selector is where the search is mounted ("/search" when empty); the
	// help menu links to it.
	Selector string
	// Include and Exclude are the patterns of the "include" and "exclude"
	// keys (see the package comment). An empty Include means
	// DefaultInclude(); an empty Exclude excludes nothing.
	Include []string
	Exclude []string
	// Reindex is how often the tree is scanned for changes; zero or less
	// means only when Reindex is called (SIGHUP).
	Reindex time.Duration
	// Limits bound the index and each query.
	Limits Limits
	// Hostname and Port are written into the menus (the public name and
	// port, as for the file handler).
	Hostname string
	Port     int
	// Logger receives the build summaries, the max-index-bytes warning
	// and unexpected errors. nil means no logging.
	Logger *zap.Logger
}

// Limits bound what the index may hold and what one query may cost. A zero
// or negative field takes its default (see DefaultLimits).
type Limits struct {
	// MaxFileBytes is how much of each file is indexed; the rest of a
	// longer file is not.
	MaxFileBytes int64
	// MaxIndexBytes caps the index's memory (the text kept for titles and
	// snippets included). Indexing stops when it is reached, with one
	// warning.
	MaxIndexBytes int64
	// MaxQueryBytes and MaxTerms bound a query: longer ones get "Query
	// too long.".
	MaxQueryBytes int
	MaxTerms      int
	// MaxResults is how many results a menu lists at most.
	MaxResults int
	// QueryTimeout bounds the time one query may take.
	QueryTimeout time.Duration
}

// DefaultLimits returns the limits used for fields left at zero: those of
// the configuration block.
func DefaultLimits() Limits {
	return Limits{
		MaxFileBytes:  1 << 20,
		MaxIndexBytes: 64 << 20,
		MaxQueryBytes: 256,
		MaxTerms:      8,
		MaxResults:    50,
		QueryTimeout:  200 * time.Millisecond,
	}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxFileBytes <= 0 {
		l.MaxFileBytes = d.MaxFileBytes
	}
	if l.MaxIndexBytes <= 0 {
		l.MaxIndexBytes = d.MaxIndexBytes
	}
	if l.MaxQueryBytes <= 0 {
		l.MaxQueryBytes = d.MaxQueryBytes
	}
	if l.MaxTerms <= 0 {
		l.MaxTerms = d.MaxTerms
	}
	if l.MaxResults <= 0 {
		l.MaxResults = d.MaxResults
	}
	if l.QueryTimeout <= 0 {
		l.QueryTimeout = d.QueryTimeout
	}
	return l
}

// DefaultSelector is where search is mounted unless configured otherwise.
const DefaultSelector = "/search"

// DefaultInclude returns the patterns indexed when none are configured:
// text and Markdown files and both gophermap names.
func DefaultInclude() []string {
	return []string{"*.txt", "*.md", "gophermap", ".gophermap"}
}

// pattern is one include or exclude pattern, compiled.
type pattern struct {
	glob string // path.Match pattern
	// anchored patterns are matched against the whole selector ("/a/b"),
	// the others against the last component only.
	anchored bool
	// dirOnly patterns (written with a trailing "/") match directories
	// only.
	dirOnly bool
}

// compilePatterns checks and compiles the patterns of key ("include" or
// "exclude").
func compilePatterns(key string, list []string) ([]pattern, error) {
	out := make([]pattern, 0, len(list))
	for _, s := range list {
		if s == "" || s == "/" {
			return nil, fmt.Errorf("search: %s: empty pattern", key)
		}
		p := pattern{glob: s}
		if strings.HasSuffix(p.glob, "/") {
			p.dirOnly = true
			p.glob = strings.TrimSuffix(p.glob, "/")
		}
		if strings.Contains(p.glob, "/") {
			p.anchored = true
			if !strings.HasPrefix(p.glob, "/") {
				p.glob = "/" + p.glob
			}
		}
		if _, err := path.Match(p.glob, ""); err != nil {
			return nil, fmt.Errorf("search: %s: pattern %q: %w", key, s, err)
		}
		out = append(out, p)
	}
	return out, nil
}

// match reports whether p matches the file or directory with selector sel
// and last component name.
func (p pattern) match(sel, name string, isDir bool) bool {
	if p.dirOnly && !isDir {
		return false
	}
	subject := name
	if p.anchored {
		subject = sel
	}
	ok, _ := path.Match(p.glob, subject)
	return ok
}

func matchAny(ps []pattern, sel, name string, isDir bool) bool {
	for _, p := range ps {
		if p.match(sel, name, isDir) {
			return true
		}
	}
	return false
}

// checked returns the options with defaults filled in, the compiled
// patterns, or an error naming what is wrong.
func (o Options) checked() (Options, []pattern, []pattern, error) {
	if o.FS == nil && o.Root == "" {
		return o, nil, nil, errors.New("search: no root directory given")
	}
	if o.Selector == "" {
		o.Selector = DefaultSelector
	}
	if strings.ContainsAny(o.Selector, "\t\r\n") {
		return o, nil, nil, fmt.Errorf("search: selector %q holds a TAB, CR or LF", o.Selector)
	}
	if len(o.Include) == 0 {
		o.Include = DefaultInclude()
	}
	inc, err := compilePatterns("include", o.Include)
	if err != nil {
		return o, nil, nil, err
	}
	exc, err := compilePatterns("exclude", o.Exclude)
	if err != nil {
		return o, nil, nil, err
	}
	o.Limits = o.Limits.withDefaults()
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
	return o, inc, exc, nil
}
