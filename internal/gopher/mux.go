package gopher

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// ServeMux routes requests to handlers by selector, like net/http's
// ServeMux: a pattern registered with Handle matches one selector exactly, a
// prefix registered with HandlePrefix matches every selector that starts with
// it, and the longest match wins (an exact match beats every prefix). A
// request that matches nothing gets a not-found error item.
//
// Patterns and selectors are compared in canonical form: the path
// components that are not empty, joined by "/" after a leading "/", with a
// trailing "/" kept. So "cgi-bin/x", "/cgi-bin/x" and "//cgi-bin//x" all
// fall under the prefix "/cgi-bin/", as they all name the same file to
// internal/fs (which ignores empty components): no spelling of a selector
// can reach a file by a route other than the one registered for it. The
// handler still gets the selector as the client sent it.
//
// A ServeMux is built once and then only read: it is safe for concurrent
// use once the last Handle call has returned.
type ServeMux struct {
	exact    map[string]Handler
	prefixes []muxEntry // longest first
}

type muxEntry struct {
	prefix string
	h      Handler
}

// NewServeMux returns an empty ServeMux.
func NewServeMux() *ServeMux {
	return &ServeMux{exact: make(map[string]Handler)}
}

// ErrDuplicatePattern is returned when a pattern is registered twice.
var ErrDuplicatePattern = errors.New("pattern registered twice")

// Handle registers h for the selector pattern exactly.
func (m *ServeMux) Handle(pattern string, h Handler) error {
	if h == nil {
		return fmt.Errorf("gopher: nil handler for %q", pattern)
	}
	k := CanonicalSelector(pattern)
	if _, dup := m.exact[k]; dup {
		return fmt.Errorf("gopher: %q: %w", pattern, ErrDuplicatePattern)
	}
	m.exact[k] = h
	return nil
}

// HandlePrefix registers h for every selector starting with prefix. The
// prefix "/" (or "") matches every selector: the fallback.
func (m *ServeMux) HandlePrefix(prefix string, h Handler) error {
	if h == nil {
		return fmt.Errorf("gopher: nil handler for prefix %q", prefix)
	}
	k := CanonicalSelector(prefix)
	for _, e := range m.prefixes {
		if e.prefix == k {
			return fmt.Errorf("gopher: prefix %q: %w", prefix, ErrDuplicatePattern)
		}
	}
	m.prefixes = append(m.prefixes, muxEntry{prefix: k, h: h})
	slices.SortStableFunc(m.prefixes, func(a, b muxEntry) int { return len(b.prefix) - len(a.prefix) })
	return nil
}

// Handler returns the handler for r and the pattern that matched, or nil
// and "" when nothing does.
func (m *ServeMux) Handler(r *Request) (Handler, string) {
	sel := CanonicalSelector(r.Selector)
	if h, ok := m.exact[sel]; ok {
		return h, sel
	}
	for _, e := range m.prefixes {
		if strings.HasPrefix(sel, e.prefix) {
			return e.h, e.prefix
		}
	}
	return nil, ""
}

// ServeGopher dispatches r to the handler whose pattern matches best.
func (m *ServeMux) ServeGopher(ctx context.Context, w ResponseWriter, r *Request) {
	h, _ := m.Handler(r)
	if h == nil {
		_ = WriteError(w, r, NotFound)
		return
	}
	h.ServeGopher(ctx, w, r)
}

// CanonicalSelector returns the form of sel in which ServeMux compares
// selectors: its non-empty "/"-separated components joined by "/" after a
// leading "/", with sel's trailing "/" kept. "" and "/" are "/".
func CanonicalSelector(sel string) string {
	if isCanonical(sel) {
		return sel
	}
	var b strings.Builder
	b.Grow(len(sel) + 1)
	for c := range strings.SplitSeq(sel, "/") {
		if c != "" {
			b.WriteByte('/')
			b.WriteString(c)
		}
	}
	if b.Len() == 0 || strings.HasSuffix(sel, "/") {
		b.WriteByte('/')
	}
	return b.String()
}

// isCanonical spares the common case, a selector already in canonical
// form, an allocation.
func isCanonical(sel string) bool {
	return strings.HasPrefix(sel, "/") && !strings.Contains(sel, "//")
}
