package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func validateLines(t *testing.T, c *Config) []string {
	t.Helper()
	err := c.Validate()
	if err == nil {
		return nil
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("Validate error is %T, want *Error: %v", err, err)
	}
	return strings.Split(e.Error(), "\n")
}

func TestValidateGood(t *testing.T) {
	dir := t.TempDir()
	c := mustParse(t, `{"root": "`+dir+`", "listen": [{"port": 7070}, {"addr": "127.0.0.1", "port": 7071}]}`)
	if err := c.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
	// An empty root is fine too: ReadDir reports io.EOF, not an error.
	if err := os.WriteFile(filepath.Join(dir, "file"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("Validate with a file in root: %v", err)
	}
}

// Validate reports every problem at once, with the lines the keys came
// from in the file.
func TestValidateParsedReportsAll(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "nope")
	c := mustParse(t, `{
  "hostname": "h",
  "root": "`+missing+`",
  "listen": [
    {"port": 7070},
    {"port": 7071}
  ]
}`)
	// A Config that was changed by hand after Parse is checked as well.
	c.Hostname = ""
	c.Listen[1].Port = 7070
	c.Log.Level = "loud"
	got := validateLines(t, c)
	want := []string{
		`g.json:2: hostname: must not be empty`,
		`g.json:3: root: directory "` + missing + `" does not exist`,
		`g.json:6: listen[1]: same address as listen[0] ([::]:7070)`,
		`g.json: log.level: unknown level "loud" (want debug, info, warn or error)`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Validate:\n got  %q\n want %q", got, want)
	}
	if err := c.Validate(); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("errors.Is(err, fs.ErrNotExist) = false for %v", err)
	}
}

func TestValidateProblems(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	locked := filepath.Join(dir, "locked")
	if err := os.Mkdir(locked, 0o000); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(locked, 0o755) })

	base := func() *Config {
		c := Default()
		c.Root = dir
		return c
	}
	tests := []struct {
		name   string
		change func(*Config)
		want   []string
		skip   bool
	}{
		{"root is a file", func(c *Config) { c.Root = file },
			[]string{`root: "` + file + `" is not a directory`}, false},
		{"root unreadable", func(c *Config) { c.Root = locked },
			[]string{`root: cannot open "` + locked + `": permission denied`}, os.Geteuid() == 0},
		{"root empty", func(c *Config) { c.Root = "" },
			[]string{`root: required key is missing (the directory to serve; --root also sets it)`}, false},
		{"no listeners", func(c *Config) { c.Listen = nil },
			[]string{`listen: must not be an empty list`}, false},
		{"bad listener", func(c *Config) { c.Listen = append(c.Listen, Listen{Addr: "a b", Port: 70000}) },
			[]string{
				`listen[1].addr: invalid address "a b": want an IP address or a host name`,
				`listen[1].port: must be between 0 and 65535, got 70000`,
			}, false},
		{"any free port, twice", func(c *Config) { c.Listen = []Listen{{Addr: "::1"}, {Addr: "::1"}} }, nil, false},
		{"public port", func(c *Config) { c.PublicPort = -1 },
			[]string{`public-port: must be between 1 and 65535, got -1`}, false},
		{"user", func(c *Config) { c.User = "1:" },
			[]string{`user: invalid user "1:": want a user name, a uid or uid:gid`}, false},
		{"level not canonical", func(c *Config) { c.Log.Level = "WARN" },
			[]string{`log.level: unknown level "WARN" (want debug, info, warn or error)`}, false},
		{"limits", func(c *Config) {
			c.Limits = Limits{RequestBytes: -1, RequestTimeout: -1, IdleTimeout: -time.Second, MaxConnections: -1,
				MaxConnectionsPerIP: maxCount + 1, MaxConnectionsPerPrefix: -1, MinReadRate: 2 << 30}
		},
			[]string{
				`limits.request-bytes: must be between 1 and 1048576, got -1`,
				`limits.request-timeout: must be positive, got "-1ns"`,
				`limits.idle-timeout: must be positive, got "-1s"`,
				`limits.max-connections: must be between 1 and 2147483647, got -1`,
				`limits.max-connections-per-ip: must be between 1 and 2147483647, got 2147483648`,
				`limits.max-connections-per-prefix: must be between 1 and 2147483647, got -1`,
				`limits.min-read-rate: must be between 1 and 1073741824, got 2147483648`,
			}, false},
		// A limit left at 0 is the server's default.
		{"limits unset", func(c *Config) { c.Limits = Limits{} }, nil, false},
		{"tls files missing", func(c *Config) {
			c.TLS = TLS{Certificate: filepath.Join(dir, "c.pem"), Key: filepath.Join(dir, "k.pem")}
		},
			[]string{
				`tls.certificate: file "` + filepath.Join(dir, "c.pem") + `" does not exist`,
				`tls.key: file "` + filepath.Join(dir, "k.pem") + `" does not exist`,
			}, false},
		{"tls key is a directory", func(c *Config) { c.TLS = TLS{Certificate: file, Key: dir} },
			[]string{`tls.key: "` + dir + `" is not a regular file`}, false},
		{"tls key unreadable", func(c *Config) { c.TLS = TLS{Certificate: file, Key: filepath.Join(locked, "k.pem")} },
			[]string{`tls.key: cannot access "` + filepath.Join(locked, "k.pem") + `": permission denied`}, os.Geteuid() == 0},
		{"tls half set", func(c *Config) { c.TLS = TLS{Certificate: file} },
			[]string{`tls.key: must not be empty`}, false},
		{"tls only without certificate", func(c *Config) { c.Listen[0].TLS = TLSOnly },
			[]string{`listen[0].tls: "only" needs a certificate: set tls.certificate and tls.key`}, false},
		{"tls mode out of range", func(c *Config) { c.Listen[0].TLS = 7 },
			[]string{`listen[0].tls: unknown mode 7`}, false},
		{"missing root and bad hostname", func(c *Config) { c.Root = filepath.Join(dir, "gone"); c.Hostname = "a\tb" },
			[]string{
				`hostname: invalid host name "a\tb": want a DNS name or an IP address`,
				`root: directory "` + filepath.Join(dir, "gone") + `" does not exist`,
			}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.skip {
				t.Skip("permissions do not apply to root")
			}
			c := base()
			tt.change(c)
			if got := validateLines(t, c); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Validate:\n got  %q\n want %q", got, tt.want)
			}
		})
	}
}

