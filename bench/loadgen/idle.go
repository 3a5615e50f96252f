package main

import (
	"context"
	"errors"
	"net"
	"sync"
	"syscall"
	"time"
)

// maxSpread is how many distinct source addresses sourceAddr can produce.
const maxSpread = 250 * 250

// idleDialers is how many idle connections are opened at once: enough to open
// 10 000 in well under a second, few enough not to overflow a listen backlog.
const idleDialers = 16

// idleSet holds connections that never send anything.
type idleSet struct {
	conns []net.Conn
	errs  map[string]uint64
}

// sourceAddr returns the k-th source address of the spread: 127.77.x.y with y
// never 0 or 255, so every address is an ordinary host address on lo.
func sourceAddr(k int) *net.TCPAddr {
	return &net.TCPAddr{IP: net.IPv4(127, 77, byte(k/250), byte(k%250+1))}
}

// openIdle opens n connections to addr, spread over spread source addresses
// when spread > 0. The whole phase is bounded by timeout.
func openIdle(addr string, n, spread int, timeout time.Duration) *idleSet {
	// One deadline for the whole phase, so a server that stops accepting
	// cannot stall the run for n × timeout.
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	set := &idleSet{errs: map[string]uint64{}}
	var mu sync.Mutex
	next := make(chan int)
	var wg sync.WaitGroup
	for range idleDialers {
		wg.Go(func() {
			for i := range next {
				d := net.Dialer{}
				if spread > 0 {
					d.LocalAddr = sourceAddr(i % spread)
				}
				c, err := d.DialContext(ctx, "tcp", addr)
				mu.Lock()
				if err != nil {
					set.errs[classify(kindDial, err)]++
				} else {
					set.conns = append(set.conns, c)
				}
				mu.Unlock()
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	return set
}

// countDropped reports how many held connections the server has closed, reset
// or written to, without blocking: a non-blocking MSG_PEEK sees EOF, an error
// or data where a live idle connection would give EAGAIN.
func (s *idleSet) countDropped() int {
	dropped := 0
	var buf [1]byte
	for _, c := range s.conns {
		sc, ok := c.(syscall.Conn)
		if !ok {
			continue
		}
		rc, err := sc.SyscallConn()
		if err != nil {
			dropped++
			continue
		}
		alive := false
		cerr := rc.Read(func(fd uintptr) bool {
			_, _, rerr := syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
			alive = errors.Is(rerr, syscall.EAGAIN)
			return true // never wait for readiness: one probe is the answer
		})
		if cerr != nil || !alive {
			dropped++
		}
	}
	return dropped
}

func (s *idleSet) close() {
	for _, c := range s.conns {
		c.Close()
	}
}
