package cgi

import (
	"net/netip"
	"sync"
)

// Slots counts the runs in progress, in all and per client address. The
// caps are the caller's at each acquire, so one Slots serves the gateways
// of successive configurations: after a reload, runs still going under the
// old one count against the new caps.
type Slots struct {
	mu    sync.Mutex
	total int
	perIP map[netip.Addr]int
}

// NewSlots returns an empty Slots.
func NewSlots() *Slots {
	return &Slots{perIP: make(map[netip.Addr]int)}
}

// acquire takes a slot for a run for client ip, unless that would pass max
// runs in all or perIP for ip. The zero ip (an unknown address) is one
// client.
func (s *Slots) acquire(ip netip.Addr, max, perIP int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.total >= max || s.perIP[ip] >= perIP {
		return false
	}
	s.total++
	s.perIP[ip]++
	return true
}

// release gives back a slot taken by acquire.
func (s *Slots) release(ip netip.Addr) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.total--
	if s.perIP[ip]--; s.perIP[ip] <= 0 {
		delete(s.perIP, ip)
	}
}

// InUse returns the number of runs in progress.
func (s *Slots) InUse() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.total
}
