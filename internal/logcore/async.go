package logcore

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap/zapcore"
)

// Defaults of Options.
const (
	// DefaultMaxBytes is about 5,000 access log lines: minutes of a busy
	// server, so a reader that pauses briefly (journald rotating, a
	// terminal scrolled back) loses nothing.
	DefaultMaxBytes = 1 << 20
	// DefaultSyncTimeout bounds Sync when the output is stalled, so that
	// a shutdown is not held up by a reader that never comes back.
	DefaultSyncTimeout = time.Second
)

// DroppedMessage is the message of the warning that reports lost lines.
const DroppedMessage = "log lines dropped: the log output was not read fast enough"

// Options tune an Async core. Zero fields take the defaults.
type Options struct {
	// MaxBytes bounds the encoded lines waiting for the output; a line
	// that does not fit is dropped. The line the writer is writing at the
	// moment is not counted, so at most about twice MaxBytes are held.
	MaxBytes int
	// SyncTimeout bounds how long Sync waits for the queue to be written.
	SyncTimeout time.Duration
}

// Async is a zapcore.Core that encodes each entry in the caller and queues
// it for a background writer; see the package comment. It is safe for
// concurrent use, and cores derived from it by With share its queue, its
// bound and its drop count.
type Async struct {
	zapcore.LevelEnabler
	enc zapcore.Encoder
	q   *queue
}

// queue is the state shared by an Async core and the cores derived from it.
type queue struct {
	out         zapcore.WriteSyncer
	enc         zapcore.Encoder // encodes the drop reports
	max         int
	syncTimeout time.Duration
	now         func() time.Time

	mu      sync.Mutex
	pending []byte        // encoded lines not yet taken by the writer
	spare   []byte        // the writer's previous batch, reused
	writing bool          // a writer goroutine is running
	drained chan struct{} // closed when the writer goes idle; nil if nobody waits
	unrep   int64         // lines dropped since the last report

	dropped atomic.Int64 // lines dropped in all
}

// NewAsync returns a core that encodes entries at or above level with enc
// and writes them to out from a background goroutine, holding at most
// o.MaxBytes of lines when out stalls. The goroutine runs only while there
// is something to write, so an idle core holds none.
func NewAsync(enc zapcore.Encoder, out zapcore.WriteSyncer, level zapcore.LevelEnabler, o Options) *Async {
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if o.SyncTimeout <= 0 {
		o.SyncTimeout = DefaultSyncTimeout
	}
	return &Async{
		LevelEnabler: level,
		enc:          enc,
		q:            &queue{out: out, enc: enc.Clone(), max: o.MaxBytes, syncTimeout: o.SyncTimeout, now: time.Now},
	}
}

// Level reports the minimum enabled level, for zap.Logger.Level and
// zapcore.LevelOf.
func (c *Async) Level() zapcore.Level { return zapcore.LevelOf(c.LevelEnabler) }

// With returns a core that adds fields to every entry.
func (c *Async) With(fields []zapcore.Field) zapcore.Core {
	enc := c.enc.Clone()
	for _, f := range fields {
		f.AddTo(enc)
	}
	return &Async{LevelEnabler: c.LevelEnabler, enc: enc, q: c.q}
}

// Check adds c to ce when ent's level is enabled.
func (c *Async) Check(ent zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if c.Enabled(ent.Level) {
		return ce.AddCore(ent, c)
	}
	return ce
}

// Write encodes ent with fields and queues the line, or drops it when the
// queue is full. It never waits for the output, except for entries above
// error level (DPanic, Panic, Fatal), after which the process may end:
// those wait for the queue to be written, as Sync does.
func (c *Async) Write(ent zapcore.Entry, fields []zapcore.Field) error {
	buf, err := c.enc.EncodeEntry(ent, fields)
	if err != nil {
		return fmt.Errorf("encoding log entry: %w", err)
	}
	c.q.push(buf.Bytes())
	buf.Free()
	if ent.Level > zapcore.ErrorLevel {
		return c.Sync()
	}
	return nil
}

// Sync waits, at most Options.SyncTimeout, until every queued line has
// been written, then syncs the output. A stalled output makes it return an
// error instead of waiting on.
func (c *Async) Sync() error {
	if err := c.q.wait(); err != nil {
		return err
	}
	if err := c.q.out.Sync(); err != nil {
		return fmt.Errorf("syncing log output: %w", err)
	}
	return nil
}

// Dropped returns how many lines were dropped since the core was made.
func (c *Async) Dropped() int64 { return c.q.dropped.Load() }

// push queues line (copying it) and makes sure a writer runs.
func (q *queue) push(line []byte) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.pending)+len(line) > q.max {
		q.unrep++
		q.dropped.Add(1)
		return
	}
	q.pending = append(q.pending, line...)
	if !q.writing {
		q.writing = true
		go q.run()
	}
}

// run writes batches until the queue is empty, then reports drops, if
// any, and ends.
func (q *queue) run() {
	for {
		q.mu.Lock()
		batch := q.pending
		q.pending = q.spare[:0]
		dropped := q.unrep
		q.unrep = 0
		if len(batch) == 0 && dropped == 0 {
			q.spare = batch
			q.writing = false
			if q.drained != nil {
				close(q.drained)
				q.drained = nil
			}
			q.mu.Unlock()
			return
		}
		q.mu.Unlock()

		if len(batch) > 0 {
			// A failed write has nowhere to be reported: the log is the
			// place errors go.
			_, _ = q.out.Write(batch)
		}
		if dropped > 0 {
			q.report(dropped)
		}
		q.mu.Lock()
		q.spare = batch[:0]
		q.mu.Unlock()
	}
}

// report writes the warning that n lines were lost, after the lines queued
// before the loss, so it comes where the gap is.
func (q *queue) report(n int64) {
	ent := zapcore.Entry{Level: zapcore.WarnLevel, Time: q.now(), Message: DroppedMessage}
	buf, err := q.enc.EncodeEntry(ent, []zapcore.Field{{Key: "dropped", Type: zapcore.Int64Type, Integer: n}})
	if err != nil {
		return
	}
	_, _ = q.out.Write(buf.Bytes())
	buf.Free()
}

// wait returns once the writer is idle, or with an error after
// syncTimeout.
func (q *queue) wait() error {
	q.mu.Lock()
	if !q.writing {
		q.mu.Unlock()
		return nil
	}
	if q.drained == nil {
		q.drained = make(chan struct{})
	}
	ch := q.drained
	q.mu.Unlock()
	t := time.NewTimer(q.syncTimeout)
	defer t.Stop()
	select {
	case <-ch:
		return nil
	case <-t.C:
		q.mu.Lock()
		n := len(q.pending)
		q.mu.Unlock()
		return fmt.Errorf("log output stalled: %d bytes not written after %v", n, q.syncTimeout)
	}
}
