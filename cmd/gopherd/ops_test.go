package main

import (
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"gopherd/internal/testutil"
)

// TestMainOperations runs the program with every operations key: a PROXY
// listener, rate budgets, robots.txt, the caps.txt keys and metrics.
func TestMainOperations(t *testing.T) {
	root := t.TempDir()
	writeFiles(t, root, map[string]string{"a.txt": "hello\n"})
	writeFiles(t, root, map[string]string{"cgi-bin/addr": "#!/bin/sh\necho \"$REMOTE_ADDR $REMOTE_PORT\"\n"})
	if err := os.Chmod(filepath.Join(root, "cgi-bin", "addr"), 0o755); err != nil {
		t.Fatal(err)
	}
	metricsAddr := "127.0.0.1:" + strconv.Itoa(testutil.FreePort(t))
	cfgFile := filepath.Join(t.TempDir(), "gopherd.json")
	writeJSON(t, cfgFile, map[string]any{
		"hostname": "gopher.test",
		"root":     root,
		"listen": []any{
			map[string]any{"addr": "127.0.0.1", "port": 0},
			map[string]any{"addr": "127.0.0.1", "port": 0, "proxy-protocol": map[string]any{"trusted": []string{"127.0.0.1/32"}}},
		},
		"log":        map[string]any{"hide-ips": false},
		"limits":     map[string]any{"rate": map[string]any{"requests": "2/1m", "exempt": []string{"127.0.0.0/8"}}},
		"cgi":        map[string]any{"dirs": []any{map[string]any{"selector": "/cgi-bin/"}}},
		"robots-txt": map[string]any{"disallow": []string{"/private/"}, "crawl-delay": 5},
		"caps":       map[string]any{"admin": "Jane <jane@example.org>", "geolocation": "Berlin"},
		"metrics":    map[string]any{"listen": metricsAddr},
	})
	r := mustStart(t, cfgFile)
	proxyAddr := r.Addrs()[1].String()

	const robots = "User-agent: *\nDisallow: /private/\nDisallow: /cgi-bin/\nCrawl-delay: 5\n"
	for _, sel := range []string{"robots.txt", "/robots.txt", "//robots.txt"} {
		if got := r.get(sel); got != robots {
			t.Errorf("%s: %q, want %q", sel, got, robots)
		}
	}
	caps := r.get("/caps.txt")
	if !strings.Contains(caps, "\nServerAdmin=Jane <jane@example.org>\n") || !strings.Contains(caps, "\nServerGeolocationString=Berlin\n") ||
		strings.Contains(caps, "ServerDescription") {
		t.Errorf("caps.txt:\n%s", caps)
	}

	hdr := "PROXY TCP4 192.0.2.50 127.0.0.1 4711 70\r\n"
	for i := range 2 {
		if got := fetch(t, proxyAddr, hdr+"/a.txt"); got != "hello\n" {
			t.Fatalf("proxied request %d: %q", i+1, got)
		}
	}
	if got := fetch(t, proxyAddr, hdr+"/a.txt"); !strings.HasPrefix(got, "3Slow down: too many requests; try again in 30 s.\t") {
		t.Errorf("third proxied request within the minute: %q", got)
	}
	if got := fetch(t, proxyAddr, "PROXY TCP6 2001:db8::51 ::1 5151 70\r\n/cgi-bin/addr"); got != "2001:db8::51 5151\n" {
		t.Errorf("the gateway's REMOTE_ADDR behind PROXY: %q", got)
	}
	if got := fetch(t, proxyAddr, "/a.txt"); got != "" {
		t.Errorf("a request without a header on the PROXY listener: %q", got)
	}
	waitFor(t, "the proxied client in the access log", func() bool {
		return strings.Contains(r.log.String(), `192.0.2.50`)
	})

	resp, err := http.Get("http://" + metricsAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := string(body)
	for _, want := range []string{
		`gopherd_requests_total{served="robots"} 3`,
		`gopherd_requests_total{served="rate-limited"} 1`,
		`gopherd_rate_limited_total{budget="requests"} 1`,
		`gopherd_proxy_headers_total{result="accepted"} 4`,
		`gopherd_gateway_runs_total{outcome="ok"} 1`,
		`gopherd_proxy_headers_total{result="missing"} 1`,
		`gopherd_build_info{version="test",`,
	} {
		if !strings.Contains(m, want+"\n") && !strings.Contains(m, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	for _, leak := range []string{"192.0.2.50", "2001:db8", "127.0.0.1", "robots.txt", "a.txt", "cgi-bin"} {
		if strings.Contains(m, leak) {
			t.Errorf("metrics carry %q:\n%s", leak, m)
		}
	}

	// A real robots.txt wins, at once.
	if err := os.WriteFile(filepath.Join(root, "robots.txt"), []byte("User-agent: *\nDisallow: /\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := r.get("robots.txt"); got != "User-agent: *\nDisallow: /\n" {
		t.Errorf("with a real robots.txt: %q", got)
	}
	// The metrics are never on a Gopher port.
	if got := r.get("GET /metrics HTTP/1.0\r\n"); strings.Contains(got, "gopherd_") {
		t.Errorf("metrics on the Gopher port")
	}
	if _, err := net.Dial("tcp", metricsAddr); err != nil {
		t.Errorf("metrics listener: %v", err)
	}
}
