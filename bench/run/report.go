package main

import (
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"time"
)

// report holds every sample and writes the Markdown summary.
type report struct {
	opt       *options
	pinned    bool
	loadAvg   float64 // one-minute load average before the run
	cases     []benchCase
	withIdle  bool
	samples   map[string]*[2][]*sample // case id -> [gopherd, reference]
	preflight map[string]*[2]error
	skipped   map[string]string // case id -> why it was not run
	refNames  map[string]string // benchCase.ref -> the server's name in the table
	spawn     time.Duration     // the CGI script's own cost per run, outside any server
	idle      [2][]*idleSample
	idleErr   [2]error // why a server's idle case was abandoned
}

// median of xs; the mean of the two middle values for an even count.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	m := len(s) / 2
	if len(s)%2 == 1 {
		return s[m]
	}
	return (s[m-1] + s[m]) / 2
}

func medianOf[T any](xs []T, f func(T) float64) float64 {
	v := make([]float64, len(xs))
	for i, x := range xs {
		v[i] = f(x)
	}
	return median(v)
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// caseVerdict applies the targets to one throughput case's medians and
// returns the reasons it fails (none: pass).
func caseVerdict(c benchCase, thrRatio, p99Ratio float64, gErrors uint64) []string {
	var why []string
	if c.minRatio > 0 && thrRatio < c.minRatio {
		why = append(why, fmt.Sprintf("throughput %.2f < %.2f", thrRatio, c.minRatio))
	}
	if p99Ratio > maxP99Ratio {
		why = append(why, fmt.Sprintf("p99 %.2f× > %.1f×", p99Ratio, maxP99Ratio))
	}
	if gErrors > 0 {
		why = append(why, fmt.Sprintf("%d errors", gErrors))
	}
	return why
}

func sumErrors(ss []*sample) (uint64, map[string]uint64) {
	var n uint64
	kinds := map[string]uint64{}
	for _, s := range ss {
		n += s.ErrorCount
		for k, v := range s.Errors {
			kinds[k] += v
		}
	}
	return n, kinds
}

func kindsString(m map[string]uint64) string {
	var parts []string
	for k, v := range m {
		parts = append(parts, fmt.Sprintf("%s=%d", k, v))
	}
	slices.Sort(parts)
	return strings.Join(parts, " ")
}

func verdictString(why []string) string {
	if len(why) == 0 {
		return "PASS"
	}
	return "FAIL: " + strings.Join(why, "; ")
}

// write prints the tables and reports whether every target was met.
func (r *report) write(w io.Writer) bool {
	allPass := true
	pin := "not pinned (taskset unavailable, -pin=false or one CPU)"
	if r.pinned {
		pin = "servers on CPU 1, loadgen on CPU 0"
	}
	fmt.Fprintf(w, "## gopherd vs reference server\n\n")
	fmt.Fprintf(w, "%s, %s/%s, %d CPUs, load average %.2f at start, %s; %d rounds × %v per case and server; medians over rounds.\n\n",
		time.Now().UTC().Format(time.DateTime+" UTC"), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), r.loadAvg, pin, r.opt.rounds, r.opt.dur)

	if len(r.cases) > 0 {
		fmt.Fprintln(w, "| case | gopherd | reference | ratio | target | p99 gopherd ms | p99 reference ms | p99 ratio | errors g / r | result |")
		fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
	}
	for _, c := range r.cases {
		label := c.id
		if c.ref != "" {
			label += " (reference: " + c.ref + ")"
		}
		if why, skip := r.skipped[c.id]; skip {
			fmt.Fprintf(w, "| %s | – | – | – | – | – | – | – | – | SKIPPED: %s |\n", label, mdEscape(why))
			continue
		}
		pf := r.preflight[c.id]
		if pf[0] != nil || pf[1] != nil {
			why := []string{}
			for i, name := range []string{"gopherd", "reference"} {
				if pf[i] != nil {
					why = append(why, fmt.Sprintf("%s preflight: %s", name, mdEscape(pf[i].Error())))
				}
			}
			fmt.Fprintf(w, "| %s | – | – | – | – | – | – | – | – | FAIL: %s |\n", label, strings.Join(why, "; "))
			allPass = false
			continue
		}
		ss := r.samples[c.id]
		unit, thr := "req/s", func(s *sample) float64 { return s.ReqPerS }
		format := "%.0f"
		if c.mbps {
			unit, thr, format = "MB/s", func(s *sample) float64 { return s.MBPerS }, "%.1f"
		}
		p99 := func(s *sample) float64 { return s.Latency.P99 }
		g, ref := medianOf(ss[0], thr), medianOf(ss[1], thr)
		gp, rp := medianOf(ss[0], p99), medianOf(ss[1], p99)
		ge, gk := sumErrors(ss[0])
		re, rk := sumErrors(ss[1])
		target := "–"
		if c.minRatio > 0 {
			target = fmt.Sprintf("≥ %.2f", c.minRatio)
		}
		why := caseVerdict(c, ratio(g, ref), ratio(gp, rp), ge)
		if len(why) > 0 {
			allPass = false
		}
		res := verdictString(why)
		if re > 0 {
			res += fmt.Sprintf(" (reference errors: %s)", kindsString(rk))
		}
		if ge > 0 {
			res += fmt.Sprintf(" (gopherd errors: %s)", kindsString(gk))
		}
		fmt.Fprintf(w, "| %s | "+format+" %s | "+format+" %s | %.2f | %s | %.3f | %.3f | %.2f | %d / %d | %s |\n",
			label, g, unit, ref, unit, ratio(g, ref), target, gp, rp, ratio(gp, rp), ge, re, res)
	}
	if len(r.cases) > 0 {
		fmt.Fprintf(w, "\nratio = gopherd / reference. Targets: throughput ratio as shown; p99 ratio ≤ %.1f for every case; no errors.\n", maxP99Ratio)
		fmt.Fprintf(w, "The reference is the in-tree server unless the case names another; Gophernicus runs under systemd-socket-activate --inetd, a process per connection.\n")
	}
	r.writeCGICost(w)

	if r.withIdle {
		fmt.Fprintf(w, "\n### idle connections (%d held, from %d source addresses, fresh server each round)\n\n", r.opt.idle, max(1, r.opt.idleSpread))
		fmt.Fprintln(w, "| server | RSS before KiB | RSS held KiB | bytes / connection | opened (min) | dropped (max) | p99 request ms | max request ms | errors |")
		fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|")
		for i, name := range []string{"gopherd", "reference"} {
			is := r.idle[i]
			if r.idleErr[i] != nil {
				fmt.Fprintf(w, "| %s | – | – | – | – | – | – | – | FAIL: %s |\n", name, mdEscape(r.idleErr[i].Error()))
				continue
			}
			fmt.Fprintf(w, "| %s | %.0f | %.0f | %.0f | %d | %d | %.3f | %.3f | %d |\n", name,
				medianOf(is, func(s *idleSample) float64 { return float64(s.rssBefore) }),
				medianOf(is, func(s *idleSample) float64 { return float64(s.rssHeld) }),
				medianOf(is, func(s *idleSample) float64 { return s.bytesPerCon }),
				minOpened(is), maxDropped(is),
				medianOf(is, func(s *idleSample) float64 { return s.lg.Latency.P99 }),
				medianOf(is, func(s *idleSample) float64 { return s.lg.Latency.Max }),
				idleErrors(is))
		}
		why := idleVerdict(r.idle[0], r.opt.idle)
		if r.idleErr[0] != nil {
			why = []string{mdEscape(r.idleErr[0].Error())}
		}
		if len(why) > 0 {
			allPass = false
		}
		fmt.Fprintf(w, "\nidle target (gopherd): < %d B per connection, p99 of requests made meanwhile ≤ %.0f ms, every connection opened and kept, no errors: %s\n",
			maxIdleBytesPerConn, maxIdleP99ms, verdictString(why))
	}
	overall := "PASS"
	if !allPass {
		overall = "FAIL"
	}
	fmt.Fprintf(w, "\n**overall: %s**\n", overall)
	return allPass
}

