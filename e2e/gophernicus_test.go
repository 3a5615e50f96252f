package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The differential test serves testdata/gnxtree (one directory per line
// kind of Gophernicus' gophermaps) with gopherd in the gophernicus dialect
// and with Debian's gophernicus (inetd-style under systemd-socket-activate,
// execution off with -nx, and with -nf -nd -nl -nv -nm -no: no footer,
// dates, parent links, virtual hosts, shared memory or charset
// conversion), and compares the menus item by item.
//
// What is normalised, and only that:
//   - info items: Gophernicus writes "null.host" and port 1 into them (and
//     keeps "TITLE" as a title's selector, as gopherd does); gopherd writes
//     its own host and port;
//   - directory selectors in the appended listing: Gophernicus ends them
//     with "/", gopherd does not (both name the same directory).
//
// Every other disagreement is a documented deviation, listed in gnxDiffs
// with Gophernicus' exact item, so the test fails if either server changes.

// gnxDiff is one item where Gophernicus and gopherd disagree.
type gnxDiff struct {
	name string
	// gnx is Gophernicus' item (after normalisation), found by equality;
	// gopherd is what gopherd writes instead, nil when it leaves it out.
	gnx     menuItem
	gopherd *menuItem
}

const (
	gnxDiffWidth    = "info text: Gophernicus cuts it at 67 columns (-w); gopherd keeps every line byte-exact"
	gnxDiffCycle    = "an include cycle: Gophernicus repeats the maps until its depth limit; gopherd includes each map of the cycle once and warns"
	gnxDiffDotfile  = "an include naming a dotfile: Gophernicus reads it; gopherd never reads a dotfile, as it never serves one"
	gnxDiffSource   = "an include naming an executable file: Gophernicus runs it, or with -nx shows its source as a map; gopherd never runs anything and never shows a program's source"
	gnxDiffNoHost   = "an empty host field: Gophernicus writes it empty and keeps the selector as written, a link clients cannot follow; gopherd writes its own host and joins the selector, as in Bucktooth"
	gnxDiffBadPort  = "a port that is not a number: Gophernicus writes port 0; gopherd skips the line with a warning"
	gnxDiffDotDot   = "a relative selector with \"..\": Gophernicus writes the directory and the selector as they are (\"/links/../listing\"); gopherd resolves it to a clean path"
	gnxLongLine     = "A line longer than the 67 columns Gophernicus cuts info lines at, kept whole by gopherd."
	gnxLongLineCut  = "A line longer than the 67 columns Gophernicus cuts info lines at, k"
	gnxScriptOutput = "echo from the script"
)

var gnxDiffs = map[string][]gnxDiff{
	"links": {
		{gnxDiffNoHost, menuItem{Type: '1', Display: "Empty host", Selector: "sub", Host: "", Port: strconv.Itoa(pyPublicPort)}, itemPtr(localItem('1', "Empty host", "/links/sub"))},
		{gnxDiffBadPort, menuItem{Type: '1', Display: "Bad port", Selector: "/x", Host: "localhost", Port: "0"}, nil},
		{gnxDiffDotDot, localItem('1', "Up", "/links/../listing"), itemPtr(localItem('1', "Up", "/listing"))},
	},
	"long":    {{gnxDiffWidth, localItem('i', gnxLongLineCut, ""), itemPtr(localItem('i', gnxLongLine, ""))}},
	"cycle":   {{gnxDiffCycle, localItem('i', "in a", ""), nil}, {gnxDiffCycle, localItem('i', "in b", ""), nil}},
	"refused": {{gnxDiffDotfile, localItem('i', "secret words", ""), nil}, {gnxDiffSource, localItem('i', gnxScriptOutput, ""), nil}},
}

// gophernicus is an inetd-style gophernicus started by a test.
type gophernicus struct {
	addr string
	log  *syncBuffer
}

// startGophernicus serves root with gophernicus on a free loopback port,
// writing port into its menus, and stops it by PID when the test ends.
func startGophernicus(t *testing.T, root string, port int) *gophernicus {
	t.Helper()
	bin := "/usr/sbin/gophernicus"
	if _, err := os.Stat(bin); err != nil {
		t.Skip("gophernicus is not installed (Debian package gophernicus, which .ci/run installs): skipping the differential test")
	}
	activate, err := exec.LookPath("systemd-socket-activate")
	if err != nil {
		t.Skip("systemd-socket-activate is not installed (Debian package systemd): skipping the differential test")
	}
	listen := freePort(t)
	g := &gophernicus{addr: "127.0.0.1:" + strconv.Itoa(listen), log: &syncBuffer{}}
	cmd := exec.Command(activate, "--inetd", "--accept", "--listen="+g.addr,
		bin, "-h", "localhost", "-p", strconv.Itoa(port), "-r", root,
		"-nx", "-nr", "-ns", "-nf", "-nd", "-nl", "-nv", "-nm", "-no")
	startPeer(t, "gophernicus under systemd-socket-activate", cmd, g.log, "Listening on", 10*time.Second)
	return g
}

// normaliseGophernicus applies the two normalisations to Gophernicus'
// items; it fails on an info item without Gophernicus' filler.
func normaliseGophernicus(t *testing.T, what string, items []menuItem) {
	t.Helper()
	local := localItem(0, "", "")
	for i, it := range items {
		switch {
		case it.Type == 'i':
			if it.Host != "null.host" || it.Port != "1" {
				t.Errorf("%s item %d: info item with host and port %q %q, want Gophernicus' filler", what, i+1, it.Host, it.Port)
			}
			sel := ""
			if it.Selector == "TITLE" {
				sel = "TITLE"
			}
			items[i] = localItem('i', it.Display, sel)
		case it.Type == '1' && it.Host == local.Host && it.Port == local.Port && len(it.Selector) > 1 && strings.HasSuffix(it.Selector, "/"):
			items[i].Selector = strings.TrimSuffix(it.Selector, "/")
		}
	}
}

func TestGophernicusDifferential(t *testing.T) {
	slow(t)
	src := filepath.Join("testdata", "gnxtree")
	gdRoot, gnxRoot := filepath.Join(t.TempDir(), "gnxtree"), filepath.Join(t.TempDir(), "gnxtree")
	for _, root := range []string{gdRoot, gnxRoot} {
		if err := os.CopyFS(root, os.DirFS(src)); err != nil {
			t.Fatal(err)
		}
		// An include that Gophernicus would run: executable, made here so
		// that its mode does not depend on the checkout.
		script := filepath.Join(root, "refused", "script")
		if err := os.WriteFile(script, []byte("#!/bin/sh\n"+gnxScriptOutput+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(script, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	gnx := startGophernicus(t, gnxRoot, pyPublicPort)
	cfg := baseConfig(t, gdRoot)
	cfg["public-port"] = pyPublicPort
	cfg["gophermap"] = map[string]any{"dialect": "gophernicus"}
	gd := startConfig(t, cfg)

	dirs, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	sels := []string{"/"}
	for _, d := range dirs {
		if d.IsDir() {
			sels = append(sels, "/"+d.Name()+"/")
		}
	}
	if len(sels) < 14 {
		t.Fatalf("%d fixture directories, want one per line kind", len(sels)-1)
	}
	for _, sel := range sels {
		name := strings.Trim(sel, "/")
		if name == "" {
			name = "root"
		}
		t.Run(name, func(t *testing.T) {
			gRaw := gd.get(sel)
			nRaw, err := fetch(gnx.addr, "", sel, 10*time.Second)
			if err != nil {
				t.Fatalf("gophernicus %s: %v\n%s", sel, err, gnx.log)
			}
			g, err := splitMenu(gRaw, true)
			if err != nil {
				t.Fatalf("gopherd %s: %v: %q", sel, err, gRaw)
			}
			n, err := splitMenu(nRaw, true)
			if err != nil {
				t.Fatalf("gophernicus %s: %v: %q", sel, err, nRaw)
			}
			normaliseGophernicus(t, sel, n)
			for _, d := range gnxDiffs[strings.Trim(sel, "/")] {
				at := slices.Index(n, d.gnx)
				if at < 0 {
					t.Errorf("%s: difference %q: Gophernicus has no item %+v", sel, d.name, d.gnx)
					continue
				}
				if d.gopherd == nil {
					n = slices.Delete(n, at, at+1)
				} else {
					n[at] = *d.gopherd
				}
			}
			compareWith(t, "gophernicus", sel, g, n)
		})
	}
	// The executable include never ran in gopherd's tree (Gophernicus ran
	// none either: -nx), and gopherd said why it left it out.
	if !strings.Contains(gd.log.String(), `"=script": an executable file (Gophernicus would run it): gopherd never runs anything`) {
		t.Errorf("no warning about the executable include:\n%s", gd.log)
	}
}
