package config

import (
	"fmt"
	"path"
	"slices"
	"strings"
	"time"

	"gopherd/internal/gopher"
	"gopherd/internal/pages"
)

// Search is the search section: the built-in full-text search (item type
// 7). A Config without one (Search nil) has no search. Parse fills in
// Selector and Reindex when the file leaves them out; Include nil means the
// search engine's default patterns, and a limit left at zero its default
// limit (internal/search's DefaultInclude and DefaultLimits, the one place
// they are written).
type Search struct {
	// Selector is where the search is mounted (DefaultSearchSelector).
	Selector string
	// Include and Exclude are the patterns of the files indexed and of
	// the files and directories never indexed (path.Match globs; see
	// gopherd.json(5)).
	Include []string
	Exclude []string
	// Reindex is how often the tree is scanned for changes
	// (DefaultSearchReindex).
	Reindex       time.Duration
	MaxFileBytes  int64
	MaxIndexBytes int64
	MaxQueryBytes int
	MaxTerms      int
	MaxResults    int
	QueryTimeout  time.Duration
}

// Defaults of the search section that the file leaves out. internal/search
// has the same selector (its tests keep the two equal).
const (
	DefaultSearchSelector = "/search"
	DefaultSearchReindex  = 10 * time.Minute
)

// maxSearchBytes caps max-file-bytes and max-index-bytes: far beyond any
// index held in memory, and a size every counter holds.
const maxSearchBytes = 1 << 40

// clone returns a deep copy of s.
func (s *Search) clone() *Search {
	if s == nil {
		return nil
	}
	d := *s
	d.Include, d.Exclude = slices.Clone(s.Include), slices.Clone(s.Exclude)
	return &d
}

// searchKeys declares a search section, read into *dst (left nil when the
// file has none). cgi is the gateway section of the same host: the search
// selector may not fall into one of its directories.
func searchKeys(s *section, dst **Search, cgi **CGI) {
	sr := *dst
	if sr == nil {
		// Reading: filled in, and kept if the file has the section.
		sr = &Search{Selector: DefaultSearchSelector, Reindex: DefaultSearchReindex}
	}
	s.OptionalObject("search", *dst != nil, func(s *section) {
		s.String("selector", &sr.Selector, checkSearchSelector)
		s.Rule("selector", func() string {
			if checkSearchSelector(sr.Selector) != "" {
				return ""
			}
			return searchCollision(sr.Selector, *cgi)
		})
		s.Optional().Strings("include", &sr.Include, checkSearchPattern)
		s.Rule("include", func() string {
			if sr.Include != nil && len(sr.Include) == 0 {
				return "must not be an empty list: nothing would be indexed (leave include out for the default patterns)"
			}
			return ""
		})
		s.Optional().Strings("exclude", &sr.Exclude, checkSearchPattern)
		s.Duration("reindex", &sr.Reindex, checkTimeout)
		o := s.Optional()
		o.Bytes("max-file-bytes", &sr.MaxFileBytes, 1, maxSearchBytes)
		o.Bytes("max-index-bytes", &sr.MaxIndexBytes, 1, maxSearchBytes)
		o.Int("max-query-bytes", &sr.MaxQueryBytes, 1, MaxRequestBytes)
		o.Int("max-terms", &sr.MaxTerms, 1, maxCount)
		o.Int("max-results", &sr.MaxResults, 1, maxCount)
		o.Duration("query-timeout", &sr.QueryTimeout, checkTimeout)
	})
	if *dst == nil && s.Set("search") {
		*dst = sr
	}
}

// checkSearchSelector checks where the search is mounted: a selector of
// its own, written the one way the router compares it.
func checkSearchSelector(sel string) string {
	switch {
	case sel == "":
		return "must not be empty"
	case sel[0] != '/':
		return fmt.Sprintf(`invalid selector %s: must start with "/"`, quote(sel))
	case strings.ContainsAny(sel, "\t\r\n\x00"):
		return fmt.Sprintf("invalid selector %s: must not contain TAB, CR, LF or NUL", quote(sel))
	case sel == "/":
		return `must not be "/": that is the root's menu`
	case gopher.CanonicalSelector(sel) != sel:
		return fmt.Sprintf(`invalid selector %s: write it without empty components (%s)`, quote(sel), quote(gopher.CanonicalSelector(sel)))
	}
	return ""
}

// searchCollision says why the (valid) search selector sel cannot be
// mounted beside the other handlers of its host, or "".
func searchCollision(sel string, cgi *CGI) string {
	switch {
	case sel == pages.CapsSelector:
		return fmt.Sprintf("%s is caps.txt, which gopherd generates: choose another selector", quote(sel))
	case strings.HasPrefix(sel, gopher.CanonicalSelector(pages.URLPrefix)):
		return fmt.Sprintf("%s is a URL: link's selector: choose another selector", quote(sel))
	}
	if cgi == nil {
		return ""
	}
	for _, d := range cgi.Dirs {
		if checkCGISelector(d.Selector) != "" {
			continue // its own rule says what is wrong with it
		}
		if strings.HasPrefix(sel, d.Selector) || sel == strings.TrimSuffix(d.Selector, "/") {
			return fmt.Sprintf("%s is in the gateway directory %s, where programs answer: choose another selector", quote(sel), quote(d.Selector))
		}
	}
	return ""
}

// checkSearchPattern checks one include or exclude pattern: a path.Match
// glob, matched against a name, or with a "/" against a selector; a
// trailing "/" restricts it to directories.
func checkSearchPattern(p string) string {
	glob := strings.TrimSuffix(p, "/")
	switch {
	case glob == "":
		return "must not be empty (or \"/\" alone)"
	case strings.ContainsAny(p, "\t\r\n\x00"):
		return fmt.Sprintf("invalid pattern %s: must not contain TAB, CR, LF or NUL", quote(p))
	}
	if _, err := path.Match(glob, ""); err != nil {
		return fmt.Sprintf("invalid pattern %s: %v (see path.Match: *, ?, [a-z], \\ quotes)", quote(p), err)
	}
	return ""
}
