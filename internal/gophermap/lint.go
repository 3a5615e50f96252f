package gophermap

import (
	"cmp"
	"context"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"gopherd/internal/gopher"
)

// This file is the linter: rules that tell an author what visitors will see
// of a map, before they see it. The rules read the same lines through the
// same dialect as the renderer, so a line lint calls skipped is exactly a
// line the server skips, and the server's warning for it names the same
// rule id (Warning.Rule).

// Rule ids. They are stable: scripts, editors and the server's log name
// them.
const (
	RuleSpaces        = "GM001" // spaces where the TABs of a link belong
	RuleType          = "GM002" // a line with a TAB but no known item type
	RuleTrailingTab   = "GM003" // a text line ending in a TAB
	RuleTarget        = "GM004" // a local link to nothing servable
	RulePort          = "GM005" // a bad port, or a host with spaces
	RuleSelectorSpace = "GM006" // a selector starting or ending with whitespace
	RuleInfoWidth     = "GM007" // an info line wider than the width
	RuleDisplayWidth  = "GM008" // a link's display string wider than the width
	RuleGophernicus   = "GM009" // a text line Gophernicus reads differently
	RuleGopherPlus    = "GM010" // a fifth field (Gopher+)
	RuleCut           = "GM011" // a lone "." with more lines after it
	RuleExecutable    = "GM012" // an executable map while executable maps are off
	RuleTwoMaps       = "GM013" // gophermap and .gophermap in one directory
	RuleEncoding      = "GM014" // not UTF-8, mixed line endings, a BOM
)

// Severity says how bad a finding is.
type Severity uint8

// Severities, from the least to the worst.
const (
	// SeverityInfo: visitors see nothing wrong here, but other servers
	// or editors may.
	SeverityInfo Severity = iota + 1
	// SeverityWarning: visitors see something the author probably did
	// not mean.
	SeverityWarning
	// SeverityError: visitors see a broken menu: a line missing, a link
	// that cannot work.
	SeverityError
)

// String returns the severity as lint prints it.
func (s Severity) String() string {
	switch s {
	case SeverityInfo:
		return "info"
	case SeverityWarning:
		return "warning"
	case SeverityError:
		return "error"
	}
	return "severity(" + strconv.Itoa(int(s)) + ")"
}

// Rule is one lint rule.
type Rule struct {
	ID       string
	Severity Severity
	// Finds says what the rule finds, in a few words.
	Finds string
}

// Rules returns every rule, in id order. The severities are those of the
// Bucktooth rule set; a dialect's rule set may raise one for a case it
// reads differently (Gophernicus' GM009 for "=" lines).
func Rules() []Rule {
	t := ruleTable()
	return t[:]
}

// ruleTable is the rules, as an array so that looking one up allocates
// nothing.
func ruleTable() [14]Rule {
	return [...]Rule{
		{RuleSpaces, SeverityError, "a line that looks like a link with spaces where the TABs belong"},
		{RuleType, SeverityError, "a line with a TAB whose first character is not a known item type"},
		{RuleTrailingTab, SeverityError, "a text line that ends in a TAB (it becomes a link)"},
		{RuleTarget, SeverityError, "a local link whose target does not exist, leaves the root, is a dotfile or a gophermap"},
		{RulePort, SeverityError, "a port that is not an integer from 1 to 65535, or a host containing spaces"},
		{RuleSelectorSpace, SeverityWarning, "a selector that starts or ends with whitespace"},
		{RuleInfoWidth, SeverityWarning, "an info line wider than the width"},
		{RuleDisplayWidth, SeverityWarning, "a link's display string wider than the width"},
		{RuleGophernicus, SeverityWarning, "a text line whose first character Gophernicus reads differently"},
		{RuleGopherPlus, SeverityWarning, "a fifth field (Gopher+)"},
		{RuleCut, SeverityWarning, "a lone \".\" line with more lines after it"},
		{RuleExecutable, SeverityWarning, "an executable map while executable maps are off"},
		{RuleTwoMaps, SeverityWarning, "both gophermap and .gophermap in one directory"},
		{RuleEncoding, SeverityInfo, "bytes that are not UTF-8, mixed line endings, a UTF-8 BOM"},
	}
}

// severityOf is the Bucktooth severity of rule id.
func severityOf(id string) Severity {
	for _, r := range ruleTable() {
		if r.ID == id {
			return r.Severity
		}
	}
	return SeverityWarning
}

