// Socket activation and sd_notify speak to systemd, which exists only on
// Linux; systemd_other.go says so on every other system.

package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"syscall"
	"time"

	"github.com/coreos/go-systemd/v22/activation"
	sd "github.com/coreos/go-systemd/v22/daemon"
	"go.uber.org/zap"
)

// inheritedListeners returns the sockets passed by systemd socket activation
// (LISTEN_FDS), or nil when there are none: the Gopher listeners, and the
// metrics listener when one socket is named metricsSocketName
// (FileDescriptorName=metrics). Every inherited socket must be a listening
// TCP socket: with Accept=yes systemd hands over a connected socket
// instead, which gopherd cannot serve, so that is an error.
func inheritedListeners() (lns []net.Listener, metricsLn net.Listener, err error) {
	files := activation.Files(true)
	if len(files) == 0 {
		return nil, nil, nil
	}
	fail := func(err error) ([]net.Listener, net.Listener, error) {
		closeAll(lns)
		if metricsLn != nil {
			_ = metricsLn.Close()
		}
		for _, f := range files {
			_ = f.Close()
		}
		return nil, nil, err
	}
	for _, f := range files {
		if err := checkListeningTCP(f); err != nil {
			return fail(fmt.Errorf("inherited socket %s (fd %d): %w", f.Name(), f.Fd(), err))
		}
		ln, err := net.FileListener(f)
		if err != nil {
			return fail(fmt.Errorf("inherited socket %s: %w", f.Name(), err))
		}
		if f.Name() == metricsSocketName && metricsLn == nil {
			metricsLn = ln
			continue
		}
		lns = append(lns, ln)
	}
	for _, f := range files {
		_ = f.Close() // net.FileListener holds its own duplicate
	}
	if len(lns) == 0 {
		return fail(fmt.Errorf("only a %q socket was passed: no Gopher socket to serve", metricsSocketName))
	}
	return lns, metricsLn, nil
}

func checkListeningTCP(f *os.File) error {
	fd := int(f.Fd())
	typ, err := syscall.GetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_TYPE)
	if err != nil {
		return fmt.Errorf("not a socket: %w", err)
	}
	if typ != syscall.SOCK_STREAM {
		return fmt.Errorf("not a stream socket (SO_TYPE %d); use ListenStream=", typ)
	}
	domain, err := syscall.GetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_DOMAIN)
	if err != nil {
		return fmt.Errorf("reading socket domain: %w", err)
	}
	if domain != syscall.AF_INET && domain != syscall.AF_INET6 {
		return fmt.Errorf("not a TCP socket (address family %d)", domain)
	}
	accepting, err := syscall.GetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_ACCEPTCONN)
	if err != nil {
		return fmt.Errorf("reading SO_ACCEPTCONN: %w", err)
	}
	if accepting == 0 {
		return fmt.Errorf("not a listening socket: the socket unit must use Accept=no")
	}
	return nil
}

// notifier speaks the sd_notify protocol. Without NOTIFY_SOCKET every call is
// silently a no-op (go-systemd's SdNotify returns false, nil).
type notifier struct {
	logger *zap.Logger
}

func (n notifier) send(state string) {
	if _, err := sd.SdNotify(false, state); err != nil {
		n.logger.Warn("sd_notify failed", zap.Error(err))
	}
}

func (n notifier) ready(status string) {
	n.send(sd.SdNotifyReady + "\nSTATUS=" + status)
}

func (n notifier) reloading() {
	n.send(sd.SdNotifyReloading + "\n" + sd.SdNotifyMonotonicUsec())
}

func (n notifier) stopping() {
	n.send(sd.SdNotifyStopping + "\nSTATUS=Finishing transfers in flight")
}

// watchdog pings the service manager at half the WATCHDOG_USEC interval
// until ctx is done. Without a watchdog configured it returns at once.
func (n notifier) watchdog(ctx context.Context) {
	interval, err := sd.SdWatchdogEnabled(false)
	if err != nil {
		n.logger.Warn("watchdog settings unreadable", zap.Error(err))
		return
	}
	if interval <= 0 {
		return
	}
	t := time.NewTicker(interval / 2)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			n.send(sd.SdNotifyWatchdog)
		}
	}
}
