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
	return []byte(b.String())
}
