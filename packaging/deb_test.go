package packaging

import (
	"archive/tar"
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"gopherd/internal/testutil"
)

// Fixed inputs, so that two builds must give the same bytes and the file
// name is known.
const (
	debEpoch   = 1700000000
	debVersion = "v1.2.3"
	debName    = "gopherd_1.2.3_" + runtime.GOARCH + ".deb"
)

// debFile is one entry of the package's data archive.
type debFile struct {
	mode  int64
	isDir bool
}

// wantDeb lists every file and directory the package must hold.
var wantDeb = map[string]debFile{
	"/usr/bin/gopherd":                           {mode: 0o755},
	"/usr/share/man/man8/gopherd.8.gz":           {mode: 0o644},
	"/usr/share/man/man5/gopherd.json.5.gz":      {mode: 0o644},
	"/usr/share/man/man5/gopherd.gophermap.5.gz": {mode: 0o644},
	"/lib/systemd/system/gopherd.socket":         {mode: 0o644},
	"/lib/systemd/system/gopherd.service":        {mode: 0o644},
	"/lib/systemd/system/gopherd-root.service":   {mode: 0o644},
	"/etc/gopherd.json":                          {mode: 0o644},
	"/srv/gopher":                                {mode: 0o755, isDir: true},
	"/srv/gopher/gophermap":                      {mode: 0o644},
}

var wantConffiles = []string{"/etc/gopherd.json", "/srv/gopher/gophermap"}

func buildDeb(t *testing.T, dist string) string {
	t.Helper()
	runMake(t, "deb", "DIST="+dist, "VERSION="+debVersion, "SOURCE_DATE_EPOCH="+strconv.Itoa(debEpoch))
	p := filepath.Join(dist, debName)
	if _, err := os.Stat(p); err != nil {
		entries, _ := os.ReadDir(dist)
		t.Fatalf("make deb did not write %s (dist holds %v)", debName, entries)
	}
	return p
}

// debTar returns the entries of one of the package's tar archives
// ("--fsys-tarfile" or "--ctrl-tarfile"), by path without the leading ".",
// with their contents for regular files.
func debTar(t *testing.T, deb, which string) (map[string]*tar.Header, map[string][]byte) {
	t.Helper()
	out, err := exec.Command("dpkg-deb", which, deb).Output()
	if err != nil {
		t.Fatalf("dpkg-deb %s: %v", which, err)
	}
	hdrs := map[string]*tar.Header{}
	data := map[string][]byte{}
	tr := tar.NewReader(bytes.NewReader(out))
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("reading %s: %v", which, err)
		}
		name := strings.TrimSuffix(strings.TrimPrefix(h.Name, "."), "/")
		if name == "" {
			name = "/"
		}
		hdrs[name] = h
		if h.Typeflag == tar.TypeReg {
			b, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			data[name] = b
		}
	}
	return hdrs, data
}

