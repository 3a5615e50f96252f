// Command run is the driver behind `make bench`: it builds a bench tree,
// starts gopherd and the reference server (bench/refserver) on loopback
// ports, drives both with bench/loadgen in interleaved rounds and prints a
// Markdown table of medians with pass/fail against the performance targets.
//
// Everything stays on 127.0.0.1 and every step is bounded in time. The exit
// status is 0 when every target is met, 1 when one is missed and 2 when the
// benchmark could not be run.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"gopherd/bench/internal/rlimit"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// defaultGopherdArgs starts gopherd with a config file, the only way to raise
// its connection limits.
const defaultGopherdArgs = "{config}"

// options are the parsed command-line flags.
type options struct {
	gopherd     string
	gopherdArgs string
	ref         string
	loadgen     string
	rounds      int
	dur         time.Duration
	timeout     time.Duration
	idle        int
	idleSpread  int
	cases       string
	pin         bool
	keep        bool
}

func parseFlags(args []string, stderr io.Writer) (*options, error) {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := &options{}
	fs.StringVar(&o.gopherd, "gopherd", "", "gopherd binary to measure (required)")
	fs.StringVar(&o.gopherdArgs, "gopherd-args", defaultGopherdArgs, "gopherd's arguments; placeholders: "+knownPlaceholders)
	fs.StringVar(&o.ref, "ref", "", "reference server binary (default: go build gopherd/bench/refserver)")
	fs.StringVar(&o.loadgen, "loadgen", "", "load generator binary (default: go build gopherd/bench/loadgen)")
	fs.IntVar(&o.rounds, "rounds", 3, "rounds; each runs every case on gopherd, then on the reference (at least 3)")
	fs.DurationVar(&o.dur, "d", 3*time.Second, "measuring time per case, server and round")
	fs.DurationVar(&o.timeout, "timeout", 10*time.Second, "deadline for one request")
	fs.IntVar(&o.idle, "idle", 10000, "idle connections held in the idle case")
	fs.IntVar(&o.idleSpread, "idle-spread", 100, "source addresses in 127.0.0.0/8 the idle connections come from (0: one)")
	fs.StringVar(&o.cases, "cases", "", "comma-separated case ids to run (default all: "+strings.Join(caseIDs(), ",")+")")
	fs.BoolVar(&o.pin, "pin", true, "pin servers to CPU 1 and the load generator to CPU 0 with taskset, if available")
	fs.BoolVar(&o.keep, "keep", false, "keep the temporary directory (tree, configs, server logs)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	switch {
	case fs.NArg() > 0:
		return nil, fmt.Errorf("unexpected arguments: %q", fs.Args())
	case o.gopherd == "":
		return nil, errors.New("-gopherd is required")
	case o.rounds < 3:
		return nil, fmt.Errorf("-rounds must be at least 3 for a meaningful median, got %d", o.rounds)
	case o.dur <= 0 || o.dur > 10*time.Minute:
		return nil, fmt.Errorf("-d must be in (0, 10m], got %v", o.dur)
	case o.timeout <= 0 || o.timeout > 10*time.Minute:
		return nil, fmt.Errorf("-timeout must be in (0, 10m], got %v", o.timeout)
	case o.idle < 1:
		return nil, fmt.Errorf("-idle must be at least 1, got %d", o.idle)
	case o.idleSpread < 0:
		return nil, fmt.Errorf("-idle-spread must not be negative, got %d", o.idleSpread)
	}
	if _, err := expandArgs(o.gopherdArgs, placeholderVars("c", "r", 1)); err != nil {
		return nil, fmt.Errorf("-gopherd-args: %w", err)
	}
	return o, nil
}

// benchCase is one measured workload.
type benchCase struct {
	id       string
	selector string
	conc     int
	file     string  // tree file whose bytes the response must equal; "" for menus
	size     int64   // expected response size; -1 for menus
	minItems int     // menus: the least number of lines before the terminator
	body     string  // exact response expected, when not a file
	mbps     bool    // throughput in MB/s rather than req/s
	minRatio float64 // throughput target gopherd/reference; 0: none
	ref      string  // the reference server: "" the in-tree one, refGophernicus or refGopherdPlain
	proxy    string  // "v1" or "v2": gopherd is asked through a PROXY listener, the header sent by loadgen
}