// Finding is one problem lint found in a map.
type Finding struct {
	// Line is the 1-based line number.
	Line int
	// Col is the 1-based byte column in the line as the file holds it
	// (Line.Text; one past its end for the line ending). Editors and
	// compilers count columns the same way.
	Col      int
	Rule     string
	Severity Severity
	// Message says, in one sentence, what a visitor will see and how to
	// fix it.
	Message string
}

// DefaultWidth is the width GM007 and GM008 hold lines to: 70 columns, what
// Bucktooth's and Gophernicus' documentation recommend and what fits a
// classic 80-column client with its item markers.
const DefaultWidth = 70

// Target is what a local link's selector names, as the server would
// answer it.
type Target uint8

// What a selector can name.
const (
	// TargetServed: the tree or another handler answers it.
	TargetServed Target = iota
	// TargetMissing: nothing answers it ("not found").
	TargetMissing
	// TargetRefused: it names a dotfile or a gophermap, which are never
	// served ("not allowed").
	TargetRefused
)

// LintOptions is what Lint needs to know about a map besides its text.
type LintOptions struct {
	// Context: Dir is the selector of the map's directory, for relative
	// links; Host and Port are this server's name and port in menus.
	// A link naming no host, or Host (or one of Aliases) and no port or
	// Port, is local. Port 0 takes any port of Host as local.
	Context
	// Aliases are more names of this server.
	Aliases []string
	// Rules is the dialect's rule set; the zero RuleSet is Bucktooth's.
	Rules RuleSet
	// Width is the widest info line and display string, in columns;
	// 0 means DefaultWidth.
	Width int
	// Target says what a local selector (rooted and clean, such as
	// "/docs/a.txt") names. nil leaves out every check that needs the
	// tree: GM004 then finds only links above the root.
	Target func(sel string) Target
	// Program: the map is a program (fs.IsProgramMap: its first line
	// starts with "#!"). Its text is then the program's source, not a
	// map, and is not checked.
	Program bool
	// Executable: the file has an execute permission bit.
	Executable bool
	// RunsPrograms: executable maps are on (cgi.executable-gophermaps).
	RunsPrograms bool
	// Tree, when set, is the served tree of the map's directory: an
	// include line is checked by asking it for the file, as the server
	// does (see gophermap.Tree). nil judges includes by Target.
	Tree Tree
	// Shadowed names the map in the same directory that is served
	// instead of this one (GM013); "" when this one is served.
	Shadowed string
}

// RuleSet is the lint rules of one dialect: the dialect that reads the
// lines, and the checks that differ from one dialect to another. Rules
// that concern a line's meaning (a link's fields, an info line's width)
// are shared: every dialect's lines become the same entries.
type RuleSet struct {
	name    string
	dialect Dialect
	// tabs: links are TAB-separated lines (Bucktooth's and
	// Gophernicus'), which GM001 and GM003 find mistyped; geomyidae's
	// [type|display|selector|host|port] lines are not.
	tabs bool
	// text checks a TAB-less line the dialect shows as info text.
	text func(lt *linter, l Line, text string, skip int)
	// include checks the argument of a KindInclude line.
	include func(lt *linter, l Line, arg string, skip int)
}

// Name is the dialect's name, as --dialect spells it.
func (s RuleSet) Name() string { return s.orDefault().name }

// Dialect is the dialect the rules read lines with.
func (s RuleSet) Dialect() Dialect { return s.orDefault().dialect }

func (s RuleSet) orDefault() RuleSet {
	if s.dialect == nil {
		return bucktoothRules()
	}
	return s
}

// RuleSetNames lists the dialects of gophermaps that have a rule set, the
// default first: what --dialect accepts. The .gph files of geomyidae have
// their own (RuleSetOf(GPH{})), which their name chooses.
func RuleSetNames() []string { return []string{DialectBucktooth, DialectGophernicus} }

// RuleSetFor returns the rule set of the map dialect called name.
func RuleSetFor(name string) (RuleSet, bool) {
	switch name {
	case DialectBucktooth:
		return bucktoothRules(), true
	case DialectGophernicus:
		return gophernicusRules(), true
	}
	return RuleSet{}, false
}

// RuleSetOf returns the rule set that checks maps read in dialect d (nil
// is Bucktooth).
func RuleSetOf(d Dialect) RuleSet {
	switch d.(type) {
	case Gophernicus:
		return gophernicusRules()
	case GPH:
		return RuleSet{name: DialectGPH, dialect: GPH{}}
	}
	return bucktoothRules()
}

func bucktoothRules() RuleSet {
	return RuleSet{name: DialectBucktooth, dialect: Bucktooth{}, tabs: true, text: gophernicusWarning}
}

