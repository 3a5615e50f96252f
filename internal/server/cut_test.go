//go:build linux

package server

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"gopherd/internal/gopher"
)

// streamer writes 64 KiB chunks until a write fails or its context ends,
// then reports the write error; with abortAfter or panicAfter set it
// gives up after that many bytes instead.
type streamer struct {
	abortAfter int
	panicAfter int
	result     chan error
}

func (s *streamer) ServeGopher(ctx context.Context, w gopher.ResponseWriter, _ *gopher.Request) {
	gopher.Served(w, "file")
	buf := make([]byte, 64<<10)
	sent := 0
	for ctx.Err() == nil {
		switch {
		case s.abortAfter > 0 && sent >= s.abortAfter:
			gopher.Abort(w)
			s.result <- nil
			return
		case s.panicAfter > 0 && sent >= s.panicAfter:
			panic("handler gave up")
		}
		n, err := w.Write(buf)
		sent += n
		if err != nil {
			s.result <- err
			return
		}
	}
	s.result <- ctx.Err()
}

// readUntilEnd reads c, pausing between reads, until the connection ends,
// and returns how it ended and how much arrived.
func readUntilEnd(t *testing.T, c net.Conn, pause time.Duration) (int64, error) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(2 * patience))
	buf := make([]byte, 16<<10)
	var total int64
	for {
		n, err := c.Read(buf)
		total += int64(n)
		if err != nil {
			if errors.Is(err, io.EOF) {
				return total, nil
			}
			return total, err
		}
		if pause > 0 {
			time.Sleep(pause)
		}
	}
}

// TestEveryCutEndsInReset cuts a response in every way there is and checks
// that the client always sees a reset (never a clean end it would take for
// a whole file) and that the access log says "cut" with the reason.
func TestEveryCutEndsInReset(t *testing.T) {
	for _, tt := range []struct {
		name string
		// client reads the response; it may stop or go slowly.
		client func(t *testing.T, h *harness, c *net.TCPConn) (int64, error)
		limits func(*Limits)
		s      streamer
		want   string
	}{
		{
			name: "idle timeout",
			client: func(t *testing.T, _ *harness, c *net.TCPConn) (int64, error) {
				if _, err := io.ReadFull(c, make([]byte, 256<<10)); err != nil {
					t.Fatal(err)
				}
				time.Sleep(time.Second) // stops reading, for longer than IdleTimeout
				return readUntilEnd(t, c, 0)
			},
			limits: func(l *Limits) { l.IdleTimeout = 300 * time.Millisecond },
			want:   cutIdle,
		},
		{
			name: "slow reader",
			client: func(t *testing.T, _ *harness, c *net.TCPConn) (int64, error) {
				return readUntilEnd(t, c, 50*time.Millisecond) // ~300 KiB/s
			},
			limits: func(l *Limits) {
				l.IdleTimeout = 300 * time.Millisecond
				l.MinReadRate = 4 << 20
			},
			want: cutSlow,
		},
		{
			name: "shutdown grace over",
			client: func(t *testing.T, h *harness, c *net.TCPConn) (int64, error) {
				if _, err := io.ReadFull(c, make([]byte, 256<<10)); err != nil {
					t.Fatal(err)
				}
				go func() {
					ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
					defer cancel()
					_ = h.srv.Shutdown(ctx)
				}()
				return readUntilEnd(t, c, 0)
			},
			want: cutShutdown,
		},
		{
			name:   "handler abort",
			client: func(t *testing.T, _ *harness, c *net.TCPConn) (int64, error) { return readUntilEnd(t, c, 0) },
			s:      streamer{abortAfter: 1 << 20},
			want:   cutAborted,
		},
		{
			name:   "handler panic",
			client: func(t *testing.T, _ *harness, c *net.TCPConn) (int64, error) { return readUntilEnd(t, c, 0) },
			s:      streamer{panicAfter: 1 << 20},
			want:   cutPanic,
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.s
			s.result = make(chan error, 1)
			st := baseSettings(&s)
			if tt.limits != nil {
				tt.limits(&st.Limits)
			}
			h := start(t, st)
			c := dialFrom(t, h.addr, nil, 64<<10)
			if _, err := c.Write([]byte("/stream\r\n")); err != nil {
				t.Fatal(err)
			}
			n, err := tt.client(t, h, c)
			if !errors.Is(err, syscall.ECONNRESET) {
				t.Errorf("client got %d bytes and then %v; want a reset", n, err)
			}
			waitFor(t, "connection to end", h.srv.idle)
			h.shutdown(t)
			lines := h.logs.entries(t, "request")
			if len(lines) != 1 || lines[0]["cut"] != tt.want {
				t.Errorf("access log = %v, want one line with cut %q", lines, tt.want)
			}
		})
	}
}