func TestValidateTLS(t *testing.T) {
	dir := t.TempDir()
	cert, key := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	for _, f := range []string{cert, key} {
		if err := os.WriteFile(f, []byte("pem"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	c := mustParse(t, `{"root": "`+dir+`",
  "listen": [{"port": 70}, {"port": 7443, "tls": "only"}],
  "tls": {"certificate": "`+cert+`", "key": "`+key+`"}}`)
	if err := c.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	if err := os.Remove(key); err != nil {
		t.Fatal(err)
	}
	err := c.Validate()
	if err == nil || err.Error() != `g.json:3: tls.key: file "`+key+`" does not exist` {
		t.Fatalf("Validate without the key file = %v", err)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("errors.Is(err, fs.ErrNotExist) = false for %v", err)
	}
}

func TestTLSModeString(t *testing.T) {
	for m, want := range map[TLSMode]string{TLSAuto: "auto", TLSOnly: "only", TLSOff: "off", 9: "TLSMode(9)"} {
		if got := m.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", int(m), got, want)
		}
		if got, ok := parseTLSMode(want); ok != (m <= TLSOff) || ok && got != m {
			t.Errorf("parseTLSMode(%q) = %v, %v", want, got, ok)
		}
	}
}

func TestValidateNil(t *testing.T) {
	var c *Config
	if err := c.Validate(); err == nil {
		t.Error("Validate on nil Config succeeded")
	}
}

// TestMissingRootIsValidateError checks that a file without "root" parses
// (so --root can supply it) and fails validation when nothing does.
func TestMissingRootIsValidateError(t *testing.T) {
	for _, src := range []string{`{"hostname": "h"}`, `{"hostname": "h", "root": null}`} {
		checkMissingRoot(t, src)
	}
}

func checkMissingRoot(t *testing.T, src string) {
	t.Helper()
	c, err := Parse("g.json", []byte(src))
	if err != nil {
		t.Fatalf("Parse(%s): %v", src, err)
	}
	err = c.Validate()
	if err == nil || err.Error() != "g.json: root: required key is missing (the directory to serve; --root also sets it)" {
		t.Fatalf("Validate = %v", err)
	}
	c.Root = t.TempDir()
	if err := c.Validate(); err != nil {
		t.Fatalf("Validate after setting root: %v", err)
	}
}