func TestDeb(t *testing.T) {
	if _, err := exec.LookPath("dpkg-deb"); err != nil {
		t.Skip("dpkg-deb not found: the Debian package tests need a Debian system")
	}
	dir := t.TempDir()
	deb := buildDeb(t, filepath.Join(dir, "a"))

	t.Run("reproducible", func(t *testing.T) {
		again := buildDeb(t, filepath.Join(dir, "b"))
		a, err := os.ReadFile(deb)
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(again)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) {
			t.Errorf("two builds of the same tree differ (%d and %d bytes)", len(a), len(b))
		}
	})

	t.Run("contents", func(t *testing.T) {
		hdrs, data := debTar(t, deb, "--fsys-tarfile")
		for _, p := range sortedKeys(wantDeb) {
			w := wantDeb[p]
			h, ok := hdrs[p]
			if !ok {
				t.Errorf("%s missing from the package", p)
				continue
			}
			if isDir := h.Typeflag == tar.TypeDir; isDir != w.isDir {
				t.Errorf("%s: directory %v, want %v", p, isDir, w.isDir)
			}
			if h.Mode&0o7777 != w.mode {
				t.Errorf("%s: mode %o, want %o", p, h.Mode&0o7777, w.mode)
			}
			if h.Uname != "root" || h.Gname != "root" {
				t.Errorf("%s: owner %s:%s, want root:root", p, h.Uname, h.Gname)
			}
		}
		for _, p := range sortedKeys(hdrs) {
			h := hdrs[p]
			if h.Typeflag != tar.TypeDir {
				if _, ok := wantDeb[p]; !ok {
					t.Errorf("unexpected file in the package: %s", p)
				}
			}
			if h.ModTime.Unix() != debEpoch {
				t.Errorf("%s: mtime %v, want SOURCE_DATE_EPOCH %d", p, h.ModTime.Unix(), debEpoch)
			}
		}
		svc := string(data["/lib/systemd/system/gopherd.service"])
		if !strings.Contains(svc, "ExecStart=/usr/bin/gopherd /etc/gopherd.json\n") {
			t.Errorf("gopherd.service does not run /usr/bin/gopherd /etc/gopherd.json:\n%s", svc)
		}
		example, err := os.ReadFile(filepath.Join(repoRoot, "etc", "gopherd.json"))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(data["/etc/gopherd.json"], example) {
			t.Errorf("/etc/gopherd.json in the package is not etc/gopherd.json")
		}

		_, ctrl := debTar(t, deb, "--ctrl-tarfile")
		conffiles := strings.Fields(string(ctrl["/conffiles"]))
		if strings.Join(conffiles, " ") != strings.Join(wantConffiles, " ") {
			t.Errorf("conffiles %q, want %q", conffiles, wantConffiles)
		}
		control := string(ctrl["/control"])
		for _, line := range []string{"Package: gopherd\n", "Version: 1.2.3\n", "Architecture: " + runtime.GOARCH + "\n"} {
			if !strings.Contains(control, line) {
				t.Errorf("control lacks %q:\n%s", line, control)
			}
		}
	})

	t.Run("dpkg install, serve, remove, purge", func(t *testing.T) {
		testDebInstall(t, deb)
	})
}

