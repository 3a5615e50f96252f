// Command testreport runs "go test -json ..." and prints what a developer
// wants from it: the package results and the output of failing tests, as
// plain "go test" does, then every skipped test with its reason, which
// plain "go test" hides.
//
// Usage:
//
//	testreport [-allowed FILE] -- go test -json [flags] [packages]
//
// With -allowed, and CI=true in the environment, a skip that FILE does not
// list fails the run: in CI every tool and the reference data are there, so
// a test that skips anyway has lost its evidence. FILE has one entry per
// line, "package test" (a test name ending in "*" matches every test it
// starts), then optionally "#" and why; blank lines and lines starting with
// "#" are comments.
//
// The exit status is 1 when the command fails, a test fails, or a skip is
// not allowed; 2 for a usage error.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr, os.Getenv("CI") == "true"))
}

func run(args []string, stdout, stderr io.Writer, ci bool) int {
	fs := flag.NewFlagSet("testreport", flag.ContinueOnError)
	fs.SetOutput(stderr)
	allowedFile := fs.String("allowed", "", "`file` of tests allowed to skip when CI=true")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "usage: testreport [-allowed FILE] -- go test -json [flags] [packages]")
		return 2
	}
	var allowed []allowance
	if *allowedFile != "" {
		var err error
		if allowed, err = readAllowed(*allowedFile); err != nil {
			fmt.Fprintf(stderr, "testreport: %v\n", err)
			return 2
		}
	}

	cmd := exec.Command(fs.Arg(0), fs.Args()[1:]...)
	cmd.Stderr = stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		fmt.Fprintf(stderr, "testreport: %v\n", err)
		return 1
	}
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(stderr, "testreport: %v\n", err)
		return 1
	}
	r := newReport(stdout)
	readErr := r.read(out)
	waitErr := cmd.Wait()

	code := 0
	if readErr != nil {
		fmt.Fprintf(stderr, "testreport: reading the test output: %v\n", readErr)
		code = 1
	}
	if waitErr != nil || r.failed > 0 {
		code = 1
	}
	if r.summary(stdout, allowed, ci, *allowedFile) {
		code = 1
	}
	if r.failed > 0 {
		fmt.Fprintf(stdout, "testreport: %d tests failed\n", r.failed)
	}
	if waitErr != nil && r.failed == 0 {
		fmt.Fprintf(stdout, "testreport: %s: %v\n", strings.Join(fs.Args(), " "), waitErr)
	}
	return code
}

// event is one line of "go test -json": a test2json TestEvent or, for
// build output, a BuildEvent (ImportPath instead of Package).
type event struct {
	Action     string
	Package    string
	Test       string
	Output     string
	ImportPath string
}

// skip is one skipped test and the reason it logged.
type skip struct {
	pkg, test, reason string
}

// report follows the event stream.
type report struct {
	w      io.Writer
	output map[string][]string // test output so far, by package and test
	skips  []skip
	failed int
}

func newReport(w io.Writer) *report {
	return &report{w: w, output: map[string][]string{}}
}

// read consumes the stream. Lines that are not JSON are passed through.
func (r *report) read(in io.Reader) error {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var e event
		if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &e) != nil {
			fmt.Fprintf(r.w, "%s\n", line)
			continue
		}
		r.handle(e)
	}
	return sc.Err()
}

func (r *report) handle(e event) {
	key := e.Package + "\x00" + e.Test
	switch {
	case e.Action == "build-output":
		fmt.Fprint(r.w, e.Output)
	case e.Test == "":
		// The package's own lines: "ok", "FAIL", "no test files",
		// output of TestMain. The bare "PASS" plain go test hides too.
		if e.Action == "output" && e.Output != "PASS\n" {
			fmt.Fprint(r.w, e.Output)
		}
	case e.Action == "output":
		r.output[key] = append(r.output[key], e.Output)
	case e.Action == "fail":
		r.failed++
		fmt.Fprint(r.w, strings.Join(r.output[key], ""))
		delete(r.output, key)
	case e.Action == "skip":
		r.skips = append(r.skips, skip{e.Package, e.Test, skipReason(r.output[key])})
		delete(r.output, key)
	case e.Action == "pass":
		delete(r.output, key)
	}
}

// location is the "file_test.go:12: " prefix of a test's log line.
var location = regexp.MustCompile(`^[^ :]+\.go:\d+: `)

// skipReason is what a skipped test logged, without the framework's lines
// and the source locations, so that tests skipped by one helper share a
// reason.
func skipReason(lines []string) string {
	var parts []string
	for _, l := range lines {
		t := strings.TrimSpace(l)
		if t == "" || strings.HasPrefix(t, "=== ") || strings.HasPrefix(t, "--- SKIP") {
			continue
		}
		parts = append(parts, location.ReplaceAllString(t, ""))
	}
	if len(parts) == 0 {
		return "(no reason given)"
	}
	return strings.Join(parts, " ")
}

// summary prints the skipped tests and reports whether one of them is not
// allowed (only checked when ci is set and an allowed list was given).
func (r *report) summary(w io.Writer, allowed []allowance, ci bool, allowedFile string) bool {
	if len(r.skips) == 0 {
		fmt.Fprintln(w, "testreport: no test skipped")
		return false
	}
	enforce := ci && allowedFile != ""
	fmt.Fprintf(w, "\ntestreport: %d tests skipped, by reason:\n", len(r.skips))
	// By reason, in the order the reasons first came up.
	var reasons []string
	byReason := map[string][]skip{}
	for _, s := range r.skips {
		if _, ok := byReason[s.reason]; !ok {
			reasons = append(reasons, s.reason)
		}
		byReason[s.reason] = append(byReason[s.reason], s)
	}
	var bad []skip
	for _, reason := range reasons {
		fmt.Fprintf(w, "  %s\n", reason)
		for _, s := range byReason[reason] {
			mark := ""
			if enforce && !slices.ContainsFunc(allowed, func(a allowance) bool { return a.match(s) }) {
				bad = append(bad, s)
				mark = "  [NOT ALLOWED IN CI]"
			}
			fmt.Fprintf(w, "      %s %s%s\n", s.pkg, s.test, mark)
		}
	}
	if len(bad) > 0 {
		fmt.Fprintf(w, "testreport: CI=true and %d skipped tests are not listed in %s: make their tools or data available, or list them there with the reason\n", len(bad), allowedFile)
		return true
	}
	return false
}

// allowance is one entry of the allowed list.
type allowance struct {
	pkg, test string
}

func (a allowance) match(s skip) bool {
	if a.pkg != s.pkg {
		return false
	}
	if prefix, ok := strings.CutSuffix(a.test, "*"); ok {
		return strings.HasPrefix(s.test, prefix)
	}
	return a.test == s.test
}

func readAllowed(path string) ([]allowance, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var list []allowance
	for i, line := range strings.Split(string(data), "\n") {
		line, _, _ = strings.Cut(line, "#")
		f := strings.Fields(line)
		switch len(f) {
		case 0:
			continue
		case 2:
			list = append(list, allowance{f[0], f[1]})
		default:
			return nil, fmt.Errorf("%s:%d: want \"package test\", got %q", path, i+1, strings.TrimSpace(line))
		}
	}
	return list, nil
}
