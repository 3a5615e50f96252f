package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopherd/internal/testutil"
)

const samplePkg = "gopherd/tools/testreport/testdata/sample"

// runSample runs testreport on the sample package with the real go
// command.
func runSample(t *testing.T, ci bool, flags ...string) (int, string) {
	t.Helper()
	var out, errb bytes.Buffer
	args := append(flags, "--", "go", "test", "-json", "-count=1", "./testdata/sample")
	code := run(args, &out, &errb, ci)
	return code, out.String() + errb.String()
}

func writeAllowed(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "allowed")
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestReport(t *testing.T) {
	code, out := runSample(t, false)
	if code != 0 {
		t.Fatalf("exit %d, want 0:\n%s", code, out)
	}
	for _, want := range []string{
		"ok  \t" + samplePkg,
		"testreport: 2 tests skipped, by reason:\n",
		"  needs the moon\n      " + samplePkg + " TestSkip\n",
		"  inner reason 1\n      " + samplePkg + " TestSub/inner\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// A passing test's output and the framework's lines stay hidden, as
	// with plain go test.
	for _, hidden := range []string{"passing quietly", "=== RUN", "--- PASS", "NOT ALLOWED"} {
		if strings.Contains(out, hidden) {
			t.Errorf("output shows %q:\n%s", hidden, out)
		}
	}
}

func TestReportAllowedSkipsInCI(t *testing.T) {
	partial := writeAllowed(t, "# comment\n\n"+samplePkg+" TestSkip # the moon is far\n")
	code, out := runSample(t, true, "-allowed", partial)
	if code != 1 {
		t.Errorf("CI with TestSub/inner unlisted: exit %d, want 1:\n%s", code, out)
	}
	if !strings.Contains(out, " TestSub/inner  [NOT ALLOWED IN CI]") ||
		strings.Contains(out, " TestSkip  [NOT ALLOWED") {
		t.Errorf("the unlisted skip is not the one marked:\n%s", out)
	}

	// Outside CI the same list only reports.
	if code, out := runSample(t, false, "-allowed", partial); code != 0 {
		t.Errorf("not CI: exit %d, want 0:\n%s", code, out)
	}

	full := writeAllowed(t, samplePkg+" TestSkip\n"+samplePkg+" TestSub/*\n")
	if code, out := runSample(t, true, "-allowed", full); code != 0 {
		t.Errorf("CI with every skip listed: exit %d, want 0:\n%s", code, out)
	}
}

func TestReportFailure(t *testing.T) {
	t.Setenv("TESTREPORT_SAMPLE_FAIL", "1")
	code, out := runSample(t, false)
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	for _, want := range []string{"--- FAIL: TestFail", "failing on purpose", "FAIL\t" + samplePkg, "testreport: 1 tests failed"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestReportCommandFails(t *testing.T) {
	// The command's stderr is copied by os/exec while the report writes
	// stdout: one buffer for both must be safe for that.
	var out testutil.SyncBuffer
	if code := run([]string{"--", "go", "test", "-json", "./testdata/no-such-package"}, &out, &out, false); code != 1 {
		t.Errorf("missing package: exit %d, want 1:\n%s", code, out.String())
	}
	if code := run([]string{"-allowed", filepath.Join(t.TempDir(), "missing"), "--", "true"}, &out, &out, false); code != 2 {
		t.Errorf("missing allowed file: exit %d, want 2", code)
	}
	bad := writeAllowed(t, "just-one-field\n")
	var errb bytes.Buffer
	if code := run([]string{"-allowed", bad, "--", "true"}, io.Discard, &errb, false); code != 2 || !strings.Contains(errb.String(), ":1: want \"package test\"") {
		t.Errorf("malformed allowed file: exit %d:\n%s", code, errb.String())
	}
}