// refGophernicus names Gophernicus as a case's reference: the CGI cases
// compare gopherd's gateway with the most deployed server that runs
// scripts, running the same script, as it is deployed (inetd-style, a
// process per connection, under systemd-socket-activate --inetd).
const refGophernicus = "gophernicus"

// refGopherdPlain names gopherd itself, on a listener without the PROXY
// protocol, as a case's reference: the PROXY cases measure what reading
// the header costs, by the same server with the same settings.
const refGopherdPlain = "gopherd without PROXY"

// maxP99Ratio is the latency target for every throughput case.
const maxP99Ratio = 1.5

// Idle-case targets.
const (
	maxIdleBytesPerConn = 16 << 10
	maxIdleP99ms        = 50.0
	idleCaseID          = "idle"
)

func throughputCases() []benchCase {
	return []benchCase{
		{id: "menu-c1", selector: "", conc: 1, size: -1, minItems: 20},
		{id: "menu-c64", selector: "", conc: 64, size: -1, minItems: 20, minRatio: 0.9},
		{id: "dir200-c64", selector: "/dir200", conc: 64, size: -1, minItems: dirFiles, minRatio: 0.9},
		{id: "4k-c64", selector: "/4k.bin", conc: 64, file: "4k.bin", size: size4K, minRatio: 0.9},
		{id: "1m-c16", selector: "/1m.bin", conc: 16, file: "1m.bin", size: size1M, mbps: true, minRatio: 0.95},
		{id: "100m-c2", selector: "/100m.bin", conc: 2, file: "100m.bin", size: size100M, mbps: true, minRatio: 0.95},
		// The floor of a request to each server, for the cost per CGI run:
		// a small file needs no conversion by either (Gophernicus
		// rewrites text files).
		{id: "4k-c1", selector: "/4k.bin", conc: 1, file: "4k.bin", size: size4K, ref: refGophernicus},
		{id: "cgi-c1", selector: cgiSelector, conc: 1, body: cgiOutput, size: int64(len(cgiOutput)), ref: refGophernicus},
		{id: "cgi-c8", selector: cgiSelector, conc: 8, body: cgiOutput, size: int64(len(cgiOutput)), ref: refGophernicus, minRatio: 1.0},
		// Through a PROXY listener: the header must not cost sendfile or
		// more than a little per connection.
		{id: "4k-proxy-c64", selector: "/4k.bin", conc: 64, file: "4k.bin", size: size4K, ref: refGopherdPlain, proxy: "v2", minRatio: 0.9},
		{id: "100m-proxy-c2", selector: "/100m.bin", conc: 2, file: "100m.bin", size: size100M, mbps: true, ref: refGopherdPlain, proxy: "v1", minRatio: 0.95},
	}
}

func caseIDs() []string {
	var ids []string
	for _, c := range throughputCases() {
		ids = append(ids, c.id)
	}
	return append(ids, idleCaseID)
}

// selectCases applies -cases.
func selectCases(list string) ([]benchCase, bool, error) {
	all := throughputCases()
	if list == "" {
		return all, true, nil
	}
	want := map[string]bool{}
	for _, id := range strings.Split(list, ",") {
		id = strings.TrimSpace(id)
		if id == "" {
			continue
		}
		known := id == idleCaseID
		for _, c := range all {
			known = known || c.id == id
		}
		if !known {
			return nil, false, fmt.Errorf("-cases: unknown case %q (known: %s)", id, strings.Join(caseIDs(), ","))
		}
		want[id] = true
	}
	var out []benchCase
	for _, c := range all {
		if want[c.id] {
			out = append(out, c)
		}
	}
	return out, want[idleCaseID], nil
}

