package gophermap

import (
	"iter"
	"strings"
)

// ctxCheckEvery is how many lines are read between looks at the context, so
// that a cancelled render stops within microseconds and checking costs
// nothing measurable.
const ctxCheckEvery = 1024

// Entries yields the entries of map text as dialect d reads them (nil means
// Bucktooth), in line order, up to the line that ends the map. Only KindItem
// lines are entries: bad lines and directives (see Kind) are left out, and
// an include is not followed; every problem goes to warn (nil drops them).
// Renderer carries directives out.
func Entries(text string, d Dialect, warn func(Warning)) iter.Seq[Entry] {
	if d == nil {
		d = Bucktooth{}
	}
	return func(yield func(Entry) bool) {
		for l := range Lines(text) {
			e, kind := d.Classify(l, warn)
			switch kind {
			case KindEnd:
				return
			case KindItem:
				if !yield(e) {
					return
				}
			}
		}
	}
}

// Parse splits a gophermap into entries, one per line that is not bad, in
// the Bucktooth dialect. It takes bytes rather than a string so that files
// in any encoding pass unchanged. Bad lines are left out and reported as
// warnings; Parse never fails as a whole. It is the slice form of Entries,
// for callers that want the whole map at once (tests, conformance checks);
// serving uses Renderer, which never holds more than one line's entry.
func Parse(data []byte) ([]Entry, []Warning) {
	// One conversion for the whole file: every field is then a substring of
	// it, instead of one allocation per line.
	text := string(data)
	// Counting newlines first is cheap (vectorised) and saves regrowing the
	// slice for large maps.
	out := make([]Entry, 0, strings.Count(text, "\n")+1)
	var warnings []Warning
	for e := range Entries(text, nil, func(w Warning) { warnings = append(warnings, w) }) {
		out = append(out, e)
	}
	return out, warnings
}
