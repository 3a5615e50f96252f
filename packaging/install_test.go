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

// layout is where one set of make variables puts things.
type layout struct {
	bin, man, sysconf, unit string
}

func TestInstallUninstall(t *testing.T) {
	tests := []struct {
		name string
		vars []string
		want layout
	}{
		{
			name: "defaults",
			want: layout{bin: "/usr/local/bin", man: "/usr/local/share/man", sysconf: "/etc", unit: "/usr/local/lib/systemd/system"},
		},
		{
			name: "PREFIX",
			vars: []string{"PREFIX=/opt/gopherd"},
			want: layout{bin: "/opt/gopherd/bin", man: "/opt/gopherd/share/man", sysconf: "/etc", unit: "/opt/gopherd/lib/systemd/system"},
		},
		{
			name: "every directory",
			vars: []string{"PREFIX=/usr", "BINDIR=/usr/sbin", "MANDIR=/usr/share/man", "SYSCONFDIR=/etc/gopher", "UNITDIR=/lib/systemd/system"},
			want: layout{bin: "/usr/sbin", man: "/usr/share/man", sysconf: "/etc/gopher", unit: "/lib/systemd/system"},
		},
	}
	example, err := os.ReadFile(filepath.Join(repoRoot, "etc/gopherd.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dest := t.TempDir()
			args := append([]string{"install", "DESTDIR=" + dest, "BIN=" + gopherdBin}, tt.vars...)
			runMake(t, args...)

			want := map[string]os.FileMode{
				tt.want.bin + "/gopherd":          0o755,
				tt.want.sysconf + "/gopherd.json": 0o644,
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

			// The units name the installed binary and configuration.
			execStart := "ExecStart=" + tt.want.bin + "/gopherd " + tt.want.sysconf + "/gopherd.json\n"
			for _, u := range units {
				data, err := os.ReadFile(filepath.Join(dest, tt.want.unit, u))
				if err != nil {
					t.Fatal(err)
				}
				s := string(data)
				if u != "gopherd.socket" && !strings.Contains(s, execStart) {
					t.Errorf("%s lacks %q", u, execStart)
				}
				if tt.want.bin != "/usr/bin" && strings.Contains(s, "/usr/bin/gopherd") {
					t.Errorf("%s still names /usr/bin/gopherd", u)
				}
			}
			cfg := filepath.Join(dest, tt.want.sysconf, "gopherd.json")
			if data, err := os.ReadFile(cfg); err != nil || !bytes.Equal(data, example) {
				t.Errorf("%s is not etc/gopherd.json (err %v)", cfg, err)
			}

			// The installed binary runs and accepts the installed config.
			bin := filepath.Join(dest, tt.want.bin, "gopherd")
			if code, out := runGopherd(t, bin, "--version"); code != 0 || !strings.HasPrefix(out, "gopherd ") {
				t.Errorf("gopherd --version: exit %d, %q", code, out)
			}
			root := t.TempDir()
			if code, out := runGopherd(t, bin, "--check", "--root", root, cfg); code != 0 || !strings.Contains(out, "configuration OK") {
				t.Errorf("gopherd --check the installed config: exit %d\n%s", code, out)
			}

			runMake(t, append([]string{"uninstall", "DESTDIR=" + dest}, tt.vars...)...)
			if left := treeFiles(t, dest); len(left) > 0 {
				t.Errorf("left after uninstall: %v", sortedKeys(left))
			}
		})
	}
}

// An admin's configuration survives install and uninstall alike.
func TestInstallKeepsExistingConfig(t *testing.T) {
	dest := t.TempDir()
	cfg := filepath.Join(dest, "etc", "gopherd.json")
	mine := []byte(`{"root": "/home/gopher", "hostname": "gopher.example.org"}` + "\n")
	if err := os.MkdirAll(filepath.Dir(cfg), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfg, mine, 0o600); err != nil {
		t.Fatal(err)
	}
	out := runMake(t, "install", "DESTDIR="+dest, "BIN="+gopherdBin)
	if !strings.Contains(out, "kept the existing") {
		t.Errorf("install did not say it kept the config:\n%s", out)
	}
	check := func(when string) {
		t.Helper()
		data, err := os.ReadFile(cfg)
		if err != nil || !bytes.Equal(data, mine) {
			t.Fatalf("%s: config changed to %q (err %v)", when, data, err)
		}
		if fi, err := os.Stat(cfg); err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("%s: config mode changed: %v %v", when, fi.Mode(), err)
		}
	}
	check("after install")
	runMake(t, "install", "DESTDIR="+dest, "BIN="+gopherdBin)
	check("after a second install")
	runMake(t, "uninstall", "DESTDIR="+dest)
	check("after uninstall")
	if left := treeFiles(t, dest); len(left) != 1 {
		t.Errorf("after uninstall, want only the config, got %v", sortedKeys(left))
	}
}

// The shipped example serves /srv/gopher and passes --check.
func TestExampleConfig(t *testing.T) {
	path := filepath.Join(repoRoot, "etc", "gopherd.json")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Root string `json:"root"`
		User *string
	}
	if err := json.Unmarshal(data, &cfg); err != nil {
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
	// Without --root it insists on /srv/gopher: a missing root is a
	// configuration error (exit 2) that names the key.
	if _, err := os.Stat("/srv/gopher"); os.IsNotExist(err) {
		code, out := runGopherd(t, gopherdBin, "--check", path)
		if code != 2 || !strings.Contains(out, "root") || !strings.Contains(out, "/srv/gopher") {
			t.Errorf("gopherd --check %s without /srv/gopher: exit %d\n%s", path, code, out)
		}
	}
}