// serverKind knows how to launch one of the two servers.
type serverKind struct {
	name string
	argv func(port int) ([]string, error)
}

// bench holds the state of one benchmark run.
type bench struct {
	opt     *options
	dir     string // temporary directory
	tree    string
	loadgen string
	taskset string
	servers [2]serverKind // gopherd first, then the reference
	// gophernicus is the reference of the CGI cases; nil when it cannot
	// run here, gnxMissing says why.
	gophernicus *serverKind
	gnxMissing  string
	// gopherdProxy is gopherd with a listener that takes PROXY headers
	// from 127.0.0.1, for the PROXY cases.
	gopherdProxy serverKind
	stderr       io.Writer
	nextLog      int
	maxConns     int
}

// sample is one loadgen run as the driver needs it.
type sample struct {
	ReqPerS    float64           `json:"req_per_s"`
	MBPerS     float64           `json:"mb_per_s"`
	Requests   uint64            `json:"requests"`
	ErrorCount uint64            `json:"errors"`
	Errors     map[string]uint64 `json:"errors_by_kind"`
	Latency    struct {
		P50 float64 `json:"p50"`
		P99 float64 `json:"p99"`
		Max float64 `json:"max"`
	} `json:"latency_ms"`
	Idle *idleInfo `json:"idle"`
}

// idleInfo is loadgen's account of the idle connections.
type idleInfo struct {
	Requested int               `json:"requested"`
	Opened    int               `json:"opened"`
	Dropped   int               `json:"dropped"`
	Errors    map[string]uint64 `json:"errors_by_kind"`
}

// idleSample is one idle-case measurement.
type idleSample struct {
	lg          *sample
	rssBefore   int64 // KiB
	rssHeld     int64 // KiB, the highest seen while the connections were held
	bytesPerCon float64
}

func run(args []string, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "run: %v\n", err)
		return 2
	}
	cases, withIdle, err := selectCases(o.cases)
	if err != nil {
		fmt.Fprintf(stderr, "run: %v\n", err)
		return 2
	}
	// An interrupt cancels the run; the deferred stops and cleanup then shut
	// the servers down and remove the 100 MiB tree.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	b, cleanup, err := setup(ctx, o, stderr)
	if cleanup != nil {
		defer cleanup()
	}
	if err != nil {
		fmt.Fprintf(stderr, "run: %v\n", err)
		return 2
	}
	rep, err := b.measureAll(ctx, cases, withIdle)
	if ctx.Err() != nil {
		fmt.Fprintln(stderr, "run: interrupted")
		return 130
	}
	if err != nil {
		fmt.Fprintf(stderr, "run: %v\n", err)
		return 2
	}
	if !rep.write(stdout) {
		return 1
	}
	return 0
}

