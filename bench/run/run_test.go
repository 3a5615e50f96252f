package main

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestExpandArgs(t *testing.T) {
	vars := placeholderVars("/tmp/x y/cfg.json", "/tmp/{odd}/tree", 7070)
	tests := []struct {
		tmpl string
		want []string
		ok   bool
	}{
		{"{config}", []string{"/tmp/x y/cfg.json"}, true},
		{"-r {root} -l {listen} -H {host}", []string{"-r", "/tmp/{odd}/tree", "-l", "127.0.0.1:7070", "-H", "localhost"}, true},
		{"--port={port} --addr={addr}", []string{"--port=7070", "--addr=127.0.0.1"}, true},
		{"{cfg}", nil, false},
		{"", []string{}, true},
	}
	for _, tt := range tests {
		got, err := expandArgs(tt.tmpl, vars)
		if (err == nil) != tt.ok || (tt.ok && !slices.Equal(got, tt.want)) {
			t.Errorf("expandArgs(%q) = %q, %v; want %q, ok=%v", tt.tmpl, got, err, tt.want, tt.ok)
		}
	}
}

func TestCheckMenu(t *testing.T) {
	tests := []struct {
		name, resp string
		min        int
		ok         bool
	}{
		{"good", "iA\t\th\t1\r\n1B\t/b\th\t1\r\n.\r\n", 2, true},
		{"too few lines", "iA\t\th\t1\r\n.\r\n", 2, false},
		{"no terminator", "iA\t\th\t1\r\n", 1, false},
		{"error item", "3not found\tErr\th\t1\r\n.\r\n", 0, false},
		{"empty", "", 0, false},
	}
	for _, tt := range tests {
		if err := checkMenu([]byte(tt.resp), tt.min); (err == nil) != tt.ok {
			t.Errorf("%s: checkMenu error %v, want ok=%v", tt.name, err, tt.ok)
		}
	}
}

func TestParseVmRSS(t *testing.T) {
	status := "Name:\tgopherd\nVmPeak:\t  9999 kB\nVmRSS:\t   26728 kB\nThreads:\t5\n"
	if n, err := parseVmRSS([]byte(status)); err != nil || n != 26728 {
		t.Fatalf("parseVmRSS = %d, %v; want 26728", n, err)
	}
	for _, bad := range []string{"Name:\tx\n", "VmRSS:\t12 MB\n", "VmRSS:\tlots kB\n"} {
		if _, err := parseVmRSS([]byte(bad)); err == nil {
			t.Errorf("parseVmRSS(%q) succeeded, want an error", bad)
		}
	}
}

func TestMedian(t *testing.T) {
	tests := []struct {
		in   []float64
		want float64
	}{
		{nil, 0},
		{[]float64{3}, 3},
		{[]float64{9, 1, 5}, 5},
		{[]float64{4, 1, 3, 2}, 2.5},
	}
	for _, tt := range tests {
		in := slices.Clone(tt.in)
		if got := median(in); got != tt.want {
			t.Errorf("median(%v) = %v, want %v", tt.in, got, tt.want)
		}
		if !slices.Equal(in, tt.in) {
			t.Errorf("median reordered its input %v", tt.in)
		}
	}
}

func TestCaseVerdict(t *testing.T) {
	c := benchCase{minRatio: 0.9}
	if why := caseVerdict(c, 0.9, 1.5, 0); len(why) != 0 {
		t.Errorf("at the targets: %v, want pass", why)
	}
	if why := caseVerdict(c, 0.89, 1.0, 0); len(why) != 1 || !strings.Contains(why[0], "throughput") {
		t.Errorf("slow: %v", why)
	}
	if why := caseVerdict(c, 1.0, 1.51, 0); len(why) != 1 || !strings.Contains(why[0], "p99") {
		t.Errorf("high p99: %v", why)
	}
	if why := caseVerdict(benchCase{}, 0.1, 1.0, 3); len(why) != 1 || !strings.Contains(why[0], "errors") {
		t.Errorf("no throughput target, errors: %v", why)
	}
}