func gophernicusRules() RuleSet {
	return RuleSet{name: DialectGophernicus, dialect: Gophernicus{}, tabs: true, include: gophernicusInclude}
}

// Lint checks map text and returns its findings, sorted by line, column
// and rule. Lint never fails: any text is a map of some sort.
func Lint(text string, o LintOptions) []Finding {
	lt := &linter{o: o, set: o.Rules.orDefault(), width: o.Width}
	if lt.width <= 0 {
		lt.width = DefaultWidth
	}
	lt.dir = cleanDir(o.Dir)
	lt.run(text)
	slices.SortStableFunc(lt.out, func(a, b Finding) int {
		return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Col, b.Col), cmp.Compare(a.Rule, b.Rule))
	})
	return lt.out
}

// linter is one run of Lint.
type linter struct {
	o     LintOptions
	set   RuleSet
	width int
	dir   string
	out   []Finding
}

func (lt *linter) add(line, col int, rule, msg string) {
	lt.addSeverity(line, col, rule, severityOf(rule), msg)
}

func (lt *linter) addSeverity(line, col int, rule string, sev Severity, msg string) {
	lt.out = append(lt.out, Finding{Line: line, Col: col, Rule: rule, Severity: sev, Message: msg})
}

func (lt *linter) run(src string) {
	switch {
	case lt.o.Shadowed != "":
		lt.add(1, 1, RuleTwoMaps, "visitors never see this map, because "+lt.o.Shadowed+" in the same directory is served instead: merge the two and delete one")
		return
	case lt.o.Program:
		if !lt.o.RunsPrograms {
			lt.add(1, 1, RuleExecutable, `visitors get a "not allowed" error instead of this menu, because the map is a program (its first line starts with "#!") and executable maps are off: set cgi.executable-gophermaps, or remove the "#!" line if it is a plain map`)
		}
		return
	case lt.o.Executable && !lt.o.RunsPrograms:
		lt.add(1, 1, RuleExecutable, "visitors of gopherd see this map as text, but Gophernicus would run it as a program because it is executable: remove the execute permission (chmod a-x)")
	}
	if strings.HasPrefix(src, utf8BOM) {
		lt.add(1, 1, RuleEncoding, "visitors of gopherd see nothing of the UTF-8 byte order mark at the start, but other servers send it as garbage before the first line: save the file without a BOM")
	}
	var (
		firstEnd      string
		mixedReported bool
		badLines      int
		badLine       Line
		badCol        int
	)
	d := lt.set.dialect
	var warns []Warning
	collect := func(w Warning) { warns = append(warns, w) }
	for l := range Lines(src) {
		text, skip := trimLine(l)
		if !utf8.ValidString(text) {
			if badLines == 0 {
				badLine, badCol = l, skip+invalidAt(text)+1
			}
			badLines++
		}
		if l.End != "" {
			if firstEnd == "" {
				firstEnd = l.End
			} else if l.End != firstEnd && !mixedReported {
				mixedReported = true
				lt.add(l.Num, len(l.Text)+1, RuleEncoding, "visitors see no difference, but this line ends in "+endingName(l.End)+" where the first one ends in "+endingName(firstEnd)+", which confuses editors and diffs: use one line ending throughout")
			}
		}
		warns = warns[:0]
		e, kind := d.Classify(l, collect)
		if kind == KindSkip && lt.set.include != nil && strings.HasPrefix(text, "=") {
			// "=" alone: an include of nothing, which the rule set
			// judges as every include.
			lt.set.include(lt, l, "", skip)
			continue
		}
		for _, w := range warns {
			lt.classifierFinding(w)
		}
		switch kind {
		case KindEnd:
			if strings.HasPrefix(text, ".") {
				if n := linesWithText(src[l.Off+len(l.Text)+len(l.End):]); n > 0 {
					lt.add(l.Num, skip+1, RuleCut, cutMessage(n))
				}
			}
			lt.encodingSummary(badLines, badLine, badCol)
			return
		case KindListing:
			if n := linesWithText(src[l.Off+len(l.Text)+len(l.End):]); n > 0 {
				lt.add(l.Num, skip+1, RuleCut, listingCutMessage(n))
			}
			lt.encodingSummary(badLines, badLine, badCol)
			return
		case KindItem:
			lt.item(l, e, text, skip)
		case KindInclude:
			if lt.set.include != nil {
				lt.set.include(lt, l, e.Arg, skip)
			}
		}
	}
	lt.encodingSummary(badLines, badLine, badCol)
}