// setup raises the descriptor limit, builds missing tools and writes the
// tree. The returned cleanup removes the temporary directory.
func setup(ctx context.Context, o *options, stderr io.Writer) (*bench, func(), error) {
	// Children inherit the raised limit, so both servers and the load
	// generator can hold -idle connections.
	if err := rlimit.RaiseNoFile(uint64(o.idle) + 512); err != nil {
		return nil, nil, err
	}
	dir, err := os.MkdirTemp("", "gopherd-bench-")
	if err != nil {
		return nil, nil, fmt.Errorf("creating temporary directory: %w", err)
	}
	cleanup := func() {
		if o.keep {
			fmt.Fprintf(stderr, "run: kept %s\n", dir)
			return
		}
		os.RemoveAll(dir)
	}
	b := &bench{opt: o, dir: dir, tree: filepath.Join(dir, "tree"), stderr: stderr, maxConns: max(20000, o.idle+1000)}

	gopherd, err := filepath.Abs(o.gopherd)
	if err != nil {
		return b, cleanup, fmt.Errorf("-gopherd: %w", err)
	}
	if _, err := os.Stat(gopherd); err != nil {
		return b, cleanup, fmt.Errorf("-gopherd: %w", err)
	}
	ref, err := b.tool(ctx, o.ref, "refserver")
	if err != nil {
		return b, cleanup, err
	}
	if b.loadgen, err = b.tool(ctx, o.loadgen, "loadgen"); err != nil {
		return b, cleanup, err
	}
	if o.pin && runtime.NumCPU() >= 2 {
		if p, err := exec.LookPath("taskset"); err == nil {
			b.taskset = p
		}
	}

	b.logf("writing bench tree to %s", b.tree)
	if err := os.Mkdir(b.tree, 0o755); err != nil {
		return b, cleanup, fmt.Errorf("creating tree: %w", err)
	}
	if err := makeTree(b.tree); err != nil {
		return b, cleanup, err
	}

	b.servers[0] = serverKind{name: "gopherd", argv: func(port int) ([]string, error) {
		return gopherdArgv(dir, b.tree, gopherd, o.gopherdArgs, port, b.maxConns, false)
	}}
	b.gopherdProxy = serverKind{name: "gopherd-proxy", argv: func(port int) ([]string, error) {
		return gopherdArgv(dir, b.tree, gopherd, o.gopherdArgs, port, b.maxConns, true)
	}}
	b.servers[1] = serverKind{name: "reference", argv: func(port int) ([]string, error) {
		return []string{ref, "-listen", fmt.Sprintf("127.0.0.1:%d", port), "-root", b.tree,
			"-host", "localhost", "-port", strconv.Itoa(port), "-request-timeout", "60s"}, nil
	}}
	b.gophernicus, b.gnxMissing = gophernicusKind(b.tree)
	return b, cleanup, nil
}

// gophernicusKind launches Gophernicus as it is deployed: one process per
// connection, started by a socket activator in inetd mode (as its shipped
// gophernicus.socket with Accept=yes does), serving the bench tree. Its
// options match the bench's gopherd: no logging, no virtual hosts, no
// PROXY header look-up, no shared-memory sessions (which also turn off
// its per-client throttling, as gopherd's limits are raised).
func gophernicusKind(tree string) (*serverKind, string) {
	gnx, err := exec.LookPath("gophernicus")
	if err != nil {
		if _, serr := os.Stat("/usr/sbin/gophernicus"); serr != nil {
			return nil, "gophernicus not installed (apt-get install gophernicus)"
		}
		gnx = "/usr/sbin/gophernicus"
	}
	activate, err := exec.LookPath("systemd-socket-activate")
	if err != nil {
		return nil, "systemd-socket-activate not found (apt-get install systemd)"
	}
	return &serverKind{name: refGophernicus, argv: func(port int) ([]string, error) {
		// env lowers the activator's log level: it would write three
		// lines per connection to the log file.
		argv := []string{"env", "SYSTEMD_LOG_LEVEL=warning", activate, "--inetd", "--accept",
			"--listen", fmt.Sprintf("127.0.0.1:%d", port), gnx,
			"-r", tree, "-h", "localhost", "-p", strconv.Itoa(port), "-ns", "-nv", "-np", "-nm"}
		if os.Geteuid() == 0 {
			// It refuses to run as root without this; gopherd runs as
			// the same user in the bench.
			argv = append(argv, "-nr")
		}
		return argv, nil
	}}, ""
}

func placeholderVars(config, root string, port int) map[string]string {
	return map[string]string{
		"config": config,
		"root":   root,
		"listen": fmt.Sprintf("127.0.0.1:%d", port),
		"addr":   "127.0.0.1",
		"port":   strconv.Itoa(port),
		"host":   "localhost",
	}
}

// gopherdArgv writes gopherd's config for port and returns its command
// line.
func gopherdArgv(dir, tree, gopherd, tmpl string, port, maxConns int, proxy bool) ([]string, error) {
	cfg := filepath.Join(dir, fmt.Sprintf("gopherd-%d.json", port))
	if err := writeConfig(cfg, tree, port, maxConns, proxy); err != nil {
		return nil, err
	}
	args, err := expandArgs(tmpl, placeholderVars(cfg, tree, port))
	if err != nil {
		return nil, err
	}
	return append([]string{gopherd}, args...), nil
}

