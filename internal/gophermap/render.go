package gophermap

import (
	"context"
	"iter"

	"gopherd/internal/gopher"
)

// Renderer turns map text into menu items one line at a time, so that a
// caller can measure, buffer or stream a menu of any size without ever
// holding the menu, or even the entries, whole: the cost of a render is its
// output, written wherever the caller writes it.
type Renderer struct {
	// Context is what the map is resolved against.
	Context
	// Dialect reads the lines; nil means Bucktooth.
	Dialect Dialect
	// Warn receives every problem, in line order: the lines skipped or
	// repaired, and the lines that render but not as their author meant
	// (lint's GM001, GM003 and GM011). With nil, problems are not even put
	// into words: re-rendering a map whose warnings were already logged
	// costs nothing for them.
	Warn func(Warning)
}

// Items yields the menu items of map text, in order. With a ctx that ends,
// the sequence stops early (within a thousand lines); the caller tells a
// cut-short menu from a whole one by ctx.Err() after the loop.
func (r Renderer) Items(ctx context.Context, text string) iter.Seq[gopher.Item] {
	res := newResolver(r.Context)
	var see func(Line, Entry, Kind)
	if r.Warn != nil {
		see = func(l Line, e Entry, k Kind) { serveWarnings(text, l, e, k, r.Warn) }
	}
	return func(yield func(gopher.Item) bool) {
		for e := range entries(ctx, text, r.Dialect, r.Warn, see) {
			it, bad := res.item(e)
			if bad.what != fine {
				if r.Warn != nil {
					r.Warn(bad.warning(e.Line, bad.message()))
				}
				continue
			}
			if !yield(it) {
				return
			}
		}
	}
}

// Size returns the length of the menu Items would yield for text, its
// terminator included, without building it. ctx as for Items.
func (r Renderer) Size(ctx context.Context, text string) int {
	n := len(gopher.Terminator)
	for it := range r.Items(ctx, text) {
		n += it.Len()
	}
	return n
}

// Append appends the whole menu of text, terminator included, to b. ctx as
// for Items; b holds a cut-short menu, without terminator, when ctx ended.
func (r Renderer) Append(ctx context.Context, b []byte, text string) []byte {
	for it := range r.Items(ctx, text) {
		b = it.AppendTo(b)
	}
	if ctx.Err() != nil {
		return b
	}
	return append(b, gopher.Terminator...)
}
