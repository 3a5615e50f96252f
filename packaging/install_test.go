package packaging

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var manPages = []string{"man8/gopherd.8", "man5/gopherd.json.5", "man5/gopherd.gophermap.5"}

var units = []string{"gopherd.socket", "gopherd.service", "gopherd-root.service"}

// welcomeMap is the welcome gophermap, installed as the served root's map.
const welcomeMap = "etc/welcome.gophermap"

// layout is where one set of make variables puts things.
type layout struct {
	bin, data, man, doc, sysconf, unit, srv string
}

func TestInstallUninstall(t *testing.T) {
	packagingTest(t)
	tests := []struct {
		name string
		vars []string
		want layout
	}{
		{
			name: "defaults",
			want: layout{bin: "/usr/local/bin", data: "/usr/local/share", man: "/usr/local/share/man", doc: "/usr/local/share/doc/gopherd",
				sysconf: "/etc", unit: "/usr/local/lib/systemd/system", srv: "/srv/gopher"},
		},
		{
			name: "PREFIX",
			vars: []string{"PREFIX=/opt/gopherd"},
			want: layout{bin: "/opt/gopherd/bin", data: "/opt/gopherd/share", man: "/opt/gopherd/share/man", doc: "/opt/gopherd/share/doc/gopherd",
				sysconf: "/etc", unit: "/opt/gopherd/lib/systemd/system", srv: "/srv/gopher"},
		},
		{
			name: "every directory",
			vars: []string{"PREFIX=/usr", "BINDIR=/usr/sbin", "DATADIR=/usr/share", "MANDIR=/usr/man", "DOCDIR=/usr/doc/gopherd",
				"SYSCONFDIR=/etc/gopher", "UNITDIR=/lib/systemd/system", "SRVDIR=/var/gopher"},
			want: layout{bin: "/usr/sbin", data: "/usr/share", man: "/usr/man", doc: "/usr/doc/gopherd",
				sysconf: "/etc/gopher", unit: "/lib/systemd/system", srv: "/var/gopher"},
		},
	}
	example := readRepo(t, "etc/gopherd.json")
	welcome := readRepo(t, welcomeMap)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dest := t.TempDir()
			args := append([]string{"install", "DESTDIR=" + dest, "BIN=" + gopherdBin}, tt.vars...)
			out := runMake(t, args...)
			if !strings.Contains(out, "created "+dest+tt.want.srv+" with a welcome gophermap") {
				t.Errorf("install did not say it created the served root:\n%s", out)
			}

			want := map[string]os.FileMode{
				tt.want.bin + "/gopherd":            0o755,
				tt.want.sysconf + "/gopherd.json":   0o644,
				tt.want.data + "/gopherd/gophermap": 0o644,
				tt.want.doc + "/LICENSE":            0o644,
				tt.want.srv + "/gophermap":          0o644,
			}
			for _, m := range manPages {
				want[tt.want.man+"/"+m] = 0o644
			}
			for _, u := range units {
				want[tt.want.unit+"/"+u] = 0o644
			}
			got := treeFiles(t, dest)
			for _, p := range sortedKeys(want) {
				mode, ok := got[p]
				switch {
				case !ok:
					t.Errorf("%s not installed", p)
				case mode != want[p]:
					t.Errorf("%s: mode %v, want %v", p, mode, want[p])
				}
			}
			for _, p := range sortedKeys(got) {
				if _, ok := want[p]; !ok {
					t.Errorf("unexpected file installed: %s", p)
				}
			}
			// The served root is readable by everyone: the service runs
			// as a transient user that owns nothing.
			if fi, err := os.Stat(filepath.Join(dest, tt.want.srv)); err != nil || fi.Mode() != os.ModeDir|0o755 {
				t.Errorf("%s: %v, want a directory with mode 0755 (err %v)", tt.want.srv, fi.Mode(), err)
			}

			// The units name the installed binary and configuration.
			execStart := "ExecStart=" + tt.want.bin + "/gopherd " + tt.want.sysconf + "/gopherd.json\n"
			for _, u := range units {
				s := string(readFile(t, filepath.Join(dest, tt.want.unit, u)))
				if u != "gopherd.socket" && !strings.Contains(s, execStart) {
					t.Errorf("%s lacks %q", u, execStart)
				}
				if tt.want.bin != "/usr/bin" && strings.Contains(s, "/usr/bin/gopherd") {
					t.Errorf("%s still names /usr/bin/gopherd", u)
				}
			}
			cfg := filepath.Join(dest, tt.want.sysconf, "gopherd.json")
			if data := readFile(t, cfg); !bytes.Equal(data, example) {
				t.Errorf("%s is not etc/gopherd.json", cfg)
			}
			for _, p := range []string{tt.want.srv + "/gophermap", tt.want.data + "/gopherd/gophermap"} {
				if data := readFile(t, filepath.Join(dest, p)); !bytes.Equal(data, welcome) {
					t.Errorf("%s is not %s", p, welcomeMap)
				}
			}

			// The installed binary runs, accepts the installed config and
			// serves the installed root at once: the welcome menu.
			bin := filepath.Join(dest, tt.want.bin, "gopherd")
			if code, out := runGopherd(t, bin, "--version"); code != 0 || !strings.HasPrefix(out, "gopherd ") {
				t.Errorf("gopherd --version: exit %d, %q", code, out)
			}
			root := filepath.Join(dest, tt.want.srv)
			if code, out := runGopherd(t, bin, "--check", "--root", root, cfg); code != 0 || !strings.Contains(out, "configuration OK") {
				t.Errorf("gopherd --check the installed config: exit %d\n%s", code, out)
			}
			if tt.name == "defaults" {
				menu := serveOnce(t, bin, "--root", root, cfg)
				if !strings.Contains(menu.body, "iWelcome to gopherd\t") {
					t.Errorf("the installed root does not serve the welcome menu:\n%s", menu.body)
				}
			}

			runMake(t, append([]string{"uninstall", "DESTDIR=" + dest}, tt.vars...)...)
			if left := treeFiles(t, dest); len(left) > 0 {
				t.Errorf("left after uninstall: %v", sortedKeys(left))
			}
			if _, err := os.Stat(filepath.Join(dest, tt.want.srv)); err == nil {
				t.Errorf("%s left after uninstall, though it held only the unchanged welcome map", tt.want.srv)
			}
		})
	}
}

