// Package metrics counts what gopherd does and serves the counts in the
// Prometheus text format. It is fed by events: the server's (it implements
// server.Events) and the gateway's (GatewayRun). Every label value comes
// from a fixed list of the server's own words; anything else is counted
// as "other", so no label ever carries a client address, a selector or
// anything else a client chose.
package metrics

import (
	"fmt"
	"net/http"
	"runtime"
	"sync/atomic"
	"time"

	vm "github.com/VictoriaMetrics/metrics"
)

// Label values, by metric. The lists are closed: a value not in them is
// counted as other.
var (
	// servedKinds are what the access log's "served" says.
	servedKinds = []string{
		"menu", "file", "cgi", "search", "url", "caps", "robots", "http", "tls-required", "rate-limited", "none",
		"not-found", "not-allowed", "too-large", "timeout", "bad-request", "busy", "internal",
	}
	refusalReasons = []string{
		"max-connections", "max-connections-per-ip", "max-connections-per-prefix", "overload", "proxy-untrusted",
	}
	proxyResults = []string{"accepted", "local", "missing", "invalid", "too-long", "timeout", "truncated"}
	rateBudgets  = []string{"requests", "bytes"}
	// GatewayOutcomes are how a gateway run can end (see internal/cgi).
	gatewayOutcomes = []string{"ok", "failed", "timeout", "output-limit", "client-gone", "busy", "start-failed"}
)

// other is the label value of anything outside a metric's list.
const other = "other"

// durationBuckets are the request duration histogram's upper bounds, in
// seconds: from a cached menu to a large file over a slow link.
var durationBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300}

// Metrics holds gopherd's counters. Create it with New; it is safe for
// concurrent use. It survives configuration reloads: the daemon creates it
// once and hands it to every settings it builds.
type Metrics struct {
	set *vm.Set

	active        atomic.Int64
	opened        *vm.Counter
	refused       labeled
	requests      labeled
	bytes         *vm.Counter
	duration      *vm.PrometheusHistogram
	tlsOK, tlsBad *vm.Counter
	proxy         labeled
	rateLimited   labeled
	gateway       labeled
}

// labeled is one counter per value of a closed list, plus other.
type labeled map[string]*vm.Counter

func newLabeled(s *vm.Set, name, label string, values []string) labeled {
	l := labeled{}
	for _, v := range append(values, other) {
		l[v] = s.NewCounter(fmt.Sprintf(`%s{%s=%q}`, name, label, v))
	}
	return l
}

func (l labeled) inc(v string) {
	c, ok := l[v]
	if !ok {
		c = l[other]
	}
	c.Inc()
}

// New returns the metrics of a gopherd of the given version. The build
// information is a metric of its own.
func New(version string) *Metrics {
	// The library's one process-wide switch: TYPE lines, so that the
	// scraper knows counters, gauges and the histogram for what they are.
	// Every Set in the process wants them; setting it again is harmless.
	vm.ExposeMetadata(true)
	s := vm.NewSet()
	m := &Metrics{set: s}
	s.NewGauge(fmt.Sprintf(`gopherd_build_info{version=%q,goversion=%q}`, version, runtime.Version()),
		func() float64 { return 1 })
	s.NewGauge(`gopherd_connections_active`, func() float64 { return float64(m.active.Load()) })
	m.opened = s.NewCounter(`gopherd_connections_total`)
	m.refused = newLabeled(s, "gopherd_connections_refused_total", "reason", refusalReasons)
	m.requests = newLabeled(s, "gopherd_requests_total", "served", servedKinds)
	m.bytes = s.NewCounter(`gopherd_response_bytes_total`)
	m.duration = s.NewPrometheusHistogramExt(`gopherd_request_duration_seconds`, durationBuckets)
	m.tlsOK = s.NewCounter(`gopherd_tls_handshakes_total{result="ok"}`)
	m.tlsBad = s.NewCounter(`gopherd_tls_handshakes_total{result="failed"}`)
	m.proxy = newLabeled(s, "gopherd_proxy_headers_total", "result", proxyResults)
	m.rateLimited = newLabeled(s, "gopherd_rate_limited_total", "budget", rateBudgets)
	m.gateway = newLabeled(s, "gopherd_gateway_runs_total", "outcome", gatewayOutcomes)
	return m
}

// ConnectionOpened counts a connection admitted.
func (m *Metrics) ConnectionOpened() { m.opened.Inc(); m.active.Add(1) }

// ConnectionClosed counts a connection finished.
func (m *Metrics) ConnectionClosed() { m.active.Add(-1) }

// ConnectionRefused counts a connection turned away, by the cap that did.
func (m *Metrics) ConnectionRefused(reason string) { m.refused.inc(reason) }

// TLSHandshake counts a TLS handshake by its result.
func (m *Metrics) TLSHandshake(ok bool) {
	if ok {
		m.tlsOK.Inc()
	} else {
		m.tlsBad.Inc()
	}
}

// ProxyHeader counts a PROXY protocol header by its result.
func (m *Metrics) ProxyHeader(result string) { m.proxy.inc(result) }

// RateLimited counts a request refused by a rate budget.
func (m *Metrics) RateLimited(budget string) { m.rateLimited.inc(budget) }

// Request counts a request answered: by what it was served, its bytes and
// its duration.
func (m *Metrics) Request(served string, bytes int64, d time.Duration) {
	m.requests.inc(served)
	m.bytes.Add(int(bytes))
	m.duration.Update(d.Seconds())
}

// GatewayRun counts a gateway run by how it ended.
func (m *Metrics) GatewayRun(outcome string) { m.gateway.inc(outcome) }

// Handler serves the metrics at GET (and HEAD) /metrics, in the
// Prometheus text format (version 0.0.4).
func (m *Metrics) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		m.set.WritePrometheus(w)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "gopherd serves its metrics at /metrics", http.StatusNotFound)
	})
	return mux
}

// Server returns the HTTP server for Handler, with timeouts that keep a
// slow or silent scraper from holding a connection.
func (m *Metrics) Server() *http.Server {
	return &http.Server{
		Handler:           m.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      10 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    8 << 10,
	}
}
