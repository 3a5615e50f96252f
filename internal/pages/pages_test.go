package pages

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"gopherd/internal/gopher"
)

// recorder is a gopher.ResponseWriter that keeps the response and what it
// was recorded as.
type recorder struct {
	bytes.Buffer
	served string
}

func (r *recorder) Served(what string) { r.served = what }

func serve(h gopher.Handler, sel string) *recorder {
	rec := &recorder{}
	h.ServeGopher(context.Background(), rec, &gopher.Request{Selector: sel, Host: "localhost", Port: 70})
	return rec
}

func TestURLRedirectPage(t *testing.T) {
	for _, sel := range []string{"URL:https://example.org/a?b=1&c=2", "/URL:https://example.org/a?b=1&c=2"} {
		rec := serve(URLRedirect{}, sel)
		page := rec.String()
		if rec.served != "url" {
			t.Fatalf("%s: served %q", sel, rec.served)
		}
		for _, want := range []string{
			`content="1;url=https://example.org/a?b=1&amp;c=2"`,
			`<a href="https://example.org/a?b=1&amp;c=2">https://example.org/a?b=1&amp;c=2</a>`,
		} {
			if !strings.Contains(page, want) {
				t.Errorf("%s: page lacks %s:\n%s", sel, want, page)
			}
		}
	}
}

// TestURLRedirectEscaping puts every HTML-significant character into the URL
// and checks that none reaches the page raw.
func TestURLRedirectEscaping(t *testing.T) {
	page := serve(URLRedirect{}, `URL:http://x/"><script>alert('&')</script>`).String()
	if strings.Contains(page, "<script>") || strings.Contains(page, `"><`) || strings.Contains(page, "'&'") {
		t.Fatalf("unescaped URL in page:\n%s", page)
	}
	want := `http://x/&#34;&gt;&lt;script&gt;alert(&#39;&amp;&#39;)&lt;/script&gt;`
	if strings.Count(page, want) != 4 {
		t.Fatalf("want the escaped URL 4 times (refresh, title, href, text):\n%s", page)
	}
}

func TestURLRedirectSchemes(t *testing.T) {
	for _, tt := range []struct {
		url string
		ok  bool
	}{
		{"http://a", true}, {"HTTPS://a", true}, {"gopher://a", true}, {"gophers://a", true},
		{"gemini://a", true}, {"mailto:me@example.org", true}, {"ftp://a", true}, {"irc://a", true},
		{"javascript:alert(1)", false}, {"JavaScript:alert(1)", false}, {"data:text/html,x", false},
		{"vbscript:x", false}, {"file:///etc/passwd", false}, {" javascript:x", false},
		{"http:", false}, {"nocolon", false}, {"http://a b", false}, {"http://a\x01", false},
	} {
		rec := serve(URLRedirect{}, "URL:"+tt.url)
		if got := rec.served == "url"; got != tt.ok {
			t.Errorf("%q: page served = %v, want %v (%q)", tt.url, got, tt.ok, rec.String())
		}
		if !tt.ok && rec.served != gopher.NotAllowed.String() {
			t.Errorf("%q: served %q, want not-allowed", tt.url, rec.served)
		}
	}
	if rec := serve(URLRedirect{}, "/not-a-url"); rec.served != gopher.NotAllowed.String() {
		t.Errorf("non-URL selector: served %q", rec.served)
	}
}

func TestCaps(t *testing.T) {
	caps := string(Caps{Version: "1.2.3", TLSPort: 7443}.Bytes())
	for _, want := range []string{"CAPS\n", "ServerSoftware=gopherd\n", "ServerVersion=1.2.3\n", "ServerDefaultEncoding=utf-8\n", "PathDelimeter=/\n", "ServerTLSPort=7443\n"} {
		if !strings.Contains(caps, want) {
			t.Errorf("caps.txt lacks %q:\n%s", want, caps)
		}
	}
	if strings.Contains(string(Caps{Version: "1"}.Bytes()), "ServerTLSPort") {
		t.Error("ServerTLSPort announced without TLS")
	}
}

// fakeTree has one regular file.
type fakeTree struct{ file string }

func (f fakeTree) IsFile(sel string) bool { return gopher.CanonicalSelector(sel) == f.file }
func (f fakeTree) ServeGopher(_ context.Context, w gopher.ResponseWriter, _ *gopher.Request) {
	gopher.Served(w, "file")
	_, _ = w.Write([]byte("the real file"))
}

func TestDocumentRealFileWins(t *testing.T) {
	d := &Document{Body: []byte("generated"), Served: "caps", Tree: fakeTree{file: "/other.txt"}}
	if rec := serve(d, "caps.txt"); rec.String() != "generated" || rec.served != "caps" {
		t.Errorf("without a real file: %q (%s)", rec.String(), rec.served)
	}
	d.Tree = fakeTree{file: "/caps.txt"}
	if rec := serve(d, "caps.txt"); rec.String() != "the real file" || rec.served != "file" {
		t.Errorf("with a real file: %q (%s)", rec.String(), rec.served)
	}
}

func TestCapsServerKeys(t *testing.T) {
	caps := string(Caps{Version: "1", Admin: "Jane <jane@example.org>", Description: "A hole\nServerTLSPort=1",
		Geolocation: "Berlin, Germany"}.Bytes())
	for _, want := range []string{"\nServerAdmin=Jane <jane@example.org>\n", "\nServerDescription=A hole ServerTLSPort=1\n",
		"\nServerGeolocationString=Berlin, Germany\n"} {
		if !strings.Contains(caps, want) {
			t.Errorf("caps.txt lacks %q:\n%s", want, caps)
		}
	}
	if s := string(Caps{Version: "1"}.Bytes()); strings.Contains(s, "ServerAdmin") || strings.Contains(s, "ServerDescription") ||
		strings.Contains(s, "ServerGeolocationString") {
		t.Errorf("unset keys announced:\n%s", s)
	}
}

func TestRobots(t *testing.T) {
	for _, tt := range []struct {
		r    Robots
		want string
	}{
		{Robots{}, "User-agent: *\nDisallow:\n"},
		{Robots{Disallow: []string{"/private/", "/cgi-bin/", "/private/"}, CrawlDelay: 10},
			"User-agent: *\nDisallow: /private/\nDisallow: /cgi-bin/\nCrawl-delay: 10\n"},
	} {
		if got := string(tt.r.Bytes()); got != tt.want {
			t.Errorf("%+v:\n%s\nwant:\n%s", tt.r, got, tt.want)
		}
	}
}