// An admin's configuration and content survive install and uninstall alike.
func TestInstallKeepsExistingConfigAndContent(t *testing.T) {
	packagingTest(t)
	dest := t.TempDir()
	cfg := filepath.Join(dest, "etc", "gopherd.json")
	mine := []byte(`{"root": "/home/gopher", "hostname": "gopher.example.org"}` + "\n")
	writeFile(t, cfg, mine, 0o600)
	// A served root that is there already, with content.
	content := filepath.Join(dest, "srv", "gopher", "phlog.txt")
	writeFile(t, content, []byte("my phlog\n"), 0o644)

	out := runMake(t, "install", "DESTDIR="+dest, "BIN="+gopherdBin)
	for _, want := range []string{"kept the existing " + cfg, "kept the existing " + filepath.Join(dest, "srv", "gopher")} {
		if !strings.Contains(out, want) {
			t.Errorf("install did not say %q:\n%s", want, out)
		}
	}
	check := func(when string) {
		t.Helper()
		if data := readFile(t, cfg); !bytes.Equal(data, mine) {
			t.Fatalf("%s: config changed to %q", when, data)
		}
		if fi, err := os.Stat(cfg); err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("%s: config mode changed: %v %v", when, fi.Mode(), err)
		}
		if data := readFile(t, content); string(data) != "my phlog\n" {
			t.Fatalf("%s: content changed to %q", when, data)
		}
		if _, err := os.Stat(filepath.Join(dest, "srv", "gopher", "gophermap")); err == nil {
			t.Fatalf("%s: a welcome map appeared in an existing root", when)
		}
	}
	check("after install")
	runMake(t, "install", "DESTDIR="+dest, "BIN="+gopherdBin)
	check("after a second install")
	runMake(t, "uninstall", "DESTDIR="+dest)
	check("after uninstall")
	if left := treeFiles(t, dest); len(left) != 2 {
		t.Errorf("after uninstall, want only the config and the content, got %v", sortedKeys(left))
	}
}

// A welcome map the admin edited is content: uninstall keeps it and the root.
func TestUninstallKeepsEditedWelcome(t *testing.T) {
	packagingTest(t)
	dest := t.TempDir()
	runMake(t, "install", "DESTDIR="+dest, "BIN="+gopherdBin)
	edited := filepath.Join(dest, "srv", "gopher", "gophermap")
	writeFile(t, edited, []byte("My own gopherhole\n"), 0o644)
	out := runMake(t, "uninstall", "DESTDIR="+dest)
	if data := readFile(t, edited); string(data) != "My own gopherhole\n" {
		t.Errorf("uninstall changed the edited map: %q", data)
	}
	if !strings.Contains(out, "kept "+filepath.Join(dest, "srv", "gopher")+": it is content") {
		t.Errorf("uninstall did not say it kept the root:\n%s", out)
	}
}

// The shipped example serves /srv/gopher and passes --check.
func TestExampleConfig(t *testing.T) {
	packagingTest(t)
	path := filepath.Join(repoRoot, "etc", "gopherd.json")
	var cfg struct {
		Root string `json:"root"`
		User *string
	}
	if err := json.Unmarshal(readFile(t, path), &cfg); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if cfg.Root != "/srv/gopher" {
		t.Errorf("root = %q, want /srv/gopher", cfg.Root)
	}
	// The units run with DynamicUser=yes, where a user switch must fail.
	if cfg.User != nil {
		t.Errorf("user = %q, want null", *cfg.User)
	}
	root := t.TempDir()
	code, out := runGopherd(t, gopherdBin, "--check", "--root", root, path)
	if code != 0 || !strings.Contains(out, "configuration OK, serving "+root) {
		t.Errorf("gopherd --check --root %s %s: exit %d\n%s", root, path, code, out)
	}
}

func readRepo(t *testing.T, rel string) []byte {
	t.Helper()
	return readFile(t, filepath.Join(repoRoot, filepath.FromSlash(rel)))
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func writeFile(t *testing.T, path string, data []byte, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, mode); err != nil {
		t.Fatal(err)
	}
}
