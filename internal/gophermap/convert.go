package gophermap

import (
	"context"
	"io"
	"slices"
	"strconv"
	"strings"

	"gopherd/internal/gopher"
)

// Converter writes maps of another dialect as Bucktooth maps: a migration
// from another server done for good (gopherd convert).
type Converter struct {
	// Dialect reads the source map; nil means Bucktooth.
	Dialect Dialect
	// Tree reads the maps that "=" lines include, by the same rules and
	// limits as when they are served; nil leaves includes out, with a
	// warning. Path is the map's own name as Tree names maps.
	Tree Tree
	Path string
	// Warn receives every line that cannot be expressed, saying what is
	// lost, and every bad line (left out) with the source dialect's
	// warning.
	Warn func(Warning)
}

// Bucktooth writes map text as an equivalent map in the Bucktooth core to
// out. Maps included with "=" are written in place; comments go silently,
// as they showed nothing. The menu is the same as the source's wherever no
// warning was given. What cannot be expressed in Bucktooth: "*" (the
// appended listing; the rest of the map is ignored, as it was), a title
// (it becomes an info line), "~" and "%", and a relative selector that the
// source kept as written (a Gophernicus link naming a host, geomyidae's
// types 2, 3 and w), which Bucktooth joins to the directory. A line
// starting with "." other than a lone "." becomes the "." that ends the
// map, as it did.
func (cv Converter) Bucktooth(ctx context.Context, out io.Writer, text string) error {
	d := cv.Dialect
	if d == nil {
		d = Bucktooth{}
	}
	c := converter{ctx: ctx, d: d, tree: cv.Tree, out: out, warn: cv.Warn}
	if cv.Path != "" {
		c.stack = []string{cv.Path}
	}
	c.convert(text, "", 0)
	return c.err
}

type converter struct {
	ctx      context.Context
	d        Dialect
	tree     Tree
	out      io.Writer
	warn     func(Warning)
	err      error
	stack    []string
	includes int
	lines    int // lines written
	// includeLine is the line of the map whose include is being written.
	includeLine int
}

// note reports a warning about line num of file ("" for the map itself).
func (c *converter) note(file string, num int, msg string) {
	if c.warn == nil {
		return
	}
	if file != "" {
		c.warn(Warning{Line: c.includeLine, Msg: file + ":" + strconv.Itoa(num) + ": " + msg})
		return
	}
	c.warn(Warning{Line: num, Msg: msg})
}

// write writes one line of the result.
func (c *converter) write(line string) {
	if c.err != nil {
		return
	}
	c.lines++
	_, c.err = io.WriteString(c.out, line+"\n")
}

// convert writes the lines of one map; it returns false once the whole
// conversion is to stop (a "." ended the map itself, or an error).
func (c *converter) convert(text, file string, depth int) bool {
	warn := c.warn
	if warn != nil {
		warn = func(w Warning) { c.note(file, w.Line, w.Msg) }
	}
	for l := range Lines(text) {
		if c.err != nil || c.ctx.Err() != nil {
			if c.err == nil {
				c.err = c.ctx.Err()
			}
			return false
		}
		e, kind := c.d.Classify(l, warn)
		switch kind {
		case KindItem:
			line, lost := bucktoothLine(e, c.lines == 0)
			if lost != "" {
				c.note(file, l.Num, lost)
			}
			c.write(line)
		case KindEnd:
			if depth > 0 {
				return true
			}
			c.write(".")
			return false
		case KindTitle:
			c.note(file, l.Num, "a title cannot be expressed in Bucktooth: it becomes an info line")
			line, _ := bucktoothLine(Entry{Type: gopher.TypeInfo, Display: e.Display}, c.lines == 0)
			c.write(line)
		case KindListing:
			c.note(file, l.Num, `"*" (append the automatic listing) cannot be expressed in Bucktooth: the listing and the rest of the map are left out; serve this directory in the gophernicus dialect, or list its files`)
			return depth > 0
		case KindUserList, KindHostList:
			c.note(file, l.Num, "left out: Bucktooth has no such list")
		case KindInclude:
			if !c.include(e.Arg, file, l.Num, depth) {
				return false
			}
		}
	}
	return true
}

// include writes the map that include line num of file (at depth) names.
func (c *converter) include(arg, file string, num, depth int) bool {
	refuse := func(why string) bool {
		c.note(file, num, `"=`+gopher.Quote(arg, quoteMax)+`": `+why+"; nothing included")
		return true
	}
	switch {
	case c.tree == nil:
		return refuse("includes are not available here")
	case depth >= MaxIncludeDepth:
		return refuse("includes nested more than " + strconv.Itoa(MaxIncludeDepth) + " deep")
	case c.includes >= MaxIncludes:
		return refuse("more than " + strconv.Itoa(MaxIncludes) + " includes in one menu")
	}
	c.includes++
	name, text, err := c.tree.Include(c.ctx, arg)
	if err != nil {
		return refuse(err.Error())
	}
	if slices.Contains(c.stack, name) {
		return refuse("include cycle: " + gopher.Quote(strings.Join(append(c.stack, name), " includes "), 4*quoteMax))
	}
	if depth == 0 {
		c.includeLine = num
	}
	c.stack = append(c.stack, name)
	ok := c.convert(text, name, depth+1)
	c.stack = c.stack[:len(c.stack)-1]
	return ok
}

// bucktoothLine writes entry e as a Bucktooth line that reads back as the
// same menu item, first telling whether it is the first line of the file.
// lost says what of e's meaning the line cannot keep, "" when nothing.
func bucktoothLine(e Entry, first bool) (line, lost string) {
	if e.Type == gopher.TypeInfo {
		// Plain text is info text, unless it would read as something
		// else: the end line, or a byte order mark to be dropped.
		if e.Display == "." || first && strings.HasPrefix(e.Display, utf8BOM) {
			return "i" + e.Display + "\t", ""
		}
		return e.Display, ""
	}
	sel := e.Selector
	if !e.HasSelector {
		sel = e.Display
	}
	if e.Literal && joined(e.Type, sel) {
		lost = `the relative selector "` + gopher.Quote(sel, quoteMax) + `" was used as written; Bucktooth joins it to the map's directory`
	}
	rest := e.HasHost || e.HasPort || e.Extra != ""
	var b strings.Builder
	b.WriteByte(byte(e.Type))
	b.WriteString(e.Display)
	b.WriteByte('\t')
	if !e.HasSelector && !rest {
		// "Tdisplay<TAB>": the display string is the selector.
		return b.String(), lost
	}
	b.WriteString(sel)
	if sel == "" || rest {
		// An empty selector needs the host field after it to be one.
		b.WriteByte('\t')
		b.WriteString(e.Host)
		if e.HasPort || e.Extra != "" {
			b.WriteByte('\t')
			if e.HasPort {
				b.WriteString(strconv.Itoa(e.Port))
			}
		}
		if e.Extra != "" {
			b.WriteByte('\t')
			b.WriteString(e.Extra)
		}
	}
	return b.String(), lost
}

// joined reports whether Bucktooth joins selector sel of an item of type
// t to the map's directory (the resolver's rule).
func joined(t gopher.ItemType, sel string) bool {
	return !(sel == "" || sel[0] == '/' || strings.HasPrefix(sel, "URL:") || t == gopher.TypeTelnet || t == gopher.TypeTN3270)
}