// writeConfig writes gopherd's JSON config. The timeouts are raised so idle
// connections outlive a long -d; the connection limits so -idle fits. With
// proxy, the listener takes PROXY headers from 127.0.0.1.
func writeConfig(path, root string, port, maxConns int, proxy bool) error {
	listen := map[string]any{"addr": "127.0.0.1", "port": port}
	if proxy {
		listen["proxy-protocol"] = map[string]any{"trusted": []string{"127.0.0.1/32"}}
	}
	cfg := map[string]any{
		"hostname": "localhost",
		"root":     root,
		"listen":   listen,
		"log":      map[string]any{"enable": false},
		"limits": map[string]any{
			"max-connections":        maxConns,
			"max-connections-per-ip": maxConns,
			// 64 workers from 127.0.0.1 plus connections still closing
			// exceed the default 64 per /24.
			"max-connections-per-prefix": maxConns,
			"request-timeout":            "60s",
			"idle-timeout":               "60s",
		},
		// The CGI cases: the gateway with its caps out of the way, as
		// Gophernicus has none.
		"cgi": map[string]any{
			"dirs":                  []any{map[string]any{"selector": "/cgi-bin/", "output": "raw"}},
			"max-concurrent":        maxConns,
			"max-concurrent-per-ip": maxConns,
		},
	}
	b, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding gopherd config: %w", err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("writing gopherd config: %w", err)
	}
	return nil
}

// tool returns the given binary, or builds the bench tool of that name.
func (b *bench) tool(ctx context.Context, given, name string) (string, error) {
	if given != "" {
		p, err := filepath.Abs(given)
		if err != nil {
			return "", fmt.Errorf("%s binary: %w", name, err)
		}
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("%s binary: %w", name, err)
		}
		return p, nil
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("no %s binary given and no go tool to build one: %w", name, err)
	}
	out := filepath.Join(b.dir, name)
	b.logf("building gopherd/bench/%s", name)
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, goTool, "build", "-o", out, "gopherd/bench/"+name)
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building %s (run from the module root): %w\n%s", name, err, msg)
	}
	return out, nil
}

func (b *bench) logf(format string, args ...any) {
	fmt.Fprintf(b.stderr, "run: "+format+"\n", args...)
}

// start launches server kind k on a fresh port, pinned to CPU 1.
func (b *bench) start(k serverKind) (*serverProc, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	argv, err := k.argv(port)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", k.name, err)
	}
	b.nextLog++
	logPath := filepath.Join(b.dir, fmt.Sprintf("%s-%d.log", k.name, b.nextLog))
	cpu := -1
	if b.taskset != "" {
		cpu = 1
	}
	return startServer(k.name, fmt.Sprintf("127.0.0.1:%d", port), logPath, pinned(b.taskset, cpu, argv))
}

// idleOpenTimeout bounds the opening of the idle connections. Unloaded, 10 000
// take well under a second; a starved server accepts slowly, and the SYNs
// that overflow its backlog are retried only after 1, 3, 7... seconds.
const idleOpenTimeout = time.Minute

// runLoadgen runs the load generator pinned to CPU 0. onReady, if not nil,
// is called with the number of idle connections once they are open.
func (b *bench) runLoadgen(ctx context.Context, args []string, onReady func(opened int)) (*sample, error) {
	cpu := -1
	if b.taskset != "" {
		cpu = 0
	}
	argv := pinned(b.taskset, cpu, append([]string{b.loadgen, "-json", "-timeout", b.opt.timeout.String()}, args...))
	// Bounded: the idle phase, -d, one request's deadline, the drop check, slack.
	ctx, cancel := context.WithTimeout(ctx, idleOpenTimeout+b.opt.dur+b.opt.timeout+time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	dieWithParent(cmd)
	var out bytes.Buffer
	cmd.Stdout = &out
	errPipe, err := cmd.StderrPipe()
	if err != nil {
		return nil, fmt.Errorf("loadgen: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting loadgen: %w", err)
	}
	var msgs []string
	sc := bufio.NewScanner(errPipe)
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, "READY idle="); ok && onReady != nil {
			n, _ := strconv.Atoi(rest)
			onReady(n)
			onReady = nil
			continue
		}
		msgs = append(msgs, line)
	}
	if err := cmd.Wait(); err != nil {
		return nil, fmt.Errorf("loadgen %q: %w: %s", args, err, strings.Join(msgs, "; "))
	}
	var s sample
	if err := json.Unmarshal(out.Bytes(), &s); err != nil {
		return nil, fmt.Errorf("loadgen output: %w", err)
	}
	return &s, nil
}