func minOpened(is []*idleSample) int {
	m := -1
	for _, s := range is {
		if m < 0 || s.lg.Idle.Opened < m {
			m = s.lg.Idle.Opened
		}
	}
	return max(m, 0)
}

func maxDropped(is []*idleSample) int {
	m := 0
	for _, s := range is {
		m = max(m, s.lg.Idle.Dropped)
	}
	return m
}

func idleErrors(is []*idleSample) uint64 {
	var n uint64
	for _, s := range is {
		n += s.lg.ErrorCount
		for _, v := range s.lg.Idle.Errors {
			n += v
		}
	}
	return n
}

// idleVerdict applies the idle targets to gopherd's samples.
func idleVerdict(is []*idleSample, want int) []string {
	var why []string
	if len(is) == 0 {
		return []string{"no samples"}
	}
	if b := medianOf(is, func(s *idleSample) float64 { return s.bytesPerCon }); b >= maxIdleBytesPerConn {
		why = append(why, fmt.Sprintf("%.0f B per connection ≥ %d", b, maxIdleBytesPerConn))
	}
	if p := medianOf(is, func(s *idleSample) float64 { return s.lg.Latency.P99 }); p > maxIdleP99ms {
		why = append(why, fmt.Sprintf("p99 %.1f ms > %.0f ms", p, maxIdleP99ms))
	}
	if o := minOpened(is); o < want {
		why = append(why, fmt.Sprintf("only %d of %d connections opened", o, want))
	}
	if d := maxDropped(is); d > 0 {
		why = append(why, fmt.Sprintf("%d idle connections dropped", d))
	}
	if n := idleErrors(is); n > 0 {
		why = append(why, fmt.Sprintf("%d errors", n))
	}
	for _, s := range is {
		if s.lg.Requests == 0 {
			why = append(why, "no request answered while the connections were held")
			break
		}
	}
	return why
}

// mdEscape keeps an error message from breaking the table.
func mdEscape(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s)
}

// writeCGICost says what one CGI run costs: the script alone (fork, exec,
// the shell, reaping), and, for each server, what running it adds to a
// request over the server's cheapest answer (cgi-c1 against 4k-c1, a
// small file, medians of p50, one client).
func (r *report) writeCGICost(w io.Writer) {
	p50 := func(id string, i int) (float64, bool) {
		ss, ok := r.samples[id]
		if !ok || len(ss[i]) == 0 {
			return 0, false
		}
		return medianOf(ss[i], func(s *sample) float64 { return s.Latency.P50 }), true
	}
	if r.spawn == 0 {
		if _, ok := p50("cgi-c1", 0); !ok {
			return
		}
	}
	fmt.Fprintf(w, "\n### cost per CGI run\n\n")
	if r.spawn > 0 {
		fmt.Fprintf(w, "- the script alone, started by the driver (fork, exec, /bin/sh, one line, reaped): %.3f ms (median of %d)\n",
			float64(r.spawn)/1e6, spawnRuns)
	}
	for i, name := range []string{"gopherd", "Gophernicus"} {
		cgi, okCGI := p50("cgi-c1", i)
		file, okFile := p50("4k-c1", i)
		if okCGI && okFile {
			fmt.Fprintf(w, "- %s, one client, p50: cgi-c1 %.3f ms − 4k-c1 %.3f ms = %.3f ms for running the script\n",
				name, cgi, file, cgi-file)
		}
	}
}
