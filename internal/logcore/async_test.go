package logcore

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"gopherd/internal/testutil"
)

// patience bounds every wait; nothing should come near it.
const patience = 5 * time.Second

func jsonEncoder() zapcore.Encoder {
	cfg := zap.NewProductionEncoderConfig()
	cfg.TimeKey = ""
	return zapcore.NewJSONEncoder(cfg)
}

// gate is an output that blocks every Write until it is opened, like a
// pipe whose reader has stopped.
type gate struct {
	open chan struct{}
	mu   sync.Mutex
	buf  bytes.Buffer
	// blocked is closed when the first Write starts waiting.
	blocked chan struct{}
	once    sync.Once
}

func newGate() *gate { return &gate{open: make(chan struct{}), blocked: make(chan struct{})} }

func (g *gate) Write(p []byte) (int, error) {
	g.once.Do(func() { close(g.blocked) })
	<-g.open
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.buf.Write(p)
}

func (g *gate) Sync() error { return nil }

func (g *gate) lines(t *testing.T) []map[string]any {
	t.Helper()
	g.mu.Lock()
	defer g.mu.Unlock()
	return decode(t, g.buf.String())
}

func decode(t *testing.T, s string) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("not a JSON line: %q: %v", sc.Text(), err)
		}
		out = append(out, m)
	}
	return out
}

// logAll logs n lines from one goroutine and reports when it is done.
func logAll(l *zap.Logger, n int) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range n {
			l.Info("request", zap.Int("i", i), zap.String("selector", "/some/selector/of/a/usual/length"))
		}
	}()
	return done
}

func TestAsyncWritesEverythingInOrder(t *testing.T) {
	var out testutil.SyncBuffer
	core := NewAsync(jsonEncoder(), zapcore.AddSync(&out), zapcore.DebugLevel, Options{})
	l := zap.New(core).With(zap.String("component", "test"))
	const n = 2000
	<-logAll(l, n)
	if err := l.Sync(); err != nil {
		t.Fatal(err)
	}
	lines := decode(t, out.String())
	if len(lines) != n {
		t.Fatalf("%d lines written, want %d", len(lines), n)
	}
	for i, m := range lines {
		if m["i"] != float64(i) || m["component"] != "test" || m["msg"] != "request" {
			t.Fatalf("line %d = %v", i, m)
		}
	}
	if core.Dropped() != 0 {
		t.Errorf("dropped %d lines with a reader keeping up", core.Dropped())
	}
}

// TestAsyncStalledOutputNeverBlocks is the reason for the package: while
// the output blocks, logging goes on at full speed, drops what does not
// fit, and once the output moves again says how many lines were lost.
func TestAsyncStalledOutputNeverBlocks(t *testing.T) {
	out := newGate()
	core := NewAsync(jsonEncoder(), out, zapcore.InfoLevel, Options{MaxBytes: 16 << 10, SyncTimeout: 50 * time.Millisecond})
	l := zap.New(core)
	const n = 5000
	select {
	case <-logAll(l, n):
	case <-time.After(patience):
		t.Fatal("logging blocked on a stalled output")
	}
	<-out.blocked
	if err := l.Sync(); err == nil || !strings.Contains(err.Error(), "stalled") {
		t.Errorf("Sync on a stalled output = %v, want a stalled error", err)
	}
	dropped := core.Dropped()
	if dropped == 0 || dropped >= n {
		t.Fatalf("dropped %d of %d lines with a 16 KiB bound", dropped, n)
	}

	close(out.open)
	if err := l.Sync(); err != nil {
		t.Fatal(err)
	}
	lines := out.lines(t)
	var written, reported int64
	for _, m := range lines {
		switch m["msg"] {
		case "request":
			written++
		case DroppedMessage:
			if m["level"] != "warn" {
				t.Errorf("drop report at level %v", m["level"])
			}
			reported += int64(m["dropped"].(float64))
		default:
			t.Errorf("unexpected line %v", m)
		}
	}
	if written+dropped != n || reported != dropped {
		t.Errorf("written %d + dropped %d != %d, or reported %d != dropped", written, dropped, n, reported)
	}
	// The lines that made it are whole and in order.
	last := -1.0
	for _, m := range lines {
		if i, ok := m["i"].(float64); ok {
			if i <= last {
				t.Fatalf("line %v after %v", i, last)
			}
			last = i
		}
	}
}

