package server

import (
	"context"
	"io"
	"io/fs"
	"net"
	"syscall"
	"time"
)

const (
	// sendfileChunk is how much one sendfile call may send before the write
	// deadline is pushed forward again. It matches the most Go's sendfile
	// sends per system call: 512 KiB chunks cost 3–4% of 100 MiB throughput
	// against a plain io.Copy in `make bench` (a Seek, a deadline and a
	// sendfile every chunk), 4 MiB chunks none. The chunk size does not
	// limit slow clients: a deadline that fires after some progress is
	// simply renewed.
	sendfileChunk = 4 << 20
	// copyBuffer is the buffer size when a response cannot use sendfile.
	copyBuffer = 32 << 10
)

// response is the gopher.ResponseWriter handed to handlers. Every write gets
// a fresh deadline of IdleTimeout, and a write that times out after sending
// something carries on: only a client that accepts nothing for IdleTimeout
// is cut off, however slow it is otherwise.
type response struct {
	rwc    net.Conn
	idle   time.Duration
	cancel context.CancelFunc // the handler's context, ended on a write error
	srv    *Server
	// maxWrite, when positive, bounds each write to the connection (see
	// tlsWriteChunk).
	maxWrite int

	n       int64
	served  string
	err     error // the first write error; every later write returns it
	aborted bool  // the handler could not finish: reset, do not close
}

// Abort marks the response as failed (gopher.Aborter): the connection is
// reset instead of closed, so the client does not take a truncated response
// for a complete one.
func (r *response) Abort() { r.aborted = true }

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
		_ = w.rwc.SetWriteDeadline(time.Now().Add(w.idle))
		n, err := w.rwc.Write(chunk)
		written += n
		w.n += int64(n)
		p = p[n:]
		switch {
		case err == nil && n == 0:
			return written, w.fail(io.ErrShortWrite)
		case err == nil:
		case n > 0 && isTimeout(err):
			// Progress was made: the client is slow, not gone.
			w.srv.slowWrites.Add(1)
		default:
			return written, w.fail(err)
		}
	}
	return written, nil
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

// sendFile streams f (at most lr.N bytes when lr is set) in chunks, each
// with a fresh write deadline, passing the *net.TCPConn an
// io.LimitedReader of the file, which Go turns into sendfile(2).
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
		part := &io.LimitedReader{R: f, N: chunk}
		_ = tc.SetWriteDeadline(time.Now().Add(w.idle))
		n, err := tc.ReadFrom(part)
		w.srv.sendfileChunks.Add(1)
		total += n
		w.n += n
		if lr != nil {
			lr.N -= n
		}
		if err != nil {
			if n == 0 || !isTimeout(err) {
				return total, w.fail(err)
			}
			// sendfile leaves the file offset just past what was sent, but
			// if Go fell back to a buffered copy, bytes read and not sent
			// would be skipped. Resume exactly after the last byte sent.
			if _, err := f.Seek(start+n, io.SeekStart); err != nil {
				return total, w.fail(err)
			}
			w.srv.slowWrites.Add(1)
			continue
		}
		if part.N > 0 {
			return total, nil // the file ended
		}
	}
}

// fail records the first write error and ends the handler's context: the
// server has given up on the client.
func (w *response) fail(err error) error {
	if w.err == nil {
		w.err = &writeError{reason: reason(err), err: err}
		w.cancel()
	}
	return w.err
}

type writerOnly struct{ io.Writer }
