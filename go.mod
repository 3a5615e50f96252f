module gopherd

go 1.26.0

require (
	github.com/coreos/go-systemd/v22 v22.7.0
	github.com/spf13/pflag v1.0.10
	go.uber.org/zap v1.28.0
	golang.org/x/sys v0.49.0
)

require (
	github.com/VictoriaMetrics/metrics v1.45.0 // indirect
	github.com/pires/go-proxyproto v0.15.0 // indirect
	github.com/valyala/fastrand v1.1.0 // indirect
	github.com/valyala/histogram v1.2.0 // indirect
	go.uber.org/multierr v1.10.0 // indirect
)
