package main

import (
	"bytes"
	"errors"
	"io"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"gopherd/internal/config"
)

// journalEntry is one entry a fake journald received.
type journalEntry struct {
	message  string
	priority int
	fields   map[string]string
}

// fakeJournal records what a journalSink is given; with fail set it
// refuses everything, as journald does when its socket is gone.
type fakeJournal struct {
	mu      sync.Mutex
	entries []journalEntry
	fail    bool
}

func (j *fakeJournal) send(msg string, p int, fields map[string]string) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.fail {
		return errors.New("connection refused")
	}
	j.entries = append(j.entries, journalEntry{msg, p, fields})
	return nil
}

func TestLoggerJournal(t *testing.T) {
	j := &fakeJournal{}
	var stderr bytes.Buffer
	logger, _, err := buildLogger(config.Log{Enable: true, Level: "debug"}, &stderr, j.send)
	if err != nil {
		t.Fatal(err)
	}
	logger.Debug("connection closed without a request", zap.String("client", "[redacted]"))
	logger.Info("request", zap.String("client", "[redacted]"), zap.String("selector", "/phlog/"),
		zap.String("served", "menu"), zap.Int64("bytes", 1480), zap.Duration("duration", 1204*time.Microsecond), zap.Bool("tls", true))
	logger.With(zap.String("config", "/etc/gopherd.json")).Warn("config: deprecated key", zap.Strings("keys", []string{"port"}))
	logger.Error("cannot listen", zap.Error(errors.New("address in use")), zap.String("message", "clash"), zap.Int("9lives", 9))
	_ = logger.Sync() // the core is asynchronous

	if stderr.Len() != 0 {
		t.Errorf("with the journal reachable, stderr got %q", stderr.String())
	}
	want := []journalEntry{
		{`connection closed without a request {"client": "[redacted]"}`, 7,
			map[string]string{"CLIENT": "[redacted]"}},
		{`request {"client": "[redacted]", "selector": "/phlog/", "served": "menu", "bytes": 1480, "duration": "1.204ms", "tls": true}`, 6,
			map[string]string{"CLIENT": "[redacted]", "SELECTOR": "/phlog/", "SERVED": "menu", "BYTES": "1480", "DURATION": "1.204ms", "TLS": "true"}},
		{`config: deprecated key {"config": "/etc/gopherd.json", "keys": ["port"]}`, 4,
			map[string]string{"CONFIG": "/etc/gopherd.json", "KEYS": `["port"]`}},
		// A field named like one of journald's own gets a prefix, and
		// so does one that is not a valid journal name.
		{`cannot listen {"error": "address in use", "message": "clash", "9lives": 9}`, 3,
			map[string]string{"ERROR": "address in use", "GOPHERD_MESSAGE": "clash", "GOPHERD_9LIVES": "9"}},
	}
	if len(j.entries) != len(want) {
		t.Fatalf("journal got %d entries, want %d: %+v", len(j.entries), len(want), j.entries)
	}
	for i, w := range want {
		g := j.entries[i]
		if g.message != w.message {
			t.Errorf("entry %d: MESSAGE %q, want %q", i, g.message, w.message)
		}
		if g.priority != w.priority {
			t.Errorf("entry %d (%s): PRIORITY %d, want %d", i, w.message, g.priority, w.priority)
		}
		w.fields["SYSLOG_IDENTIFIER"] = "gopherd"
		for k, v := range w.fields {
			if g.fields[k] != v {
				t.Errorf("entry %d: field %s = %q, want %q", i, k, g.fields[k], v)
			}
		}
		if len(g.fields) != len(w.fields) {
			t.Errorf("entry %d: fields %v, want %v", i, g.fields, w.fields)
		}
	}
}

// Without journald the entry still reaches the journal, through stderr,
// with its priority as the "<N>" prefix journald's stream transport reads.
func TestLoggerJournalUnreachable(t *testing.T) {
	j := &fakeJournal{fail: true}
	var stderr bytes.Buffer
	logger, _, err := buildLogger(config.Log{Enable: true, Level: "info"}, &stderr, j.send)
	if err != nil {
		t.Fatal(err)
	}
	logger.Warn("reload failed", zap.String("error", "bad"))
	logger.Info("stopped")
	_ = logger.Sync()
	want := "<4>reload failed {\"error\": \"bad\"}\n<6>stopped\n"
	if stderr.String() != want {
		t.Errorf("stderr %q, want %q", stderr.String(), want)
	}
}

// Anywhere but the journal the lines are what they always were: time,
// level, message, fields; the time left out with hide-time.
func TestLoggerPlain(t *testing.T) {
	for _, hide := range []bool{false, true} {
		var out bytes.Buffer
		logger, _, err := newLogger(config.Log{Enable: true, Level: "info", HideTime: hide}, &out)
		if err != nil {
			t.Fatal(err)
		}
		logger.Warn("listen changed: ignored until restart", zap.Int("port", 70))
		_ = logger.Sync()
		line := strings.TrimSuffix(out.String(), "\n")
		re := `^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[-+Z][0-9:]* warn listen changed: ignored until restart \{"port": 70\}$`
		if hide {
			re = `^warn listen changed: ignored until restart \{"port": 70\}$`
		}
		if !regexp.MustCompile(re).MatchString(line) {
			t.Errorf("hide-time %v: line %q does not match %s", hide, line, re)
		}
	}
}

// A writer other than stderr never goes to the journal, even when
// JOURNAL_STREAM is set (in-process tests capture the log this way).
func TestLoggerJournalOnlyForStderr(t *testing.T) {
	t.Setenv("JOURNAL_STREAM", "1:1")
	var out bytes.Buffer
	logger, _, err := newLogger(config.Log{Enable: true, Level: "info", HideTime: true}, &out)
	if err != nil {
		t.Fatal(err)
	}
	logger.Info("hello")
	_ = logger.Sync()
	if out.String() != "info hello\n" {
		t.Errorf("got %q", out.String())
	}
}

// A core that queues lines and writes them in batches (as one that keeps a
// stalled reader from holding up requests does) hands the writer several
// frames at once: each is still one journal entry.
func TestJournalWriterBatches(t *testing.T) {
	j := &fakeJournal{}
	enc := journalEncoder{zapcore.NewConsoleEncoder(zapcore.EncoderConfig{MessageKey: "msg", ConsoleSeparator: " "})}
	var batch []byte
	for i, msg := range []string{"one", "two", "three"} {
		buf, err := enc.EncodeEntry(zapcore.Entry{Level: zapcore.WarnLevel, Message: msg}, []zapcore.Field{zap.Int("n", i)})
		if err != nil {
			t.Fatal(err)
		}
		batch = append(batch, buf.Bytes()...)
		buf.Free()
	}
	w := journalWriter{send: j.send, fallback: zapcore.AddSync(io.Discard)}
	if n, err := w.Write(batch); err != nil || n != len(batch) {
		t.Fatalf("Write: %d, %v; want %d, nil", n, err, len(batch))
	}
	if len(j.entries) != 3 {
		t.Fatalf("got %d entries, want 3: %+v", len(j.entries), j.entries)
	}
	for i, want := range []string{`one {"n": 0}`, `two {"n": 1}`, `three {"n": 2}`} {
		if e := j.entries[i]; e.message != want || e.priority != 4 || e.fields["N"] != strconv.Itoa(i) {
			t.Errorf("entry %d: %+v, want %q at priority 4 with N=%d", i, e, want, i)
		}
	}
	if _, err := w.Write(batch[:len(batch)-1]); err == nil {
		t.Error("a truncated frame was accepted")
	}
}
