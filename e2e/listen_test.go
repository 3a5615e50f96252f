package e2e

import (
	"net"
	"strings"
	"testing"
)

// A port in use is a reason to exit 1, and the message names the address
// once: net.Listen's error already holds it.
func TestBindErrorNamesAddressOnce(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	addr := busy.Addr().String()
	cfg := baseConfig(t, t.TempDir())
	cfg["log"] = map[string]any{"hide-time": true}
	code, stdout, stderr := runGopherd(t, "-l", addr, writeConfig(t, cfg))
	if code != 1 {
		t.Fatalf("exit %d, want 1; stdout %q stderr %q", code, stdout, stderr)
	}
	if n := strings.Count(stderr, addr); n != 1 {
		t.Errorf("stderr names %s %d times, want once:\n%s", addr, n, stderr)
	}
	if !strings.Contains(stderr, "address already in use") {
		t.Errorf("stderr does not say why:\n%s", stderr)
	}
}
