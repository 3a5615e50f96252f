//go:build unix

package fs

import (
	"path/filepath"
	"strings"
	"testing"

	"gopherd/internal/gopher"
)

func TestURLRedirectPage(t *testing.T) {
	h, _ := newHandler(t, t.TempDir())
	for _, sel := range []string{"URL:https://example.org/a?b=1&c=2", "/URL:https://example.org/a?b=1&c=2"} {
		rec := get(t, h, sel)
		page := rec.String()
		if rec.lastServed() != "url" {
			t.Fatalf("%s: served %q", sel, rec.lastServed())
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
	h, _ := newHandler(t, t.TempDir())
	page := get(t, h, `URL:http://x/"><script>alert('&')</script>`).String()
	if strings.Contains(page, "<script>") || strings.Contains(page, `"><`) || strings.Contains(page, "'&'") {
		t.Fatalf("unescaped URL in page:\n%s", page)
	}
	want := `http://x/&#34;&gt;&lt;script&gt;alert(&#39;&amp;&#39;)&lt;/script&gt;`
	if strings.Count(page, want) != 4 {
		t.Fatalf("want the escaped URL 4 times (refresh, title, href, text):\n%s", page)
	}
}

func TestURLRedirectSchemes(t *testing.T) {
	h, _ := newHandler(t, t.TempDir())
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
		rec := get(t, h, "URL:"+tt.url)
		if got := rec.lastServed() == "url"; got != tt.ok {
			t.Errorf("%q: page served = %v, want %v (%q)", tt.url, got, tt.ok, rec.String())
		}
		if !tt.ok && rec.lastServed() != gopher.NotAllowed.String() {
			t.Errorf("%q: served %q, want not-allowed", tt.url, rec.lastServed())
		}
	}
}

func TestCaps(t *testing.T) {
	root := t.TempDir()
	h, err := New(Options{Root: root, Hostname: testHost, Port: testPort, Version: "1.2.3", TLSPort: 7443})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.Close() })
	caps := get(t, h, "/caps.txt").String()
	for _, want := range []string{"CAPS\n", "ServerSoftware=gopherd\n", "ServerVersion=1.2.3\n", "ServerDefaultEncoding=utf-8\n", "PathDelimeter=/\n", "ServerTLSPort=7443\n"} {
		if !strings.Contains(caps, want) {
			t.Errorf("caps.txt lacks %q:\n%s", want, caps)
		}
	}
	if got := get(t, h, "caps.txt").String(); got != caps {
		t.Errorf("caps.txt without slash differs")
	}
	if menu := get(t, h, "/").String(); strings.Contains(menu, "caps") {
		t.Errorf("generated caps.txt listed: %q", menu)
	}
	h2, _ := newHandler(t, root)
	if strings.Contains(get(t, h2, "/caps.txt").String(), "ServerTLSPort") {
		t.Error("ServerTLSPort announced without TLS")
	}
	// The operator's own caps.txt wins.
	write(t, filepath.Join(root, "caps.txt"), "CAPS\nmine\n")
	if got := get(t, h, "/caps.txt").String(); got != "CAPS\nmine\n" {
		t.Errorf("own caps.txt not served: %q", got)
	}
}
