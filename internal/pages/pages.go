// Package pages holds the responses gopherd writes itself instead of reading
// them from the served tree: the HTML redirect page for URL: selectors and
// generated text documents such as caps.txt, which a real file of the same
// name in the tree replaces. Each is a gopher.Handler the daemon registers on
// its router beside the file tree.
package pages

import (
	"context"
	"html"
	"strings"

	"gopherd/internal/gopher"
)

// URLPrefix starts John Goerzen's URL: selectors: links to resources that
// are not on Gopher, which a client without native support requests from
// the server to get a redirect page. Some clients prepend a slash; the
// router's canonical form ("/URL:…") covers both.
const URLPrefix = "URL:"

// allowedSchemes are the URL schemes a redirect page may point to. Anything
// else (javascript:, data:, file:, vbscript: …) gets an error item: a
// redirect page is HTML that a browser renders, and both pygopherd and
// Gophernicus shipped cross-site scripting through it.
var allowedSchemes = map[string]bool{
	"http": true, "https": true, "gopher": true, "gophers": true,
	"gemini": true, "mailto": true, "ftp": true, "irc": true,
}

// URLTarget returns the URL of a URL: selector ("/URL:" too), or ok false
// when sel is not one.
func URLTarget(sel string) (string, bool) {
	sel = strings.TrimPrefix(sel, "/")
	if !strings.HasPrefix(sel, URLPrefix) {
		return "", false
	}
	return sel[len(URLPrefix):], true
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

// URLRedirect answers URL: selectors with a small HTML page that redirects
// to the URL. The URL is escaped for HTML text and double-quoted attribute
// context (html.EscapeString covers < > & ' "), and otherwise kept
// byte-exact. A selector that is not a URL: selector, or names a scheme
// outside the allow-list, gets a not-allowed error item.
type URLRedirect struct{}

// ServeGopher writes the redirect page for r's URL.
func (URLRedirect) ServeGopher(_ context.Context, w gopher.ResponseWriter, r *gopher.Request) {
	target, ok := URLTarget(r.Selector)
	if !ok || !safeURL(target) {
		_ = gopher.WriteError(w, r, gopher.NotAllowed)
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
	gopher.Served(w, "url")
	_, _ = w.Write([]byte(page))
}

// Tree is the part of the file tree a generated document defers to.
type Tree interface {
	gopher.Handler
	// IsFile reports whether sel names a regular file the tree would
	// serve.
	IsFile(sel string) bool
}

// Document serves Body, a text document the server generates, unless Tree
// holds a regular file at the requested selector: a real file always wins,
// checked on every request so that adding or removing one takes effect at
// once.
type Document struct {
	Body []byte
	// Served is what the access log says the generated document was
	// ("caps", "robots").
	Served string
	// Tree, when set, is asked first.
	Tree Tree
}

// ServeGopher serves the tree's file or the generated body.
func (d *Document) ServeGopher(ctx context.Context, w gopher.ResponseWriter, r *gopher.Request) {
	if d.Tree != nil && d.Tree.IsFile(r.Selector) {
		d.Tree.ServeGopher(ctx, w, r)
		return
	}
	gopher.Served(w, d.Served)
	_, _ = w.Write(d.Body)
}
