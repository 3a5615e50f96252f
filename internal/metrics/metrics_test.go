package metrics

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// sample is one line of the exposition format.
type sample struct {
	name   string
	labels map[string]string
	value  float64
}

var (
	sampleRE = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? ([-+0-9.eE]+|NaN|[+-]Inf)$`)
	labelRE  = regexp.MustCompile(`^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"$`)
	typeRE   = regexp.MustCompile(`^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$`)
)

// parse reads the Prometheus text format strictly: every line is a TYPE or
// HELP comment or a sample, every sample's family has a TYPE, and a
// series appears once.
func parse(t *testing.T, r io.Reader) (map[string]sample, map[string]string) {
	t.Helper()
	samples, types := map[string]sample{}, map[string]string{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "# TYPE "):
			m := typeRE.FindStringSubmatch(line)
			if m == nil {
				t.Fatalf("bad TYPE line %q", line)
			}
			types[m[1]] = m[2]
			continue
		case strings.HasPrefix(line, "# HELP "), line == "":
			continue
		case strings.HasPrefix(line, "#"):
			t.Fatalf("unexpected comment %q", line)
		}
		m := sampleRE.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("not a sample line: %q", line)
		}
		s := sample{name: m[1], labels: map[string]string{}}
		if m[3] != "" {
			for _, kv := range splitLabels(m[3]) {
				lm := labelRE.FindStringSubmatch(kv)
				if lm == nil {
					t.Fatalf("bad label %q in %q", kv, line)
				}
				s.labels[lm[1]] = lm[2]
			}
		}
		v, err := strconv.ParseFloat(m[4], 64)
		if err != nil {
			t.Fatalf("bad value in %q", line)
		}
		s.value = v
		family := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(s.name, "_bucket"), "_sum"), "_count")
		if types[s.name] == "" && types[family] == "" {
			t.Errorf("%s has no TYPE", s.name)
		}
		key := m[1] + "{" + m[3] + "}"
		if _, dup := samples[key]; dup {
			t.Errorf("series %s appears twice", key)
		}
		samples[key] = s
	}
	return samples, types
}

// splitLabels splits a{...} contents at the commas between labels.
func splitLabels(s string) []string {
	var out []string
	quoted, start := false, 0
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\\':
			i++
		case s[i] == '"':
			quoted = !quoted
		case s[i] == ',' && !quoted:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

func scrape(t *testing.T, m *Metrics) (string, map[string]sample, map[string]string) {
	t.Helper()
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain; version=0.0.4") {
		t.Fatalf("GET /metrics: %s, %s", resp.Status, resp.Header.Get("Content-Type"))
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	samples, types := parse(t, strings.NewReader(string(body)))
	return string(body), samples, types
}

func TestMetrics(t *testing.T) {
	m := New("1.2.3")
	_, before, _ := scrape(t, m)
	if v := before[`gopherd_requests_total{served="menu"}`].value; v != 0 {
		t.Errorf("requests before: %v", v)
	}

	for range 3 {
		m.ConnectionOpened()
	}
	m.ConnectionClosed()
	m.Request("menu", 100, 3*time.Millisecond)
	m.Request("file", 5000, 2*time.Second)
	m.Request("not-found", 50, time.Millisecond)
	// Words no handler of gopherd uses, such as a client could choose:
	// counted, but never as a label.
	m.Request("/secret/selector", 1, time.Millisecond)
	m.Request("192.0.2.77", 1, time.Millisecond)
	m.ConnectionRefused("max-connections-per-ip")
	m.ConnectionRefused("203.0.113.9")
	m.TLSHandshake(true)
	m.TLSHandshake(false)
	m.ProxyHeader("accepted")
	m.ProxyHeader("timeout")
	m.RateLimited("requests")
	m.GatewayRun("ok")
	m.GatewayRun("timeout")

	body, s, types := scrape(t, m)
	for key, want := range map[string]float64{
		`gopherd_connections_total{}`:                                        3,
		`gopherd_connections_active{}`:                                       2,
		`gopherd_requests_total{served="menu"}`:                              1,
		`gopherd_requests_total{served="file"}`:                              1,
		`gopherd_requests_total{served="not-found"}`:                         1,
		`gopherd_requests_total{served="other"}`:                             2,
		`gopherd_response_bytes_total{}`:                                     5152,
		`gopherd_connections_refused_total{reason="max-connections-per-ip"}`: 1,
		`gopherd_connections_refused_total{reason="other"}`:                  1,
		`gopherd_tls_handshakes_total{result="ok"}`:                          1,
		`gopherd_tls_handshakes_total{result="failed"}`:                      1,
		`gopherd_proxy_headers_total{result="accepted"}`:                     1,
		`gopherd_proxy_headers_total{result="timeout"}`:                      1,
		`gopherd_rate_limited_total{budget="requests"}`:                      1,
		`gopherd_rate_limited_total{budget="bytes"}`:                         0,
		`gopherd_gateway_runs_total{outcome="ok"}`:                           1,
		`gopherd_gateway_runs_total{outcome="timeout"}`:                      1,
		`gopherd_request_duration_seconds_count{}`:                           5,
		`gopherd_request_duration_seconds_bucket{le="0.005"}`:                4,
		`gopherd_request_duration_seconds_bucket{le="+Inf"}`:                 5,
	} {
		got, ok := s[key]
		if !ok {
			t.Errorf("no series %s", key)
			continue
		}
		if got.value != want {
			t.Errorf("%s = %v, want %v", key, got.value, want)
		}
	}
	bi := s[fmt.Sprintf(`gopherd_build_info{version="1.2.3",goversion=%q}`, runtime.Version())]
	if bi.value != 1 {
		t.Errorf("build info missing:\n%s", body)
	}
	for name, typ := range map[string]string{"gopherd_requests_total": "counter", "gopherd_connections_active": "gauge",
		"gopherd_request_duration_seconds": "histogram"} {
		if types[name] != typ {
			t.Errorf("TYPE of %s = %q, want %s", name, types[name], typ)
		}
	}
	for _, leak := range []string{"secret", "192.0.2.77", "203.0.113.9", "/"} {
		for key, smp := range s {
			for _, v := range smp.labels {
				if strings.Contains(v, leak) {
					t.Errorf("label of %s carries %q", key, leak)
				}
			}
		}
	}
}
