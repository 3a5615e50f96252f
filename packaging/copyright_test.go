package packaging

import (
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// TestCopyrightNamesEveryModule: the binary is statically linked, so the
// package's copyright file must give the licence of every Go module linked
// into it, and the text of every licence it names. A dependency added to
// go.mod without its paragraph fails here.
func TestCopyrightNamesEveryModule(t *testing.T) {
	text := string(readRepo(t, "packaging/deb/copyright"))
	var patterns []*regexp.Regexp
	named := map[string]bool{} // licences Files paragraphs name
	texts := map[string]bool{} // licences with a standalone paragraph
	for _, para := range strings.Split(text, "\n\n") {
		lines := strings.Split(para, "\n")
		if lic, ok := strings.CutPrefix(lines[0], "License:"); ok {
			texts[strings.TrimSpace(lic)] = true
			continue
		}
		inFiles := false
		for _, l := range lines {
			switch {
			case strings.HasPrefix(l, "Files:"):
				inFiles = true
				l = strings.TrimPrefix(l, "Files:")
			case inFiles && strings.HasPrefix(l, " "):
			default:
				inFiles = false
			}
			if inFiles {
				for _, p := range strings.Fields(l) {
					if p != "*" {
						// DEP-5 globs: * and ? match a slash too.
						re := regexp.QuoteMeta(p)
						re = strings.ReplaceAll(strings.ReplaceAll(re, `\*`, ".*"), `\?`, ".")
						patterns = append(patterns, regexp.MustCompile("^"+re+"$"))
					}
				}
			}
			if lic, ok := strings.CutPrefix(l, "License:"); ok {
				named[strings.TrimSpace(lic)] = true
			}
		}
	}
	for lic := range named {
		if !texts[lic] {
			t.Errorf("copyright names the licence %q but has no License paragraph with its text", lic)
		}
	}

	cmd := exec.Command("go", "list", "-deps", "-f", "{{with .Module}}{{.Path}}{{end}}", "./cmd/gopherd")
	cmd.Dir = repoRoot
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -deps ./cmd/gopherd: %v", err)
	}
	modules := map[string]bool{"go": true} // the runtime and standard library
	for _, m := range strings.Fields(string(out)) {
		if m != "gopherd" {
			modules[m] = true
		}
	}
	for _, m := range sortedKeys(modules) {
		covered := false
		for _, re := range patterns {
			if re.MatchString(m + "/file.go") {
				covered = true
			}
		}
		if !covered {
			t.Errorf("gopherd links %s, and packaging/deb/copyright has no Files paragraph for it", m)
		}
	}
}
