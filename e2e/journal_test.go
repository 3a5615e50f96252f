package e2e

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// journalSocketVar is the go-systemd variable naming journald's socket,
// which the linker can set; the test points it at a socket of its own.
const journalSocketVar = "github.com/coreos/go-systemd/v22/journal.journalSocket"

// TestJournal runs gopherd as systemd would with its stderr connected to
// the journal (JOURNAL_STREAM names stderr's device and inode) and reads
// what arrives on journald's native socket: every entry with its priority,
// no timestamp of gopherd's own, the access log's fields as journal fields,
// and nothing on stderr.
func TestJournal(t *testing.T) {
	slow(t) // it builds a second binary
	dir := t.TempDir()
	sock := filepath.Join(dir, "journal.sock")
	bin := filepath.Join(dir, "gopherd")
	if out, err := buildGopherd(bin, journalSocketVar+"="+sock).CombinedOutput(); err != nil {
		t.Fatalf("building gopherd: %v\n%s", err, out)
	}
	journald, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer journald.Close()
	entries := make(chan map[string]string, 64)
	go func() {
		buf := make([]byte, 1<<16)
		for {
			n, err := journald.Read(buf)
			if err != nil {
				close(entries)
				return
			}
			e, err := parseJournalEntry(buf[:n])
			if err != nil {
				e = map[string]string{"PARSE_ERROR": err.Error(), "RAW": string(buf[:n])}
			}
			entries <- e
		}
	}()

	stderr, err := os.Create(filepath.Join(dir, "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	defer stderr.Close()
	var st syscall.Stat_t
	if err := syscall.Fstat(int(stderr.Fd()), &st); err != nil {
		t.Fatal(err)
	}

	root := t.TempDir()
	// The map's second line has a port that is not a number: a warning.
	writeTree(t, root, map[string]string{
		"gophermap": "Hello\n0Bad port\t/hello.txt\tlocalhost\tseventy\n",
		"hello.txt": "hi\n",
	})
	cfg := baseConfig(t, root)
	l := cfg["listen"].(map[string]any)
	addr := net.JoinHostPort(l["addr"].(string), fmt.Sprint(l["port"]))
	cmd := exec.Command(bin, writeConfig(t, cfg))
	cmd.Stdout, cmd.Stderr = stderr, stderr
	cmd.Env = append(os.Environ(), fmt.Sprintf("JOURNAL_STREAM=%d:%d", st.Dev, st.Ino))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(exited) }()
	defer func() {
		_ = cmd.Process.Kill()
		<-exited
	}()

	var seen []map[string]string
	// next waits for an entry whose MESSAGE starts with prefix.
	next := func(prefix string) map[string]string {
		t.Helper()
		timeout := time.After(20 * time.Second)
		for {
			select {
			case e, ok := <-entries:
				if !ok {
					t.Fatalf("journal socket closed before %q", prefix)
				}
				seen = append(seen, e)
				if strings.HasPrefix(e["MESSAGE"], prefix) {
					return e
				}
			case <-exited:
				t.Fatalf("gopherd exited (%v) before logging %q; entries %v", waitErr, prefix, seen)
			case <-timeout:
				out, _ := os.ReadFile(stderr.Name())
				t.Fatalf("no journal entry %q within 20 s; entries %v; stderr %q", prefix, seen, out)
			}
		}
	}
	started := next("gopherd started")
	d := &daemon{t: t, addr: addr}
	d.get("/")
	warning := next("gophermap")
	request := next("request")
	d.get("/hello.txt")
	fileRequest := next("request")
	_ = cmd.Process.Kill()
	<-exited

	timestamp := regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d`)
	for _, e := range seen {
		if e["PARSE_ERROR"] != "" {
			t.Errorf("entry not in journald's native format: %s: %q", e["PARSE_ERROR"], e["RAW"])
		}
		if timestamp.MatchString(e["MESSAGE"]) {
			t.Errorf("MESSAGE carries a timestamp of its own: %q", e["MESSAGE"])
		}
		if e["SYSLOG_IDENTIFIER"] != "gopherd" {
			t.Errorf("SYSLOG_IDENTIFIER %q in %v", e["SYSLOG_IDENTIFIER"], e)
		}
	}
	for _, c := range []struct {
		name  string
		entry map[string]string
		want  map[string]string
	}{
		{"start", started, map[string]string{"PRIORITY": "6", "ROOT": root}},
		{"gophermap warning", warning, map[string]string{"PRIORITY": "4"}},
		{"menu request", request, map[string]string{"PRIORITY": "6", "SELECTOR": "/", "SERVED": "menu", "CLIENT": "[redacted]"}},
		{"file request", fileRequest, map[string]string{"PRIORITY": "6", "SELECTOR": "/hello.txt", "SERVED": "file", "BYTES": "3"}},
	} {
		for k, v := range c.want {
			if c.entry[k] != v {
				t.Errorf("%s: %s = %q, want %q (entry %v)", c.name, k, c.entry[k], v, c.entry)
			}
		}
	}
	if _, err := strconv.Atoi(request["BYTES"]); err != nil {
		t.Errorf("BYTES %q is not a number", request["BYTES"])
	}
	if out, _ := os.ReadFile(stderr.Name()); len(out) > 0 {
		t.Errorf("with the journal reachable, stderr got %q", out)
	}
}

// parseJournalEntry reads one datagram of journald's native protocol:
// lines "NAME=value", or "NAME\n", a 64-bit little-endian length, the
// value and "\n" for values that hold a newline.
func parseJournalEntry(b []byte) (map[string]string, error) {
	e := map[string]string{}
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			return nil, errors.New("field without a newline")
		}
		line := b[:i]
		b = b[i+1:]
		if k, v, ok := bytes.Cut(line, []byte("=")); ok {
			e[string(k)] = string(v)
			continue
		}
		if len(b) < 8 {
			return nil, fmt.Errorf("field %s: no length", line)
		}
		n := binary.LittleEndian.Uint64(b)
		b = b[8:]
		if uint64(len(b)) < n+1 || b[n] != '\n' {
			return nil, fmt.Errorf("field %s: length %d does not fit", line, n)
		}
		e[string(line)] = string(b[:n])
		b = b[n+1:]
	}
	return e, nil
}

// TestJournalFatalErrors: when gopherd cannot start under systemd, the
// reason reaches the journal as an error (priority 3, "<3>" on the
// journal's stream), so that journalctl -p err shows it: a port taken
// (exit 1) and a bad configuration (exit 2).
func TestJournalFatalErrors(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	busy := baseConfig(t, t.TempDir())
	busy["listen"] = map[string]any{"addr": "127.0.0.1", "port": taken.Addr().(*net.TCPAddr).Port}
	bad := filepath.Join(t.TempDir(), "gopherd.json")
	if err := os.WriteFile(bad, []byte(`{"root": 5}`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name   string
		config string
		code   int
		says   string
	}{
		{"port taken", writeConfig(t, busy), 1, "address already in use"},
		{"bad configuration", bad, 2, "root"},
	} {
		t.Run(c.name, func(t *testing.T) {
			stderr, err := os.Create(filepath.Join(t.TempDir(), "stderr"))
			if err != nil {
				t.Fatal(err)
			}
			defer stderr.Close()
			var st syscall.Stat_t
			if err := syscall.Fstat(int(stderr.Fd()), &st); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(gopherdBin, c.config)
			cmd.Stdout, cmd.Stderr = stderr, stderr
			cmd.Env = append(os.Environ(), fmt.Sprintf("JOURNAL_STREAM=%d:%d", st.Dev, st.Ino))
			_ = cmd.Run()
			if code := cmd.ProcessState.ExitCode(); code != c.code {
				t.Errorf("exit %d, want %d", code, c.code)
			}
			out, _ := os.ReadFile(stderr.Name())
			var reason string
			for _, l := range strings.Split(string(out), "\n") {
				if strings.Contains(l, c.says) {
					reason = l
				}
			}
			if !strings.HasPrefix(reason, "<3>") {
				t.Errorf("the reason to exit is not marked as an error (<3>) on the journal's stream:\n%s", out)
			}
		})
	}
}
