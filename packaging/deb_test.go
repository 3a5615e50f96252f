package packaging

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"io/fs"
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
	debVersion = "1.2.3"
	// snapshotVersion is what tools/version.sh gives a commit with
	// uncommitted changes: the longest version there is.
	snapshotVersion = "0.1.0+git20261202131110.0123456789ab.dirty"
	debMaintainer   = "Jane Doe <jane@example.net>"
)

// debFile is one entry of the package's data archive.
type debFile struct {
	mode  int64
	isDir bool
}

// wantDeb lists every file the package must hold. Nothing under /srv:
// that belongs to the administrator.
var wantDeb = map[string]debFile{
	"/usr/bin/gopherd":                           {mode: 0o755},
	"/usr/share/man/man8/gopherd.8.gz":           {mode: 0o644},
	"/usr/share/man/man5/gopherd.json.5.gz":      {mode: 0o644},
	"/usr/share/man/man5/gopherd.gophermap.5.gz": {mode: 0o644},
	"/lib/systemd/system/gopherd.socket":         {mode: 0o644},
	"/lib/systemd/system/gopherd.service":        {mode: 0o644},
	"/lib/systemd/system/gopherd-root.service":   {mode: 0o644},
	"/etc/gopherd.json":                          {mode: 0o644},
	"/usr/share/gopherd/gophermap":               {mode: 0o644},
	"/usr/share/doc/gopherd/copyright":           {mode: 0o644},
	"/usr/share/doc/gopherd/changelog.gz":        {mode: 0o644},
	"/usr/share/lintian/overrides/gopherd":       {mode: 0o644},
}

// debOnly are the files that exist only in the Debian package: "make
// install" ships LICENSE where the package has its copyright file.
var debOnly = []string{"/usr/share/doc/gopherd/copyright", "/usr/share/doc/gopherd/changelog.gz", "/usr/share/lintian/overrides/gopherd"}

var wantConffiles = []string{"/etc/gopherd.json"}

