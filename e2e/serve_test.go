package e2e

import (
	"bytes"
	"crypto/sha256"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// fixtureTree builds the tree most end-to-end tests serve and returns its
// root. It holds every kind of thing a public server meets: typed files,
// dotfiles, symlinks in and out of the root, a FIFO and a multi-MiB file.
func fixtureTree(t *testing.T) string {
	t.Helper()
	root := filepath.Join(t.TempDir(), "root")
	writeTree(t, root, map[string]string{
		"about.txt":          "About this hole.\n",
		"Zeta.md":            "# zeta\n",
		"alpha.TXT":          "alpha\n",
		"image.PNG":          "\x89PNG\r\n\x1a\n",
		"song.mp3":           "ID3",
		"page.html":          "<p>hi</p>\n",
		"archive.zip":        "PK\x03\x04",
		"program":            "\x7fELF\x00\x00\x01",
		"notes":              "plain words without an extension\n",
		"empty":              "",
		"sub/deep.txt":       "deep\n",
		"sub/.env":           "SECRET=1\n",
		"Another/":           "",
		".hidden/x.txt":      "hidden dir file\n",
		".secret":            "top secret\n",
		"sub/inner/.git/cfg": "git\n",
	})
	outside := filepath.Join(filepath.Dir(root), "outside.txt")
	if err := os.WriteFile(outside, []byte("outside the root\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for link, target := range map[string]string{
		"link-in":     "about.txt",
		"link-out":    outside,
		"dirlink-out": filepath.Dir(root),
		"sub/up":      "../../outside.txt",
		"dirlink-in":  "sub",
	} {
		if err := os.Symlink(target, filepath.Join(root, link)); err != nil {
			t.Fatal(err)
		}
	}
	if err := syscall.Mkfifo(filepath.Join(root, "fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	big := make([]byte, 3<<20)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range big {
		big[i] = byte(rng.UintN(256))
	}
	if err := os.WriteFile(filepath.Join(root, "big.bin"), big, 0o644); err != nil {
		t.Fatal(err)
	}
	return root
}

func startFixture(t *testing.T, mutate func(cfg map[string]any)) (*daemon, string) {
	t.Helper()
	root := fixtureTree(t)
	cfg := baseConfig(t, root)
	cfg["public-port"] = 7070
	if mutate != nil {
		mutate(cfg)
	}
	return startConfig(t, cfg), root
}

func TestMenusGolden(t *testing.T) {
	d, _ := startFixture(t, nil)
	for _, tt := range []struct{ request, golden string }{
		{"", "root.menu"},
		{"/", "root.menu"},
		{"/sub", "sub.menu"},
		{"sub", "sub.menu"},
		{"/sub/", "sub.menu"},
		{"/dirlink-in", "dirlink-in.menu"},
		{"/sub\tsearch words", "sub.menu"},
	} {
		t.Run(tt.golden+"/"+tt.request, func(t *testing.T) {
			checkGolden(t, tt.golden, d.get(tt.request))
		})
	}
	// A Gopher+ request for a menu gets it after the "+-1" header.
	t.Run("root.menu/gopher+", func(t *testing.T) {
		got := d.get("/\t+")
		if !bytes.HasPrefix(got, []byte("+-1\r\n")) {
			t.Fatalf("no Gopher+ header: %q", trim(got))
		}
		checkGolden(t, "root.menu", got[len("+-1\r\n"):])
	})
}

func TestFilesByteExact(t *testing.T) {
	d, root := startFixture(t, nil)
	for _, name := range []string{"about.txt", "big.bin", "program", "empty", "sub/deep.txt", "link-in", "image.PNG"} {
		want, err := os.ReadFile(filepath.Join(root, name))
		if err != nil {
			t.Fatal(err)
		}
		for _, sel := range []string{"/" + name, name} {
			got := d.get(sel)
			if !bytes.Equal(got, want) {
				t.Errorf("%q: got %d bytes (sha %x), want %d bytes (sha %x)", sel, len(got), sha256.Sum256(got), len(want), sha256.Sum256(want))
			}
		}
	}
}

// TestAttacksRefused sends every traversal, dotfile, symlink and special-file
// attack from DESIGN.md §5 and expects a single error item each time.
func TestAttacksRefused(t *testing.T) {
	slow(t)
	d, _ := startFixture(t, nil)
	for _, tt := range []struct {
		request string
		kind    string // substring of the error message
	}{
		{"..", "not allowed"},
		{"../outside.txt", "not allowed"},
		{"/../outside.txt", "not allowed"},
		{"/sub/../../outside.txt", "not allowed"},
		{"/sub/../about.txt", "not allowed"},
		{"/./about.txt", "not allowed"},
		{"/.secret", "not allowed"},
		{".secret", "not allowed"},
		{"/sub/.env", "not allowed"},
		{"/.hidden/x.txt", "not allowed"},
		{"/.hidden", "not allowed"},
		{"/sub/inner/.git/cfg", "not allowed"},
		{"/link-out", ""},
		{"/dirlink-out/outside.txt", ""},
		{"/sub/up", ""},
		{"/fifo", "not allowed"},
		{"/%2e%2e/outside.txt", "does not exist"},
		{"/..%2foutside.txt", "not allowed"},
		{"//outside.txt", "does not exist"},
		{`\..\outside.txt`, "not allowed"},
		{"/sub\\..\\..\\outside.txt", "not allowed"},
		{"/\xc0\xae\xc0\xae/outside.txt", "does not exist"},
		{"/etc/passwd", "does not exist"},
		{"/a\x00b", "forbidden byte"},
		{"/not-here.txt", "does not exist"},
	} {
		t.Run(tt.request, func(t *testing.T) {
			got := string(d.get(tt.request))
			if !strings.HasPrefix(got, "3") || !strings.HasSuffix(got, "\r\n.\r\n") || strings.Count(got, "\r\n") != 2 {
				t.Fatalf("want one error item and the terminator, got %q", got)
			}
			if strings.Contains(got, "outside the root") || strings.Contains(got, "SECRET") || strings.Contains(got, "secret\n") {
				t.Fatalf("leaked content: %q", got)
			}
			if tt.kind != "" && !strings.Contains(got, tt.kind) {
				t.Fatalf("want %q in %q", tt.kind, got)
			}
		})
	}
}

func TestNotFoundMessageMatchesSpacecookie(t *testing.T) {
	d, _ := startFixture(t, func(cfg map[string]any) { cfg["public-port"] = 7000 })
	want := "3The requested resource '/not-here.txt' does not exist or is not available.\tErr\tlocalhost\t7000\r\n.\r\n"
	if got := string(d.get("/not-here.txt")); got != want {
		t.Fatalf("got %q\nwant %q", got, want)
	}
}

// TestLimitDefaults checks that a file without limits gets the server's
// defaults (the config leaves them at 0): here the 1024-byte request line.
func TestLimitDefaults(t *testing.T) {
	d, _ := startFixture(t, nil)
	if got := string(d.get(strings.Repeat("A", 1100))); !strings.Contains(got, "Request too large") {
		t.Errorf("1100-byte request: got %q, want the too-large error item", got)
	}
	if got := string(d.get(strings.Repeat("A", 1000))); !strings.HasPrefix(got, "3") || strings.Contains(got, "too large") {
		t.Errorf("1000-byte request: got %q, want a not-found error item", got)
	}
}

// TestLimitsCutOffAbusersOnly holds an oversized request, a client that never
// sends a newline and a silent client open at once, and checks that a normal
// client is still served while each abuser gets its own error item.
func TestLimitsCutOffAbusersOnly(t *testing.T) {
	slow(t)
	d, _ := startFixture(t, func(cfg map[string]any) {
		cfg["limits"] = map[string]any{"request-timeout": "1s", "request-bytes": 512}
	})
	var wg sync.WaitGroup
	results := make(map[string]string)
	var mu sync.Mutex
	abuse := func(name string, send []byte) {
		defer wg.Done()
		c := d.dial("127.0.0.3")
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		if len(send) > 0 {
			_, _ = c.Write(send)
		}
		got, _ := io.ReadAll(c)
		mu.Lock()
		results[name] = string(got)
		mu.Unlock()
	}
	wg.Add(3)
	go abuse("oversized with newline", append(bytes.Repeat([]byte("A"), 4096), "\r\n"...))
	go abuse("oversized without newline", bytes.Repeat([]byte("B"), 2<<20))
	go abuse("silent", nil)
	for range 5 {
		if got := string(d.get("/about.txt")); got != "About this hole.\n" {
			t.Fatalf("normal request during abuse got %q", got)
		}
	}
	wg.Wait()
	for name, want := range map[string]string{
		"oversized with newline":    "Request too large",
		"oversized without newline": "Request too large",
		"silent":                    "timed out",
	} {
		got := results[name]
		if !strings.HasPrefix(got, "3") || !strings.Contains(got, want) || len(got) > 200 {
			t.Errorf("%s: got %q, want a short error item with %q", name, got, want)
		}
	}
}

func TestSIGTERMLetsTransferFinish(t *testing.T) {
	slow(t)
	root := fixtureTree(t)
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<20) // 16 MiB
	if err := os.WriteFile(filepath.Join(root, "huge.bin"), big, 0o644); err != nil {
		t.Fatal(err)
	}
	d := startConfig(t, baseConfig(t, root))
	c := d.dial("")
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := io.WriteString(c, "/huge.bin\r\n"); err != nil {
		t.Fatal(err)
	}
	head := make([]byte, 64<<10)
	if _, err := io.ReadFull(c, head); err != nil {
		t.Fatal(err)
	}
	d.signal(syscall.SIGTERM)
	time.Sleep(300 * time.Millisecond) // the server is now draining with our transfer blocked
	rest, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	if got := append(head, rest...); !bytes.Equal(got, big) {
		t.Fatalf("transfer cut: got %d of %d bytes", len(got), len(big))
	}
	if code := d.wait(20 * time.Second); code != 0 {
		t.Fatalf("exit code %d after SIGTERM\n%s", code, d.log)
	}
	// New connections are refused once draining has finished.
	if _, err := (&net.Dialer{Timeout: 2 * time.Second}).Dial("tcp", d.addr); err == nil {
		t.Fatal("still accepting after shutdown")
	}
}

func TestHideIPs(t *testing.T) {
	slow(t)
	for _, hide := range []bool{true, false} {
		t.Run(map[bool]string{true: "hidden", false: "shown"}[hide], func(t *testing.T) {
			d, _ := startFixture(t, func(cfg map[string]any) {
				cfg["log"] = map[string]any{"level": "debug", "hide-ips": hide}
				cfg["limits"] = map[string]any{"request-timeout": "300ms"}
			})
			for _, sel := range []string{"/about.txt", "/", "/.secret", "/nope", "/a\x00b"} {
				d.getFrom("127.0.0.2", sel)
			}
			c := d.dial("127.0.0.2") // a silent client that times out
			_, _ = io.ReadAll(c)
			c.Close()
			time.Sleep(200 * time.Millisecond)
			logs := d.log.String()
			if n := strings.Count(logs, "/about.txt"); n == 0 {
				t.Fatalf("no access log line for /about.txt:\n%s", logs)
			}
			if got := strings.Contains(logs, "127.0.0.2"); got == hide {
				t.Fatalf("hide-ips=%v but client address present=%v:\n%s", hide, got, logs)
			}
			if strings.Contains(logs, "\x00") {
				t.Fatalf("raw NUL in log:\n%q", logs)
			}
		})
	}
}

func TestCurl(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl not installed (.ci/run installs it)")
	}
	d, root := startFixture(t, nil)
	for _, tt := range []struct{ url, file string }{
		{"gopher://" + d.addr + "/9/big.bin", "big.bin"},
		{"gopher://" + d.addr + "/0/about.txt", "about.txt"},
	} {
		out, err := exec.Command(curl, "-sS", "--max-time", "20", tt.url).Output()
		if err != nil {
			t.Fatalf("curl %s: %v", tt.url, err)
		}
		want, _ := os.ReadFile(filepath.Join(root, tt.file))
		if !bytes.Equal(out, want) {
			t.Fatalf("curl %s: %d bytes, want %d", tt.url, len(out), len(want))
		}
	}
	out, err := exec.Command(curl, "-sS", "--max-time", "20", "gopher://"+d.addr+"/1/").Output()
	if err != nil {
		t.Fatalf("curl menu: %v", err)
	}
	if !bytes.Contains(out, []byte("0about.txt\t/about.txt\tlocalhost\t7070\r\n")) || !bytes.HasSuffix(out, []byte(".\r\n")) {
		t.Fatalf("curl menu: %q", out)
	}
}

// TestURLRedirectThroughBinary requests URL: selectors from the real server:
// an allowed scheme gets the redirect page with every HTML-significant
// character escaped; javascript: gets an error item.
func TestURLRedirectThroughBinary(t *testing.T) {
	d, _ := startFixture(t, nil)
	page := string(d.get(`URL:https://example.org/?q="<b>'&x`))
	escaped := `https://example.org/?q=&#34;&lt;b&gt;&#39;&amp;x`
	if !strings.Contains(page, `href="`+escaped+`"`) || strings.Contains(page, "<b>") || strings.Contains(page, `q="`) {
		t.Fatalf("redirect page not escaped:\n%s", page)
	}
	if got := string(d.get("URL:javascript:alert(1)")); !strings.HasPrefix(got, "3") || !strings.Contains(got, "not allowed") {
		t.Fatalf("javascript: URL: %q", got)
	}
}
