package gophermap

import (
	"strconv"
	"strings"

	"gopherd/internal/gopher"
)

// Kind is what one line of a map means for the menu.
type Kind uint8

// Line kinds. The Bucktooth core has only the first three; the kinds after
// KindNone are Gophernicus' directives (see Gophernicus), which the
// renderer carries out with the help of a Tree. The values are stable:
// new kinds are only ever added at the end.
const (
	// KindItem is a line that becomes one menu item: the Entry.
	KindItem Kind = iota + 1
	// KindSkip is a bad line: it shows nothing, and a warning said why.
	KindSkip
	// KindEnd ends the map: this line and every one after it show nothing.
	KindEnd
	// KindNone is a line that shows nothing by design: a comment in a
	// dialect that has them ("#" in Gophernicus'). The Bucktooth core has
	// none.
	KindNone
	// KindTitle is a menu title ("!title"): an info item whose selector is
	// "TITLE", Gophernicus' convention for clients that show titles. The
	// Entry's Display is the title.
	KindTitle
	// KindHide hides the entry named Entry.Arg from the listing that
	// KindListing appends ("-name").
	KindHide
	// KindType gives the files of the appended listing whose extension is
	// Entry.Arg (compared without case) the item type Entry.Type
	// (":ext=type").
	KindType
	// KindListing ends the map and appends the directory's automatic
	// listing ("*"), minus hidden entries and with the type overrides.
	KindListing
	// KindInclude includes the map that Entry.Arg names ("=path"), read
	// through the Tree in the same dialect. It never runs anything.
	KindInclude
	// KindUserList is Gophernicus' list of users' gopherspaces ("~"),
	// which gopherd does not have: it shows nothing, with a warning.
	KindUserList
	// KindHostList is Gophernicus' list of virtual hosts ("%"): it shows
	// nothing, with a warning.
	KindHostList
)

