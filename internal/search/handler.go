package search

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"gopherd/internal/gopher"
)

// Error texts, as the issue states them.
const (
	msgBuilding = "Search index is being built, try again soon."
	msgTooLong  = "Query too long."
	msgTimeout  = "Search took too long: try fewer or longer words."
	msgNoWords  = "No words to search for: use words of 2 to 40 letters or digits."
)

// ItemDisplay is the display string of the search item that menus offer.
const ItemDisplay = "Search this gopherhole"

// Item returns the search item ("7Search this gopherhole<TAB>selector") for
// the automatic listing of the root and the demo gophermap.
func Item(selector, host string, port int) gopher.Item {
	return gopher.Item{Type: gopher.TypeSearch, Display: ItemDisplay, Selector: selector, Host: host, Port: port}
}

// Handler is the full-text search of one root: the index, built and kept
// fresh in the background, and the gopher.Handler answering queries. It is
// safe for concurrent use.
type Handler struct {
	root     *os.Root
	ownsRoot bool
	selector string
	include  []pattern
	exclude  []pattern
	reindex  time.Duration
	lim      Limits
	host     string
	port     int
	log      *zap.Logger

	// cur is the index queries use; nil until the first build is done.
	cur atomic.Pointer[index]
	// kick asks the background goroutine for a scan (Reindex).
	kick chan struct{}

	mu      sync.Mutex
	started bool
	closed  bool
	cancel  context.CancelFunc
	done    chan struct{}

	// capWarned is owned by the goroutine that runs update: the
	// max-index-bytes warning is given once until the index fits again.
	capWarned bool
	// noAnswers turns the cache of answers off (for benchmarks that
	// compare).
	noAnswers bool
}

var _ gopher.Handler = (*Handler)(nil)

// New checks o and returns a Handler for it. Nothing is indexed until Start:
// until the first build is done, queries are answered with "Search index is
// being built, try again soon.".
func New(o Options) (*Handler, error) {
	o, inc, exc, err := o.checked()
	if err != nil {
		return nil, err
	}
	h := &Handler{
		root:     o.FS,
		selector: o.Selector,
		include:  inc,
		exclude:  exc,
		reindex:  o.Reindex,
		lim:      o.Limits,
		host:     o.Hostname,
		port:     o.Port,
		log:      o.Logger,
		kick:     make(chan struct{}, 1),
	}
	if h.root == nil {
		root, err := os.OpenRoot(o.Root)
		if err != nil {
			return nil, fmt.Errorf("search: opening root: %w", err)
		}
		h.root, h.ownsRoot = root, true
	}
	fi, err := h.root.Stat(".")
	if err == nil && !fi.IsDir() {
		err = errors.New("not a directory")
	}
	if err != nil {
		_ = h.Close()
		return nil, fmt.Errorf("search: root %q: %w", h.root.Name(), err)
	}
	return h, nil
}

// Start builds the index in the background and then scans the tree for
// changes every Options.Reindex and whenever Reindex is called, until ctx
// ends or Close is called. It returns at once; serving never waits for
// indexing.
func (h *Handler) Start(ctx context.Context) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case h.closed:
		return errors.New("search: Start after Close")
	case h.started:
		return errors.New("search: already started")
	}
	h.started = true
	ctx, h.cancel = context.WithCancel(ctx)
	h.done = make(chan struct{})
	go h.run(ctx)
	return nil
}

func (h *Handler) run(ctx context.Context) {
	defer close(h.done)
	var tick <-chan time.Time
	if h.reindex > 0 {
		t := time.NewTicker(h.reindex)
		defer t.Stop()
		tick = t.C
	}
	for {
		if err := h.update(ctx); err != nil && ctx.Err() == nil {
			h.log.Error("search: indexing failed", quotedErr(err))
		}
		select {
		case <-ctx.Done():
			return
		case <-tick:
		case <-h.kick:
		}
	}
}

// Reindex asks for a change scan now (SIGHUP). It does not wait for it; a
// request made while a scan runs starts another one after it.
func (h *Handler) Reindex() {
	select {
	case h.kick <- struct{}{}:
	default:
	}
}

// Close stops the background indexing, waits for it to end, and closes the
// root if New opened it. Queries are still answered from the last index.
func (h *Handler) Close() error {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil
	}
	h.closed = true
	cancel, done := h.cancel, h.done
	h.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
	if h.ownsRoot {
		if err := h.root.Close(); err != nil {
			return fmt.Errorf("search: closing root: %w", err)
		}
	}
	return nil
}

// Stats describes the current index.
type Stats struct {
	// Ready is false until the first build is done.
	Ready bool
	// Docs is the number of files and gophermaps indexed, Terms the
	// number of distinct terms.
	Docs, Terms int
	// TextBytes is the text indexed; IndexBytes the index's estimated
	// memory, what max-index-bytes caps.
	TextBytes, IndexBytes int64
	// Full is true when the last scan stopped at max-index-bytes.
	Full bool
}

