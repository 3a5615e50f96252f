package fs

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"gopherd/internal/gopher"
)

// Menus are made once per version of a directory or map, however many
// clients ask for it at the same moment: the first request starts the work
// in a goroutine of its own (a flight) and every request for the same
// version, the first included, waits for it, each for at most the render
// timeout. The work is not tied to any one client, so clients that hang up
// at once cost one render, and the result is in the cache before the flight
// ends, so that a request finds one or the other.
//
// This is golang.org/x/sync/singleflight's idea written out, because the
// parts that matter here are the ones around it: a deadline on the work
// itself, a deadline on each waiter, a bound on renders running at once, and
// publishing to the cache before the flight is forgotten.

// DefaultRenderTimeout is the render timeout when Options leaves it at 0:
// the server's default request timeout.
const DefaultRenderTimeout = 10 * time.Second

// errTooSlow is what a waiter gets when the menu was not ready within the
// render timeout; clients get a TimedOut error item.
var errTooSlow = errors.New("menu not ready within the render timeout")

// renderSlots bounds how many menus are made at once, whatever the number
// of distinct directories asked for: each render holds memory in proportion
// to its output until it is done, so this bounds the sum.
func renderSlots() int {
	return max(4, 2*runtime.GOMAXPROCS(0))
}

// flightKey names one version of one menu.
type flightKey struct {
	key string
	id  dirID
}

type flight struct {
	done chan struct{}
	m    menu
	err  error
}

// flights is the set of menus being made.
type flights struct {
	mu sync.Mutex
	m  map[flightKey]*flight
	// ended counts the flights that have ended, each after publishing its
	// menu to the cache. A request that missed the cache and then finds no
	// flight looks at it to tell "nobody is making this menu" from "it was
	// made and published between my two looks".
	ended atomic.Uint64
}

// render is the work of making one menu: it returns the menu and the
// problems to log once for this version. It must stop, returning ctx's
// error, soon after ctx ends.
type render func(ctx context.Context) (menu, *problems, error)

// menuFor returns the menu cached under key for version id, or makes it
// with work: once for all concurrent requests of that version, within the
// render timeout, and stored in the cache when cacheable. reportKey names
// the file or directory whose problems are logged, once per version.
func (h *Handler) menuFor(ctx context.Context, key string, id dirID, cacheable bool, reportKey string, work render) (menu, error) {
	if err := ctx.Err(); err != nil {
		return menu{}, err
	}
	m, f := h.cachedOrFlight(key, id, cacheable, reportKey, work)
	if f == nil {
		return m, nil
	}
	wait := time.NewTimer(h.renderTimeout)
	defer wait.Stop()
	select {
	case <-f.done:
		return f.m, f.err
	case <-wait.C:
		return menu{}, errTooSlow
	case <-ctx.Done():
		return menu{}, ctx.Err()
	}
}

// cachedOrFlight returns the menu cached under key for version id, or else
// the flight making it, started if there is none.
func (h *Handler) cachedOrFlight(key string, id dirID, cacheable bool, reportKey string, work render) (menu, *flight) {
	var fk flightKey
	for look := 0; ; look++ {
		ended := h.flights.ended.Load()
		if cacheable {
			if m, ok := h.cached(key, id); ok {
				return m, nil
			}
		}
		if look == 0 {
			// A copy: key itself then stays on the caller's stack on the
			// hot path (a cache hit), which is every request but the first.
			fk = flightKey{strings.Clone(key), id}
		}
		h.flights.mu.Lock()
		f, ok := h.flights.m[fk]
		if !ok && cacheable && look < 3 && h.flights.ended.Load() != ended {
			// A flight ended since the cache was looked at: it may have
			// been this menu's, now in the cache. Look again rather than
			// make it twice; a few looks, since unrelated flights end too.
			h.flights.mu.Unlock()
			continue
		}
		if !ok {
			f = &flight{done: make(chan struct{})}
			h.flights.m[fk] = f
			go h.fly(fk, f, cacheable, reportKey, work)
		}
		h.flights.mu.Unlock()
		return menu{}, f
	}
}

// fly makes the menu of flight f, publishes it and ends the flight.
func (h *Handler) fly(fk flightKey, f *flight, cacheable bool, reportKey string, work render) {
	defer func() {
		h.flights.mu.Lock()
		delete(h.flights.m, fk)
		h.flights.ended.Add(1)
		h.flights.mu.Unlock()
		close(f.done)
	}()
	if !h.takeSlot() {
		// Other renders held every slot: this one never started, so the
		// map or directory is not to blame.
		f.err = errTooSlow
		return
	}
	defer func() { <-h.slots }()
	// The work's own deadline starts with the work: a render that waited
	// for its slot must not be blamed (and its failure cached) for the
	// time it spent waiting.
	ctx, cancel := context.WithTimeout(h.ctx, h.renderTimeout)
	defer cancel()
	h.made.Add(1)
	start := h.now()
	m, probs, err := work(ctx)
	took := h.now().Sub(start)
	if err != nil && errors.Is(err, context.DeadlineExceeded) && h.ctx.Err() == nil {
		// Too slow by itself: every request for this version gets the
		// error at once, for cacheTTL, instead of starting the work again.
		if probs == nil {
			probs = &problems{}
		}
		probs.addFirst(problemLine{msg: fmt.Sprintf("making the menu of %s took longer than %v: clients get an error item for %v or until it changes", reportKey, h.renderTimeout, cacheTTL), path: reportKey})
		m, err = failMenu(gopher.TimedOut), nil
	}
	if probs != nil && h.reported.first(reportKey, version(fk.id, m.deps)) {
		probs.log(h.log, reportKey)
	}
	if err != nil {
		f.err = fmt.Errorf("%s: %w", reportKey, err)
		return
	}
	if m.fail == 0 && took > 0 && m.ttl == 0 {
		m.ttl = costlyTTL(took)
	}
	f.m = m
	if cacheable && !m.noCache {
		h.cache.put(fk.key, fk.id, h.now, m)
	}
}

// takeSlot waits up to the render timeout for a render slot. When the
// timeout and a freed slot come at once, the slot wins: select would pick
// either, and a request that joined this flight just then would get a
// timeout though a slot was free.
func (h *Handler) takeSlot() bool {
	wait := time.NewTimer(h.renderTimeout)
	defer wait.Stop()
	select {
	case h.slots <- struct{}{}:
		return true
	case <-h.ctx.Done():
		return false
	case <-wait.C:
	}
	select {
	case h.slots <- struct{}{}:
		return true
	default:
		return false
	}
}

// costlyTTL is how long a menu that took took to make may be kept: at
// least cacheTTL, and long enough that remaking it when it expires costs at
// most 1/20 of a CPU for however many clients keep asking (a directory of
// 100,000 files whose types are sniffed takes a second or more), up to five
// minutes.
func costlyTTL(took time.Duration) time.Duration {
	return min(max(cacheTTL, 20*took), 5*time.Minute)
}
