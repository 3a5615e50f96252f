package e2e

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// tmuxSession is a terminal a test drives a client in: its own tmux server
// (a socket named for the test), stopped when the test ends.
type tmuxSession struct {
	t      *testing.T
	socket string
}

// startTmux runs command in a new 100x30 tmux session, or skips when tmux
// is missing.
func startTmux(t *testing.T, command string) *tmuxSession {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux is not installed (Debian package tmux, which .ci/run installs): skipping the test with a real terminal client")
	}
	s := &tmuxSession{t: t, socket: "gopherd-e2e-" + strconv.Itoa(os.Getpid()) + "-" + strconv.FormatInt(time.Now().UnixNano(), 36)}
	// The client's exit status stays on the screen, which then lives on
	// for the test to read.
	s.tmux("new-session", "-d", "-x", "100", "-y", "30", command+"; echo CLIENT-EXIT=$?; sleep 60")
	t.Cleanup(func() { _ = exec.Command("tmux", "-L", s.socket, "kill-server").Run() })
	return s
}

func (s *tmuxSession) tmux(args ...string) string {
	s.t.Helper()
	out, err := exec.Command("tmux", append([]string{"-L", s.socket}, args...)...).CombinedOutput()
	if err != nil {
		s.t.Fatalf("tmux %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// screen returns what the terminal shows.
func (s *tmuxSession) screen() string { return s.tmux("capture-pane", "-p") }

// waitFor waits until the screen shows want, and returns it.
func (s *tmuxSession) waitFor(want string) string {
	s.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		sc := s.screen()
		if strings.Contains(sc, want) {
			return sc
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("the screen does not show %q after 10s:\n%s", want, sc)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// keys sends keys, one at a time, with a moment for the client between.
func (s *tmuxSession) keys(keys ...string) {
	for _, k := range keys {
		s.tmux("send-keys", k)
		time.Sleep(150 * time.Millisecond)
	}
}

// TestUMNClient drives the UMN gopher client (Debian's "gopher") against
// gopherd: it asks for its first menu with TAB $, and for items marked "+"
// with TAB ! then TAB +text/plain (directories: TAB $). With gopher-plus on
// (the default) every one displays; with it off, the client gives up on
// its first menu, as it did against gopherd before.
func TestUMNClient(t *testing.T) {
	slow(t)
	client, err := exec.LookPath("gopher")
	if err != nil {
		t.Skip("the UMN gopher client is not installed (Debian package gopher, which .ci/run installs): skipping")
	}
	root := t.TempDir()
	writeTree(t, root, map[string]string{
		"gophermap":     "Welcome to the test hole\n0Plain file\tplain.txt\n0Plus file\tplus.txt\t\t\t+\n1Plus dir\tsub\t\t\t+\n",
		"plain.txt":     "the plain text\n",
		"plus.txt":      "the plus text\n",
		"sub/inner.txt": "inner\n",
	})
	for _, mode := range []string{"on", "off"} {
		t.Run("gopher-plus "+mode, func(t *testing.T) {
			cfg := baseConfig(t, root)
			cfg["gopher-plus"] = mode
			d := startConfig(t, cfg)
			s := startTmux(t, client+" localhost "+strconv.Itoa(d.port))
			if mode == "off" {
				s.waitFor("Nothing available.")
				s.keys("Enter")
				sc := s.waitFor("CLIENT-EXIT=1")
				if !strings.Contains(sc, "Nothing received for main menu") {
					t.Errorf("the client did not say why it gave up:\n%s", sc)
				}
				return
			}
			s.waitFor("Welcome to the test hole")
			s.keys("Down", "Enter") // the plus file: TAB !, then TAB +text/plain
			s.waitFor("the plus text")
			s.keys("u", "Down", "Enter") // the plus directory: TAB $
			s.waitFor("inner.txt")
			s.keys("u", "Up", "Up", "Enter") // the plain file: a plain request
			s.waitFor("the plain text")
		})
	}
}
