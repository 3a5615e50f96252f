package main

import (
	"fmt"
	"io"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"gopherd/internal/config"
	"gopherd/internal/logcore"
)

// newLogger builds the process logger: human-readable lines on w (stderr,
// which journald captures), without timestamps when hide-time is set because
// journald adds its own. The returned level can be changed on reload.
func newLogger(c config.Log, w io.Writer) (*zap.Logger, zap.AtomicLevel, error) {
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
	// Asynchronous and bounded: a stalled reader of w costs log lines
	// (counted, and reported later), never a served request.
	core := logcore.NewAsync(zapcore.NewConsoleEncoder(enc), zapcore.AddSync(w), level, logcore.Options{})
	return zap.New(core), level, nil
}
