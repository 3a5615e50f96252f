package main

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"

	"go.uber.org/zap"

	"gopherd/internal/config"
	"gopherd/internal/metrics"
	"gopherd/internal/rate"
	"gopherd/internal/server"
)

// metricsSocketName is the FileDescriptorName= of a socket unit's socket
// that serves the metrics under socket activation.
const metricsSocketName = "metrics"

// startMetrics binds (or takes from systemd) the metrics listener and
// serves it. Under socket activation a socket named metricsSocketName is
// the listener; without one, metrics.listen is bound here, before the
// privilege drop, like every listener of a process that binds its own.
func (d *daemon) startMetrics(inherited net.Listener) error {
	c := d.cfg.Metrics
	if c == nil && inherited == nil {
		return nil
	}
	ln := inherited
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", c.Listen); err != nil {
			if d.activated {
				return fmt.Errorf("metrics: cannot listen (under socket activation, pass a socket named %q instead: see gopherd(8)): %w", metricsSocketName, err)
			}
			return fmt.Errorf("metrics: cannot listen: %w", err)
		}
	}
	d.metricsLn = ln
	d.metricsSrv = d.metrics.Server()
	d.metricsSrv.ErrorLog = zap.NewStdLog(d.logger.Named("metrics"))
	go func() {
		if err := d.metricsSrv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			d.logger.Error("metrics listener failed", zap.Error(err))
		}
	}()
	d.logger.Info("serving metrics", zap.String("listen", "http://"+ln.Addr().String()+"/metrics"))
	return nil
}

// stopMetrics closes the metrics listener and its connections.
func (d *daemon) stopMetrics() {
	if d.metricsSrv != nil {
		_ = d.metricsSrv.Close()
	}
}

// events is what the server reports to: the metrics, when there are any.
func (d *daemon) events() server.Events {
	if d.metrics == nil {
		return nil
	}
	return d.metrics
}

// rateLimiter returns the limiter for c's rate budgets: the running one
// when the budgets did not change (a reload keeps what clients have
// spent), a new one when they did, nil without budgets.
func (d *daemon) rateLimiter(c *config.Config) *rate.Limiter {
	r := c.Limits.Rate
	if r == nil {
		return nil
	}
	l := rate.New(rate.Config{
		Requests: r.Requests.Amount, Per: r.Requests.Per, Burst: int64(r.Burst),
		Bytes: r.Bytes.Amount, BytesPer: r.Bytes.Per,
		IPv4Bits: r.IPv4Prefix, IPv6Bits: r.IPv6Prefix,
		Exempt: r.Exempt, MaxTracked: r.MaxTracked,
	})
	if d.rate != nil && sameRate(d.rate.Config(), l.Config()) {
		return d.rate
	}
	return l
}

func sameRate(a, b rate.Config) bool {
	return slices.Equal(a.Exempt, b.Exempt) && a.Requests == b.Requests && a.Per == b.Per && a.Burst == b.Burst &&
		a.Bytes == b.Bytes && a.BytesPer == b.BytesPer && a.IPv4Bits == b.IPv4Bits && a.IPv6Bits == b.IPv6Bits &&
		a.MaxTracked == b.MaxTracked
}

// proxyOptions is a listen entry's PROXY protocol setting for the server.
func proxyOptions(l config.Listen) *server.ProxyProtocol {
	if l.Proxy == nil {
		return nil
	}
	return &server.ProxyProtocol{Trusted: l.Proxy.Trusted}
}

// newMetrics returns the metrics of a daemon whose configuration asks for
// them (or whose socket units pass a metrics socket), else nil.
func newMetrics(c *config.Config, inherited bool, version string) *metrics.Metrics {
	if c.Metrics == nil && !inherited {
		return nil
	}
	return metrics.New(version)
}
