//go:build !linux

package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"runtime"

	"go.uber.org/zap"
)

// Socket activation and sd_notify are systemd's, and systemd runs only on
// Linux. Elsewhere gopherd binds the "listen" addresses itself. The
// variables systemd would set are checked anyway, so that a service manager
// that imitates systemd (or a unit copied over) gets a plain answer instead
// of being ignored in silence. go-systemd's daemon package does not even
// build on NetBSD, so nothing of it is imported here.

// inheritedListeners refuses LISTEN_FDS: handing sockets over is not
// supported on this system.
func inheritedListeners() ([]net.Listener, net.Listener, error) {
	if os.Getenv("LISTEN_FDS") == "" {
		return nil, nil, nil
	}
	return nil, nil, fmt.Errorf("LISTEN_FDS is set, but socket activation is supported on Linux only (this is %s): "+
		"let gopherd bind the addresses in \"listen\" itself", runtime.GOOS)
}

// notifier stands in for the sd_notify client and sends nothing. When the
// environment asks for notifications, each READY (start and every reload)
// logs that they are Linux-only.
type notifier struct {
	logger *zap.Logger
}

func (n notifier) ready(string) {
	if os.Getenv("NOTIFY_SOCKET") == "" && os.Getenv("WATCHDOG_USEC") == "" {
		return
	}
	n.logger.Warn("NOTIFY_SOCKET or WATCHDOG_USEC is set, but sd_notify is supported on Linux only: no readiness or watchdog notifications are sent",
		zap.String("os", runtime.GOOS))
}

func (n notifier) reloading()               {}
func (n notifier) stopping()                {}
func (n notifier) watchdog(context.Context) {}
