package e2e

import (
	"net"
	"time"

	"golang.org/x/sys/unix"
)

// endOf waits, without reading, until the server has ended c (a FIN or a
// reset arrived: the socket left ESTABLISHED), at most limit, and returns
// how long that took.
func endOf(c *net.TCPConn, limit time.Duration) time.Duration {
	start := time.Now()
	rc, err := c.SyscallConn()
	if err != nil {
		return 0
	}
	for time.Since(start) < limit {
		state := uint8(unix.BPF_TCP_ESTABLISHED)
		_ = rc.Control(func(fd uintptr) {
			if info, err := unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO); err == nil {
				state = info.State
			}
		})
		if state != unix.BPF_TCP_ESTABLISHED {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	return time.Since(start)
}