// Stats returns the figures of the index queries use now.
func (h *Handler) Stats() Stats {
	x := h.cur.Load()
	if x == nil {
		return Stats{}
	}
	return Stats{Ready: true, Docs: len(x.docs), Terms: x.numTerms(), TextBytes: x.textBytes, IndexBytes: x.bytes, Full: x.full}
}

// hostPort is the host and port written into the menu for r.
//
// Wiring: once gopher.Request carries the connection's public Host and Port
// (vhosts), prefer them here when set.
func (h *Handler) hostPort(r *gopher.Request) (string, int) {
	if r.Host != "" {
		return r.Host, r.Port
	}
	return h.host, h.port
}

// ServeGopher answers a search request: the help menu for an empty query,
// else the results or an error item. The selector is not looked at: the
// router decides what reaches the search.
func (h *Handler) ServeGopher(ctx context.Context, w gopher.ResponseWriter, r *gopher.Request) {
	host, port := h.hostPort(r)
	q := r.Search
	if len(strings.FieldsFunc(q, isQuerySpace)) == 0 {
		h.write(w, "menu", h.helpMenu(host, port))
		return
	}
	if len(q) > h.lim.MaxQueryBytes {
		h.writeError(w, gopher.TooLarge, msgTooLong, host, port)
		return
	}
	parsed, err := parseQuery(q, h.lim.MaxTerms)
	switch {
	case errors.Is(err, errTooLong):
		h.writeError(w, gopher.TooLarge, msgTooLong, host, port)
		return
	case err != nil:
		h.writeError(w, gopher.BadRequest, msgNoWords, host, port)
		return
	}
	x := h.cur.Load()
	if x == nil {
		h.writeError(w, gopher.Busy, msgBuilding, host, port)
		return
	}
	key := answerKey{query: q, host: host, port: port}
	if body := x.answers.get(key); body != nil {
		h.write(w, "search", body)
		return
	}
	qctx, cancel := context.WithTimeout(ctx, h.lim.QueryTimeout)
	defer cancel()
	best, total, err := x.search(qctx, parsed, h.lim.MaxResults)
	if err != nil {
		if ctx.Err() != nil {
			// The server gave up on the connection: nobody reads on.
			gopher.Served(w, gopher.TimedOut.String())
			return
		}
		h.log.Info("search query timed out", zap.String("query", gopher.Quote(q, h.lim.MaxQueryBytes)),
			zap.Duration("query_timeout", h.lim.QueryTimeout))
		h.writeError(w, gopher.TimedOut, msgTimeout, host, port)
		return
	}
	body := x.resultMenu(q, parsed.positive(), best, total, host, port)
	x.answers.put(key, body)
	h.write(w, "search", body)
}

// resultMenu is the answer for a query q that matched total documents, of
// which best are shown: the count line, then each a link with its title and
// an info line with the snippet, then the terminator.
func (x *index) resultMenu(q string, terms []qterm, best []ranked, total int, host string, port int) []byte {
	b := make([]byte, 0, 128+len(best)*256)
	noun := "results"
	if total == 1 {
		noun = "result"
	}
	head := strconv.Itoa(total) + " " + noun + ` for "` + cut(clean(q), queryCols) + `"`
	b = gopher.Info(head, host, port).AppendTo(b)
	for _, r := range best {
		d := &x.docs[r.doc]
		b = gopher.Item{Type: d.typ, Display: d.title, Selector: d.sel, Host: host, Port: port}.AppendTo(b)
		b = gopher.Info(snippet(d.text, firstHit(d.text, r.blk, terms)), host, port).AppendTo(b)
	}
	return append(b, gopher.Terminator...)
}

// helpMenu explains the query language and offers the search item.
func (h *Handler) helpMenu(host string, port int) []byte {
	lines := []string{
		"Search this gopherhole",
		"",
		"Type words to search for: results hold every word.",
		`"or" between two words finds either, "not" before a word`,
		`excludes it, and a word ending in * finds every word that`,
		`starts with it (gopher* finds gophers). Operators apply left`,
		"to right; words are 2 to 40 letters or digits, in any case.",
		"",
	}
	m := make(gopher.Menu, 0, len(lines)+1)
	for _, l := range lines {
		m = append(m, gopher.Info(l, host, port))
	}
	return append(m, Item(h.selector, host, port)).Bytes()
}

func (h *Handler) writeError(w gopher.ResponseWriter, kind gopher.ErrorKind, msg, host string, port int) {
	it := gopher.Item{Type: gopher.TypeError, Display: msg, Selector: gopher.ErrorSelector, Host: host, Port: port}
	h.write(w, kind.String(), gopher.Menu{it}.Bytes())
}

func (h *Handler) write(w gopher.ResponseWriter, served string, body []byte) {
	gopher.Served(w, served)
	if _, err := w.Write(body); err != nil {
		h.log.Debug("search: response cut short")
	}
}