func (lt *linter) encodingSummary(n int, l Line, col int) {
	if n == 0 {
		return
	}
	more := ""
	if n > 1 {
		more = " (and on " + strconv.Itoa(n-1) + " more lines)"
	}
	lt.add(l.Num, col, RuleEncoding, "visitors whose clients expect UTF-8 see garbage for the bytes here that are not UTF-8"+more+": save the file as UTF-8")
}

// classifierFinding turns a problem the dialect reported into a finding,
// in lint's words when the problem is one of the parser's own.
func (lt *linter) classifierFinding(w Warning) {
	if w.Rule == "" {
		return
	}
	msg := w.Msg
	switch w.kind {
	case leadingTab:
		msg = "visitors do not see this line, because it starts with a TAB and so has no item type: remove the leading TAB, or start the line with an item type"
	case badType:
		msg = "visitors do not see this line, because its first byte is not an item type (a text line may not contain a TAB): remove the TAB, or start the line with an item type"
	case emptyLink:
		msg = "visitors do not see this line, a link with neither a display string nor a selector: remove the TAB if the line is text, or write a display string and a selector"
	case badPort:
		msg = "visitors do not see this link, because its port is not a number from 1 to 65535 (\"+\" and \"@\" belong in no port field): write the port number, or leave the field empty for this server's"
	case strayCR:
		msg = "visitors see a space where this line holds a carriage return (CR) in the middle: remove it"
	}
	lt.add(w.Line, w.Col, w.Rule, msg)
}

// item checks an entry the dialect shows: an info line or a link.
func (lt *linter) item(l Line, e Entry, text string, skip int) {
	tab := strings.IndexByte(text, '\t')
	fields := lt.fieldCols(text, skip)
	if e.Type == gopher.TypeInfo {
		if tab < 0 && lt.set.tabs {
			if col, ok := spacedLink(text); ok {
				lt.add(l.Num, skip+col, RuleSpaces, spacesMessage)
				return
			}
			if lt.set.text != nil {
				lt.set.text(lt, l, text, skip)
			}
		}
		base := skip + 1 + len(text) - len(e.Display)
		switch {
		case tab >= 0 && lt.set.tabs:
			base = fields[0]
		case !lt.set.tabs:
			// [i|display|...]: where the display string is written,
			// when it is written as it shows (no "\|" in it).
			if i := strings.Index(text, e.Display); i >= 0 {
				base = skip + 1 + i
			}
		}
		if cols, at := columns(e.Display, lt.width); at >= 0 {
			lt.add(l.Num, base+at, RuleInfoWidth, "visitors with a "+strconv.Itoa(lt.width)+"-column screen see this "+strconv.Itoa(cols)+"-column info line wrapped or cut: break it into shorter lines")
		}
		return
	}
	if col, ok := trailingTabText(text); ok && lt.set.tabs {
		lt.add(l.Num, skip+col, RuleTrailingTab, trailingTabMessage(e))
		return
	}
	if !e.Type.Known() {
		lt.add(l.Num, skip+1, RuleType, `visitors see a link of unknown type "`+quote(string(rune(e.Type)))+`" that most clients cannot open or do not show: start the line with a known item type, or remove its TABs if it is text`)
		return
	}
	if e.HasHost && strings.ContainsFunc(e.Host, unicode.IsSpace) {
		lt.add(l.Num, fields[2], RulePort, `visitors following this link cannot reach host "`+quote(e.Host)+`", since no host name holds spaces: remove them`)
	}
	sel, selCol := e.Selector, fields[1]
	if !e.HasSelector {
		sel, selCol = e.Display, fields[0]
	}
	if at, ok := edgeSpace(sel); ok {
		lt.add(l.Num, selCol+at, RuleSelectorSpace, `visitors following this link request "`+quote(sel)+`" with its spaces, which gopherd and Gophernicus keep and pygopherd strips, so the link breaks when the hole moves: remove the spaces`)
	}
	if cols, at := columns(e.Display, lt.width); at >= 0 {
		lt.add(l.Num, fields[0]+at, RuleDisplayWidth, "visitors with a "+strconv.Itoa(lt.width)+"-column screen see this link's "+strconv.Itoa(cols)+"-column display string wrapped or cut: shorten it")
	}
	if e.Extra != "" {
		lt.add(l.Num, fields[4], RuleGopherPlus, "visitors whose clients speak Gopher+ see this fifth field as a Gopher+ marker and may send Gopher+ requests, which gopherd answers as plain ones: remove the fields after the port")
	}
	lt.target(l, e, selCol)
}

