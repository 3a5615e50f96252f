// Package rate keeps request and byte budgets per client network: a token
// bucket for the requests a network makes and one for the bytes it is
// sent, in a table bounded by a least-recently-seen order, so that a
// client spread over a million addresses costs a bounded amount of memory
// (it then wins fresh budgets for the addresses forgotten, which is the
// price of the bound). It knows nothing about connections: the server asks
// it before answering a request and tells it what each response sent.
package rate

import (
	"math"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"gopherd/internal/gopher"
)

// Config says what the budgets are. A rate of zero turns that budget off.
type Config struct {
	// Requests is how many requests a network may make per Per; Burst how
	// many at once (0: Requests).
	Requests int64
	Per      time.Duration
	Burst    int64
	// Bytes is how many bytes a network may be sent per BytesPer, all of
	// which it may take at once.
	Bytes    int64
	BytesPer time.Duration
	// IPv4Bits and IPv6Bits are the prefix lengths addresses are counted
	// in (gopher.ClientPrefixLen).
	IPv4Bits, IPv6Bits int
	// Exempt networks have no budgets.
	Exempt []netip.Prefix
	// MaxTracked bounds the networks whose buckets are kept.
	MaxTracked int
}

// LogEvery is how often a limited network is named in the log at most.
const LogEvery = time.Minute

// Limiter holds the budgets of every network seen recently. It is safe for
// concurrent use.
type Limiter struct {
	cfg      Config
	reqRate  float64 // tokens a second
	reqCap   float64
	byteRate float64
	byteCap  float64

	mu      sync.Mutex
	entries map[netip.Prefix]*Bucket
	// lru is a ring of the entries, most recently seen first; root is its
	// sentinel.
	root Bucket
}

// Bucket is one network's budgets. Responses charge what they send with
// Sent, without taking the limiter's lock.
type Bucket struct {
	key        netip.Prefix
	prev, next *Bucket

	// Guarded by Limiter.mu.
	reqs    float64
	bytes   float64
	last    time.Time
	logged  time.Time
	limited int // requests refused since the last log line

	sent atomic.Int64 // bytes sent, not yet taken from the bucket
}

// Sent charges n bytes sent to the bucket's byte budget. It is cheap
// enough for every write: the bytes are taken from the budget on the
// network's next request.
func (b *Bucket) Sent(n int64) {
	if b != nil && n > 0 {
		b.sent.Add(n)
	}
}

// New returns a Limiter for c. Missing prefix lengths default to 32 and
// 64, a missing bound to 100000 networks.
func New(c Config) *Limiter {
	if c.IPv4Bits <= 0 {
		c.IPv4Bits = 32
	}
	if c.IPv6Bits <= 0 {
		c.IPv6Bits = 64
	}
	if c.MaxTracked <= 0 {
		c.MaxTracked = 100000
	}
	if c.Burst <= 0 {
		c.Burst = c.Requests
	}
	l := &Limiter{cfg: c, entries: make(map[netip.Prefix]*Bucket)}
	if c.Requests > 0 && c.Per > 0 {
		l.reqRate = float64(c.Requests) / c.Per.Seconds()
		l.reqCap = float64(c.Burst)
	}
	if c.Bytes > 0 && c.BytesPer > 0 {
		l.byteRate = float64(c.Bytes) / c.BytesPer.Seconds()
		l.byteCap = float64(c.Bytes)
	}
	l.root.next, l.root.prev = &l.root, &l.root
	return l
}

// Config returns the configuration the limiter runs with (with the
// defaults filled in), so a reload can tell whether it changed.
func (l *Limiter) Config() Config { return l.cfg }

// Decision is the answer for one request.
type Decision struct {
	// Bucket is where the response's bytes are charged; nil when the
	// client is exempt or its address unknown.
	Bucket *Bucket
	// Wait is zero when the request may be served; else how long until
	// the budget named by Budget ("requests" or "bytes") allows one.
	Wait   time.Duration
	Budget string
	// Prefix is the network the client was counted in.
	Prefix netip.Prefix
	// Log is set on the first refusal of a network in LogEvery; Limited
	// is then the number of refusals that line stands for.
	Log     bool
	Limited int
}

// Request takes one request from the budgets of a's network at now.
func (l *Limiter) Request(a netip.Addr, now time.Time) Decision {
	a = a.Unmap()
	key, ok := gopher.ClientPrefixLen(a, l.cfg.IPv4Bits, l.cfg.IPv6Bits)
	if !ok || l.exempt(a) {
		return Decision{}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.lookup(key, now)
	d := Decision{Bucket: b, Prefix: key}
	l.refill(b, now)
	switch {
	case l.byteRate > 0 && b.bytes <= 0:
		d.Wait = seconds((1 - b.bytes) / l.byteRate)
		d.Budget = "bytes"
	case l.reqRate > 0 && b.reqs < 1:
		d.Wait = seconds((1 - b.reqs) / l.reqRate)
		d.Budget = "requests"
	default:
		if l.reqRate > 0 {
			b.reqs--
		}
		return d
	}
	b.limited++
	if now.Sub(b.logged) >= LogEvery {
		d.Log, d.Limited = true, b.limited
		b.logged, b.limited = now, 0
	}
	return d
}

// Len is the number of networks tracked.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.entries)
}

func (l *Limiter) exempt(a netip.Addr) bool {
	for _, p := range l.cfg.Exempt {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// lookup returns key's bucket, a full one for a network not tracked,
// moved to the front of the order. l.mu must be held.
func (l *Limiter) lookup(key netip.Prefix, now time.Time) *Bucket {
	if b, ok := l.entries[key]; ok {
		l.unlink(b)
		l.pushFront(b)
		return b
	}
	if len(l.entries) >= l.cfg.MaxTracked {
		// Forget the least recently seen: the table never grows past the
		// bound. A response still charging the old bucket charges a
		// bucket nobody asks any more, never another network's.
		old := l.root.prev
		l.unlink(old)
		delete(l.entries, old.key)
	}
	b := &Bucket{}
	b.key, b.reqs, b.bytes, b.last = key, l.reqCap, l.byteCap, now
	b.logged = now.Add(-LogEvery)
	l.entries[key] = b
	l.pushFront(b)
	return b
}

// refill adds what the time since the last request earned and takes what
// was sent since. l.mu must be held.
func (l *Limiter) refill(b *Bucket, now time.Time) {
	dt := now.Sub(b.last).Seconds()
	if dt > 0 {
		b.last = now
		b.reqs = math.Min(l.reqCap, b.reqs+dt*l.reqRate)
		b.bytes = math.Min(l.byteCap, b.bytes+dt*l.byteRate)
	}
	b.bytes -= float64(b.sent.Swap(0))
}

func (l *Limiter) unlink(b *Bucket) {
	b.prev.next, b.next.prev = b.next, b.prev
	b.prev, b.next = nil, nil
}

func (l *Limiter) pushFront(b *Bucket) {
	b.prev, b.next = &l.root, l.root.next
	l.root.next.prev = b
	l.root.next = b
}

// seconds rounds s up to a whole second, at least one.
func seconds(s float64) time.Duration {
	return time.Duration(max(1, math.Ceil(s))) * time.Second
}
