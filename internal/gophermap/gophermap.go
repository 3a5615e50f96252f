// Package gophermap parses gophermap files in the Bucktooth dialect (also read
// by pygopherd, Gophernicus and spacecookie) and resolves them against the
// directory they live in into a gopher.Menu. It knows nothing about sockets
// or the filesystem tree: callers hand it the file's bytes and a Context.
//
// The dialect, line by line (DESIGN.md §4):
//
//   - A line without a TAB is info text, kept byte for byte, leading and
//     trailing whitespace included, even when it starts with a type
//     character ("1. foo" is text). An empty line is an empty info line.
//   - Tdisplay<TAB>selector<TAB>host<TAB>port is a link; trailing fields may
//     be left out from the right. Fields after the port are kept as Extra
//     (Gopher+ markers and the like) and written back unchanged.
//   - Tdisplay<TAB> with nothing after the TAB: the display string is the
//     selector, resolved like any other (so "1/overbite<TAB>" links to
//     "/overbite" and "1src<TAB>" to "src" below the map's directory).
//   - Tdisplay<TAB><TAB>host<TAB>port: the empty selector, the root of that
//     host (Bucktooth's documented rule; spacecookie uses the display string
//     instead). An empty selector is never joined to the directory.
//   - An empty or missing host or port is this server's hostname or public
//     port, also when the host is a foreign one (as Bucktooth, pygopherd and
//     spacecookie do): "1x<TAB>/<TAB>other.org" links to other.org on our port.
//   - A selector starting with "/" or "URL:" is used as written (no cleaning:
//     "/dir/" stays "/dir/"). Any other selector is relative: it is joined to
//     the map's directory with path.Join semantics, so "." and ".." are
//     resolved and the result is clean ("sub/" becomes "/dir/sub"). A
//     relative selector that would climb above the root is dropped with a
//     warning. Relative selectors are joined whatever the host, as Bucktooth
//     does.
//   - Exception: telnet ('8') and tn3270 ('T') selectors are login names
//     (RFC 1436), not paths, and are never joined.
//   - A line that is just "." ends the map; the rest of the file is ignored.
//   - Type 'i' lines with a TAB are info lines too: "itext<TAB>..." shows
//     "text"; the fields after the TAB are ignored (menus copied from a live
//     server carry "fake", "(NULL)" or "0" there), so they are never bad.
//   - Info items get an empty selector and this server's host and port
//     (spacecookie copies the text into the selector; clients would then
//     request it).
//   - A bad line is skipped with a Warning naming its line number and the rest
//     of the map renders (pygopherd blanks the whole menu, spacecookie falls
//     back to the directory listing). Bad lines are: a line starting with a
//     TAB (no type, no display string); a type byte that is not printable
//     ASCII (a text line that merely contains a TAB usually starts with a
//     space); a link with neither display string nor selector ("1<TAB>"); a
//     port that is not a decimal number from 1 to 65535 (spaces around it are
//     tolerated, since editors leave them and they are invisible).
//
// Bytes are bytes: Latin-1 or any other encoding passes through unchanged.
// Lines end in LF or CRLF, the last one may lack its newline, and a UTF-8
// byte order mark at the very start of the file is dropped (Windows editors
// add one, and it would otherwise turn the first line into a bad type byte).
// A CR anywhere else in a line cannot go on the wire, so it becomes a space
// and a warning is given.
//
// Other servers' dialects, chosen by configuration and never guessed, are
// other classifiers of the same lines: Gophernicus (its directives: "#"
// comments, "!" titles, "-" hidden entries, "*" the appended listing,
// ":ext=type", "=" includes, "~" and "%"; see Gophernicus) and GPH
// (geomyidae's [type|display|selector|host|port] lines; see GPH).
// LookupDialect finds one by name. No line of any dialect ever runs a
// command.
//
// The pipeline, in stages a caller can use one by one: Lines splits a file
// into raw lines (number, offset, bytes, ending), for lint rules that judge
// what was written; a Dialect classifies each line into an Entry and a
// Kind (Bucktooth is the default); Renderer resolves entries into
// gopher.Items one at a time, for a caller that measures, buffers or
// streams the menu, and carries out directives with the help of a Tree
// (the listing "*" appends, the maps "=" includes), which the caller
// supplies. Parse, Resolve and Render are the same stages collecting whole
// slices, for tests and tools.
package gophermap

