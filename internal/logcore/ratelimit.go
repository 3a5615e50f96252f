package logcore

import (
	"strconv"
	"sync"
	"time"

	"go.uber.org/zap/zapcore"
)

// Defaults for RateLimit: a burst of 100 lines, then one every 500 ms. A
// warning line is about 250 bytes, so a flood that never stops writes at
// most about 43 MB a day: enough to see what is wrong, never enough to fill
// a disk before someone looks.
const (
	DefaultBurst = 100
	DefaultEvery = 500 * time.Millisecond
)

// RateLimit returns a core that writes what core writes, except that
// warnings and errors (the levels a misbehaving peer or a broken file can
// make the process write at will) pass at most burst at once and one per
// every after that; the rest are dropped and counted. The next line that
// passes, or Sync, is preceded by one warning saying how many were dropped.
// Other levels are never limited: debug and info lines (the access log is
// info) are what the operator asked for, and DPanic and above are rare and
// must be seen. One limiter is shared by the core and every core derived
// from it with With.
func RateLimit(core zapcore.Core, burst int, every time.Duration) zapcore.Core {
	return &rateLimited{Core: core, lim: &limiter{
		root:   core,
		burst:  float64(burst),
		tokens: float64(burst),
		every:  every,
	}}
}

type rateLimited struct {
	zapcore.Core
	lim *limiter
}

// limiter is a token bucket: burst tokens, one more every every.
type limiter struct {
	root  zapcore.Core // the summary line is written without any With fields
	burst float64
	every time.Duration

	mu      sync.Mutex
	tokens  float64
	last    time.Time
	dropped int
}

func limited(l zapcore.Level) bool {
	return l >= zapcore.WarnLevel && l <= zapcore.ErrorLevel
}

// With implements zapcore.Core.
func (c *rateLimited) With(fields []zapcore.Field) zapcore.Core {
	return &rateLimited{Core: c.Core.With(fields), lim: c.lim}
}

// Check implements zapcore.Core: an entry over the limit is not added to
// ce, so it costs neither encoding nor a write.
func (c *rateLimited) Check(ent zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if !limited(ent.Level) || !c.Enabled(ent.Level) {
		return c.Core.Check(ent, ce)
	}
	now := ent.Time
	if now.IsZero() {
		now = time.Now()
	}
	ok, dropped := c.lim.take(now)
	if !ok {
		return ce
	}
	if dropped > 0 {
		c.lim.report(now, dropped)
	}
	return c.Core.Check(ent, ce)
}

// Sync implements zapcore.Core, reporting first the lines dropped since the
// last report.
func (c *rateLimited) Sync() error {
	c.lim.mu.Lock()
	dropped := c.lim.dropped
	c.lim.dropped = 0
	c.lim.mu.Unlock()
	if dropped > 0 {
		c.lim.report(time.Now(), dropped)
	}
	return c.Core.Sync()
}

// take spends a token if there is one. When it does, it also returns (and
// resets) the count of lines dropped before it.
func (l *limiter) take(now time.Time) (ok bool, dropped int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.last.IsZero() && now.After(l.last) && l.every > 0 {
		l.tokens = min(l.burst, l.tokens+float64(now.Sub(l.last))/float64(l.every))
	}
	if l.last.IsZero() || now.After(l.last) {
		l.last = now
	}
	if l.tokens < 1 {
		l.dropped++
		return false, 0
	}
	l.tokens--
	dropped, l.dropped = l.dropped, 0
	return true, dropped
}

// report writes the warning that n lines were dropped. It is written
// whatever the limit: one line per run of dropped lines.
func (l *limiter) report(now time.Time, n int) {
	ent := zapcore.Entry{
		Level:   zapcore.WarnLevel,
		Time:    now,
		Message: "log rate limit: " + strconv.Itoa(n) + " warning and error lines dropped",
	}
	if ce := l.root.Check(ent, nil); ce != nil {
		ce.Write()
	}
}