// testDebInstall installs the package on this machine, so it runs only as
// root and only where it cannot clobber a real installation; it always
// purges the package again.
func testDebInstall(t *testing.T, deb string) {
	if os.Geteuid() != 0 {
		t.Skip("installing the package needs root (CI runs as root)")
	}
	if _, err := exec.LookPath("dpkg"); err != nil {
		t.Skip("dpkg not found")
	}
	if out, err := exec.Command("dpkg-query", "-W", "-f=${Status}", "gopherd").Output(); err == nil && strings.Contains(string(out), "installed") {
		t.Skipf("a gopherd package is installed here (%s); not touching it", out)
	}
	for _, p := range []string{"/usr/bin/gopherd", "/etc/gopherd.json", "/srv/gopher"} {
		if _, err := os.Lstat(p); err == nil {
			t.Skipf("%s exists; not installing over it", p)
		}
	}

	dpkg := func(args ...string) {
		t.Helper()
		cmd := exec.Command("dpkg", args...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("dpkg %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	t.Cleanup(func() {
		// Whatever happened, leave no package behind.
		if out, err := exec.Command("dpkg", "--purge", "gopherd").CombinedOutput(); err != nil {
			t.Errorf("cleanup: dpkg --purge gopherd: %v\n%s", err, out)
		}
	})
	dpkg("-i", deb)

	for _, p := range []string{
		"/usr/bin/gopherd", "/etc/gopherd.json", "/srv/gopher/gophermap",
		"/lib/systemd/system/gopherd.socket", "/lib/systemd/system/gopherd.service",
		"/lib/systemd/system/gopherd-root.service",
	} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("after dpkg -i: %v", err)
		}
	}
	if manExcluded() {
		t.Log("dpkg is configured to skip /usr/share/man here; not checking the installed man pages")
	} else if _, err := os.Stat("/usr/share/man/man8/gopherd.8.gz"); err != nil {
		t.Errorf("after dpkg -i: %v", err)
	}

	if code, out := runGopherd(t, "/usr/bin/gopherd", "--check", "/etc/gopherd.json"); code != 0 || !strings.Contains(out, "configuration OK, serving /srv/gopher") {
		t.Fatalf("gopherd --check /etc/gopherd.json: exit %d\n%s", code, out)
	}

	menu := serveOnce(t, "/usr/bin/gopherd", "/etc/gopherd.json")
	port := menu.port
	for _, want := range []string{
		"iWelcome to gopherd\t",
		"1This menu again\t/\tlocalhost\t" + strconv.Itoa(port) + "\r\n",
	} {
		if !strings.Contains(menu.body, want) {
			t.Errorf("root menu lacks %q:\n%s", want, menu.body)
		}
	}
	if !strings.HasSuffix(menu.body, ".\r\n") {
		t.Errorf("root menu does not end with the . line:\n%q", menu.body)
	}

	dpkg("-r", "gopherd")
	for _, p := range []string{
		"/usr/bin/gopherd", "/lib/systemd/system/gopherd.socket", "/lib/systemd/system/gopherd.service",
		"/lib/systemd/system/gopherd-root.service", "/usr/share/man/man8/gopherd.8.gz",
	} {
		if _, err := os.Lstat(p); err == nil {
			t.Errorf("%s still there after dpkg -r", p)
		}
	}
	// Removing keeps conffiles; purging takes them.
	for _, p := range wantConffiles {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("conffile gone after dpkg -r: %v", err)
		}
	}
	dpkg("--purge", "gopherd")
	for _, p := range append(wantConffiles, "/srv/gopher") {
		if _, err := os.Lstat(p); err == nil {
			t.Errorf("%s still there after dpkg --purge", p)
		}
	}
}

// manExcluded reports whether dpkg drops man pages on this system, as
// minimal container images configure it to.
func manExcluded() bool {
	files, _ := filepath.Glob("/etc/dpkg/dpkg.cfg.d/*")
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		for sc.Scan() {
			if f := strings.Fields(sc.Text()); len(f) == 2 && f[0] == "path-exclude" && strings.HasPrefix(f[1], "/usr/share/man") {
				return true
			}
		}
	}
	return false
}

type served struct {
	port int
	body string
}

// serveOnce starts bin with "-l 127.0.0.1:PORT config", fetches the root
// menu, stops it with SIGTERM and checks that it exits cleanly.
func serveOnce(t *testing.T, bin, config string) served {
	t.Helper()
	port := freePort(t)
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	cmd := exec.Command(bin, "-l", addr, config)
	var log syncBuffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stopped := false
	defer func() {
		if !stopped {
			_ = cmd.Process.Kill()
			<-exited
		}
	}()

	var conn net.Conn
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			conn = c
			break
		}
		select {
		case err := <-exited:
			stopped = true
			t.Fatalf("gopherd exited before serving: %v\n%s", err, log.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("gopherd not listening on %s after 15 s: %v\n%s", addr, err, log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	_ = conn.SetDeadline(time.Now().Add(15 * time.Second))
	if _, err := io.WriteString(conn, "\r\n"); err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(conn)
	conn.Close()
	if err != nil {
		t.Fatalf("reading the root menu: %v", err)
	}

	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-exited:
		stopped = true
		if err != nil {
			t.Errorf("gopherd after SIGTERM: %v\n%s", err, log.String())
		}
	case <-time.After(40 * time.Second):
		t.Errorf("gopherd did not stop within 40 s of SIGTERM\n%s", log.String())
	}
	return served{port: port, body: string(body)}
}

func freePort(t *testing.T) int { return testutil.FreePort(t) }

type syncBuffer = testutil.SyncBuffer
