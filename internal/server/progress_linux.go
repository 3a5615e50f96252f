//go:build linux

package server

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// sendProgress reports, for the TCP socket behind rc, how many bytes the
// client has acknowledged since the connection began (tcpi_bytes_acked)
// and how many bytes written to the socket it has not acknowledged yet
// (SIOCOUTQ: sent and unsent). An acknowledgement means the client's
// kernel took the data; once its receive buffer is full because the
// program stopped reading, acknowledgements stop. ok is false when the
// kernel cannot tell: before Linux 4.1 tcpi_bytes_acked and
// tcpi_bytes_received stay zero, and a connection that has read a request
// has received at least its bytes.
func sendProgress(rc syscall.RawConn) (acked uint64, unacked int, ok bool) {
	var info *unix.TCPInfo
	var infoErr, outqErr error
	err := rc.Control(func(fd uintptr) {
		info, infoErr = unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO)
		if infoErr == nil {
			unacked, outqErr = unix.IoctlGetInt(int(fd), unix.SIOCOUTQ)
		}
	})
	if err != nil || infoErr != nil || outqErr != nil || info.Bytes_received == 0 {
		return 0, 0, false
	}
	return info.Bytes_acked, unacked, true
}
