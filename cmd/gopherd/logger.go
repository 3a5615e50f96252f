package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"gopherd/internal/config"
)

// newLogger builds the process logger. Lines go to w as the time (left out
// with hide-time), the level, the message and the fields as JSON. When w is
// stderr and stderr is connected to the systemd journal (JOURNAL_STREAM
// names it), entries go to journald over its native protocol instead, each
// with its level as the journal priority, the line without time and level as
// MESSAGE, and every field as a journal field of its own, so that
// "journalctl -p warning" and "journalctl SELECTOR=/x" work. The returned
// level can be changed on reload.
func newLogger(c config.Log, w io.Writer) (*zap.Logger, zap.AtomicLevel, error) {
	var sink journalSink
	if f, ok := w.(*os.File); ok && f == os.Stderr {
		sink = stderrJournal()
	}
	return buildLogger(c, w, sink)
}

// journalSink sends one entry to journald: the message, its syslog
// priority (0 emergency to 7 debug) and further fields by journal name.
type journalSink func(message string, priority int, fields map[string]string) error

// buildLogger is newLogger with the journal chosen by the caller: nil for
// plain lines on w.
func buildLogger(c config.Log, w io.Writer, sink journalSink) (*zap.Logger, zap.AtomicLevel, error) {
	level := zap.NewAtomicLevel()
	if !c.Enable {
		return zap.NewNop(), level, nil
	}
	if err := level.UnmarshalText([]byte(c.Level)); err != nil {
		return nil, level, fmt.Errorf("log.level: %w", err)
	}
	enc := zap.NewProductionEncoderConfig()
	enc.EncodeTime = zapcore.ISO8601TimeEncoder
	enc.EncodeDuration = zapcore.StringDurationEncoder
	enc.ConsoleSeparator = " "
	if c.HideTime {
		enc.TimeKey = ""
	}
	out := zapcore.Lock(zapcore.AddSync(w))
	if sink != nil {
		// The journal records time and priority itself.
		enc.TimeKey, enc.LevelKey = "", ""
		core := &journalCore{LevelEnabler: level, enc: zapcore.NewConsoleEncoder(enc), send: sink, out: out}
		return zap.New(core), level, nil
	}
	core := zapcore.NewCore(zapcore.NewConsoleEncoder(enc), out, level)
	return zap.New(core), level, nil
}

// journalCore is a zapcore.Core that sends each entry to journald.
type journalCore struct {
	zapcore.LevelEnabler
	enc    zapcore.Encoder // the console line without time and level: MESSAGE
	fields []zapcore.Field // added by With, repeated as journal fields
	send   journalSink
	out    zapcore.WriteSyncer // stderr, which is the journal's stream
}

// With adds fields to every later entry.
func (c *journalCore) With(fs []zapcore.Field) zapcore.Core {
	clone := *c
	clone.enc = c.enc.Clone()
	for _, f := range fs {
		f.AddTo(clone.enc)
	}
	clone.fields = append(slices.Clip(c.fields), fs...)
	return &clone
}

// Check adds this core to ce when the entry's level is enabled.
func (c *journalCore) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if c.Enabled(e.Level) {
		return ce.AddCore(e, c)
	}
	return ce
}

// Write sends one entry. If journald cannot be reached (its socket is gone,
// or the sandbox forbids it) the line goes to stderr with a "<N>" prefix,
// which journald's stream transport reads as the priority, so that nothing
// is lost and the priority survives.
func (c *journalCore) Write(e zapcore.Entry, fs []zapcore.Field) error {
	buf, err := c.enc.EncodeEntry(e, fs)
	if err != nil {
		return fmt.Errorf("encoding log entry: %w", err)
	}
	msg := strings.TrimSuffix(buf.String(), "\n")
	buf.Free()
	prio := journalPriority(e.Level)
	if err := c.send(msg, prio, journalFields(c.fields, fs)); err != nil {
		if _, werr := fmt.Fprintf(c.out, "<%d>%s\n", prio, msg); werr != nil {
			return fmt.Errorf("journal: %w; stderr: %w", err, werr)
		}
	}
	return nil
}

// Sync has nothing to flush: every entry is one datagram.
func (c *journalCore) Sync() error { return nil }

// journalPriority maps zap's levels to syslog priorities.
func journalPriority(l zapcore.Level) int {
	switch {
	case l <= zapcore.DebugLevel:
		return 7
	case l == zapcore.InfoLevel:
		return 6
	case l == zapcore.WarnLevel:
		return 4
	case l == zapcore.ErrorLevel:
		return 3
	default: // DPanic, Panic, Fatal
		return 2
	}
}

// reservedJournalFields are fields that journald or journalctl give a
// meaning of their own; a log field of the same name gets a GOPHERD_ prefix.
var reservedJournalFields = []string{
	"MESSAGE", "MESSAGE_ID", "PRIORITY", "CODE_FILE", "CODE_LINE", "CODE_FUNC", "ERRNO",
	"INVOCATION_ID", "USER_INVOCATION_ID", "SYSLOG_FACILITY", "SYSLOG_IDENTIFIER",
	"SYSLOG_PID", "SYSLOG_TIMESTAMP", "SYSLOG_RAW", "DOCUMENTATION", "TID", "UNIT", "USER_UNIT",
}

// journalFields turns the entry's fields into journal fields: the name in
// upper case with anything but letters, digits and "_" made "_", the value
// as text (JSON for lists and objects).
func journalFields(ctx, fs []zapcore.Field) map[string]string {
	m := zapcore.NewMapObjectEncoder()
	for _, f := range ctx {
		f.AddTo(m)
	}
	for _, f := range fs {
		f.AddTo(m)
	}
	out := make(map[string]string, len(m.Fields)+1)
	out["SYSLOG_IDENTIFIER"] = "gopherd"
	for k, v := range m.Fields {
		out[journalName(k)] = journalValue(v)
	}
	return out
}

// journalName makes a valid journal field name of a log field's key:
// upper case letters, digits and "_", not starting with "_" or a digit, at
// most 64 bytes.
func journalName(key string) string {
	b := []byte(strings.ToUpper(key))
	for i, c := range b {
		if (c < 'A' || c > 'Z') && (c < '0' || c > '9') {
			b[i] = '_'
		}
	}
	name := string(b)
	if name == "" || name[0] == '_' || (name[0] >= '0' && name[0] <= '9') || slices.Contains(reservedJournalFields, name) {
		name = "GOPHERD_" + name
	}
	if len(name) > 64 {
		name = name[:64]
	}
	return name
}

func journalValue(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case time.Duration:
		return v.String()
	case time.Time:
		return v.UTC().Format(time.RFC3339Nano)
	case []any, map[string]any:
		if b, err := json.Marshal(v); err == nil {
			return string(b)
		}
	}
	return fmt.Sprint(v)
}