// TestAsyncPipeNobodyReads uses a real pipe, whose kernel buffer (64 KiB on
// Linux) is what froze the server when stderr was written synchronously.
func TestAsyncPipeNobodyReads(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	// fsync on a pipe fails (EINVAL); only the writing is under test.
	out := zapcore.AddSync(struct{ io.Writer }{w})
	core := NewAsync(jsonEncoder(), out, zapcore.InfoLevel, Options{MaxBytes: 64 << 10, SyncTimeout: 50 * time.Millisecond})
	l := zap.New(core)
	const n = 20000 // about 1.6 MB, far past the pipe and the bound
	select {
	case <-logAll(l, n):
	case <-time.After(patience):
		t.Fatal("logging blocked on a pipe nobody reads")
	}
	if core.Dropped() == 0 {
		t.Fatal("nothing dropped: the test did not fill the pipe")
	}
	// The reader comes back.
	got := make(chan string, 1)
	go func() {
		b, _ := io.ReadAll(r)
		got <- string(b)
	}()
	if err := l.Sync(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	var written, reported int64
	for _, m := range decode(t, <-got) {
		if m["msg"] == DroppedMessage {
			reported += int64(m["dropped"].(float64))
		} else {
			written++
		}
	}
	if reported != core.Dropped() || written+reported != n {
		t.Errorf("%d lines written, %d reported dropped, %d dropped: want the reports to add up to %d lines", written, reported, core.Dropped(), n)
	}
}

func TestAsyncLevelsAndFields(t *testing.T) {
	var out testutil.SyncBuffer
	level := zap.NewAtomicLevelAt(zapcore.WarnLevel)
	core := NewAsync(jsonEncoder(), zapcore.AddSync(&out), level, Options{})
	l := zap.New(core)
	if l.Level() != zapcore.WarnLevel {
		t.Errorf("Level = %v", l.Level())
	}
	l.Info("hidden")
	l.Warn("shown", zap.Int("n", 1))
	level.SetLevel(zapcore.InfoLevel)
	l.With(zap.String("k", "v")).Info("now shown")
	if err := l.Sync(); err != nil {
		t.Fatal(err)
	}
	lines := decode(t, out.String())
	if len(lines) != 2 || lines[0]["msg"] != "shown" || lines[1]["msg"] != "now shown" || lines[1]["k"] != "v" {
		t.Errorf("lines = %v", lines)
	}
}

// TestAsyncIdleHoldsNoGoroutine: the writer runs only while there is
// something to write.
func TestAsyncIdleHoldsNoGoroutine(t *testing.T) {
	base := runtime.NumGoroutine()
	var out testutil.SyncBuffer
	l := zap.New(NewAsync(jsonEncoder(), zapcore.AddSync(&out), zapcore.InfoLevel, Options{}))
	<-logAll(l, 100)
	if err := l.Sync(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(patience)
	for runtime.NumGoroutine() > base {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines, %d before", runtime.NumGoroutine(), base)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// BenchmarkAsync measures a log call against zap's synchronous core on
// the same encoder, both writing to io.Discard.
func BenchmarkAsync(b *testing.B) {
	for _, kind := range []string{"sync", "async"} {
		b.Run(kind, func(b *testing.B) {
			var core zapcore.Core
			out := zapcore.AddSync(io.Discard)
			if kind == "sync" {
				core = zapcore.NewCore(jsonEncoder(), out, zapcore.InfoLevel)
			} else {
				core = NewAsync(jsonEncoder(), out, zapcore.InfoLevel, Options{})
			}
			l := zap.New(core)
			b.ReportAllocs()
			for b.Loop() {
				l.Info("request", zap.String("selector", "/a/b"), zap.Int64("bytes", 1234))
			}
			_ = l.Sync()
		})
	}
}