func TestIdleVerdict(t *testing.T) {
	mk := func(perConn float64, p99 float64, opened, dropped int) *idleSample {
		s := &sample{Requests: 100}
		s.Latency.P99 = p99
		s.Idle = &idleInfo{Requested: 100, Opened: opened, Dropped: dropped}
		return &idleSample{lg: s, bytesPerCon: perConn}
	}
	good := []*idleSample{mk(9000, 2, 100, 0), mk(20000, 2, 100, 0), mk(9500, 3, 100, 0)}
	if why := idleVerdict(good, 100); len(why) != 0 {
		t.Errorf("median within targets: %v", why)
	}
	bad := []*idleSample{mk(17000, 60, 99, 1), mk(17000, 60, 100, 0), mk(1000, 1, 100, 0)}
	if why := idleVerdict(bad, 100); len(why) != 4 {
		t.Errorf("want 4 reasons (memory, p99, opened, dropped), got %q", why)
	}
}

func TestSelectCases(t *testing.T) {
	cs, idle, err := selectCases("4k-c64, idle")
	if err != nil || len(cs) != 1 || cs[0].id != "4k-c64" || !idle {
		t.Fatalf("selectCases = %v, %v, %v", cs, idle, err)
	}
	if _, _, err := selectCases("4k"); err == nil {
		t.Error("unknown case accepted")
	}
	cs, idle, err = selectCases("")
	if err != nil || len(cs) != 11 || !idle {
		t.Errorf("default selection = %d cases, idle %v, %v", len(cs), idle, err)
	}
}

func TestParseFlagsRejects(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"-gopherd", "x", "-rounds", "2"},
		{"-gopherd", "x", "-d", "0s"},
		{"-gopherd", "x", "-idle", "0"},
		{"-gopherd", "x", "-gopherd-args", "{nope}"},
		{"-gopherd", "x", "extra"},
	} {
		if _, err := parseFlags(args, &strings.Builder{}); err == nil {
			t.Errorf("parseFlags(%q) succeeded, want an error", args)
		}
	}
}

func TestReportSkipsCaseWithoutItsReference(t *testing.T) {
	c := benchCase{id: "cgi-c8", ref: refGophernicus}
	r := &report{opt: &options{rounds: 3}, cases: []benchCase{c},
		samples: map[string]*[2][]*sample{"cgi-c8": {}}, preflight: map[string]*[2]error{},
		skipped: map[string]string{"cgi-c8": "gophernicus not installed"}}
	var out strings.Builder
	if !r.write(&out) {
		t.Errorf("a skipped case failed the run:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "| cgi-c8 (reference: gophernicus) | – |") || !strings.Contains(out.String(), "SKIPPED: gophernicus not installed") {
		t.Errorf("report:\n%s", out.String())
	}
}

func TestCGICost(t *testing.T) {
	mk := func(p50 float64) *sample { s := &sample{}; s.Latency.P50 = p50; return s }
	r := &report{opt: &options{rounds: 3}, spawn: 1500 * time.Microsecond, samples: map[string]*[2][]*sample{
		"cgi-c1": {{mk(2.0), mk(2.2), mk(2.1)}, {mk(6), mk(6), mk(6)}},
		"4k-c1":  {{mk(0.1), mk(0.1), mk(0.1)}, {mk(5), mk(5), mk(5)}},
	}}
	var out strings.Builder
	r.writeCGICost(&out)
	for _, want := range []string{"1.500 ms (median of 200)", "gopherd, one client, p50: cgi-c1 2.100 ms − 4k-c1 0.100 ms = 2.000 ms",
		"Gophernicus, one client, p50: cgi-c1 6.000 ms − 4k-c1 5.000 ms = 1.000 ms"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("missing %q in:\n%s", want, out.String())
		}
	}
}
