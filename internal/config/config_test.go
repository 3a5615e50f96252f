package config

import (
	"reflect"
	"testing"
)

func TestDefault(t *testing.T) {
	c := Default()
	want := &Config{
		Hostname: "localhost",
		Root:     ".",
		Listen:   []Listen{{Addr: "127.0.0.1", Port: 7070}},
		Log:      Log{Enable: true, HideIPs: true, Level: "info"},
		Limits:   Limits{}, // the server's defaults
		HTTPPage: true,
	}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("Default() =\n %+v\nwant\n %+v", c, want)
	}
	if c.MenuPort() != 7070 {
		t.Errorf("MenuPort = %d, want 7070", c.MenuPort())
	}
	t.Chdir(t.TempDir())
	if err := c.Validate(); err != nil {
		t.Errorf("Default().Validate() in a directory: %v", err)
	}
}

func TestListenString(t *testing.T) {
	tests := []struct {
		l    Listen
		want string
	}{
		{Listen{Addr: "::", Port: 70}, "[::]:70"},
		{Listen{Addr: "127.0.0.1", Port: 7070}, "127.0.0.1:7070"},
		{Listen{Addr: "localhost", Port: 70}, "localhost:70"},
		{Listen{Addr: "fe80::1%eth0", Port: 70}, "[fe80::1%eth0]:70"},
	}
	for _, tt := range tests {
		if got := tt.l.String(); got != tt.want {
			t.Errorf("%#v.String() = %q, want %q", tt.l, got, tt.want)
		}
	}
}

func TestMenuPort(t *testing.T) {
	tests := []struct {
		c    Config
		want int
	}{
		{Config{Listen: []Listen{{Addr: "::", Port: 7000, TLS: TLSAuto}, {Addr: "::1", Port: 7001, TLS: TLSAuto}}}, 7000},
		{Config{Listen: []Listen{{Addr: "::", Port: 7000, TLS: TLSAuto}}, PublicPort: 70}, 70},
		{Config{}, 0},
	}
	for _, tt := range tests {
		if got := tt.c.MenuPort(); got != tt.want {
			t.Errorf("MenuPort(%+v) = %d, want %d", tt.c, got, tt.want)
		}
	}
}

func TestClone(t *testing.T) {
	c := mustParse(t, `{"root": "/r", "port": 7070, "listen": [{"addr": "::1"}, {"addr": "127.0.0.1"}]}`)
	d := c.Clone()
	if !reflect.DeepEqual(c, d) {
		t.Fatalf("Clone differs:\n %+v\n %+v", c, d)
	}
	d.Listen[0].Port = 1
	d.Warnings[0].Msg = "changed"
	if c.Listen[0].Port != 7070 || c.Warnings[0].Msg == "changed" {
		t.Errorf("changing the clone changed the original: %+v", c)
	}
	if (*Config)(nil).Clone() != nil {
		t.Error("nil.Clone() != nil")
	}
}

func TestProblemString(t *testing.T) {
	tests := []struct {
		p    Problem
		want string
	}{
		{Problem{File: "f.json", Line: 3, Key: "root", Msg: "m"}, "f.json:3: root: m"},
		{Problem{File: "f.json", Line: 3, Col: 9, Msg: "m"}, "f.json:3:9: m"},
		{Problem{File: "f.json", Key: "root", Msg: "m"}, "f.json: root: m"},
		{Problem{Line: 2, Key: "root", Msg: "m"}, "line 2: root: m"},
		{Problem{Key: "root", Msg: "m"}, "root: m"},
		{Problem{Msg: "m"}, "m"},
	}
	for _, tt := range tests {
		if got := tt.p.String(); got != tt.want {
			t.Errorf("%+v.String() = %q, want %q", tt.p, got, tt.want)
		}
	}
}
