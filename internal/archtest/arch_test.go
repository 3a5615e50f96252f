// Package archtest holds one test: the import rules of doc/architecture.md,
// checked against the real import graph, so that the layering cannot erode
// one convenient import at a time. A new package must be given its place
// in the table below (the test fails until it is).
package archtest

import (
	"encoding/json"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// layer lists, for each package of the module, the module packages it may
// import. Third-party imports are checked by thirdParty.
var layer = map[string][]string{
	"internal/gopher":    {},
	"internal/gophermap": {"internal/gopher"},
	// config refuses a search selector that collides with the selectors
	// pages answers (caps.txt, URL:), which pages defines.
	"internal/config":   {"internal/gopher", "internal/pages"},
	"internal/tlscert":  {"internal/gopher"},
	"internal/pages":    {"internal/gopher"},
	"internal/fs":       {"internal/gopher", "internal/gophermap"},
	"internal/server":   {"internal/gopher", "internal/rate"},
	"internal/hupguard": {},
	// The gateway finds programs by the tree's rules and renders menu
	// output as gophermap lines.
	"internal/cgi":     {"internal/gopher", "internal/gophermap", "internal/fs"},
	"internal/logcore": {},
	// Budgets per client network, keyed by gopher.ClientPrefixLen.
	"internal/rate": {"internal/gopher"},
	// Counters fed by the server\'s and the gateway\'s events; it knows
	// neither.
	"internal/metrics": {},
	"internal/search":  {"internal/gopher", "internal/gophermap", "internal/fs"},
	// The linter walks the tree by the rules that serve it.
	"internal/lint":     {"internal/gophermap", "internal/fs"},
	"internal/testutil": {},
	// Gopher+ replies around any handler chain.
	"internal/gopherplus": {"internal/gopher"},
	"internal/archtest":   {},
	// The program wires everything.
	"cmd/gopherd": {"*"},
}

// thirdParty says which packages may use which outside modules. zap is
// for the packages that log; systemd and flags belong to the program.
var thirdParty = map[string][]string{
	"go.uber.org/zap":                    {"internal/fs", "internal/cgi", "internal/search", "internal/server", "internal/logcore", "cmd/gopherd"},
	"github.com/coreos/go-systemd/v22":   {"cmd/gopherd"},
	"github.com/spf13/pflag":             {"cmd/gopherd"},
	"github.com/pires/go-proxyproto":     {"internal/server"},
	"github.com/VictoriaMetrics/metrics": {"internal/metrics"},
}

type pkg struct {
	ImportPath string
	Imports    []string
}

func TestImportRules(t *testing.T) {
	out, err := exec.Command("go", "list", "-json=ImportPath,Imports", "gopherd/internal/...", "gopherd/cmd/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimPrefix(p.ImportPath, "gopherd/")
		allowed, known := layer[name]
		if !known {
			t.Errorf("%s has no place in the layer table: add it to internal/archtest and doc/architecture.md", name)
			continue
		}
		for _, imp := range p.Imports {
			if dep, ok := strings.CutPrefix(imp, "gopherd/"); ok {
				if !slices.Contains(allowed, "*") && !slices.Contains(allowed, dep) {
					t.Errorf("%s imports %s, which its layer does not allow (allowed: %v)", name, dep, allowed)
				}
				continue
			}
			for mod, users := range thirdParty {
				if (imp == mod || strings.HasPrefix(imp, mod+"/")) && !slices.Contains(users, name) {
					t.Errorf("%s imports %s, which only %v may use", name, imp, users)
				}
			}
		}
	}
}
