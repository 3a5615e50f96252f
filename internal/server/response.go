package server

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"net"
	"sync"
	"syscall"
	"time"

	"gopherd/internal/rate"
)

const (
	// sendfileChunk is how much one sendfile call may send. It matches the
	// most Go's sendfile sends per system call: 512 KiB chunks cost 3–4% of
	// 100 MiB throughput against a plain io.Copy in `make bench` (a Seek and
	// a sendfile every chunk), 4 MiB chunks none.
	sendfileChunk = 4 << 20
	// copyBuffer is the buffer size when a response cannot use sendfile.
	copyBuffer = 32 << 10
	// watchSamples is how many looks at the socket the watchdog takes per
	// IdleTimeout: the idle cut comes at most IdleTimeout/watchSamples late.
	watchSamples = 32
	// minWatchEvery bounds how often the watchdog looks, whatever the
	// IdleTimeout.
	minWatchEvery = 5 * time.Millisecond
)

// Why a response was cut (the access log's "cut" field). A response that
// did not finish always ends in a reset, whatever the cause: Gopher has no
// length field, so a client can only tell a cut response from a whole one
// by how the connection ends.
const (
	cutIdle     = "idle-timeout" // the client took no data for IdleTimeout
	cutSlow     = "slow-reader"  // it took less than MinReadRate, averaged over IdleTimeout
	cutShutdown = "shutdown"     // the shutdown grace ran out
	cutEvicted  = "evicted"      // the server was full and its address held the most connections (see evictHeaviestLocked)
	cutAborted  = "aborted"      // the handler gave up (gopher.Abort)
	cutPanic    = "panic"        // the handler panicked after writing
	cutGone     = "client-gone"  // the client reset or closed the connection
	cutError    = "write-error"  // any other write failure
)

// errCut is what a write gets once the response has been cut.
var errCut = errors.New("response cut")

// response is the gopher.ResponseWriter handed to handlers.
//
// Where the kernel says what the client has acknowledged (Linux TCP, TLS
// included: see sendProgress), a watchdog looks at the socket
// watchSamples times per IdleTimeout, and writes carry no deadline: the
// client is cut when it has acknowledged nothing for IdleTimeout while
// data waited for it, or when over IdleTimeout it acknowledged less than
// MinReadRate a second. Time spent filling kernel buffers does not count
// as progress, and a TLS client is judged exactly as a plain one.
//
// Elsewhere every write gets a fresh deadline of IdleTimeout, and a write
// that times out after sending something carries on: only a client that
// accepts nothing for IdleTimeout is cut off, however slow it is otherwise.
type response struct {
	rwc    net.Conn // where the response goes (the TLS connection for TLS)
	conn   net.Conn // the accepted connection: deadlines and cuts apply here
	idle   time.Duration
	cancel context.CancelFunc // the handler's context, ended on a write error
	srv    *Server
	bucket *rate.Bucket // the client's byte budget, charged as bytes go out; nil for none
	// maxWrite, when positive, bounds each write to the connection (see
	// tlsWriteChunk).
	maxWrite int

	n       int64
	served  string
	err     error // the first write error; every later write returns it
	aborted bool  // the handler could not finish: reset, do not close

	// The watchdog; rc is nil when writes are judged one by one.
	rc      syscall.RawConn
	minRate float64 // bytes a second
	every   time.Duration

	mu       sync.Mutex
	cutBy    string // why the response was cut; "" while it was not
	done     bool   // finish has begun: nothing is cut any more
	timer    *time.Timer
	acked    uint64    // the client's acknowledged bytes at the last look
	progress time.Time // when it last took data or had none waiting
	window   []sample  // recent looks while data waited for the client
}

// sample is one look at the socket while data waited for the client.
type sample struct {
	at    time.Time
	acked uint64
}

// newResponse returns the response writer for c, whose handler context
// cancel ends. It watches the socket when c is TCP and the kernel can tell
// progress; it makes no system call, so a response over before the
// watchdog's first look costs only a timer.
func (c *conn) newResponse(cancel context.CancelFunc) *response {
	lim := c.st.Limits
	w := &response{rwc: c.w, conn: c.rwc, idle: lim.IdleTimeout, cancel: cancel, srv: c.srv, bucket: c.bucket}
	if tc, ok := c.rwc.(*net.TCPConn); ok {
		if rc, err := tc.SyscallConn(); err == nil && c.srv.canWatch(rc) {
			w.rc = rc
			w.minRate = float64(lim.MinReadRate)
			w.every = max(lim.IdleTimeout/watchSamples, minWatchEvery)
		}
	}
	if w.rc == nil && c.tc != nil {
		w.maxWrite = tlsWriteChunk
	}
	return w
}