// preflight checks one response by hand before measuring, so a server that
// answers fast with the wrong thing (an error item, a short listing) is
// reported instead of winning.
func (b *bench) preflight(addr string, c benchCase, first bool) error {
	prefix := ""
	if first && c.proxy != "" {
		// What loadgen sends: the connection's own addresses.
		prefix = "PROXY TCP4 127.0.0.1 127.0.0.1 4711 70\r\n"
	}
	resp, err := fetch(addr, prefix+c.selector, 60*time.Second)
	if err != nil {
		return err
	}
	if c.body != "" {
		if string(resp) != c.body {
			return fmt.Errorf("selector %q: got %q, want %q", c.selector, trimForError(resp), c.body)
		}
		return nil
	}
	if c.file != "" {
		want, err := os.ReadFile(filepath.Join(b.tree, c.file))
		if err != nil {
			return fmt.Errorf("reading %s: %w", c.file, err)
		}
		if !bytes.Equal(resp, want) {
			return fmt.Errorf("selector %q: got %d bytes that differ from %s (%d bytes)", c.selector, len(resp), c.file, len(want))
		}
		return nil
	}
	return checkMenu(resp, c.minItems)
}

// checkMenu accepts a menu that ends with ".\r\n", does not start with an
// error item and has at least minItems lines before the terminator.
func checkMenu(resp []byte, minItems int) error {
	if len(resp) > 0 && resp[0] == '3' {
		line, _, _ := bytes.Cut(resp, []byte("\r\n"))
		return fmt.Errorf("error item %q", line)
	}
	body, ok := bytes.CutSuffix(resp, []byte(".\r\n"))
	if !ok {
		return fmt.Errorf("menu of %d bytes does not end with .CRLF", len(resp))
	}
	if n := bytes.Count(body, []byte("\r\n")); n < minItems {
		return fmt.Errorf("menu has %d lines, want at least %d", n, minItems)
	}
	return nil
}

func loadgenArgs(addr string, c benchCase, d time.Duration) []string {
	args := []string{"-addr", addr, "-selector", c.selector, "-c", strconv.Itoa(c.conc), "-d", d.String()}
	if c.size >= 0 {
		return append(args, "-expect-bytes", strconv.FormatInt(c.size, 10))
	}
	return append(args, "-expect-terminator")
}