// buildDeb runs make deb for version debVersion, or the version given in
// vars as VERSION=..., and returns the package's path.
func buildDeb(t *testing.T, dist string, vars ...string) string {
	t.Helper()
	version := debVersion
	for _, v := range vars {
		if s, ok := strings.CutPrefix(v, "VERSION="); ok {
			version = s
		}
	}
	runMake(t, append([]string{"deb", "DIST=" + dist, "VERSION=" + version, "SOURCE_DATE_EPOCH=" + strconv.Itoa(debEpoch)}, vars...)...)
	name := "gopherd_" + version + "_" + runtime.GOARCH + ".deb"
	p := filepath.Join(dist, name)
	if _, err := os.Stat(p); err != nil {
		entries, _ := os.ReadDir(dist)
		t.Fatalf("make deb did not write %s (dist holds %v)", name, entries)
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

func gunzip(t *testing.T, name string, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return out
}

// needDebTools skips unless dpkg-deb is here and nfpm is installed or
// asked for. nfpm is 55 modules to fetch and build the first time, so a
// developer's "make test" builds the package only when nfpm is there
// already or WITH_DEB=1 (GOPHERD_TEST_DEB) asks; CI always does.
func needDebTools(t *testing.T) {
	t.Helper()
	packagingTest(t)
	if _, err := exec.LookPath("dpkg-deb"); err != nil {
		t.Skip("dpkg-deb not found: the Debian package tests need a Debian system")
	}
	if os.Getenv("CI") == "true" || os.Getenv("GOPHERD_TEST_DEB") == "1" {
		return
	}
	nfpm := strings.TrimSpace(runMake(t, "-s", "nfpm-path"))
	if _, err := os.Stat(nfpm); err != nil {
		t.Skipf("nfpm is not installed (%s): the package test runs once it is (make tools) or with make test WITH_DEB=1, and always in CI", nfpm)
	}
}

func TestDeb(t *testing.T) {
	needDebTools(t)
	dir := t.TempDir()
	deb := buildDeb(t, filepath.Join(dir, "a"), "MAINTAINER="+debMaintainer)

	t.Run("reproducible", func(t *testing.T) {
		again := buildDeb(t, filepath.Join(dir, "b"), "MAINTAINER="+debMaintainer)
		if a, b := readFile(t, deb), readFile(t, again); !bytes.Equal(a, b) {
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
			if p == "/srv" || strings.HasPrefix(p, "/srv/") {
				t.Errorf("the package holds %s: /srv belongs to the administrator", p)
			}
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
		if !bytes.Equal(data["/etc/gopherd.json"], readRepo(t, "etc/gopherd.json")) {
			t.Errorf("/etc/gopherd.json in the package is not etc/gopherd.json")
		}
		if !bytes.Equal(data["/usr/share/gopherd/gophermap"], readRepo(t, welcomeMap)) {
			t.Errorf("/usr/share/gopherd/gophermap in the package is not %s", welcomeMap)
		}

		// The licence: the copyright file in the machine-readable format,
		// with the maintainer as the contact and LICENSE's text.
		copyright := string(data["/usr/share/doc/gopherd/copyright"])
		license := string(readRepo(t, "LICENSE"))
		permission := strings.Join(strings.Fields(license[strings.Index(license, "Permission is hereby granted"):]), " ")
		for _, want := range []string{
			"Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n",
			"Upstream-Contact: " + debMaintainer + "\n",
			"Files: *\nCopyright: 2026 The gopherd authors\nLicense: Expat\n",
		} {
			if !strings.Contains(copyright, want) {
				t.Errorf("copyright lacks %q:\n%s", want, copyright)
			}
		}
		if got := strings.Join(strings.Fields(strings.ReplaceAll(copyright, "\n .\n", "\n")), " "); !strings.Contains(got, permission) {
			t.Errorf("copyright does not hold LICENSE's permission notice")
		}

		changelog := string(gunzip(t, "changelog.gz", data["/usr/share/doc/gopherd/changelog.gz"]))
		date := time.Unix(debEpoch, 0).UTC().Format("Mon, 02 Jan 2006 15:04:05 -0700")
		if !strings.HasPrefix(changelog, "gopherd ("+debVersion+") unstable; urgency=medium\n") ||
			!strings.HasSuffix(changelog, "\n -- "+debMaintainer+"  "+date+"\n") {
			t.Errorf("changelog does not name version %s, %s and %s:\n%s", debVersion, debMaintainer, date, changelog)
		}

		_, ctrl := debTar(t, deb, "--ctrl-tarfile")
		conffiles := strings.Fields(string(ctrl["/conffiles"]))
		if strings.Join(conffiles, " ") != strings.Join(wantConffiles, " ") {
			t.Errorf("conffiles %q, want %q", conffiles, wantConffiles)
		}
		control := string(ctrl["/control"])
		for _, line := range []string{"Package: gopherd\n", "Version: " + debVersion + "\n",
			"Architecture: " + runtime.GOARCH + "\n", "Maintainer: " + debMaintainer + "\n"} {
			if !strings.Contains(control, line) {
				t.Errorf("control lacks %q:\n%s", line, control)
			}
		}

		// The binary in the package says the package's version.
		bin := filepath.Join(t.TempDir(), "gopherd")
		writeFile(t, bin, data["/usr/bin/gopherd"], 0o755)
		if code, out := runGopherd(t, bin, "--version"); code != 0 || out != "gopherd "+debVersion+"\n" {
			t.Errorf("the packaged gopherd --version: exit %d, %q, want \"gopherd %s\"", code, out, debVersion)
		}
	})

	t.Run("lintian", func(t *testing.T) {
		// With the placeholder maintainer too (a packager who forgets
		// MAINTAINER gets a clean package, not bogus-mail-host), and a
		// snapshot's long version.
		placeholder := buildDeb(t, filepath.Join(dir, "placeholder"), "VERSION="+snapshotVersion)
		for _, p := range []string{deb, placeholder} {
			lintianClean(t, p)
		}
	})

	t.Run("make install and the package agree", func(t *testing.T) {
		testInstallMatchesDeb(t, deb)
	})

	t.Run("dpkg install, serve, remove, purge", func(t *testing.T) {
		testDebInstall(t, deb)
	})
}

// lintianClean runs Debian's lintian on deb and wants no error and no
// warning (overridden tags are not reported).
func lintianClean(t *testing.T, deb string) {
	t.Helper()
	if _, err := exec.LookPath("lintian"); err != nil {
		t.Skip("lintian not installed (apt-get install lintian; .ci/run installs it)")
	}
	cmd := exec.Command("lintian", "--no-tag-display-limit", deb)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var findings []string
	for _, line := range strings.Split(out.String(), "\n") {
		if strings.HasPrefix(line, "E: ") || strings.HasPrefix(line, "W: ") {
			findings = append(findings, line)
		}
	}
	if len(findings) > 0 || err != nil {
		t.Errorf("lintian %s: %d errors and warnings (exit %v):\n%s\n%s", filepath.Base(deb), len(findings), err, out.String(), errb.String())
	}
}

// testInstallMatchesDeb installs with the Debian paths into a staging
// directory and compares every file with the package's: the same paths,
// modes and bytes, the binary included (same commit, same bytes).
func testInstallMatchesDeb(t *testing.T, deb string) {
	dest := t.TempDir()
	bin := filepath.Join(t.TempDir(), "gopherd")
	runMake(t, "install", "DESTDIR="+dest, "PREFIX=/usr", "UNITDIR=/lib/systemd/system",
		"VERSION="+debVersion, "BIN="+bin)
	installed := treeFiles(t, dest)
	hdrs, data := debTar(t, deb, "--fsys-tarfile")

	seen := map[string]bool{}
	for _, p := range sortedKeys(data) {
		if contains(debOnly, p) {
			continue
		}
		ip, want := p, data[p]
		if strings.HasPrefix(p, "/usr/share/man/") {
			ip = strings.TrimSuffix(p, ".gz")
			want = gunzip(t, p, want)
		}
		seen[ip] = true
		mode, ok := installed[ip]
		if !ok {
			t.Errorf("the package has %s, make install does not install %s", p, ip)
			continue
		}
		if int64(mode.Perm()) != hdrs[p].Mode&0o777 {
			t.Errorf("%s: mode %v installed, %o in the package", ip, mode.Perm(), hdrs[p].Mode&0o777)
		}
		if got := readFile(t, filepath.Join(dest, ip)); !bytes.Equal(got, want) {
			t.Errorf("%s: make install and the package differ (%d and %d bytes)", ip, len(got), len(want))
		}
	}
	// postinst makes /srv/gopher/gophermap from /usr/share/gopherd/gophermap.
	if got := readFile(t, filepath.Join(dest, "srv/gopher/gophermap")); !bytes.Equal(got, data["/usr/share/gopherd/gophermap"]) {
		t.Errorf("/srv/gopher/gophermap: make install's is not the package's welcome map")
	}
	seen["/srv/gopher/gophermap"] = true
	seen["/usr/share/doc/gopherd/LICENSE"] = true // the package's copyright file holds it
	for _, p := range sortedKeys(installed) {
		if !seen[p] {
			t.Errorf("make install installs %s, which the package does not have", p)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// testDebInstall installs the package on this machine, so it runs only as
// root and only where it cannot clobber a real installation; it always
// purges the package again and removes what it made.
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
	for _, p := range []string{"/usr/bin/gopherd", "/etc/gopherd.json", "/srv/gopher", "/var/lib/gopherd"} {
		if _, err := os.Lstat(p); err == nil {
			t.Skipf("%s exists; not installing over it", p)
		}
	}
	// /srv is the administrator's: whether it was there before or not,
	// the package must leave it. The test makes it if it is missing and
	// takes it away again at the end.
	if _, err := os.Lstat("/srv"); errors.Is(err, fs.ErrNotExist) {
		if err := os.Mkdir("/srv", 0o755); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = os.Remove("/srv") })
	}
	srvBefore, err := os.Stat("/srv")
	if err != nil {
		t.Fatal(err)
	}

	dpkg := func(args ...string) {
		t.Helper()
		cmd := exec.Command("dpkg", args...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("dpkg %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	purge := func() {
		if out, err := exec.Command("dpkg", "--purge", "gopherd").CombinedOutput(); err != nil {
			t.Errorf("dpkg --purge gopherd: %v\n%s", err, out)
		}
	}
	exists := func(p string) bool {
		_, err := os.Lstat(p)
		return err == nil
	}
	// Whatever happens, leave no package and nothing of the test behind.
	t.Cleanup(func() {
		purge()
		_ = os.RemoveAll("/srv/gopher")
		_ = os.RemoveAll("/var/lib/gopherd")
	})
	checkSrvKept := func(when string) {
		t.Helper()
		fi, err := os.Stat("/srv")
		if err != nil || !os.SameFile(fi, srvBefore) || fi.Mode() != srvBefore.Mode() {
			t.Errorf("%s: /srv is not the directory that was there before: %v", when, err)
		}
	}

	t.Run("fresh install", func(t *testing.T) {
		dpkg("-i", deb)
		for _, p := range []string{
			"/usr/bin/gopherd", "/etc/gopherd.json", "/usr/share/gopherd/gophermap", "/srv/gopher/gophermap",
			"/lib/systemd/system/gopherd.socket", "/lib/systemd/system/gopherd.service",
			"/lib/systemd/system/gopherd-root.service", "/usr/share/doc/gopherd/copyright",
		} {
			if !exists(p) {
				t.Errorf("after dpkg -i: %s missing", p)
			}
		}
		if manExcluded() {
			t.Log("dpkg is configured to skip /usr/share/man here; not checking the installed man pages")
		} else if !exists("/usr/share/man/man8/gopherd.8.gz") {
			t.Errorf("after dpkg -i: /usr/share/man/man8/gopherd.8.gz missing")
		}
		if fi, err := os.Stat("/srv/gopher"); err != nil || fi.Mode() != os.ModeDir|0o755 {
			t.Errorf("/srv/gopher: %v %v, want a directory with mode 0755", fi.Mode(), err)
		}
		if !bytes.Equal(readFile(t, "/srv/gopher/gophermap"), readRepo(t, welcomeMap)) {
			t.Errorf("/srv/gopher/gophermap is not the welcome map")
		}

		if code, out := runGopherd(t, "/usr/bin/gopherd", "--check", "/etc/gopherd.json"); code != 0 || !strings.Contains(out, "configuration OK, serving /srv/gopher") {
			t.Fatalf("gopherd --check /etc/gopherd.json: exit %d\n%s", code, out)
		}
		menu := serveOnce(t, "/usr/bin/gopherd", "/etc/gopherd.json")
		for _, want := range []string{
			"iWelcome to gopherd\t",
			"1This menu again\t/\tlocalhost\t" + strconv.Itoa(menu.port) + "\r\n",
		} {
			if !strings.Contains(menu.body, want) {
				t.Errorf("root menu lacks %q:\n%s", want, menu.body)
			}
		}
		if !strings.HasSuffix(menu.body, ".\r\n") {
			t.Errorf("root menu does not end with the . line:\n%q", menu.body)
		}

		// The administrator enables the socket; an upgrade (here the
		// same package again) keeps and records that, and purge removes
		// it with the rest.
		wants := "/etc/systemd/system/sockets.target.wants/gopherd.socket"
		enabled := false
		if _, err := exec.LookPath("systemctl"); err == nil {
			if out, err := exec.Command("systemctl", "enable", "gopherd.socket").CombinedOutput(); err != nil {
				t.Logf("systemctl enable gopherd.socket: %v\n%s (not checking enablement)", err, out)
			} else {
				enabled = exists(wants)
			}
		}
		dpkg("-i", deb)
		if enabled && !exists(wants) {
			t.Errorf("the upgrade lost the administrator's enablement of gopherd.socket")
		}
		if !bytes.Equal(readFile(t, "/srv/gopher/gophermap"), readRepo(t, welcomeMap)) {
			t.Errorf("the upgrade changed /srv/gopher/gophermap")
		}

		dpkg("-r", "gopherd")
		for _, p := range []string{
			"/usr/bin/gopherd", "/lib/systemd/system/gopherd.socket", "/lib/systemd/system/gopherd.service",
			"/lib/systemd/system/gopherd-root.service", "/usr/share/man/man8/gopherd.8.gz", "/usr/share/gopherd",
		} {
			if exists(p) {
				t.Errorf("%s still there after dpkg -r", p)
			}
		}
		// Removing keeps the configuration and the content; purging
		// takes the configuration and what postinst made, unchanged.
		for _, p := range []string{"/etc/gopherd.json", "/srv/gopher/gophermap"} {
			if !exists(p) {
				t.Errorf("%s gone after dpkg -r", p)
			}
		}
		dpkg("--purge", "gopherd")
		for _, p := range []string{"/etc/gopherd.json", "/srv/gopher", "/var/lib/gopherd", wants} {
			if exists(p) {
				t.Errorf("%s still there after dpkg --purge", p)
			}
		}
		checkSrvKept("after purge")
	})

	t.Run("purge keeps an edited welcome map", func(t *testing.T) {
		dpkg("-i", deb)
		writeFile(t, "/srv/gopher/gophermap", []byte("My own gopherhole\n"), 0o644)
		dpkg("--purge", "gopherd")
		if data, err := os.ReadFile("/srv/gopher/gophermap"); err != nil || string(data) != "My own gopherhole\n" {
			t.Errorf("purge took the edited map: %q %v", data, err)
		}
		checkSrvKept("after purge")
		_ = os.RemoveAll("/srv/gopher")
	})

	// The served root is made on the first installation only: an
	// administrator who removed it (to serve from elsewhere) does not get
	// it back with every upgrade.
	t.Run("an upgrade does not make the served root again", func(t *testing.T) {
		dpkg("-i", deb)
		if err := os.RemoveAll("/srv/gopher"); err != nil {
			t.Fatal(err)
		}
		dpkg("-i", deb)
		if exists("/srv/gopher") {
			t.Errorf("the upgrade made /srv/gopher again, which the administrator had removed")
		}
		dpkg("--purge", "gopherd")
		checkSrvKept("after purge")
	})

	t.Run("systemd calls", func(t *testing.T) { testMaintainerScriptsSystemd(t, deb) })

	t.Run("a served root that was there is left alone", func(t *testing.T) {
		writeFile(t, "/srv/gopher/phlog.txt", []byte("mine\n"), 0o644)
		dpkg("-i", deb)
		if exists("/srv/gopher/gophermap") {
			t.Errorf("dpkg -i put a welcome map into an existing /srv/gopher")
		}
		if code, out := runGopherd(t, "/usr/bin/gopherd", "--check", "/etc/gopherd.json"); code != 0 {
			t.Errorf("gopherd --check: exit %d\n%s", code, out)
		}
		dpkg("--purge", "gopherd")
		if data, err := os.ReadFile("/srv/gopher/phlog.txt"); err != nil || string(data) != "mine\n" {
			t.Errorf("purge touched content that was there before: %q %v", data, err)
		}
		checkSrvKept("after purge")
		_ = os.RemoveAll("/srv/gopher")
	})
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

// serveOnce starts bin with "-l 127.0.0.1:PORT args...", fetches the root
// menu, stops it with SIGTERM and checks that it exits cleanly.
func serveOnce(t *testing.T, bin string, args ...string) served {
	t.Helper()
	port := freePort(t)
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	cmd := exec.Command(bin, append([]string{"-l", addr}, args...)...)
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
	// Wait for the access log line: SIGTERM before the signal handler is
	// in place would kill gopherd instead of stopping it.
	for !strings.Contains(log.String(), "request") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
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

// testMaintainerScriptsSystemd checks what the maintainer scripts ask of
// systemd: installing starts and enables nothing, an upgrade restarts
// whichever server runs (gopherd-root.service too, which the old postinst
// missed), removing stops all three units. dpkg runs in a mount namespace
// where systemd looks present (a tmpfs on /run holding
// /run/systemd/system), with stand-ins for systemctl and
// deb-systemd-invoke that log their arguments; deb-systemd-helper is the
// real one.
func testMaintainerScriptsSystemd(t *testing.T, deb string) {
	if err := exec.Command("unshare", "--mount", "true").Run(); err != nil {
		t.Skipf("unshare --mount fails here (%v): cannot make systemd look present", err)
	}
	fake := t.TempDir()
	log := filepath.Join(fake, "calls")
	for _, name := range []string{"systemctl", "deb-systemd-invoke"} {
		writeFile(t, filepath.Join(fake, name), []byte("#!/bin/sh\necho \""+name+" $*\" >>"+log+"\n"), 0o755)
	}
	dpkg := func(args ...string) []string {
		t.Helper()
		_ = os.Remove(log)
		script := `mount -t tmpfs tmpfs /run && mkdir -p /run/systemd/system && exec dpkg "$@"`
		cmd := exec.Command("unshare", append([]string{"--mount", "sh", "-c", script, "sh"}, args...)...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive", "PATH="+fake+":"+os.Getenv("PATH"))
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("dpkg %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		data, err := os.ReadFile(log)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			t.Fatal(err)
		}
		var invoked []string
		for _, c := range strings.Split(strings.TrimSpace(string(data)), "\n") {
			// deb-systemd-helper, the real one, reloads systemd itself
			// on purge; only the scripts' own calls count.
			if !(args[0] == "--purge" && c == "systemctl daemon-reload") {
				invoked = append(invoked, c)
			}
		}
		return invoked
	}
	const (
		reload     = "systemctl --system daemon-reload"
		tryRestart = "deb-systemd-invoke try-restart gopherd.service gopherd-root.service"
		stop       = "deb-systemd-invoke stop gopherd.socket gopherd.service gopherd-root.service"
	)
	for _, step := range []struct {
		what string
		args []string
		want []string
	}{
		{"install", []string{"-i", deb}, []string{reload}},
		{"upgrade", []string{"-i", deb}, []string{reload, tryRestart}},
		{"remove", []string{"-r", "gopherd"}, []string{stop, reload}},
		{"purge", []string{"--purge", "gopherd"}, nil},
	} {
		if got := dpkg(step.args...); strings.Join(got, "\n") != strings.Join(step.want, "\n") {
			t.Errorf("%s: the maintainer scripts called\n  %s\nwant\n  %s", step.what, strings.Join(got, "\n  "), strings.Join(step.want, "\n  "))
		}
	}
	_ = os.RemoveAll("/srv/gopher")
}
