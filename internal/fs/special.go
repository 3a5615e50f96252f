package fs

import (
	"fmt"
	"html"
	"strings"

	"gopherd/internal/gopher"
)

// urlPrefix starts John Goerzen's URL: selectors: links to resources that
// are not on Gopher, which a client without native support requests from
// the server to get a redirect page.
const urlPrefix = "URL:"

// allowedSchemes are the URL schemes a redirect page may point to. Anything
// else (javascript:, data:, file:, vbscript: …) gets an error item: a
// redirect page is HTML that a browser renders, and both pygopherd and
// Gophernicus shipped cross-site scripting through it.
var allowedSchemes = map[string]bool{
	"http": true, "https": true, "gopher": true, "gophers": true,
	"gemini": true, "mailto": true, "ftp": true, "irc": true,
}

// urlTarget returns the URL of a URL: selector ("/URL:" too: some clients
// prepend a slash), or ok false when sel is not one.
func urlTarget(sel string) (string, bool) {
	sel = strings.TrimPrefix(sel, "/")
	if !strings.HasPrefix(sel, urlPrefix) {
		return "", false
	}
	return sel[len(urlPrefix):], true
}

// safeURL reports whether u may be put into a redirect page: an allowed
// scheme and no control characters or spaces (which no valid URL holds and
// which browsers strip in surprising ways).
func safeURL(u string) bool {
	scheme, rest, ok := strings.Cut(u, ":")
	if !ok || rest == "" || !allowedSchemes[strings.ToLower(scheme)] {
		return false
	}
	for i := 0; i < len(u); i++ {
		if c := u[i]; c <= ' ' || c == 0x7f {
			return false
		}
	}
	return true
}

// serveURL answers a URL: selector with a small HTML page that redirects to
// the URL. The URL is escaped for HTML text and double-quoted attribute
// context (html.EscapeString covers < > & ' "), and otherwise kept
// byte-exact.
func (h *Handler) serveURL(w gopher.ResponseWriter, r *gopher.Request, target string) {
	if !safeURL(target) {
		h.log.Debug("refusing URL: selector", quotedPath(r.Selector))
		h.writeError(w, r, gopher.NotAllowed)
		return
	}
	e := html.EscapeString(target)
	page := `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="refresh" content="1;url=` + e + `">
<title>Redirecting to ` + e + `</title>
</head>
<body>
<p>This Gopher link points to a resource outside Gopher:</p>
<p><a href="` + e + `">` + e + `</a></p>
<p>You will be redirected there in a moment.</p>
</body>
</html>
`
	w.Served("url")
	if _, err := w.Write([]byte(page)); err != nil {
		h.clientGone(r.Selector, err)
	}
}

// capsName is the Gopher capabilities file clients such as Overbite and
// lynx may ask for.
const capsName = "caps.txt"

// isCaps reports whether sel asks for the root's caps.txt.
func isCaps(sel string) bool {
	return sel == capsName || sel == "/"+capsName
}

// caps renders the generated caps.txt, served when the root has none.
func (h *Handler) caps() []byte {
	var b strings.Builder
	b.WriteString("CAPS\n\nCapsVersion=1\nExpireCapsAfter=3600\n\n")
	b.WriteString("PathDelimeter=/\nPathIdentity=.\nPathParent=..\nPathParentDouble=FALSE\nPathKeepPreDelimeter=FALSE\n\n")
	fmt.Fprintf(&b, "ServerSoftware=gopherd\nServerVersion=%s\nServerSoftwareVersion=%s\n", h.version, h.version)
	b.WriteString("ServerDefaultEncoding=utf-8\n")
	if h.tlsPort != 0 {
		fmt.Fprintf(&b, "ServerTLSPort=%d\n", h.tlsPort)
	}
	return []byte(b.String())
}

// serveCaps serves the root's own caps.txt when there is one, else the
// generated one.
func (h *Handler) serveCaps(w gopher.ResponseWriter, r *gopher.Request) {
	if fi, err := h.root.Stat(capsName); err == nil && fi.Mode().IsRegular() {
		h.serveFile(w, r, capsName)
		return
	}
	w.Served("caps")
	if _, err := w.Write(h.caps()); err != nil {
		h.clientGone(capsName, err)
	}
}
