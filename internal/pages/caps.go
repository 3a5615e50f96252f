package pages

import (
	"fmt"
	"strings"
)

// CapsSelector is where clients such as Overbite and lynx look for the
// Gopher capabilities file; "caps.txt" without the slash is the same to
// the router.
const CapsSelector = "/caps.txt"

// Caps describes the server for the generated caps.txt.
type Caps struct {
	// Version is the server version.
	Version string
	// TLSPort is announced as ServerTLSPort; 0 leaves it out.
	TLSPort int
	// Admin, Description and Geolocation are announced as ServerAdmin,
	// ServerDescription and ServerGeolocationString; empty ones are left
	// out. Each must be one line (the configuration checks it).
	Admin       string
	Description string
	Geolocation string
}

// Bytes renders the caps.txt document.
func (c Caps) Bytes() []byte {
	var b strings.Builder
	b.WriteString("CAPS\n\nCapsVersion=1\nExpireCapsAfter=3600\n\n")
	b.WriteString("PathDelimeter=/\nPathIdentity=.\nPathParent=..\nPathParentDouble=FALSE\nPathKeepPreDelimeter=FALSE\n\n")
	fmt.Fprintf(&b, "ServerSoftware=gopherd\nServerVersion=%s\nServerSoftwareVersion=%s\n", c.Version, c.Version)
	b.WriteString("ServerDefaultEncoding=utf-8\n")
	if c.TLSPort != 0 {
		fmt.Fprintf(&b, "ServerTLSPort=%d\n", c.TLSPort)
	}
	for _, kv := range [][2]string{{"ServerAdmin", c.Admin}, {"ServerDescription", c.Description},
		{"ServerGeolocationString", c.Geolocation}} {
		if v := oneLine(kv[1]); v != "" {
			fmt.Fprintf(&b, "%s=%s\n", kv[0], v)
		}
	}
	return []byte(b.String())
}

// oneLine keeps a value from adding lines of its own to caps.txt, should a
// caller pass one unchecked.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' {
			return ' '
		}
		return r
	}, strings.TrimSpace(s))
}
