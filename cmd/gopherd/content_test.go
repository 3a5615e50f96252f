package main

import (
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// contentTree is a tree with one Gophernicus map, one geomyidae menu and a
// text file, read the same under every configuration.
func contentTree(t *testing.T) string {
	root := t.TempDir()
	writeFiles(t, root, map[string]string{
		"gophermap":         "# a comment\nhello\n",
		"~alice/gophermap":  "# alice's comment\n!Alice\n*\n",
		"~alice/notes.txt":  "a\n.b\n",
		"rfc/doc.txt":       "a\n.b\n.\n..c\n",
		"rfc/blob.bin":      "\x00.\n",
		"hole/index.gph":    "[0|Doc|../rfc/doc.txt|server|port]\n",
		"plain/gophermap":   "# not a comment here\n",
		"plain/unused.file": "x",
	})
	return root
}

func TestContentConfiguration(t *testing.T) {
	root := contentTree(t)
	cfgPath := filepath.Join(t.TempDir(), "gopherd.json")
	cfg := map[string]any{
		"hostname": "localhost", "root": root,
		"listen":          map[string]any{"addr": "127.0.0.1", "port": 0},
		"gophermap":       map[string]any{"dialects": map[string]any{"/~alice/": "gophernicus"}},
		"text-mode-paths": map[string]any{"/rfc/": "rfc1436"},
	}
	writeJSON(t, cfgPath, cfg)
	r := mustStart(t, cfgPath)
	port := strconv.Itoa(r.Addrs()[0].(*net.TCPAddr).Port)
	local := "\tlocalhost\t" + port + "\r\n"

	// The default dialect is Bucktooth: a "#" line is text.
	if got := r.get("/"); got != "i# a comment\t"+local+"ihello\t"+local+".\r\n" {
		t.Errorf("/: %q", got)
	}
	want := "iAlice\tTITLE" + local + "0notes.txt\t/~alice/notes.txt" + local + ".\r\n"
	if got := r.get("/~alice/"); got != want {
		t.Errorf("/~alice/: %q\nwant %q", got, want)
	}
	if got := r.get("/hole"); got != "0Doc\t/rfc/doc.txt"+local+".\r\n" {
		t.Errorf("/hole: %q", got)
	}
	if got := r.get("/rfc/doc.txt"); got != "a\r\n..b\r\n..\r\n...c\r\n.\r\n" {
		t.Errorf("rfc1436 text: %q", got)
	}
	if got := r.get("/rfc/blob.bin"); got != "\x00.\n" {
		t.Errorf("binary in an rfc1436 directory: %q", got)
	}
	if got := r.get("/~alice/notes.txt"); got != "a\n.b\n" {
		t.Errorf("raw text: %q", got)
	}

	// Gopher+ is answered, as the UMN client needs: its first request.
	if got := r.get("\t$"); got != "+-1\r\n+INFO: i# a comment\t"+local+"+INFO: ihello\t"+local+".\r\n" {
		t.Errorf("TAB $: %q", got)
	}
	if got := r.get("/rfc/doc.txt\t!"); !strings.HasPrefix(got, "+-1\r\n+INFO: 0doc.txt\t/rfc/doc.txt\tlocalhost\t"+port+"\t+\r\n") || !strings.Contains(got, "+VIEWS:\r\n text/plain: <11b>\r\n.\r\n") {
		t.Errorf("TAB !: %q", got)
	}
	if got := r.get("/~alice/notes.txt\t+text/plain"); got != "+-2\r\na\n.b\n" {
		t.Errorf("TAB +text/plain: %q", got)
	}

	// The whole tree in the gophernicus dialect, the text mode for all,
	// Gopher+ off: a reload applies each.
	cfg["gophermap"] = map[string]any{"dialect": "gophernicus", "dialects": map[string]any{"/plain": "bucktooth"}}
	cfg["text-mode"] = "rfc1436"
	cfg["gopher-plus"] = "off"
	writeJSON(t, cfgPath, cfg)
	r.Reload()
	if got := r.get("/"); got != "ihello\t"+local+".\r\n" {
		t.Errorf("/ after reload: %q\n%s", got, r.log)
	}
	if got := r.get("/plain"); got != "i# not a comment here\t"+local+".\r\n" {
		t.Errorf("/plain after reload: %q", got)
	}
	if got := r.get("/~alice/notes.txt"); got != "a\r\n..b\r\n.\r\n" {
		t.Errorf("text after reload: %q", got)
	}
	if got := r.get("\t$"); got != "ihello\t"+local+".\r\n" {
		t.Errorf("TAB $ with gopher-plus off: %q", got)
	}
}

// TestContentPerVhost: a vhost has the top-level presentation unless it
// sets its own.
func TestContentPerVhost(t *testing.T) {
	probe, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Skipf("no second loopback address: %v", err)
	}
	_ = probe.Close()
	root, other := contentTree(t), contentTree(t)
	cfgPath := filepath.Join(t.TempDir(), "gopherd.json")
	writeJSON(t, cfgPath, map[string]any{
		"hostname": "main.test", "root": root,
		"listen": []any{
			map[string]any{"addr": "127.0.0.1", "port": 0},
			map[string]any{"addr": "127.0.0.2", "port": 0, "vhost": "b.test"},
			map[string]any{"addr": "127.0.0.2", "port": 0, "vhost": "c.test"},
		},
		"gophermap": map[string]any{"dialect": "gophernicus"},
		"text-mode": "rfc1436",
		"vhosts": []any{
			map[string]any{"hostname": "b.test", "root": other},
			map[string]any{"hostname": "c.test", "root": other, "gophermap": map[string]any{}, "text-mode": "raw"},
		},
	})
	r := mustStart(t, cfgPath)
	addrs := r.Addrs()
	for i, want := range []struct {
		bucktooth bool
		text      string
	}{{false, "a\r\n..b\r\n.\r\n"}, {false, "a\r\n..b\r\n.\r\n"}, {true, "a\n.b\n"}} {
		menu := fetch(t, addrs[i].String(), "/")
		if strings.Contains(menu, "i# a comment\t") != want.bucktooth {
			t.Errorf("listener %d: menu %q (bucktooth %v)", i, menu, want.bucktooth)
		}
		if got := fetch(t, addrs[i].String(), "/~alice/notes.txt"); got != want.text {
			t.Errorf("listener %d: text %q, want %q", i, got, want.text)
		}
	}
}
