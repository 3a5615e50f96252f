package main

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"sync"

	"go.uber.org/zap"

	"gopherd/internal/config"
	"gopherd/internal/search"
)

// The search index outlives a reload when its configuration does not
// change: rebuilding it would cost a full read of the tree and leave the
// search answering "being built" meanwhile. So the daemon keeps the running
// search handlers (searches), and each build of the settings makes a
// searchPlan: for every search it mounts, either a running handler whose
// options are the same (on SIGHUP it only rescans for changes), or a new
// one. Once the server runs the new settings the plan is committed: new
// handlers start indexing, kept ones rescan, and the handlers no longer
// mounted are closed. Their background indexing stops; queries in flight
// on connections accepted before the reload still finish on their last
// index, which Close leaves in place. A plan whose settings are not used
// (a reload that fails) is aborted: its new handlers are closed unstarted.
// So each configured search has exactly one indexing goroutine, however
// many reloads there were.

// mountedSearch is one search handler and the options it was made from.
type mountedSearch struct {
	opts search.Options // Logger left nil: compared across reloads
	h    *search.Handler
}

// searches are the search handlers the running configuration mounts.
type searches struct {
	mu      sync.Mutex // a reload may race the shutdown
	running []*mountedSearch
	closed  bool // shut down: nothing starts any more
}

// searchPlan is what one build of the settings mounts.
type searchPlan struct {
	running []*mountedSearch // those of the configuration running now
	next    []*mountedSearch // those the new settings mount
	fresh   []*mountedSearch // of next, those made for it (not started)
	logger  *zap.Logger
}

// plan starts a plan for new settings.
func (s *searches) plan(logger *zap.Logger) *searchPlan {
	s.mu.Lock()
	defer s.mu.Unlock()
	return &searchPlan{running: s.running, logger: logger}
}

// handler returns the search handler for options o: one the plan already
// mounts with the same options (two hosts sharing a root and a search
// configuration share its index), else a running one with the same
// options, else a new one.
func (p *searchPlan) handler(o search.Options) (*search.Handler, error) {
	o = normalSearchOptions(o)
	same := func(m *mountedSearch) bool { return reflect.DeepEqual(m.opts, o) }
	if i := slices.IndexFunc(p.next, same); i >= 0 {
		return p.next[i].h, nil
	}
	if i := slices.IndexFunc(p.running, same); i >= 0 {
		p.next = append(p.next, p.running[i])
		return p.running[i].h, nil
	}
	withLog := o
	withLog.Logger = p.logger
	h, err := search.New(withLog)
	if err != nil {
		return nil, err
	}
	m := &mountedSearch{opts: o, h: h}
	p.next = append(p.next, m)
	p.fresh = append(p.fresh, m)
	return h, nil
}

// commit makes p's handlers the running ones, once the server uses the
// settings that mount them: the new ones start indexing in the background
// (serving never waits), the kept ones rescan for changes, and the ones no
// longer mounted are closed.
func (s *searches) commit(p *searchPlan) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		p.abort()
		return
	}
	for _, m := range p.next {
		if slices.Contains(p.fresh, m) {
			if err := m.h.Start(context.Background()); err != nil {
				p.logger.Error("search: not started", zap.Error(err))
			}
		} else {
			m.h.Reindex()
		}
	}
	for _, m := range s.running {
		if !slices.Contains(p.next, m) {
			closeSearch(p.logger, m)
		}
	}
	s.running = p.next
}

// abort closes the handlers p made, for settings that will not be used.
func (p *searchPlan) abort() {
	for _, m := range p.fresh {
		closeSearch(p.logger, m)
	}
	p.fresh, p.next = nil, nil
}

// close closes every running handler (at shutdown).
func (s *searches) close(logger *zap.Logger) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	for _, m := range s.running {
		closeSearch(logger, m)
	}
	s.running = nil
}

func closeSearch(logger *zap.Logger, m *mountedSearch) {
	if err := m.h.Close(); err != nil {
		logger.Warn("search: closing", zap.Error(err))
	}
}

// normalSearchOptions writes o so that equal options compare equal: empty
// lists as nil, no logger.
func normalSearchOptions(o search.Options) search.Options {
	if len(o.Include) == 0 {
		o.Include = nil
	}
	if len(o.Exclude) == 0 {
		o.Exclude = nil
	}
	o.Logger = nil
	return o
}

// searchOptions are the search options of a host serving root with search
// section s and gateway section cgi. Every gateway directory is excluded
// besides the configured patterns: the gateway runs what is in them, and
// their sources must never be searchable. The host name and port are not
// set: every request carries its own.
func searchOptions(root string, s *config.Search, cgi *config.CGI) search.Options {
	o := search.Options{
		Root:     root,
		Selector: s.Selector,
		Include:  slices.Clone(s.Include),
		Exclude:  slices.Clone(s.Exclude),
		Reindex:  s.Reindex,
		Limits: search.Limits{
			MaxFileBytes:  s.MaxFileBytes,
			MaxIndexBytes: s.MaxIndexBytes,
			MaxQueryBytes: s.MaxQueryBytes,
			MaxTerms:      s.MaxTerms,
			MaxResults:    s.MaxResults,
			QueryTimeout:  s.QueryTimeout,
		},
	}
	if cgi != nil {
		for _, d := range cgi.Dirs {
			// Without its final "/" the pattern matches the directory (and
			// so all below it) and a file of that name, which the gateway
			// answers as well.
			o.Exclude = append(o.Exclude, quoteGlob(strings.TrimSuffix(d.Selector, "/")))
		}
	}
	return o
}

// quoteGlob returns a path.Match pattern matching exactly s.
func quoteGlob(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[]\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
