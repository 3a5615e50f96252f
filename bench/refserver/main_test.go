package main

import (
	"io"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestRefserverResponses(t *testing.T) {
	root := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(filepath.Join(root, "gophermap"), []byte("Hello\n1Sub\t/sub\n0Ext\t/x\tfar.example\t70\n.\nignored\n"), 0o644))
	must(os.Mkdir(filepath.Join(root, "sub"), 0o755))
	must(os.WriteFile(filepath.Join(root, "sub", "b.txt"), []byte("bee"), 0o644))
	must(os.WriteFile(filepath.Join(root, "sub", "a.bin"), []byte{0, 1, 2}, 0o644))
	must(os.WriteFile(filepath.Join(root, "sub", ".hidden"), []byte("no"), 0o644))
	must(os.Mkdir(filepath.Join(root, "sub", "d"), 0o755))
	must(os.WriteFile(filepath.Join(filepath.Dir(root), "secret"), []byte("outside"), 0o644))

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(err)
	s := &server{root: root, host: "localhost", port: "70", timeout: 5 * time.Second}
	go s.serve(ln)
	defer ln.Close()

	tests := []struct{ req, want string }{
		{"\r\n", "iHello\t\tlocalhost\t70\r\n1Sub\t/sub\tlocalhost\t70\r\n0Ext\t/x\tfar.example\t70\r\n.\r\n"},
		{"/sub\r\n", "0a.bin\t/sub/a.bin\tlocalhost\t70\r\n0b.txt\t/sub/b.txt\tlocalhost\t70\r\n1d\t/sub/d\tlocalhost\t70\r\n.\r\n"},
		{"/sub/b.txt\r\n", "bee"},
		{"sub/a.bin\tsearch\r\n", "\x00\x01\x02"},
		{"/../secret\r\n", "3not allowed\tErr\tlocalhost\t70\r\n.\r\n"},
		{"/sub/../../secret\n", "3not allowed\tErr\tlocalhost\t70\r\n.\r\n"},
		{"/missing\r\n", "3not found\tErr\tlocalhost\t70\r\n.\r\n"},
	}
	for _, tt := range tests {
		c, err := net.Dial("tcp", ln.Addr().String())
		must(err)
		c.SetDeadline(time.Now().Add(5 * time.Second))
		io.WriteString(c, tt.req)
		got, err := io.ReadAll(c)
		c.Close()
		if err != nil || string(got) != tt.want {
			t.Errorf("request %q: got %q, %v; want %q", tt.req, got, err, tt.want)
		}
	}
}
