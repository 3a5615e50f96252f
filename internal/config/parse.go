package config

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// maxFileSize bounds what Load reads; real configurations are a few hundred
// bytes, and a mistaken path (a log file, a device) must not eat memory.
const maxFileSize = 1 << 20

// Load reads the configuration file at path and parses it. It does not call
// Validate.
func Load(path string) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load config: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("load config %s: %w", path, err)
	}
	if len(data) > maxFileSize {
		return nil, fmt.Errorf("load config %s: larger than %d bytes", path, maxFileSize)
	}
	return Parse(path, data)
}

// Parse reads a configuration from data; name is the file name used in
// messages and stored in Config.Source. Keys that are absent get
// spacecookie's defaults (see the package documentation). It checks the
// shape of the file (syntax, types, unknown and duplicate keys, values that
// cannot be stored) and reports every such problem as an *Error; on error
// the Config is nil. The values are Validate's to check.
func Parse(name string, data []byte) (*Config, error) {
	c := fileDefaults(name)
	where, ps := read(name, data, c.keys)
	if len(ps) > 0 {
		return nil, &Error{Problems: ps}
	}
	c.where = where
	c.Warnings = c.applyLegacyPort(where)
	return c, nil
}

// read runs the declarations keys over the file's tree, returning the
// lines it found the keys on and the problems, in file order.
func read(file string, data []byte, keys func(*section)) (*positions, []Problem) {
	tree, syntaxErr := decodeTree(file, data)
	if syntaxErr != nil {
		return nil, []Problem{*syntaxErr}
	}
	if tree.kind != kindObject {
		msg := fmt.Sprintf("the configuration must be a JSON object, got %s", tree.kind)
		return nil, []Problem{{File: file, Line: tree.line, Msg: msg}}
	}
	w := &walk{reading: true, file: file, where: newPositions()}
	top := w.top(tree)
	keys(top)
	top.finish()
	sortProblems(w.problems)
	return w.where, w.problems
}

// quoteNumber shows a number literal; literals can be arbitrarily long.
func quoteNumber(s string) string {
	if len(s) > 32 {
		return s[:32] + "…"
	}
	return s
}

// suggest returns the known key that an unknown key was probably meant to
// be, or "". nested lists the keys of sub-objects, so that a top-level
// "level" can point to "log.level".
func suggest(key string, known []string, nested map[string][]string) string {
	norm := strings.ToLower(strings.NewReplacer("_", "-", " ", "-").Replace(key))
	for _, k := range known {
		if norm == k {
			return k
		}
	}
	// Nested exact matches first: "level" at the top is surely log.level.
	parents := make([]string, 0, len(nested))
	for parent := range nested {
		parents = append(parents, parent)
	}
	sort.Strings(parents)
	for _, parent := range parents {
		for _, k := range nested[parent] {
			if norm == k {
				return parent + "." + k
			}
		}
	}
	best, bestDist := "", 3
	if len(norm) > 64 {
		return ""
	}
	for _, k := range known {
		// Only suggest when the typo is small relative to the word.
		if d := editDistance(norm, k); d < bestDist && d < len(k)/2 {
			best, bestDist = k, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
