//go:build unix

package search

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"gopherd/internal/fs"
	"gopherd/internal/gopher"
	"gopherd/internal/server"
)

// route stands in for the daemon's router: the search selector goes to the
// search, everything else to the file tree.
func route(sh *Handler, files gopher.Handler) gopher.Handler {
	return gopher.HandlerFunc(func(ctx context.Context, w gopher.ResponseWriter, r *gopher.Request) {
		if r.Selector == DefaultSelector {
			sh.ServeGopher(ctx, w, r)
			return
		}
		files.ServeGopher(ctx, w, r)
	})
}

// startServer serves h through a real server on a loopback port and
// returns its address; it is shut down when the test ends.
func startServer(t testing.TB, h gopher.Handler, logger *zap.Logger) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := server.New(logger, server.Settings{
		Handler:  h,
		Hostname: testHost,
		Port:     testPort,
		Limits: server.Limits{
			RequestTimeout:      patience,
			IdleTimeout:         patience,
			MaxConnections:      256,
			MaxConnectionsPerIP: 256,
		},
	})
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln, server.ListenerOptions{}) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), patience)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if err := <-done; !errors.Is(err, server.ErrServerClosed) {
			t.Errorf("Serve: %v", err)
		}
	})
	return ln.Addr().String()
}

// fetch sends one request line and returns the whole response.
func fetch(t testing.TB, addr, line string) []byte {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, patience)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(patience))
	if _, err := io.WriteString(c, line); err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("reading the response to %q: %v", line, err)
	}
	return b
}

func TestThroughServer(t *testing.T) {
	root := fixtureTree(t)
	sh, _ := newHandler(t, root)
	files, err := fs.New(fs.Options{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	defer files.Close()
	addr := startServer(t, route(sh, files), nil)

	// Before the first build.
	if got, want := string(fetch(t, addr, "/search\taardvark\r\n")),
		"3Search index is being built, try again soon.\tErr\tgopher.test\t7070\r\n.\r\n"; got != want {
		t.Errorf("before the build: %q, want %q", got, want)
	}
	if err := sh.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(patience)
	for !sh.Stats().Ready {
		if time.Now().After(deadline) {
			t.Fatal("index not built")
		}
		time.Sleep(5 * time.Millisecond)
	}

	lines := parseMenu(t, fetch(t, addr, "/search\taardvark\r\n"))
	if len(lines) != 7 || lines[0].display != `3 results for "aardvark"` || lines[1].selector != "/animals/aardvark.txt" {
		t.Errorf("results over the wire: %q", lines)
	}
	// The links lead to what the file handler serves.
	for i := 1; i < len(lines); i += 2 {
		body := string(fetch(t, addr, lines[i].selector+"\r\n"))
		if strings.HasPrefix(body, "3") || !strings.Contains(strings.ToLower(body), "aardvark") {
			t.Errorf("result %s serves %q", lines[i].selector, body)
		}
	}
	lines = parseMenu(t, fetch(t, addr, "/search\tburrow\r\n"))
	if len(lines) != 3 || lines[1].typ != '1' {
		t.Fatalf("map hit: %q", lines)
	}
	if menu := string(fetch(t, addr, lines[1].selector+"\r\n")); !strings.HasPrefix(menu, "iAnimals of the burrow\t") {
		t.Errorf("the map hit's directory serves %q", menu)
	}

	// The help menu for the selector alone, and a Gopher+ marker ignored.
	if lines := parseMenu(t, fetch(t, addr, "/search\r\n")); lines[len(lines)-1].typ != '7' {
		t.Errorf("help menu: %q", lines)
	}
	if lines := parseMenu(t, fetch(t, addr, "/search\tkoala\t+\r\n")); len(lines) != 3 {
		t.Errorf("with a Gopher+ marker: %q", lines)
	}

	// What a client can put on the request line (CR and LF end it) adds
	// no menu line.
	for _, q := range []string{
		"aardvark\t\x1b\x07\x01\x7f\x0b\x0c",
		"aardvark\tifake\tline\tevil.example\t70",
		"aardvark or\t1Evil\t/\tevil.example\t70",
		"aardvark \u2028i fake\u0085line\x1b[2J",
	} {
		body := fetch(t, addr, "/search\t"+q+"\r\n")
		checkAnnounced(t, q, body)
		if q == "aardvark\t\x1b\x07\x01\x7f\x0b\x0c" && len(parseMenu(t, body)) != 7 {
			t.Errorf("control bytes changed the results: %q", body)
		}
	}
	if lines := parseMenu(t, fetch(t, addr, "/search\t"+strings.Repeat("word ", 60)+"\r\n")); lines[0].display != "Query too long." {
		t.Errorf("long query: %q", lines)
	}
}
