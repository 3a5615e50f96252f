package gophermap

import (
	"context"
	"iter"
	"slices"
	"strconv"
	"strings"

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
	// Tree supplies what the dialect's directives read from the served
	// tree: the listing a KindListing line appends and the maps KindInclude
	// lines include. nil makes both show nothing, with a warning. Bucktooth
	// and GPH never ask for it.
	Tree Tree
	// Path is the map's own name as Tree names the maps it includes, so
	// that a map including itself is a cycle from the first include.
	Path string
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
	return func(yield func(gopher.Item) bool) {
		w := walker{r: r, d: r.Dialect, res: newResolver(r.Context), ctx: ctx, yield: yield, warn: r.Warn}
		if w.d == nil {
			w.d = Bucktooth{}
		}
		w.tabs = tabSeparated(w.d)
		if r.Path != "" {
			w.stack = []string{r.Path}
		}
		w.walk(text, "", 0)
	}
}

// walker is the state of one render: what the directives seen so far
// asked for, and the maps being included.
type walker struct {
	r     Renderer
	d     Dialect
	res   resolver
	ctx   context.Context
	yield func(gopher.Item) bool
	// hidden and types are the KindHide and KindType lines seen so far,
	// in the map and the maps it included (as in Gophernicus, where an
	// included map's directives apply to the listing too).
	hidden map[string]struct{}
	types  map[string]gopher.ItemType // lower-case extension → type
	// stack names the maps being rendered, outermost first.
	stack    []string
	includes int
	// warn is Renderer.Warn; includeLine is the line of the map itself
	// whose include is being rendered, which warnings about the lines of
	// included maps are reported on.
	warn        func(Warning)
	includeLine int
	// tabs: the dialect's links are TAB-separated lines, which can be
	// mistyped in the ways serveWarnings reports.
	tabs bool
}

// walk renders the text of one map: the map itself (file "", depth 0) or
// one it includes. It returns false when the whole render must stop: the
// consumer wants no more items or ctx ended.
func (w *walker) walk(text, file string, depth int) bool {
	warn := w.warn
	if warn != nil && file != "" {
		outer := warn
		warn = func(x Warning) {
			outer(Warning{Line: w.includeLine, Msg: file + ":" + strconv.Itoa(x.Line) + ": " + x.Msg, Rule: x.Rule})
		}
	}
	for l := range Lines(text) {
		if l.Num%ctxCheckEvery == 0 && w.ctx.Err() != nil {
			return false
		}
		e, kind := w.d.Classify(l, warn)
		// An included map's "*" gets a warning of its own below.
		if warn != nil && w.tabs && (kind != KindListing || depth == 0) {
			serveWarnings(text, l, e, kind, warn)
		}
		switch kind {
		case KindItem:
			it, bad := w.res.item(e)
			if bad.what != fine {
				if warn != nil {
					warn(bad.warning(e.Line, bad.message()))
				}
				continue
			}
			if !w.yield(it) {
				return false
			}
		case KindEnd:
			return true
		case KindTitle:
			it := gopher.Item{Type: gopher.TypeInfo, Display: e.Display, Selector: "TITLE", Host: w.res.host, Port: w.res.port}
			if !it.Valid() {
				if warn != nil {
					warn(Warning{Line: l.Num, Msg: "the title holds a TAB; title dropped"})
				}
				continue
			}
			if !w.yield(it) {
				return false
			}
		case KindHide:
			if w.hidden == nil {
				w.hidden = make(map[string]struct{})
			}
			w.hidden[e.Arg] = struct{}{}
		case KindType:
			if w.types == nil {
				w.types = make(map[string]gopher.ItemType)
			}
			w.types[strings.ToLower(e.Arg)] = e.Type
		case KindListing:
			if depth > 0 {
				if warn != nil {
					warn(Warning{Line: l.Num, Col: 1, Msg: `"*" in an included map ends that map only (as in Gophernicus): the listing is appended by the map itself`})
				}
				return true
			}
			return w.listing(l.Num, warn)
		case KindInclude:
			if !w.include(e.Arg, l.Num, depth, warn) {
				return false
			}
		}
	}
	return true
}

// include renders the map that the include line num of the current map
// (at depth) names.
func (w *walker) include(arg string, num, depth int, warn func(Warning)) bool {
	refuseRule := func(rule, why string) bool {
		if warn != nil {
			warn(Warning{Line: num, Col: 2, Rule: rule, Msg: `"=` + gopher.Quote(arg, quoteMax) + `": ` + why + "; nothing included"})
		}
		return true
	}
	refuse := func(why string) bool { return refuseRule("", why) }
	switch {
	case w.r.Tree == nil:
		return refuse("includes are not available here")
	case depth >= MaxIncludeDepth:
		return refuse("includes nested more than " + strconv.Itoa(MaxIncludeDepth) + " deep")
	case w.includes >= MaxIncludes:
		return refuse("more than " + strconv.Itoa(MaxIncludes) + " includes in one menu")
	}
	w.includes++
	name, text, err := w.r.Tree.Include(w.ctx, arg)
	if err != nil {
		if w.ctx.Err() != nil {
			return false
		}
		// What the tree refuses is what lint's GM009 finds: an "=" line
		// naming no file that may be included.
		return refuseRule(RuleGophernicus, err.Error())
	}
	if slices.Contains(w.stack, name) {
		return refuse("include cycle: " + gopher.Quote(strings.Join(append(w.stack, name), " includes "), 4*quoteMax))
	}
	if depth == 0 {
		w.includeLine = num
	}
	w.stack = append(w.stack, name)
	ok := w.walk(text, name, depth+1)
	w.stack = w.stack[:len(w.stack)-1]
	return ok
}

// listing yields the automatic listing for the KindListing line num.
func (w *walker) listing(num int, warn func(Warning)) bool {
	if w.r.Tree == nil {
		if warn != nil {
			warn(Warning{Line: num, Col: 1, Msg: `"*": the automatic listing is not available here; nothing appended`})
		}
		return true
	}
	ents, err := w.r.Tree.Listing(w.ctx)
	if err != nil {
		if w.ctx.Err() == nil && warn != nil {
			warn(Warning{Line: num, Col: 1, Msg: `"*": ` + err.Error() + "; nothing appended"})
		}
		return w.ctx.Err() == nil
	}
	prefix := w.res.dir + "/"
	if w.res.dir == "/" {
		prefix = "/"
	}
	for i, e := range ents {
		if i%ctxCheckEvery == ctxCheckEvery-1 && w.ctx.Err() != nil {
			return false
		}
		if _, hide := w.hidden[e.Name]; hide {
			continue
		}
		t := e.Type
		if !e.Dir && w.types != nil {
			if o, ok := w.types[extension(e.Name)]; ok {
				t = o
			}
		}
		it := gopher.Item{Type: t, Display: e.Name, Selector: prefix + e.Name, Host: w.res.host, Port: w.res.port}
		if !it.Valid() {
			continue
		}
		if !w.yield(it) {
			return false
		}
	}
	return true
}

// extension returns name's extension in lower case: what follows its last
// dot, "" when it has none.
func extension(name string) string {
	i := strings.LastIndexByte(name, '.')
	if i < 0 {
		return ""
	}
	return strings.ToLower(name[i+1:])
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

// tabSeparated reports whether dialect d writes links as Bucktooth's
// TAB-separated lines (Bucktooth and Gophernicus do; geomyidae's .gph does
// not), so that a line can be a link mistyped with spaces or a text line
// turned into a link by a stray TAB.
func tabSeparated(d Dialect) bool {
	_, gph := d.(GPH)
	return !gph
}