// measureAll runs every round and gathers the samples.
func (b *bench) measureAll(ctx context.Context, cases []benchCase, withIdle bool) (*report, error) {
	rep := &report{opt: b.opt, pinned: b.taskset != "", cases: cases, withIdle: withIdle,
		samples: map[string]*[2][]*sample{}, preflight: map[string]*[2]error{},
		skipped: map[string]string{}, refNames: map[string]string{},
		idle: [2][]*idleSample{}}
	if la, err := loadAverage(); err == nil {
		rep.loadAvg = la
		if la > 1 {
			b.logf("warning: load average %.2f before starting; other work on this machine will distort the results", la)
		}
	}

	var procs [2]*serverProc
	var gnx *serverProc // started when a case needs it
	var gp *serverProc  // gopherd behind PROXY, likewise
	defer func() {
		for _, p := range append(procs[:], gnx, gp) {
			if p != nil {
				p.stop()
			}
		}
	}()
	// pair returns the two servers case c compares.
	pair := func(c benchCase) [2]*serverProc {
		switch c.ref {
		case refGophernicus:
			return [2]*serverProc{procs[0], gnx}
		case refGopherdPlain:
			return [2]*serverProc{gp, procs[0]}
		}
		return procs
	}
	if len(cases) > 0 {
		for i, k := range b.servers {
			p, err := b.start(k)
			if err != nil {
				return nil, err
			}
			procs[i] = p
		}
		for _, c := range cases {
			if c.ref != refGophernicus || gnx != nil || b.gophernicus == nil {
				continue
			}
			p, err := b.start(*b.gophernicus)
			if err != nil {
				return nil, err
			}
			gnx = p
		}
		for _, c := range cases {
			if c.ref != refGopherdPlain || gp != nil {
				continue
			}
			p, err := b.start(b.gopherdProxy)
			if err != nil {
				return nil, err
			}
			gp = p
			rep.refNames[refGopherdPlain] = procs[0].name
		}
		for _, c := range cases {
			rep.samples[c.id] = &[2][]*sample{}
			if c.ref == refGophernicus && gnx == nil {
				rep.skipped[c.id] = b.gnxMissing
				b.logf("%s: skipped: %s", c.id, b.gnxMissing)
				continue
			}
			pf := &[2]error{}
			for i, p := range pair(c) {
				pf[i] = b.preflight(p.addr, c, i == 0)
				if pf[i] != nil {
					b.logf("%s %s: preflight failed: %v", c.id, p.name, pf[i])
				}
			}
			rep.preflight[c.id] = pf
		}
		if gnx != nil {
			rep.refNames[refGophernicus] = gnx.name
		}
	}
	if spawn, err := spawnCost(filepath.Join(b.tree, "cgi-bin", "hello"), spawnRuns); err == nil {
		rep.spawn = spawn
	} else {
		b.logf("measuring the script's own start-up: %v", err)
	}

	for round := 1; round <= b.opt.rounds; round++ {
		for _, c := range cases {
			pf := rep.preflight[c.id]
			if pf == nil || pf[0] != nil || pf[1] != nil {
				continue
			}
			for i, p := range pair(c) {
				args := loadgenArgs(p.addr, c, b.opt.dur)
				if i == 0 && c.proxy != "" {
					args = append(args, "-proxy", c.proxy)
				}
				s, err := b.runLoadgen(ctx, args, nil)
				if err != nil {
					return nil, err
				}
				if !p.alive() {
					return nil, fmt.Errorf("%s died during %s: %v; log:\n%s", p.name, c.id, p.waitErr, p.logTail())
				}
				rep.samples[c.id][i] = append(rep.samples[c.id][i], s)
				b.logf("round %d/%d %-10s %-11s %s", round, b.opt.rounds, c.id, p.name, summary(c, s))
			}
		}
		if withIdle {
			for i, k := range b.servers {
				if rep.idleErr[i] != nil {
					continue
				}
				is, err := b.idleRun(ctx, k)
				if ctx.Err() != nil {
					return nil, ctx.Err()
				}
				if err != nil {
					// One server failing the idle case (wrong answer, crash
					// under many connections) is a result, not a reason to
					// throw away everything else measured.
					b.logf("%s %s: %v", idleCaseID, k.name, err)
					rep.idleErr[i] = err
					continue
				}
				rep.idle[i] = append(rep.idle[i], is)
				b.logf("round %d/%d %-10s %-9s %.0f B/conn (RSS %d -> %d KiB), %d/%d open, %d dropped, p99 %.3f ms, %d errors",
					round, b.opt.rounds, idleCaseID, k.name, is.bytesPerCon, is.rssBefore, is.rssHeld,
					is.lg.Idle.Opened, is.lg.Idle.Requested, is.lg.Idle.Dropped, is.lg.Latency.P99, is.lg.ErrorCount)
			}
		}
	}
	return rep, nil
}

