package logcore

import (
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

// clock is a zapcore.Clock the test moves by hand.
type clock struct{ now time.Time }

func (c *clock) Now() time.Time                         { return c.now }
func (c *clock) NewTicker(d time.Duration) *time.Ticker { return time.NewTicker(d) }

func newLimited(level zapcore.Level, burst int, every time.Duration) (*zap.Logger, *observer.ObservedLogs, *clock) {
	core, logs := observer.New(level)
	clk := &clock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	return zap.New(RateLimit(core, burst, every), zap.WithClock(clk)), logs, clk
}

func TestRateLimitWarnings(t *testing.T) {
	log, logs, clk := newLimited(zapcore.DebugLevel, 10, time.Second)
	for i := range 1000 {
		log.Warn("bad line", zap.Int("n", i))
	}
	if n := logs.Len(); n != 10 {
		t.Fatalf("a flood of 1,000 warnings wrote %d lines, want the burst of 10", n)
	}
	clk.now = clk.now.Add(3 * time.Second)
	for range 5 {
		log.Error("still bad")
	}
	all := logs.TakeAll()[10:]
	if len(all) != 4 || !strings.Contains(all[0].Message, "990 warning and error lines dropped") || all[1].Message != "still bad" {
		t.Fatalf("after 3 s: %v, want the count of the dropped lines, then 3 errors", all)
	}
	// The bucket refills up to its burst, no more.
	clk.now = clk.now.Add(time.Hour)
	for range 100 {
		log.Warn("again")
	}
	if n := logs.FilterMessage("again").Len(); n != 10 {
		t.Errorf("after an hour: %d lines passed, want the burst of 10", n)
	}
}

func TestRateLimitLeavesOtherLevels(t *testing.T) {
	log, logs, _ := newLimited(zapcore.DebugLevel, 1, time.Hour)
	for range 1000 {
		log.Info("request")
		log.Debug("detail")
	}
	log.DPanic("must be seen")
	if n := logs.Len(); n != 2001 {
		t.Errorf("%d lines, want every info, debug and dpanic line", n)
	}
}

func TestRateLimitSharedByWith(t *testing.T) {
	log, logs, _ := newLimited(zapcore.DebugLevel, 3, time.Hour)
	a, b := log.With(zap.String("part", "a")), log.With(zap.String("part", "b"))
	for range 10 {
		a.Warn("x")
		b.Warn("y")
	}
	if n := logs.Len(); n != 3 {
		t.Errorf("%d lines from two derived loggers, want one burst of 3 in all", n)
	}
}

func TestRateLimitDisabledLevelCostsNoToken(t *testing.T) {
	log, logs, _ := newLimited(zapcore.ErrorLevel, 2, time.Hour)
	for range 100 {
		log.Warn("not enabled")
	}
	log.Error("one")
	log.Error("two")
	if n := logs.Len(); n != 2 {
		t.Errorf("%d lines: disabled warnings used up the tokens", n)
	}
}

func TestRateLimitSyncReports(t *testing.T) {
	log, logs, _ := newLimited(zapcore.DebugLevel, 1, time.Hour)
	log.Warn("first")
	log.Warn("dropped")
	log.Warn("dropped")
	if err := log.Sync(); err != nil {
		t.Fatal(err)
	}
	if logs.FilterMessageSnippet("2 warning and error lines dropped").Len() != 1 {
		t.Errorf("Sync did not report the dropped lines: %v", logs.All())
	}
	_ = log.Sync()
	if logs.FilterMessageSnippet("dropped").Len() != 1 {
		t.Error("Sync reported the same lines twice")
	}
}
