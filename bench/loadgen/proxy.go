package main

import (
	"encoding/binary"
	"net"
	"strconv"
)

// proxySigV2 opens every PROXY protocol v2 header.
var proxySigV2 = []byte("\r\n\r\n\x00\r\nQUIT\n")

// appendProxyHeader appends a PROXY protocol header (version "v1" or
// "v2") for a TCP connection from src to dst, as a load balancer sends
// it: the client is src.
func appendProxyHeader(b []byte, version string, src, dst net.Addr) []byte {
	s, _ := src.(*net.TCPAddr)
	d, _ := dst.(*net.TCPAddr)
	if s == nil || d == nil {
		if version == "v1" {
			return append(b, "PROXY UNKNOWN\r\n"...)
		}
		return append(append(b, proxySigV2...), 0x20, 0x00, 0, 0)
	}
	s4, d4 := s.IP.To4(), d.IP.To4()
	if version == "v1" {
		fam := "TCP6"
		if s4 != nil && d4 != nil {
			fam = "TCP4"
		}
		b = append(b, "PROXY "+fam+" "+s.IP.String()+" "+d.IP.String()+" "...)
		b = strconv.AppendInt(b, int64(s.Port), 10)
		b = append(b, ' ')
		b = strconv.AppendInt(b, int64(d.Port), 10)
		return append(b, "\r\n"...)
	}
	b = append(b, proxySigV2...)
	if s4 != nil && d4 != nil {
		b = append(b, 0x21, 0x11, 0, 12)
		b = append(b, s4...)
		b = append(b, d4...)
	} else {
		b = append(b, 0x21, 0x21, 0, 36)
		b = append(b, s.IP.To16()...)
		b = append(b, d.IP.To16()...)
	}
	b = binary.BigEndian.AppendUint16(b, uint16(s.Port))
	return binary.BigEndian.AppendUint16(b, uint16(d.Port))
}