// String names the kind in lower case ("item", "include", ...), for lint
// messages and tests.
func (k Kind) String() string {
	if int(k) < len(kindNames) && kindNames[k] != "" {
		return kindNames[k]
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

var kindNames = [...]string{
	KindItem: "item", KindSkip: "skip", KindEnd: "end", KindNone: "none",
	KindTitle: "title", KindHide: "hide", KindType: "type", KindListing: "listing",
	KindInclude: "include", KindUserList: "user-list", KindHostList: "host-list",
}

// Dialect gives the lines of a map their meaning. A dialect is a line
// classifier: Lines splits the file, Classify reads one line at a time, and
// resolution into menu items is shared by every dialect.
type Dialect interface {
	// Classify reads line l. Problems go to warn, each with l's number and
	// the column it concerns; a KindSkip line has at least one. warn may be
	// nil: nobody listens, and no message need be built.
	Classify(l Line, warn func(Warning)) (Entry, Kind)
}

// Bucktooth is the default dialect, the core that Bucktooth, pygopherd,
// Gophernicus and spacecookie all read the same way (see the package
// comment for its rules).
type Bucktooth struct{}

var _ Dialect = Bucktooth{}

// utf8BOM is dropped from the start of a map; see the package comment.
const utf8BOM = "\xef\xbb\xbf"

// quoteMax bounds how much of an offending field a warning quotes, so one
// absurd line cannot flood the log.
const quoteMax = 40

// Classify implements Dialect. With a nil warn no message is built: a
// render that has already reported a map's problems pays nothing for them.
func (Bucktooth) Classify(l Line, warn func(Warning)) (Entry, Kind) {
	text, skipped := trimLine(l)
	if text == "." {
		return Entry{}, KindEnd
	}
	text = replaceCR(l, text, skipped, warn)
	return classifyLink(l, text, skipped, warn)
}

// trimLine returns the text of l that every dialect reads: without a UTF-8
// byte order mark at the start of the file (skipped is its length, for
// columns) and without the CR of a last line cut between CR and LF.
func trimLine(l Line) (text string, skipped int) {
	text = l.Text
	if l.Num == 1 && strings.HasPrefix(text, utf8BOM) {
		text, skipped = text[len(utf8BOM):], len(utf8BOM)
	}
	if l.End == "" {
		// A last line cut between the CR and the LF of its ending.
		text = strings.TrimSuffix(text, "\r")
	}
	return text, skipped
}

// replaceCR turns each CR left inside text into a space, with a warning:
// it cannot go on the wire.
func replaceCR(l Line, text string, skipped int, warn func(Warning)) string {
	if i := strings.IndexByte(text, '\r'); i >= 0 {
		text = strings.ReplaceAll(text, "\r", " ")
		if warn != nil {
			p := problem{what: strayCR, col: skipped + i + 1}
			warn(p.warning(l.Num, p.message()))
		}
	}
	return text
}

// classifyLink reads text (of line l, its first skipped bytes dropped) as
// a Bucktooth text or link line.
func classifyLink(l Line, text string, skipped int, warn func(Warning)) (Entry, Kind) {
	e, bad := parseLine(text)
	if bad.what != fine {
		if warn != nil {
			bad.col += skipped
			warn(bad.warning(l.Num, bad.message()+"; line skipped"))
		}
		return Entry{}, KindSkip
	}
	e.Line = l.Num
	return e, KindItem
}

// problem is what makes a line bad, kept as a code and the offending bytes
// (a substring: no allocation) until someone wants the message.
type problem struct {
	what   problemKind
	col    int    // 1-based column at fault; 0 for the whole line
	detail string // the offending field
}

type problemKind uint8

const (
	fine problemKind = iota
	leadingTab
	badType
	emptyLink
	badPort
	strayCR
	// Problems of resolution, shared by every dialect.
	aboveRoot
	unwritable
)

// rule is the id of the lint rule that finds the same problem.
func (p problem) rule() string {
	switch p.what {
	case leadingTab, badType:
		return RuleType
	case emptyLink:
		return RuleTrailingTab
	case badPort:
		return RulePort
	case strayCR:
		return RuleEncoding
	case aboveRoot:
		return RuleTarget
	}
	return ""
}

// warning is p as a Warning on line n, saying msg.
func (p problem) warning(n int, msg string) Warning {
	return Warning{Line: n, Col: p.col, Msg: msg, Rule: p.rule(), kind: p.what}
}

func (p problem) message() string {
	switch p.what {
	case leadingTab:
		return "line starts with a TAB: no item type and no display string"
	case badType:
		return `item type "` + gopher.Quote(p.detail, 1) + `" is not a printable ASCII character (text lines may not contain a TAB)`
	case emptyLink:
		return "link has neither a display string nor a selector"
	case badPort:
		return `port "` + gopher.Quote(p.detail, quoteMax) + `" is not a number from 1 to 65535`
	case strayCR:
		return "carriage return inside the line replaced by a space"
	case aboveRoot:
		return `selector "` + gopher.Quote(p.detail, quoteMax) + `" leads above the root; link dropped`
	case unwritable:
		return "a field holds a TAB, CR or LF; item dropped"
	}
	return ""
}

// parseLine parses one line (no line ending, no CR). A problem other than
// fine means the line is bad.
func parseLine(line string) (e Entry, bad problem) {
	tab := strings.IndexByte(line, '\t')
	if tab < 0 {
		return Entry{Type: gopher.TypeInfo, Display: line}, bad
	}
	if tab == 0 {
		return e, problem{what: leadingTab, col: 1}
	}
	t := line[0]
	if t <= ' ' || t >= 0x7f {
		return e, problem{what: badType, col: 1, detail: line[:1]}
	}
	e = Entry{Type: gopher.ItemType(t), Display: line[1:tab]}
	rest := line[tab+1:]
	if rest == "" {
		// "Tdisplay<TAB>": the display string is the selector.
		if e.Display == "" && e.Type != gopher.TypeInfo {
			return e, problem{what: emptyLink, col: tab + 1}
		}
		return e, bad
	}
	var more bool
	e.Selector, rest, more = strings.Cut(rest, "\t")
	e.HasSelector = true
	if !more {
		return e, bad
	}
	e.Host, rest, more = strings.Cut(rest, "\t")
	e.HasHost = e.Host != ""
	if !more {
		return e, bad
	}
	portCol := len(line) - len(rest) + 1
	port, extra, more := strings.Cut(rest, "\t")
	if more {
		e.Extra = extra
	}
	if trimmed := strings.Trim(port, " "); trimmed != "" {
		p, ok := parsePort(trimmed)
		switch {
		case ok:
			e.Port, e.HasPort = p, true
		case e.Type == gopher.TypeInfo:
			// The fields of an info line are ignored anyway; menus copied
			// from live servers hold junk there.
		default:
			return e, problem{what: badPort, col: portCol + strings.IndexByte(port, trimmed[0]), detail: trimmed}
		}
	}
	return e, bad
}

// parsePort accepts only ASCII digits (no sign, unlike strconv.Atoi) with a
// value from 1 to 65535.
func parsePort(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
		if n > 65535 {
			return 0, false
		}
	}
	return n, n > 0
}
