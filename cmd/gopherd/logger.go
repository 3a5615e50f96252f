package main

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"go.uber.org/zap"
	"go.uber.org/zap/buffer"
	"go.uber.org/zap/zapcore"

	"gopherd/internal/config"
	"gopherd/internal/logcore"
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
	var (
		encoder zapcore.Encoder
		out     = zapcore.Lock(zapcore.AddSync(w))
	)
	if sink != nil {
		// The journal records time and priority itself.
		enc.TimeKey, enc.LevelKey = "", ""
		encoder = journalEncoder{zapcore.NewConsoleEncoder(enc)}
		out = journalWriter{send: sink, fallback: out}
	} else {
		encoder = zapcore.NewConsoleEncoder(enc)
	}
	// Asynchronous and bounded: a stalled reader of w (or journald) costs
	// log lines (counted, and reported later), never a served request.
	core := logcore.NewAsync(encoder, out, level, logcore.Options{})
	// Warnings and errors are rate-limited, so that no flood can fill a
	// disk; the access log (info) is not.
	return zap.New(logcore.RateLimit(core, logcore.DefaultBurst, logcore.DefaultEvery)), level, nil
}

// The journal is written through an encoder and a writer, like any other
// zap output, so that whatever core carries the lines (zapcore's, or one
// that queues them for a background writer and hands it several at once)
// carries journal entries too: journalEncoder turns each entry into a
// frame holding what journald gets, and journalWriter sends each frame of
// what it is given as one entry.

// journalRecord is one entry on its way to journald.
type journalRecord struct {
	Priority int               `json:"p"`
	Message  string            `json:"m"`
	Fields   map[string]string `json:"f"`
}

// journalEncoder encodes entries as frames for journalWriter: a 4-byte
// big-endian length and a journalRecord in JSON. The embedded console
// encoder (without time and level) gives the message and collects the
// fields added by With; each field becomes a journal field too.
type journalEncoder struct {
	zapcore.Encoder
}

// Clone copies the encoder with its fields.
func (e journalEncoder) Clone() zapcore.Encoder { return journalEncoder{e.Encoder.Clone()} }

// EncodeEntry encodes one entry as a frame.
func (e journalEncoder) EncodeEntry(ent zapcore.Entry, fs []zapcore.Field) (*buffer.Buffer, error) {
	line, err := e.Encoder.EncodeEntry(ent, fs)
	if err != nil {
		return nil, err
	}
	msg := strings.TrimSuffix(line.String(), "\n")
	line.Free()
	rec := journalRecord{Priority: journalPriority(ent.Level), Message: msg, Fields: journalFields(ent.Message, msg)}
	data, err := json.Marshal(rec)
	if err != nil {
		return nil, fmt.Errorf("encoding journal entry: %w", err)
	}
	buf := journalBuffers.Get()
	buf.Write(binary.BigEndian.AppendUint32(nil, uint32(len(data))))
	buf.Write(data)
	return buf, nil
}

var journalBuffers = buffer.NewPool()

// journalWriter sends the frames of journalEncoder to journald, one entry
// each. If journald cannot be reached (its socket is gone, or a sandbox
// forbids it) the line goes to fallback, stderr, with a "<N>" prefix,
// which journald's stream transport reads as the priority: nothing is
// lost and the priority survives.
type journalWriter struct {
	send     journalSink
	fallback zapcore.WriteSyncer
}

func (w journalWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		if len(p) < 4 || uint64(len(p)-4) < uint64(binary.BigEndian.Uint32(p)) {
			return n - len(p), errors.New("journal: truncated frame")
		}
		size := binary.BigEndian.Uint32(p)
		var rec journalRecord
		if err := json.Unmarshal(p[4:4+size], &rec); err != nil {
			return n - len(p), fmt.Errorf("journal: bad frame: %w", err)
		}
		p = p[4+size:]
		if err := w.send(rec.Message, rec.Priority, rec.Fields); err != nil {
			if _, werr := fmt.Fprintf(w.fallback, "<%d>%s\n", rec.Priority, rec.Message); werr != nil {
				return n - len(p), fmt.Errorf("journal: %w; stderr: %w", err, werr)
			}
		}
	}
	return n, nil
}

// Sync has nothing to flush: every entry is sent when written.
func (w journalWriter) Sync() error { return nil }

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

// journalFields makes journal fields of the fields in a console line:
// the JSON object after the message. Names are upper case with anything
// but letters, digits and "_" made "_"; values are text (JSON for lists
// and objects).
func journalFields(message, line string) map[string]string {
	out := map[string]string{"SYSLOG_IDENTIFIER": "gopherd"}
	rest := strings.TrimSpace(strings.TrimPrefix(line, message))
	if !strings.HasPrefix(rest, "{") {
		return out
	}
	dec := json.NewDecoder(strings.NewReader(rest))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return out
	}
	for k, v := range m {
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
	case json.Number:
		return v.String()
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