// target checks that a local link leads somewhere (GM004).
func (lt *linter) target(l Line, e Entry, col int) {
	switch e.Type {
	case gopher.TypeError, gopher.TypeTelnet, gopher.TypeTN3270, gopher.TypeCSO:
		// Not requests for this tree: an error line, login names, a
		// phone book protocol.
		return
	}
	if !lt.local(e) {
		return
	}
	sel, ok := resolveSelector(e, lt.dir, true)
	if strings.HasPrefix(sel, "URL:") {
		return
	}
	if !ok {
		lt.add(l.Num, col, RuleTarget, `visitors do not see this link, because "`+quote(sel)+`" leads above the root: fix the selector`)
		return
	}
	if lt.o.Target == nil {
		return
	}
	if sel == "" {
		sel = "/" // the root of this host
	}
	switch lt.o.Target(sel) {
	case TargetMissing:
		lt.add(l.Num, col, RuleTarget, `visitors following this link get "not found": `+quote(sel)+` does not exist in the tree: fix the selector, or add the file`)
	case TargetRefused:
		lt.add(l.Num, col, RuleTarget, `visitors following this link get "not allowed": `+quote(sel)+` is a dotfile or a gophermap, which are never served: link to another file`)
	}
}

// local reports whether e links to this server.
func (lt *linter) local(e Entry) bool {
	if !e.HasHost {
		return true
	}
	if e.HasPort && lt.o.Port != 0 && e.Port != lt.o.Port {
		return false
	}
	h := gopher.CanonicalHost(e.Host)
	if h == gopher.CanonicalHost(lt.o.Host) {
		return true
	}
	for _, a := range lt.o.Aliases {
		if h == gopher.CanonicalHost(a) {
			return true
		}
	}
	return false
}

// gophernicusWarning is Bucktooth's GM009: a text line that Gophernicus,
// which reads a line's first character before looking for a TAB, takes for
// one of its instructions.
func gophernicusWarning(lt *linter, l Line, text string, skip int) {
	if text == "" {
		return
	}
	var what string
	switch text[0] {
	case '=':
		what = "a shell command to run, or a file to include"
	case '-':
		what = "a file to hide, and shows nothing"
	case '#':
		what = "a comment, and shows nothing"
	case '!':
		what = "the menu's title"
	case '.':
		what = "the end of the menu, and shows nothing from there on"
	case '*':
		what = "the end of the map, and shows the directory listing instead of the rest"
	case '~':
		what = "the place for a list of its users' gopherholes"
	case '%':
		what = "the place for a list of its virtual hosts"
	case ':':
		what = "a file type mapping, and shows nothing"
	default:
		return
	}
	lt.add(l.Num, skip+1, RuleGophernicus, `visitors of gopherd see this text line as it is, but Gophernicus reads a line starting with "`+text[:1]+`" as `+what+`: start it with another character (such as a space) if the map may be served by Gophernicus`)
}

// gophernicusInclude is Gophernicus' GM009: an "=" line that names no
// file gopherd would include. Gophernicus runs such a line as a shell
// command (and an executable file as a program); gopherd never runs
// anything, so visitors see nothing for it. With a Tree, the tree that
// serves decides, by the very rules of serving; without one, the line's
// text and Target do.
func gophernicusInclude(lt *linter, l Line, arg string, skip int) {
	why := ""
	switch {
	case arg == "":
		why = "no file name"
	case lt.o.Tree != nil:
		if _, _, err := lt.o.Tree.Include(context.Background(), arg); err != nil {
			why = err.Error()
		}
	case IncludeCommand(arg):
		why = "a shell command (Gophernicus would run it), and gopherd never runs anything"
	case lt.o.Target != nil:
		sel := arg
		if !strings.HasPrefix(sel, "/") {
			sel = path0(lt.dir, arg)
		}
		if sel == "" || lt.o.Target(sel) != TargetServed {
			why = "no map file of the tree"
		}
	}
	if why == "" {
		return
	}
	lt.addSeverity(l.Num, skip+1, RuleGophernicus, SeverityError, `visitors see nothing for this line: "`+quote(arg)+`" is `+why+`: include a map file of the tree instead, or remove the line`)
}

// path0 joins the relative name rel to the clean rooted dir, or returns ""
// when it climbs above the root.
func path0(dir, rel string) string {
	sel, ok := resolveSelector(Entry{Selector: rel, HasSelector: true}, dir, true)
	if !ok {
		return ""
	}
	return sel
}
