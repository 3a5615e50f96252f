package gophermap

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden and *.warnings from the current output")

// TestGolden renders every testdata/*.gophermap in /sub of example.org:7070
// and compares the exact wire bytes with NAME.golden and the warnings (one
// "line N: msg" per line) with NAME.warnings.
func TestGolden(t *testing.T) {
	maps, err := filepath.Glob(filepath.Join("testdata", "*.gophermap"))
	if err != nil {
		t.Fatal(err)
	}
	if len(maps) < 5 {
		t.Fatalf("found %d fixtures in testdata, want the project's set", len(maps))
	}
	for _, m := range maps {
		base := strings.TrimSuffix(m, ".gophermap")
		t.Run(filepath.Base(base), func(t *testing.T) {
			data, err := os.ReadFile(m)
			if err != nil {
				t.Fatal(err)
			}
			menu, warns := Render(data, testCtx)
			var wb bytes.Buffer
			for _, w := range warns {
				wb.WriteString(w.String())
				wb.WriteByte('\n')
			}
			for i, it := range menu {
				if !it.Valid() {
					t.Errorf("item %d %+v is not valid", i, it)
				}
			}
			compareGolden(t, base+".golden", menu.Bytes())
			compareGolden(t, base+".warnings", wb.Bytes())
		})
	}
}

func compareGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run TestGolden -update to create it, then check it by eye)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs:\n got %q\nwant %q", path, got, want)
	}
}