// canWatch reports whether the kernel tells what TCP clients have
// acknowledged (see sendProgress), finding out on the first connection
// that asks: rc has received a request.
func (s *Server) canWatch(rc syscall.RawConn) bool {
	switch s.tcpInfo.Load() {
	case tcpInfoYes:
		return true
	case tcpInfoNo:
		return false
	}
	_, _, ok := sendProgress(rc)
	if ok {
		s.tcpInfo.Store(tcpInfoYes)
	} else {
		s.tcpInfo.Store(tcpInfoNo)
	}
	return ok
}

// What Server.tcpInfo knows about the kernel.
const (
	tcpInfoUnknown int32 = iota
	tcpInfoYes
	tcpInfoNo
)

// start begins the response: the watchdog's first look is scheduled and
// the request deadline stops applying to writes.
func (w *response) start() {
	if w.rc == nil {
		return
	}
	_ = w.conn.SetWriteDeadline(time.Time{})
	w.mu.Lock()
	defer w.mu.Unlock()
	w.progress = time.Now()
	w.timer = time.AfterFunc(w.every, w.look)
}

// look is the watchdog: one look at the socket, then the next is
// scheduled unless the response was cut or is over.
func (w *response) look() {
	acked, unacked, ok := sendProgress(w.rc)
	now := time.Now()
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done || w.cutBy != "" {
		return
	}
	if !ok {
		// The socket cannot tell after all: writes are judged one by
		// one from now on, the one under way included.
		w.rc = nil
		_ = w.conn.SetWriteDeadline(now.Add(w.idle))
		return
	}
	if reason := w.judge(now, acked, unacked); reason != "" {
		w.cutLocked(reason)
		return
	}
	w.timer.Reset(w.every)
}

// judge applies the progress rules to one look and returns why the
// response must be cut, or "". w.mu must be held.
func (w *response) judge(now time.Time, acked uint64, unacked int) string {
	if acked != w.acked {
		w.acked, w.progress = acked, now
	}
	if unacked == 0 {
		// The client has everything written so far: whatever the wait
		// is, it is not the client's.
		w.progress = now
		w.window = w.window[:0]
		return ""
	}
	if now.Sub(w.progress) >= w.idle {
		return cutIdle
	}
	w.window = append(w.window, sample{now, acked})
	first := w.window[0]
	span := now.Sub(first.at)
	if span < w.idle {
		return ""
	}
	if rate := float64(acked-first.acked) / span.Seconds(); rate < w.minRate {
		return cutSlow
	}
	// Keep about IdleTimeout of history.
	drop := 0
	for drop+1 < len(w.window) && now.Sub(w.window[drop+1].at) >= w.idle {
		drop++
	}
	w.window = append(w.window[:0], w.window[drop:]...)
	return ""
}

// cut ends the response now for reason: a write in progress returns at
// once, every later one fails, the handler's context ends, and finish
// resets the connection. It reports false when the response is already
// complete (finish has begun); the caller may then simply close.
func (w *response) cut(reason string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return false
	}
	w.cutLocked(reason)
	return true
}

func (w *response) cutLocked(reason string) {
	if w.cutBy == "" {
		w.cutBy = reason
	}
	// A deadline in the past interrupts a blocked write (or sendfile) on
	// the socket and on a TLS connection over it.
	_ = w.conn.SetDeadline(time.Unix(1, 0))
	w.cancel()
}

// setCut records why the response is being cut, unless a reason is known.
func (w *response) setCut(reason string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.cutBy == "" {
		w.cutBy = reason
	}
}

// finish ends the response for the finish stage: the watchdog stops and
// nothing may cut it any more. It returns why it was cut, or "" when it
// is complete.
func (w *response) finish() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.done = true
	if w.timer != nil {
		w.timer.Stop()
	}
	if w.aborted && w.cutBy == "" {
		w.cutBy = cutAborted
	}
	return w.cutBy
}

// arm prepares one write: it fails once the response is cut, and without
// the watchdog gives the write its own deadline. It reports whether the
// watchdog judges the write. The check and the deadline are under w.mu, so
// a cut (whose deadline is set under it too) is never undone by a deadline
// set just after it.
func (w *response) arm() (watched bool, err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.cutBy != "" {
		return false, errCut
	}
	if w.rc == nil {
		_ = w.conn.SetWriteDeadline(time.Now().Add(w.idle))
	}
	return w.rc != nil, nil
}

// Abort marks the response as failed (gopher.Aborter): the connection is
// reset instead of closed, so the client does not take a truncated response
// for a complete one.
func (w *response) Abort() { w.aborted = true }

// writeError is what handlers see when the client is gone or too slow. Its
// text is a classified reason only, so a handler that logs it cannot leak
// the client's address; Unwrap still gives errors.Is the net error.
type writeError struct {
	reason string
	err    error
}

func (e *writeError) Error() string { return "writing response: " + e.reason }
func (e *writeError) Unwrap() error { return e.err }

// Served records what the response is for the access log.
func (w *response) Served(what string) { w.served = what }