func summary(c benchCase, s *sample) string {
	t := fmt.Sprintf("%.0f req/s", s.ReqPerS)
	if c.mbps {
		t = fmt.Sprintf("%.1f MB/s", s.MBPerS)
	}
	return fmt.Sprintf("%s, p99 %.3f ms, %d errors", t, s.Latency.P99, s.ErrorCount)
}

// idleRun starts a fresh server (so earlier cases do not inflate or hide its
// memory), measures RSS, holds -idle connections while a client makes normal
// requests, and takes the highest RSS seen while they are held.
func (b *bench) idleRun(ctx context.Context, k serverKind) (*idleSample, error) {
	p, err := b.start(k)
	if err != nil {
		return nil, err
	}
	defer p.stop()
	// The request made while the connections are held is the root menu; here
	// it only has to be a well-formed menu, the menu cases check its content.
	menu := benchCase{id: idleCaseID, selector: "", conc: 1, size: -1, minItems: 1}
	if err := b.preflight(p.addr, menu, false); err != nil {
		return nil, fmt.Errorf("%s: idle case warm-up request: %w", k.name, err)
	}
	time.Sleep(300 * time.Millisecond)
	pid := p.cmd.Process.Pid
	before, err := rssKiB(pid)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", k.name, err)
	}

	fdsBefore, err := fdCount(pid)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", k.name, err)
	}

	ready := make(chan int, 1)
	stop := make(chan struct{})
	var held int64
	var wg sync.WaitGroup
	wg.Go(func() {
		var opened int
		select {
		case opened = <-ready:
		case <-stop:
			return
		}
		// Sample only once the server holds a descriptor for every idle
		// connection: a dial completes in the kernel before accept().
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
			if n, err := fdCount(pid); err != nil || n >= fdsBefore+opened {
				break
			}
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
		for {
			if v, err := rssKiB(pid); err == nil && v > held {
				held = v
			}
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	})
	args := append(loadgenArgs(p.addr, menu, b.opt.dur),
		"-idle", strconv.Itoa(b.opt.idle), "-idle-spread", strconv.Itoa(b.opt.idleSpread),
		"-idle-timeout", idleOpenTimeout.String())
	s, err := b.runLoadgen(ctx, args, func(opened int) { ready <- opened })
	close(stop)
	wg.Wait()
	if err != nil {
		return nil, err
	}
	if !p.alive() {
		return nil, fmt.Errorf("%s died during the idle case: %v; log:\n%s", k.name, p.waitErr, p.logTail())
	}
	if s.Idle == nil {
		return nil, errors.New("loadgen reported no idle connections")
	}
	is := &idleSample{lg: s, rssBefore: before, rssHeld: held}
	if s.Idle.Opened > 0 && held > 0 {
		is.bytesPerCon = float64(held-before) * 1024 / float64(s.Idle.Opened)
	}
	return is, nil
}

// loadAverage returns the one-minute load average from /proc/loadavg.
func loadAverage() (float64, error) {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0, fmt.Errorf("reading load average: %w", err)
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0, errors.New("empty /proc/loadavg")
	}
	v, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return 0, fmt.Errorf("parsing load average: %w", err)
	}
	return v, nil
}

// trimForError shortens a response quoted in an error message.
func trimForError(b []byte) []byte {
	if len(b) > 200 {
		return b[:200]
	}
	return b
}

// spawnRuns is how many times spawnCost starts the script.
const spawnRuns = 200

// spawnCost is what one run of the CGI script costs by itself, outside
// any server: the median wall time of starting it with fork and exec,
// the shell's start-up, its one line and the reaping, over n runs. It is
// the floor under every CGI request, whichever server makes it.
func spawnCost(script string, n int) (time.Duration, error) {
	ds := make([]float64, 0, n)
	for range n {
		start := time.Now()
		out, err := exec.Command(script).Output()
		if err != nil {
			return 0, fmt.Errorf("running %s: %w", script, err)
		}
		if string(out) != cgiOutput {
			return 0, fmt.Errorf("%s printed %q", script, out)
		}
		ds = append(ds, float64(time.Since(start)))
	}
	return time.Duration(median(ds)), nil
}