// TestIdleTimeoutCountsFromLastByteTaken checks the definition of
// IdleTimeout: a client that stops reading is cut IdleTimeout after it
// took its last byte (its kernel received it: the test watches the
// client's own TCP_INFO), not after the kernel buffers on both sides have
// filled chunk by chunk (each write making "progress" into them renewed
// the deadline: about 3 × IdleTimeout). The client has the default,
// autotuned buffers.
func TestIdleTimeoutCountsFromLastByteTaken(t *testing.T) {
	const idle = 500 * time.Millisecond
	s := &streamer{result: make(chan error, 1)}
	st := baseSettings(s)
	st.Limits.IdleTimeout = idle
	h := start(t, st)
	c := dialFrom(t, h.addr, nil, 0)
	if _, err := c.Write([]byte("/stream\r\n")); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(c, make([]byte, 1<<20)); err != nil {
		t.Fatal(err)
	}
	// From here on the client reads nothing; its kernel takes data until
	// its receive buffer is full.
	rc, err := c.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	received := func() uint64 {
		var n uint64
		_ = rc.Control(func(fd uintptr) {
			if info, err := unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO); err == nil {
				n = info.Bytes_received
			}
		})
		return n
	}
	last, lastAt := received(), time.Now()
	var werr error
	for done := false; !done; {
		select {
		case werr = <-s.result:
			done = true
		case <-time.After(2 * time.Millisecond):
			if n := received(); n != last {
				last, lastAt = n, time.Now()
			}
			if time.Since(lastAt) > patience {
				t.Fatal("not cut")
			}
		}
	}
	took := time.Since(lastAt)
	t.Logf("cut %v after the client took its last byte (idle-timeout %v)", took.Round(time.Millisecond), idle)
	if !isTimeout(werr) {
		t.Errorf("handler's write error = %v, want a timeout", werr)
	}
	// The watchdog looks every IdleTimeout/32: the cut comes just after
	// IdleTimeout.
	if took < idle-idle/10 || took > idle+idle/2 {
		t.Errorf("cut %v after the client took its last byte, want IdleTimeout %v (+50%%)", took, idle)
	}
}

// slowClientDialer connects with a tiny receive buffer and a network-sized
// MSS, so that a slow reader's kernel acknowledges data about as steadily
// as the program reads it. Over loopback the MSS is 64 KiB, and a larger
// buffer fills with a few segments whose memory is only freed whole: the
// receiver then reopens its window in bursts seconds apart, and a client
// reading steadily would look stalled.
func slowClientDialer() *net.Dialer {
	return &net.Dialer{Timeout: patience, Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) {
			serr = errors.Join(
				syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4<<10),
				syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_MAXSEG, 1400))
		})
		return errors.Join(err, serr)
	}}
}

// TestSlowReadersPlainAndTLSAlike reads a response at about 16 KiB/s, over
// plain Gopher and over TLS. A TLS record is 16 KiB, longer than such a
// client takes in IdleTimeout; when a whole record had to go out under one
// write deadline, TLS clients were cut where plain ones were served. The
// same progress rule now applies to both: both are served.
func TestSlowReadersPlainAndTLSAlike(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 96 KiB at 16 KiB/s, for seconds: left out by -short (make check-fast)")
	}
	holder, client := testCert(t, testHost)
	data := bytes.Repeat([]byte("0123456789abcdef"), 6<<10) // 96 KiB
	h := gopher.HandlerFunc(func(_ context.Context, w gopher.ResponseWriter, _ *gopher.Request) {
		gopher.Served(w, "file")
		_, _ = w.Write(data)
	})
	st := baseSettings(h)
	// A TLS record of 16 KiB takes the reader a second to take in: the
	// idle timeout leaves room for that and for a loaded machine.
	st.Limits.IdleTimeout = 2 * time.Second
	st.Limits.MinReadRate = 1 << 10
	st.TLS = holder.Config()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	small := &hookListener{Listener: ln, hook: func(_ int, c net.Conn) net.Conn {
		_ = c.(*net.TCPConn).SetWriteBuffer(16 << 10)
		return c
	}}
	srv := startOn(t, small, st)
	for _, useTLS := range []bool{false, true} {
		t.Run(fmt.Sprintf("tls=%v", useTLS), func(t *testing.T) {
			t.Parallel()
			raw, err := slowClientDialer().Dial("tcp", srv.addr)
			if err != nil {
				t.Fatal(err)
			}
			defer raw.Close()
			c := raw
			if useTLS {
				c = tls.Client(raw, client)
			}
			_ = c.SetDeadline(time.Now().Add(4 * patience))
			if _, err := io.WriteString(c, "/slow\r\n"); err != nil {
				t.Fatal(err)
			}
			var got []byte
			buf := make([]byte, 1<<10) // 16 KiB/s: a TLS record takes a second
			for {
				n, err := c.Read(buf)
				got = append(got, buf[:n]...)
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatalf("after %d of %d bytes: %v", len(got), len(data), err)
				}
				time.Sleep(64 * time.Millisecond)
			}
			if !bytes.Equal(got, data) {
				t.Errorf("got %d bytes, want the %d sent", len(got), len(data))
			}
		})
	}
}
