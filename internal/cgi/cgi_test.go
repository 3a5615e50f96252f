//go:build linux

package cgi

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"gopherd/internal/config"
	"gopherd/internal/gopher"
	"gopherd/internal/testutil"
)

const (
	testHost = "gopher.example.org"
	testPort = 7070
)

// recorder is a gopher.ResponseWriter that keeps the response. It may be
// read while a handler writes to it.
type recorder struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	served  string
	aborted bool
	// failAfter, when positive, makes writes fail once that many bytes
	// were written: the client went away.
	failAfter int
	wrote     chan struct{} // closed at the first write
	once      sync.Once
}

func newRecorder() *recorder { return &recorder{wrote: make(chan struct{})} }

func (r *recorder) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.once.Do(func() { close(r.wrote) })
	if r.failAfter > 0 && r.buf.Len()+len(p) > r.failAfter {
		return 0, errors.New("client gone")
	}
	return r.buf.Write(p)
}

func (r *recorder) Served(what string) { r.mu.Lock(); r.served = what; r.mu.Unlock() }
func (r *recorder) Abort()             { r.mu.Lock(); r.aborted = true; r.mu.Unlock() }

func (r *recorder) String() string { r.mu.Lock(); defer r.mu.Unlock(); return r.buf.String() }

// writeScript writes an executable file under root.
func writeScript(t *testing.T, root, rel, body string) string {
	t.Helper()
	p := filepath.Join(root, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	// WriteFile's mode passes through the umask; the tests mean it.
	if err := os.Chmod(p, 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

type fixture struct {
	g    *Gateway
	logs *observer.ObservedLogs
	root string
}

// newFixture serves root with gateway directories /cgi-bin/ (raw) and
// /apps/ (menu); o's other fields are kept.
func newFixture(t *testing.T, root string, o Options) *fixture {
	t.Helper()
	core, logs := observer.New(zapcore.DebugLevel)
	o.Root = root
	if o.Dirs == nil {
		o.Dirs = []Dir{{Selector: "/cgi-bin/", Output: Raw}, {Selector: "/apps/", Output: Menu}}
	}
	o.Version = "test"
	o.Logger = zap.New(core)
	for _, d := range []string{"cgi-bin", "apps"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	g, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = g.Close() })
	return &fixture{g: g, logs: logs, root: root}
}

func (f *fixture) handler(prefix string) gopher.Handler {
	for _, r := range f.g.Routes() {
		if r.Pattern == prefix {
			return r.Handler
		}
	}
	panic("no route " + prefix)
}

func request(sel string) *gopher.Request {
	r, err := gopher.ParseRequest([]byte(sel))
	if err != nil {
		panic(err)
	}
	r.Host, r.Port = testHost, testPort
	r.RemoteAddr = netip.MustParseAddrPort("192.0.2.7:40001")
	return r
}

// serve runs one request through the directory that matches it and fails
// the test rather than hang.
func (f *fixture) serve(t *testing.T, req *gopher.Request, w *recorder) *recorder {
	t.Helper()
	if w == nil {
		w = newRecorder()
	}
	prefix := "/cgi-bin/"
	if strings.HasPrefix(gopher.CanonicalSelector(req.Selector), "/apps") {
		prefix = "/apps/"
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f.handler(prefix).ServeGopher(context.Background(), w, req)
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatalf("request %q hangs", req.Selector)
	}
	return w
}

func (f *fixture) get(t *testing.T, sel string) *recorder {
	t.Helper()
	return f.serve(t, request(sel), nil)
}

func errorItem(kind gopher.ErrorKind, sel string) string {
	return string(gopher.ErrorResponse(kind, sel, testHost, testPort))
}

// envOf parses `env -0` output.
func envOf(out string) map[string]string {
	m := map[string]string{}
	for kv := range strings.SplitSeq(strings.TrimSuffix(out, "\x00"), "\x00") {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	return m
}

// envScript prints its environment as env -0 does. Not a shell: sh adds
// PWD of its own.
const envScript = "#!/usr/bin/perl\nprint map { \"$_=$ENV{$_}\\0\" } sort keys %ENV;\n"

func TestMapping(t *testing.T) {
	root := t.TempDir()
	f := newFixture(t, root, Options{})
	writeScript(t, root, "cgi-bin/env", envScript)
	writeScript(t, root, "cgi-bin/sub/index.cgi", envScript)
	writeScript(t, root, "cgi-bin/index.cgi", envScript)
	for _, tt := range []struct {
		sel                                  string
		name, pathInfo, query, queryURL, req string
	}{
		{"/cgi-bin/env", "/cgi-bin/env", "", "", "", "/cgi-bin/env"},
		{"cgi-bin/env", "/cgi-bin/env", "", "", "", "/cgi-bin/env"},
		{"//cgi-bin//env", "/cgi-bin/env", "", "", "", "/cgi-bin/env"},
		{"/cgi-bin/env/a/b", "/cgi-bin/env", "/a/b", "", "", "/cgi-bin/env/a/b"},
		{"/cgi-bin/env/a//b/", "/cgi-bin/env", "/a/b/", "", "", "/cgi-bin/env/a/b/"},
		{"/cgi-bin/env/", "/cgi-bin/env", "/", "", "", "/cgi-bin/env/"},
		{"/cgi-bin/env?x=1&y=%41/z", "/cgi-bin/env", "", "x=1&y=%41/z", "x=1&y=%41/z", "/cgi-bin/env"},
		{"/cgi-bin/env/p?q?r", "/cgi-bin/env", "/p", "q?r", "q?r", "/cgi-bin/env/p"},
		{"/cgi-bin/env\tsearch words", "/cgi-bin/env", "", "search words", "", "/cgi-bin/env"},
		{"/cgi-bin/env?url\tsearch", "/cgi-bin/env", "", "url", "url", "/cgi-bin/env"},
		{"/cgi-bin/sub/", "/cgi-bin/sub/index.cgi", "", "", "", "/cgi-bin/sub/index.cgi"},
		{"/cgi-bin/sub", "/cgi-bin/sub/index.cgi", "", "", "", "/cgi-bin/sub/index.cgi"},
		{"/cgi-bin/", "/cgi-bin/index.cgi", "", "", "", "/cgi-bin/index.cgi"},
		{"/cgi-bin?q", "/cgi-bin/index.cgi", "", "q", "q", "/cgi-bin/index.cgi"},
	} {
		t.Run(tt.sel, func(t *testing.T) {
			w := f.get(t, tt.sel)
			env := envOf(w.String())
			want := map[string]string{
				"SCRIPT_NAME": tt.name, "PATH_INFO": tt.pathInfo, "QUERY_STRING": tt.query,
				"QUERY_STRING_URL": tt.queryURL, "REQUEST": tt.req,
				"SCRIPT_FILENAME": filepath.Join(root, filepath.FromSlash(tt.name)),
			}
			for k, v := range want {
				if env[k] != v {
					t.Errorf("%s = %q, want %q (response %q)", k, env[k], v, w.String())
				}
			}
			sel, _, _ := strings.Cut(tt.sel, "\t")
			if env["SELECTOR"] != sel {
				t.Errorf("SELECTOR = %q, want %q", env["SELECTOR"], sel)
			}
		})
	}
}

func TestNotFoundAndRefused(t *testing.T) {
	root := t.TempDir()
	f := newFixture(t, root, Options{})
	writeScript(t, root, "cgi-bin/ok", "#!/bin/sh\necho SECRET-OUTPUT\n# SECRET-SOURCE\n")
	writeScript(t, root, "cgi-bin/.hidden", "#!/bin/sh\necho SECRET\n")
	writeScript(t, root, "cgi-bin/noexec", "#!/bin/sh\necho SECRET\n# SECRET-SOURCE\n")
	writeScript(t, root, "cgi-bin/ww", "#!/bin/sh\necho SECRET\n")
	writeScript(t, root, "cgi-bin/suid", "#!/bin/sh\necho SECRET\n")
	writeScript(t, root, "cgi-bin/open/x", "#!/bin/sh\necho SECRET\n")
	writeScript(t, root, "cgi-bin/sticky/x", "#!/bin/sh\necho sticky-ok\n")
	writeScript(t, root, "outside/x", "#!/bin/sh\necho SECRET\n")
	writeScript(t, filepath.Dir(root), filepath.Base(root)+"-beyond/x", "#!/bin/sh\necho SECRET\n")
	must(t, os.Chmod(filepath.Join(root, "cgi-bin/noexec"), 0o644))
	must(t, os.Chmod(filepath.Join(root, "cgi-bin/ww"), 0o757))
	must(t, os.Chmod(filepath.Join(root, "cgi-bin/suid"), 0o755|os.ModeSetuid))
	must(t, os.Chmod(filepath.Join(root, "cgi-bin/open"), 0o777))
	must(t, os.Chmod(filepath.Join(root, "cgi-bin/sticky"), 0o777|os.ModeSticky))
	must(t, syscall.Mkfifo(filepath.Join(root, "cgi-bin/fifo"), 0o755))
	must(t, os.Symlink("../../"+filepath.Base(root)+"-beyond/x", filepath.Join(root, "cgi-bin/escape")))
	must(t, os.Symlink("../outside/x", filepath.Join(root, "cgi-bin/inside")))
	must(t, os.Mkdir(filepath.Join(root, "cgi-bin/empty"), 0o755))
	must(t, os.MkdirAll(filepath.Join(root, "cgi-bin/dirindex", IndexName), 0o755))
	t.Cleanup(func() { _ = os.RemoveAll(filepath.Join(filepath.Dir(root), filepath.Base(root)+"-beyond")) })

	for _, tt := range []struct {
		sel  string
		kind gopher.ErrorKind
		warn string
	}{
		{"/cgi-bin/missing", gopher.NotFound, ""},
		{"/cgi-bin/missing/x", gopher.NotFound, ""},
		{"/cgi-bin/.hidden", gopher.NotAllowed, ""},
		{"/cgi-bin/ok/../.hidden", gopher.NotAllowed, ""},
		{"/cgi-bin/ok/.x", gopher.NotAllowed, ""}, // PATH_INFO obeys the rules too
		{"/cgi-bin/noexec", gopher.NotAllowed, "not executable"},
		{"/cgi-bin/ww", gopher.NotAllowed, "world-writable"},
		{"/cgi-bin/suid", gopher.NotAllowed, "setuid"},
		{"/cgi-bin/open/x", gopher.NotAllowed, "world-writable directory"},
		{"/cgi-bin/fifo", gopher.NotAllowed, "special file"},
		{"/cgi-bin/escape", gopher.NotFound, "leaves the root"},
		{"/cgi-bin/empty/", gopher.NotFound, ""},
		{"/cgi-bin/dirindex/", gopher.NotAllowed, "not a regular file"},
		{"/cgi-bin/", gopher.NotFound, ""},
		{"/cgi-bin/gophermap", gopher.NotAllowed, ""},
	} {
		t.Run(tt.sel, func(t *testing.T) {
			f.logs.TakeAll()
			w := f.get(t, tt.sel)
			p, _, _ := strings.Cut(tt.sel, "?")
			if got, want := w.String(), errorItem(tt.kind, p); got != want {
				t.Errorf("got %q, want %q", got, want)
			}
			if tt.warn != "" && f.logs.FilterMessageSnippet(tt.warn).FilterLevelExact(zapcore.WarnLevel).Len() == 0 {
				t.Errorf("no warning containing %q; logs: %v", tt.warn, f.logs.All())
			}
		})
	}
	// A symlink that stays in the root runs its target; a sticky
	// world-writable directory is /tmp's kind and allowed.
	if got := f.get(t, "/cgi-bin/inside").String(); got != "SECRET\n" {
		t.Errorf("symlink inside the root: %q", got)
	}
	if got := f.get(t, "/cgi-bin/sticky/x").String(); got != "sticky-ok\n" {
		t.Errorf("sticky directory: %q", got)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestEnvironment(t *testing.T) {
	t.Setenv("GOPHERD_CANARY", "leaked")
	root := t.TempDir()
	f := newFixture(t, root, Options{Env: map[string]string{"LANG": "C.UTF-8", "PATH": "/bin"}})
	writeScript(t, root, "cgi-bin/env", envScript)
	env := envOf(f.get(t, "/cgi-bin/env/x?q=%20\tfind me").String())
	want := map[string]string{
		"PATH": "/bin", "LANG": "C.UTF-8",
		"GATEWAY_INTERFACE": "CGI/1.1", "SERVER_SOFTWARE": "gopherd/test", "SERVER_PROTOCOL": "GOPHER",
		"SERVER_NAME": testHost, "SERVER_HOST": testHost, "SERVER_PORT": strconv.Itoa(testPort),
		"REQUEST_METHOD": "GET", "SCRIPT_NAME": "/cgi-bin/env",
		"SCRIPT_FILENAME": filepath.Join(root, "cgi-bin/env"),
		"PATH_INFO":       "/x", "PATH_TRANSLATED": root + "/x", "DOCUMENT_ROOT": root,
		"SELECTOR": "/cgi-bin/env/x?q=%20", "REQUEST": "/cgi-bin/env/x",
		"QUERY_STRING": "q=%20", "QUERY_STRING_URL": "q=%20",
		"SEARCHREQUEST": "find me", "X_GOPHER_SEARCH": "find me", "QUERY_STRING_SEARCH": "find me",
		"REMOTE_ADDR": "192.0.2.7", "REMOTE_HOST": "192.0.2.7", "REMOTE_PORT": "40001",
	}
	if !mapsEqual(env, want) {
		t.Errorf("environment:\n got %v\nwant %v", env, want)
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func TestRemoteAddrModes(t *testing.T) {
	for _, tt := range []struct {
		ap         string
		mode       AddrMode
		addr, port string
		ok         bool
	}{
		{"192.0.2.7:4000", AddrFull, "192.0.2.7", "4000", true},
		{"192.0.2.7:4000", AddrPrefix, "192.0.2.0", "", true},
		{"[2001:db8:1:2:3::9]:4000", AddrFull, "2001:db8:1:2:3::9", "4000", true},
		{"[2001:db8:1:2:3::9]:4000", AddrPrefix, "2001:db8:1::", "", true},
		{"[fe80::1%eth0]:4000", AddrPrefix, "fe80::", "", true},
		{"[::1]:4000", AddrNone, "", "", false},
		{"", AddrFull, "", "", false},
	} {
		var ap netip.AddrPort
		if tt.ap != "" {
			ap = netip.MustParseAddrPort(tt.ap)
		}
		addr, port, ok := remote(ap, tt.mode)
		if addr != tt.addr || port != tt.port || ok != tt.ok {
			t.Errorf("remote(%s, %d) = %q %q %v, want %q %q %v", tt.ap, tt.mode, addr, port, ok, tt.addr, tt.port, tt.ok)
		}
	}
}

func TestEnvOptionsChecked(t *testing.T) {
	for _, env := range []map[string]string{
		{"REMOTE_ADDR": "x"}, {"QUERY_STRING": ""}, {"A=B": "x"}, {"": "x"}, {"A": "nul\x00"},
	} {
		if _, err := New(Options{Root: t.TempDir(), Env: env}); err == nil {
			t.Errorf("New accepted env %q", env)
		}
	}
}

func TestNoInheritedDescriptors(t *testing.T) {
	root := t.TempDir()
	f := newFixture(t, root, Options{})
	// A descriptor gopherd holds open, not close-on-exec by mistake, would
	// show up here; os.Open sets close-on-exec.
	held, err := os.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	writeScript(t, root, "cgi-bin/fds", "#!/usr/bin/perl\nopendir(D, '/proc/self/fd') or die;\n"+
		"print join(' ', sort grep { !/^\\./ } readdir D), \"\\n\";\n")
	writeScript(t, root, "cgi-bin/stdin", "#!/bin/sh\nreadlink /proc/self/fd/0; pwd\n")
	// Reading the directory takes descriptor 3.
	if got := f.get(t, "/cgi-bin/fds").String(); got != "0 1 2 3\n" {
		t.Errorf("descriptors in the program: %q", got)
	}
	if got, want := f.get(t, "/cgi-bin/stdin").String(), "/dev/null\n"+filepath.Join(root, "cgi-bin")+"\n"; got != want {
		t.Errorf("stdin and cwd: %q, want %q", got, want)
	}
}

func TestOwnProcessGroup(t *testing.T) {
	root := t.TempDir()
	f := newFixture(t, root, Options{})
	writeScript(t, root, "cgi-bin/pg", "#!/bin/sh\nps -o pid=,pgid= -p $$\n")
	fields := strings.Fields(f.get(t, "/cgi-bin/pg").String())
	if len(fields) != 2 || fields[0] != fields[1] {
		t.Errorf("pid and pgid %v: not a group of its own", fields)
	}
}

func TestRawStreams(t *testing.T) {
	root := t.TempDir()
	f := newFixture(t, root, Options{})
	fifo := filepath.Join(root, "go-on")
	must(t, syscall.Mkfifo(fifo, 0o600))
	// The program cannot finish until the test has seen its first line:
	// buffered output would never arrive.
	writeScript(t, root, "cgi-bin/stream", "#!/bin/sh\necho first\nread x < "+fifo+"\necho second\n")
	w := newRecorder()
	done := make(chan struct{})
	go func() { defer close(done); f.serve(t, request("/cgi-bin/stream"), w) }()
	select {
	case <-w.wrote:
	case <-time.After(10 * time.Second):
		t.Fatal("no output while the program runs")
	}
	if got := w.String(); got != "first\n" {
		t.Fatalf("streamed %q", got)
	}
	must(t, os.WriteFile(fifo, []byte("go\n"), 0o600))
	<-done
	if got := w.String(); got != "first\nsecond\n" || w.aborted || w.served != "cgi" {
		t.Errorf("got %q aborted=%v served=%q", got, w.aborted, w.served)
	}
}

func TestMenuOutput(t *testing.T) {
	root := t.TempDir()
	f := newFixture(t, root, Options{})
	writeScript(t, root, "apps/sub/menu", "#!/bin/sh\n"+
		"printf 'Hello\\n'\n"+
		"printf '\\n'\n"+
		"printf '0About\\tabout.txt\\n'\n"+
		"printf '1Up\\t../\\n'\n"+
		"printf '1Abs\\t/x\\tother.org\\t71\\n'\n"+
		"printf '1Bad\\tsel\\thost\\tnoport\\n'\n"+
		"printf '0crlf\\tc\\r\\n'\n"+
		"printf 'last line without newline'\n")
	w := f.get(t, "/apps/sub/menu")
	want := gopher.Menu{
		gopher.Info("Hello", testHost, testPort),
		gopher.Info("", testHost, testPort),
		{Type: '0', Display: "About", Selector: "/apps/sub/about.txt", Host: testHost, Port: testPort},
		{Type: '1', Display: "Up", Selector: "/apps", Host: testHost, Port: testPort},
		{Type: '1', Display: "Abs", Selector: "/x", Host: "other.org", Port: 71},
		{Type: '0', Display: "crlf", Selector: "/apps/sub/c", Host: testHost, Port: testPort},
		gopher.Info("last line without newline", testHost, testPort),
	}.Bytes()
	if got := w.String(); got != string(want) {
		t.Errorf("menu:\n got %q\nwant %q", got, want)
	}
	if f.logs.FilterMessageSnippet("apps/sub/menu:6:").Len() != 1 {
		t.Errorf("no warning for the bad line 6: %v", f.logs.All())
	}
}

func TestMenuDotEndsOutput(t *testing.T) {
	root := t.TempDir()
	f := newFixture(t, root, Options{})
	writeScript(t, root, "apps/dot", "#!/bin/sh\necho one\necho .\necho ignored\n")
	if got, want := f.get(t, "/apps/dot").String(), "ione\t\t"+testHost+"\t7070\r\n.\r\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestFailures(t *testing.T) {
	root := t.TempDir()
	f := newFixture(t, root, Options{Timeout: 500 * time.Millisecond, KillGrace: 200 * time.Millisecond})
	writeScript(t, root, "cgi-bin/exit3", "#!/bin/sh\necho oops >&2\nexit 3\n")
	writeScript(t, root, "cgi-bin/late3", "#!/bin/sh\necho partial\nexit 3\n")
	writeScript(t, root, "cgi-bin/ok", "#!/bin/sh\necho whole\n")
	writeScript(t, root, "cgi-bin/noshebang", "echo this is not a program\n")
	writeScript(t, root, "cgi-bin/badinterp", "#!/nonexistent/interpreter\n")
	writeScript(t, root, "cgi-bin/slow", "#!/bin/sh\nexec sleep 30\n")
	writeScript(t, root, "cgi-bin/slowafter", "#!/bin/sh\necho started\nexec sleep 30\n")
	writeScript(t, root, "cgi-bin/silent0", "#!/bin/sh\nexit 0\n")
	writeScript(t, root, "apps/late3", "#!/bin/sh\necho partial\nexit 3\n")
	writeScript(t, root, "apps/slowafter", "#!/bin/sh\necho started\nexec sleep 30\n")
	writeScript(t, root, "apps/empty", "#!/bin/sh\n")
	partial := string(gopher.Info("partial", testHost, testPort).AppendTo(nil))
	started := string(gopher.Info("started", testHost, testPort).AppendTo(nil))
	item := func(k gopher.ErrorKind, sel string) string {
		return string(gopher.ErrorItem(k, sel, testHost, testPort).AppendTo(nil))
	}
	for _, tt := range []struct {
		sel     string
		want    string
		aborted bool
	}{
		{"/cgi-bin/exit3", errorItem(gopher.Internal, ""), false},
		{"/cgi-bin/noshebang", errorItem(gopher.Internal, ""), false},
		{"/cgi-bin/badinterp", errorItem(gopher.Internal, ""), false},
		{"/cgi-bin/slow", errorItem(gopher.TimedOut, ""), false},
		{"/cgi-bin/late3", "partial\n", true},
		{"/cgi-bin/slowafter", "started\n", true},
		{"/cgi-bin/ok", "whole\n", false},
		{"/cgi-bin/silent0", "", false},
		{"/apps/late3", partial + item(gopher.Internal, "/apps/late3") + ".\r\n", false},
		{"/apps/slowafter", started + item(gopher.TimedOut, "/apps/slowafter") + ".\r\n", false},
		{"/apps/empty", ".\r\n", false},
	} {
		t.Run(tt.sel, func(t *testing.T) {
			w := f.get(t, tt.sel)
			if got := w.String(); got != tt.want || w.aborted != tt.aborted {
				t.Errorf("got %q aborted=%v, want %q aborted=%v", got, w.aborted, tt.want, tt.aborted)
			}
		})
	}
	exit3 := f.logs.FilterMessage("cgi: program failed").FilterField(zap.String("path", "cgi-bin/exit3")).All()
	if len(exit3) != 1 || exit3[0].ContextMap()["stderr"] != `oops\x0a` || exit3[0].ContextMap()["status"] != "exit status 3" {
		t.Errorf("exit3's log: %v", exit3)
	}
}

func TestStderrFloodIsCapped(t *testing.T) {
	root := t.TempDir()
	f := newFixture(t, root, Options{})
	writeScript(t, root, "cgi-bin/flood", "#!/bin/sh\nhead -c 1000000 /dev/zero | tr '\\0' 'e' >&2\necho out\n")
	if got := f.get(t, "/cgi-bin/flood").String(); got != "out\n" {
		t.Errorf("response %q: stderr must never reach the client", got)
	}
	logs := f.logs.FilterMessage("cgi: program wrote to stderr").All()
	if len(logs) != 1 {
		t.Fatalf("logs: %v", f.logs.All())
	}
	m := logs[0].ContextMap()
	if s := m["stderr"].(string); !strings.HasPrefix(s, "eeee") || len(s) > maxStderr+len("…") {
		t.Errorf("stderr logged: %d bytes", len(s))
	}
	if m["stderr-bytes"] != int64(1000000) {
		t.Errorf("stderr-bytes %v", m["stderr-bytes"])
	}
}

func TestOutputCap(t *testing.T) {
	root := t.TempDir()
	f := newFixture(t, root, Options{MaxOutputBytes: 100000})
	writeScript(t, root, "cgi-bin/yes", "#!/bin/sh\nexec yes\n")
	writeScript(t, root, "apps/yes", "#!/bin/sh\nexec yes\n")
	w := f.get(t, "/cgi-bin/yes")
	if got := w.String(); len(got) != 100000 || !w.aborted {
		t.Errorf("raw: %d bytes aborted=%v, want 100000 and a reset", len(got), w.aborted)
	}
	writeScript(t, root, "cgi-bin/exact", "#!/bin/sh\nhead -c 100000 /dev/zero\n")
	if w := f.get(t, "/cgi-bin/exact"); len(w.String()) != 100000 || w.aborted {
		t.Errorf("output of exactly the cap: %d bytes aborted=%v, want it whole", len(w.String()), w.aborted)
	}
	w = f.get(t, "/apps/yes")
	if got := w.String(); !strings.HasSuffix(got, string(gopher.ErrorItem(gopher.Internal, "/apps/yes", testHost, testPort).AppendTo(nil))+".\r\n") {
		t.Errorf("menu over the cap ends %q", got[max(0, len(got)-200):])
	}
	if f.logs.FilterField(zap.String("stopped", "output limit")).Len() != 2 {
		t.Errorf("logs: %v", f.logs.All())
	}
}

func TestTimeoutKillsTheWholeGroup(t *testing.T) {
	root := t.TempDir()
	f := newFixture(t, root, Options{Timeout: 500 * time.Millisecond, KillGrace: 300 * time.Millisecond})
	// It ignores SIGTERM, and so do its children, which hold stdout.
	writeScript(t, root, "cgi-bin/forks", "#!/bin/sh\ntrap '' TERM\necho $$\nsleep 1000 & sleep 1000 &\nwhile :; do sleep 1; done\n")
	w := f.get(t, "/cgi-bin/forks")
	pgid, err := strconv.Atoi(strings.TrimSpace(w.String()))
	if err != nil {
		t.Fatalf("response %q", w.String())
	}
	if left := testutil.GroupMembers(pgid); len(left) > 0 {
		t.Errorf("processes of group %d still alive after the response: %v", pgid, left)
	}
	if !w.aborted {
		t.Error("a run cut short after output must reset")
	}
}

func TestLeftoversAreKilledAfterExit(t *testing.T) {
	root := t.TempDir()
	f := newFixture(t, root, Options{KillGrace: 300 * time.Millisecond})
	// The program exits at once, leaving a child that holds stdout.
	writeScript(t, root, "cgi-bin/bg", "#!/bin/sh\necho $$\nsleep 1000 &\nexit 0\n")
	w := f.get(t, "/cgi-bin/bg")
	pgid, err := strconv.Atoi(strings.TrimSpace(w.String()))
	if err != nil {
		t.Fatalf("response %q", w.String())
	}
	if left := testutil.GroupMembers(pgid); len(left) > 0 {
		t.Errorf("leftovers of group %d alive: %v", pgid, left)
	}
	if w.aborted {
		t.Error("the program exited 0 with its output whole")
	}
}

func TestEscapedHolderCannotHoldTheResponse(t *testing.T) {
	root := t.TempDir()
	f := newFixture(t, root, Options{Timeout: 20 * time.Second, KillGrace: 300 * time.Millisecond})
	// setsid takes the child out of the group: only the pipe rule ends
	// the response, long before the timeout.
	// It waits until the child has its own session before it exits: a
	// SIGTERM to the group at its exit would otherwise get there first.
	writeScript(t, root, "cgi-bin/escape", "#!/bin/sh\nsetsid sleep 1000 &\n"+
		"while [ \"$(ps -o sid= -p $! | tr -d ' ')\" != $! ]; do :; done\necho $!\n")
	start := time.Now()
	w := f.get(t, "/cgi-bin/escape")
	pid, err := strconv.Atoi(strings.TrimSpace(w.String()))
	if err != nil {
		t.Fatalf("response %q", w.String())
	}
	_ = syscall.Kill(pid, syscall.SIGKILL) // it escaped the gateway, not the test
	if d := time.Since(start); d >= 20*time.Second {
		t.Errorf("the escaped child held the response for %v", d)
	}
	if !w.aborted {
		t.Errorf("output given up on must reset; logs %v", f.logs.All())
	}
}

func TestClientGoneStopsTheProgram(t *testing.T) {
	root := t.TempDir()
	f := newFixture(t, root, Options{Timeout: 20 * time.Second, KillGrace: 300 * time.Millisecond})
	writeScript(t, root, "cgi-bin/yes", "#!/bin/sh\nexec yes\n")
	w := newRecorder()
	w.failAfter = 1000
	f.serve(t, request("/cgi-bin/yes"), w)
	if f.logs.FilterField(zap.String("stopped", "client gone")).Len() != 1 {
		t.Errorf("logs: %v", f.logs.All())
	}
	if n := f.g.slots.InUse(); n != 0 {
		t.Errorf("%d slots still held", n)
	}
}

func TestConcurrencyCaps(t *testing.T) {
	root := t.TempDir()
	f := newFixture(t, root, Options{MaxConcurrent: 2, MaxConcurrentPerIP: 1})
	release := filepath.Join(root, "release")
	writeScript(t, root, "cgi-bin/wait", "#!/bin/sh\necho running\nwhile [ ! -e "+release+" ]; do sleep 0.05; done\n")
	run := func(ip string) (*recorder, chan struct{}) {
		req := request("/cgi-bin/wait")
		req.RemoteAddr = netip.MustParseAddrPort(ip + ":1")
		w := newRecorder()
		done := make(chan struct{})
		go func() { defer close(done); f.serve(t, req, w) }()
		return w, done
	}
	busy := errorItem(gopher.Busy, "")
	w1, d1 := run("192.0.2.1")
	<-w1.wrote
	// The same address again: over the per-address cap.
	if w, d := run("192.0.2.1"); true {
		<-d
		if w.String() != busy {
			t.Errorf("second run from one address: %q", w.String())
		}
	}
	w2, d2 := run("192.0.2.2")
	<-w2.wrote
	if w, d := run("192.0.2.3"); true {
		<-d
		if w.String() != busy {
			t.Errorf("third run in all: %q", w.String())
		}
	}
	must(t, os.WriteFile(release, nil, 0o600))
	<-d1
	<-d2
	if n := f.g.slots.InUse(); n != 0 {
		t.Errorf("%d slots held after the runs", n)
	}
}

func TestExecutableGophermaps(t *testing.T) {
	root := t.TempDir()
	writeScript(t, root, "moles/gophermap", "#!/bin/sh\necho \"hi $QUERY_STRING\"\nprintf '0File\\tf.txt\\n'\n")
	writeScript(t, root, "cold/gophermap", "#!/bin/sh\necho hi\n")
	must(t, os.Chmod(filepath.Join(root, "cold/gophermap"), 0o644))
	on := newFixture(t, root, Options{ExecutableGophermaps: true})
	w := newRecorder()
	on.g.ServeMapProgram(context.Background(), w, request("/moles/?x"), "moles", "moles/gophermap")
	want := gopher.Menu{
		gopher.Info("hi x", testHost, testPort),
		{Type: '0', Display: "File", Selector: "/moles/f.txt", Host: testHost, Port: testPort},
	}.Bytes()
	if got := w.String(); got != string(want) {
		t.Errorf("executable map: %q, want %q", got, want)
	}
	w = newRecorder()
	on.g.ServeMapProgram(context.Background(), w, request("/cold/"), "cold", "cold/gophermap")
	if got := w.String(); got != errorItem(gopher.NotAllowed, "/cold/") {
		t.Errorf("a #! map without the exec bit: %q", got)
	}

	off := newFixture(t, root, Options{})
	for _, r := range []interface {
		ServeMapProgram(context.Context, gopher.ResponseWriter, *gopher.Request, string, string)
	}{off.g, RefuseMaps{Logger: off.g.log}} {
		w := newRecorder()
		r.ServeMapProgram(context.Background(), w, request("/moles/"), "moles", "moles/gophermap")
		if got := w.String(); got != errorItem(gopher.NotAllowed, "/moles/") {
			t.Errorf("%T: %q", r, got)
		}
	}
	if n := off.logs.FilterMessageSnippet("cgi.executable-gophermaps").Len(); n != 2 {
		t.Errorf("%d warnings naming the setting, want 2: %v", n, off.logs.All())
	}
}

func TestDirSelectorsChecked(t *testing.T) {
	for _, sel := range []string{"/", "cgi-bin/", "/cgi-bin", "//cgi-bin/", "/.cgi/", "/a/../b/", "/x?/"} {
		if _, err := New(Options{Root: t.TempDir(), Dirs: []Dir{{Selector: sel}}}); err == nil {
			t.Errorf("New accepted directory %q", sel)
		}
	}
}

func TestRequestVariablesListed(t *testing.T) {
	// Every variable env can set is in requestVariables (what Options.Env
	// may not override).
	g := &Gateway{rootAbs: "/r", o: Options{Version: "v"}}
	r := request("/x?q\ts")
	r.TLS = fakeTLS()
	for _, kv := range g.env(r, script{rel: "x", name: "/x", pathInfo: "/p"}) {
		k, _, _ := strings.Cut(kv, "=")
		if k != "PATH" && !slices.Contains(requestVariables[:], k) {
			t.Errorf("%s is set but not listed", k)
		}
	}
	// The configuration refuses the same names in cgi.env.
	if got := config.CGIRequestVariables(); !slices.Equal(got, requestVariables[:]) {
		t.Errorf("config's list %v differs from the gateway's %v", got, requestVariables)
	}
}

func fakeTLS() *tls.ConnectionState {
	return &tls.ConnectionState{Version: tls.VersionTLS13, CipherSuite: tls.TLS_AES_128_GCM_SHA256, ServerName: "sni.example"}
}

func TestTLSEnvironment(t *testing.T) {
	root := t.TempDir()
	f := newFixture(t, root, Options{})
	writeScript(t, root, "cgi-bin/env", envScript)
	r := request("/cgi-bin/env")
	r.TLS = fakeTLS()
	env := envOf(f.serve(t, r, nil).String())
	for k, v := range map[string]string{
		"SERVER_PROTOCOL": "GOPHERS", "TLS": "on", "HTTPS": "on", "GOPHERS": "on",
		"TLS_VERSION": "TLS 1.3", "TLS_CIPHER": "TLS_AES_128_GCM_SHA256", "TLS_SNI": "sni.example",
	} {
		if env[k] != v {
			t.Errorf("%s = %q, want %q", k, env[k], v)
		}
	}
	r.TLS.ServerName = ""
	if env := envOf(f.serve(t, r, nil).String()); env["TLS_SNI"] != "" || len(env) != len(requestVariables)+1-1 {
		t.Errorf("without SNI: %v", env)
	}
}

// TestNoExec: a NoExec gateway starts no program, in a gateway directory
// or as an executable map, and says so in an error item; what it refuses
// anyway (a file that may not run, one that is not there) it refuses as
// the real gateway does.
func TestNoExec(t *testing.T) {
	root := t.TempDir()
	ran := filepath.Join(t.TempDir(), "ran")
	script := "#!/bin/sh\ntouch " + ran + "\necho ran\n"
	writeScript(t, root, "cgi-bin/run", script)
	writeScript(t, root, "apps/index.cgi", script)
	writeScript(t, root, "moles/gophermap", script)
	must(t, os.WriteFile(filepath.Join(root, "cgi-bin", "plain"), []byte("#!/bin/sh\n"), 0o644))
	f := newFixture(t, root, Options{NoExec: true, ExecutableGophermaps: true})
	notRun := func(rel string) string {
		return string(gopher.Menu{{Type: gopher.TypeError, Display: NotRunMessage(rel), Selector: gopher.ErrorSelector, Host: testHost, Port: testPort}}.Bytes())
	}
	for sel, want := range map[string]string{
		"/cgi-bin/run":     notRun("cgi-bin/run"),
		"/cgi-bin/run/x?q": notRun("cgi-bin/run"),
		"/apps/":           notRun("apps/index.cgi"),
		"/cgi-bin/plain":   errorItem(gopher.NotAllowed, "/cgi-bin/plain"),
		"/cgi-bin/none":    errorItem(gopher.NotFound, "/cgi-bin/none"),
	} {
		if w := f.get(t, sel); w.String() != want {
			t.Errorf("%s: %q, want %q", sel, w.String(), want)
		}
	}
	w := newRecorder()
	f.g.ServeMapProgram(context.Background(), w, request("/moles/"), "moles", "moles/gophermap")
	if got := w.String(); got != notRun("moles/gophermap") || w.served != "not-run" {
		t.Errorf("executable map: %q (served %q)", got, w.served)
	}
	if _, err := os.Stat(ran); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a program ran: %v", err)
	}
}

func TestObserveOutcomes(t *testing.T) {
	root := t.TempDir()
	var mu sync.Mutex
	var got []string
	f := newFixture(t, root, Options{Timeout: 500 * time.Millisecond, KillGrace: 200 * time.Millisecond, MaxOutputBytes: 1000,
		Observe: func(o string) { mu.Lock(); got = append(got, o); mu.Unlock() }})
	writeScript(t, root, "cgi-bin/ok", "#!/bin/sh\necho whole\n")
	writeScript(t, root, "cgi-bin/exit3", "#!/bin/sh\nexit 3\n")
	writeScript(t, root, "cgi-bin/slow", "#!/bin/sh\nexec sleep 30\n")
	writeScript(t, root, "cgi-bin/yes", "#!/bin/sh\nexec yes\n")
	for _, sel := range []string{"/cgi-bin/ok", "/cgi-bin/exit3", "/cgi-bin/slow", "/cgi-bin/yes"} {
		f.get(t, sel)
	}
	mu.Lock()
	defer mu.Unlock()
	if want := []string{RunOK, RunFailed, RunTimeout, RunOutputLimit}; !slices.Equal(got, want) {
		t.Errorf("outcomes %v, want %v", got, want)
	}
}
