package gophermap

import (
	"strings"

	"gopherd/internal/gopher"
)

// Gophernicus is the dialect of Gophernicus' gophermaps: the Bucktooth core
// plus directives chosen by a line's first byte, whatever follows it (a
// TAB included), as Gophernicus reads them:
//
//   - "#..." is a comment (KindNone).
//   - "!title" is the menu's title (KindTitle).
//   - "-name" hides the entry called name from the appended listing
//     (KindHide).
//   - ":ext=type" gives files ending in ".ext" (without case) the item
//     type in the appended listing (KindType); the type is the first byte
//     after "=".
//   - "*" ends the map and appends the automatic listing (KindListing).
//   - "=path" includes another map (KindInclude): see Tree. Gophernicus
//     also runs "=command" and executable maps; gopherd never does: the
//     Tree refuses them, and the line is skipped with a warning.
//   - "~" and "%" are Gophernicus' lists of users and virtual hosts; they
//     show nothing here, with a warning (KindUserList, KindHostList).
//   - Any line starting with "." ends the map, not only a lone "."
//     (KindEnd); a warning says so when more follows the dot.
//
// Every other line is read as in Bucktooth, with one of Gophernicus' own
// rules: a link that names a host keeps its relative selector as written
// instead of joining it to the directory.
// Its width rule (info lines cut at 67 columns) is not copied: text is
// byte-exact.
type Gophernicus struct{}

var _ Dialect = Gophernicus{}

// Classify implements Dialect.
func (Gophernicus) Classify(l Line, warn func(Warning)) (Entry, Kind) {
	text, skipped := trimLine(l)
	if text == "" {
		return Entry{Line: l.Num, Type: gopher.TypeInfo}, KindItem
	}
	e := Entry{Line: l.Num}
	switch text[0] {
	case '#':
		return e, KindNone
	case '*':
		return e, KindListing
	case '.':
		if len(text) > 1 && warn != nil {
			warn(Warning{Line: l.Num, Col: skipped + 2, Msg: `a line starting with "." ends the map in the gophernicus dialect; the rest of the file is ignored`})
		}
		return e, KindEnd
	case '~':
		if warn != nil {
			warn(Warning{Line: l.Num, Col: skipped + 1, Rule: RuleGophernicus, Msg: `"~" (Gophernicus' list of users' gopherspaces) has no equivalent in gopherd; line shows nothing`})
		}
		return e, KindUserList
	case '%':
		if warn != nil {
			warn(Warning{Line: l.Num, Col: skipped + 1, Rule: RuleGophernicus, Msg: `"%" (Gophernicus' list of virtual hosts) has no equivalent in gopherd; line shows nothing`})
		}
		return e, KindHostList
	case '-':
		e.Arg = text[1:]
		if e.Arg == "" {
			return skip(l, RuleGophernicus, skipped+1, `"-" hides nothing: no name follows it`, warn)
		}
		return e, KindHide
	case ':':
		ext, typ, ok := strings.Cut(text[1:], "=")
		switch {
		case !ok:
			return skip(l, RuleGophernicus, skipped+1, `type override has no "=": want ":ext=type"`, warn)
		case ext == "":
			return skip(l, RuleGophernicus, skipped+2, `type override has no extension: want ":ext=type"`, warn)
		case typ == "":
			return skip(l, RuleGophernicus, skipped+len(text), `type override has no type after "=": want ":ext=type"`, warn)
		case typ[0] <= ' ' || typ[0] >= 0x7f:
			return skip(l, RuleGophernicus, skipped+3+len(ext), `type override: item type "`+gopher.Quote(typ[:1], 1)+`" is not a printable ASCII character`, warn)
		}
		e.Arg, e.Type = ext, gopher.ItemType(typ[0])
		return e, KindType
	case '=':
		e.Arg = text[1:]
		if e.Arg == "" {
			return skip(l, RuleGophernicus, skipped+1, `"=" includes nothing: no path follows it`, warn)
		}
		return e, KindInclude
	case '!':
		e.Type, e.Display = gopher.TypeInfo, replaceCR(l, text[1:], skipped+1, warn)
		return e, KindTitle
	}
	text = replaceCR(l, text, skipped, warn)
	e, kind := classifyLink(l, text, skipped, warn)
	if kind != KindItem || e.Type == gopher.TypeInfo {
		return e, kind
	}
	if e.HasHost {
		e.Literal = true
	}
	return e, kind
}

// skip reports a bad line at column col, as a problem lint's rule finds
// too, and returns it as KindSkip.
func skip(l Line, rule string, col int, msg string, warn func(Warning)) (Entry, Kind) {
	if warn != nil {
		warn(Warning{Line: l.Num, Col: col, Rule: rule, Msg: msg + "; line skipped"})
	}
	return Entry{}, KindSkip
}

// shellChars are the bytes that make an include argument a shell command
// line rather than a file name, for IncludeCommand.
const shellChars = " \t|&;<>()$`\\\"'*?[]{}~!#"

// IncludeCommand reports whether the argument of an "=" line reads as a
// shell command line (a command with arguments, a pipe, a substitution, a
// glob) rather than the name of a file. Gophernicus runs such lines;
// gopherd never does. It is a judgement of the text alone: whether a plain
// name is a file, a program or nothing is for the Tree to find out, and
// Gophernicus runs any executable file too.
func IncludeCommand(arg string) bool {
	return strings.ContainsAny(arg, shellChars)
}

// Dialect names, as configuration files and gopherd convert spell them.
const (
	DialectBucktooth   = "bucktooth"
	DialectGophernicus = "gophernicus"
	DialectGPH         = "gph"
)

// LookupDialect returns the dialect called name: "bucktooth", "gophernicus"
// or "gph" (geomyidae's .gph files).
func LookupDialect(name string) (Dialect, bool) {
	switch name {
	case DialectBucktooth:
		return Bucktooth{}, true
	case DialectGophernicus:
		return Gophernicus{}, true
	case DialectGPH:
		return GPH{}, true
	}
	return nil, false
}