// Write sends p to the client.
func (w *response) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	written := 0
	for len(p) > 0 {
		chunk := p
		if w.maxWrite > 0 && len(chunk) > w.maxWrite {
			chunk = chunk[:w.maxWrite]
		}
		watched, err := w.arm()
		if err != nil {
			return written, w.fail(err)
		}
		began := time.Now()
		n, err := w.rwc.Write(chunk)
		w.noteSlow(began)
		written += n
		w.n += int64(n)
		w.bucket.Sent(int64(n))
		p = p[n:]
		switch {
		case err == nil && n == 0:
			return written, w.fail(io.ErrShortWrite)
		case err == nil:
		case !watched && n > 0 && isTimeout(err):
			// Progress was made: the client is slow, not gone.
		default:
			return written, w.fail(err)
		}
	}
	return written, nil
}

// noteSlow counts a write that outlasted IdleTimeout without being cut,
// so tests can prove that slow clients are kept.
func (w *response) noteSlow(began time.Time) {
	if time.Since(began) > w.idle {
		w.srv.slowWrites.Add(1)
	}
}

// ReadFrom copies src to the client. A regular file going to a TCP
// connection is sent with sendfile (io.Copy from an *os.File arrives here,
// wrapped by os.File.WriteTo, still a syscall.Conn); anything else is copied
// through Write.
func (w *response) ReadFrom(src io.Reader) (int64, error) {
	if w.err != nil {
		return 0, w.err
	}
	if tc, ok := w.rwc.(*net.TCPConn); ok {
		if f, lr, ok := regularFile(src); ok {
			return w.sendFile(tc, f, lr)
		}
	}
	// writerOnly hides ReadFrom, or io.CopyBuffer would call it again.
	return io.CopyBuffer(writerOnly{w}, src, make([]byte, copyBuffer))
}

// file is what the kernel can sendfile from; *os.File and the wrapper
// os.File.WriteTo passes to io.Copy both qualify.
type file interface {
	io.ReadSeeker
	syscall.Conn
	Stat() (fs.FileInfo, error)
}

// regularFile finds a regular file in src, itself or inside an
// io.LimitedReader. Pipes and devices are left to the plain copy.
func regularFile(src io.Reader) (file, *io.LimitedReader, bool) {
	lr, _ := src.(*io.LimitedReader)
	r := src
	if lr != nil {
		r = lr.R
	}
	f, ok := r.(file)
	if !ok {
		return nil, nil, false
	}
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return nil, nil, false
	}
	return f, lr, true
}

// sendFile streams f (at most lr.N bytes when lr is set) in chunks,
// passing the *net.TCPConn an io.LimitedReader of the file, which Go turns
// into sendfile(2). Without the watchdog each chunk gets a fresh write
// deadline, and one that passes after some progress is renewed.
func (w *response) sendFile(tc *net.TCPConn, f file, lr *io.LimitedReader) (int64, error) {
	var total int64
	for {
		chunk := int64(sendfileChunk)
		if lr != nil {
			if lr.N <= 0 {
				return total, nil
			}
			chunk = min(chunk, lr.N)
		}
		start, err := f.Seek(0, io.SeekCurrent)
		if err != nil {
			// Without a position to resume from, the rest goes the slow
			// way; lr, when set, still wraps f with the right count.
			var rest io.Reader = f
			if lr != nil {
				rest = lr
			}
			n, err := io.CopyBuffer(writerOnly{w}, rest, make([]byte, copyBuffer))
			return total + n, err
		}
		watched, err := w.arm()
		if err != nil {
			return total, w.fail(err)
		}
		part := &io.LimitedReader{R: f, N: chunk}
		began := time.Now()
		n, err := tc.ReadFrom(part)
		w.noteSlow(began)
		w.srv.sendfileChunks.Add(1)
		total += n
		w.n += n
		w.bucket.Sent(n)
		if lr != nil {
			lr.N -= n
		}
		if err != nil {
			if watched || n == 0 || !isTimeout(err) {
				return total, w.fail(err)
			}
			// sendfile leaves the file offset just past what was sent, but
			// if Go fell back to a buffered copy, bytes read and not sent
			// would be skipped. Resume exactly after the last byte sent.
			if _, err := f.Seek(start+n, io.SeekStart); err != nil {
				return total, w.fail(err)
			}
			continue
		}
		if part.N > 0 {
			return total, nil // the file ended
		}
	}
}

// fail records the first write error and ends the handler's context: the
// server has given up on the client. The response counts as cut, for the
// reason the error gives unless the watchdog or a shutdown named one.
func (w *response) fail(err error) error {
	if w.err == nil {
		w.err = &writeError{reason: reason(err), err: err}
		switch r := reason(err); {
		case r == "timeout":
			w.setCut(cutIdle)
		case r == "reset" || r == "broken pipe" || r == "eof" || r == "closed":
			w.setCut(cutGone)
		default:
			w.setCut(cutError)
		}
		w.cancel()
	}
	return w.err
}

type writerOnly struct{ io.Writer }