import (
	"context"
	"strconv"
	"strings"

	"gopherd/internal/gopher"
)

// Entry is one parsed line of a gophermap, before resolution.
type Entry struct {
	// Line is the 1-based line number in the file, for warnings.
	Line int
	// Type is the item type; gopher.TypeInfo for text lines.
	Type gopher.ItemType
	// Display is the text shown by the client.
	Display string
	// Selector is the selector as written. HasSelector is false when the
	// line has nothing after the first TAB ("Tdisplay<TAB>") or no TAB at
	// all; the display string then serves as the selector. An explicitly
	// empty selector ("Tdisplay<TAB><TAB>host") has HasSelector true.
	Selector    string
	HasSelector bool
	// Host is the host as written; HasHost is false when the field is
	// empty or missing (this server's hostname is used).
	Host    string
	HasHost bool
	// Port is the port as written; HasPort is false when the field is
	// empty or missing (this server's public port is used).
	Port    int
	HasPort bool
	// Extra holds the fields after the port, TAB-separated, as written.
	Extra string
	// Literal means the selector is used as written, never joined to the
	// map's directory: a dialect's rule (Gophernicus for a link that
	// names a host, geomyidae for types whose selector is no path).
	Literal bool
	// Arg is the argument of a directive line, as written: the name a
	// KindHide line hides, the extension of a KindType line, the path of
	// a KindInclude line. Empty for every other kind.
	Arg string
}

// Warning reports a problem on one line of a gophermap. The line was skipped
// or repaired; the rest of the map is unaffected.
type Warning struct {
	// Line is the 1-based line number.
	Line int
	// Col is the 1-based byte column in the raw line (Line.Text) that the
	// problem is at, or 0 when it concerns the line as a whole.
	Col int
	// Msg says what is wrong and what was done about it. A problem on a
	// line of an included map is reported on the include line (of the
	// map being rendered) with Col 0, its Msg naming the included map
	// and its line: "NAME:N: msg".
	Msg string
	// Rule is the id of the lint rule (see Rules) that finds the same
	// problem, such as "GM005", so that a run-time warning and the
	// finding of gopherd lint name it alike; "" for a problem no rule
	// covers.
	Rule string
	// kind is the problem as the parser saw it, for lint to put into its
	// own words; fine when the warning came from elsewhere.
	kind problemKind
}

// String formats the warning as "line N: RULE: msg" ("line N: msg"
// without a rule). Callers that know the file prefix its path, giving the
// familiar "path:N: ...".
func (w Warning) String() string {
	rule := ""
	if w.Rule != "" {
		rule = w.Rule + ": "
	}
	return "line " + strconv.Itoa(w.Line) + ": " + rule + w.Msg
}

// Context is what a map is resolved against.
type Context struct {
	// Dir is the selector of the directory holding the map, such as "/" or
	// "/dir". Relative selectors are joined to it. "" means "/".
	Dir string
	// Host is this server's hostname as written into menus.
	Host string
	// Port is this server's public port as written into menus.
	Port int
}

// Render parses data and resolves it against c, collecting the whole menu.
// Warnings from both steps are returned in line order.
func Render(data []byte, c Context) (gopher.Menu, []Warning) {
	var warnings []Warning
	r := Renderer{Context: c, Warn: func(w Warning) { warnings = append(warnings, w) }}
	text := string(data)
	menu := make(gopher.Menu, 0, strings.Count(text, "\n")+1)
	for it := range r.Items(context.Background(), text) {
		menu = append(menu, it)
	}
	return menu, warnings
}
