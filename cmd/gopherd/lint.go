package main

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"gopherd/internal/cgi"
	"gopherd/internal/config"
	"gopherd/internal/fs"
	"gopherd/internal/gopher"
	"gopherd/internal/gophermap"
	"gopherd/internal/lint"
)

type lintFlags struct {
	configFile string
	root       string
	dialect    string
	width      int
	format     string
	strict     bool
	help       bool
}

func newLintFlagSet(o *lintFlags, output io.Writer) *pflag.FlagSet {
	flags := pflag.NewFlagSet("gopherd lint", pflag.ContinueOnError)
	flags.SetOutput(output)
	flags.SortFlags = false
	flags.StringVarP(&o.configFile, "config", "c", "", "check the maps of every host of configuration `FILE`")
	flags.StringVarP(&o.root, "root", "r", "", "check the maps under `DIR` (default: the current directory)")
	flags.StringVar(&o.dialect, "dialect", "", "read every map as `NAME`: "+strings.Join(gophermap.RuleSetNames(), " or ")+" (default: each directory's dialect as configured)")
	flags.IntVar(&o.width, "width", gophermap.DefaultWidth, "widest info line and display string, in `N` columns")
	flags.StringVar(&o.format, "format", "text", "output `FORMAT`: text, or json (one object a finding)")
	flags.BoolVar(&o.strict, "strict", false, "fail (exit 1) on warnings too, not only on errors")
	flags.BoolVarP(&o.help, "help", "h", false, "print this help and exit")
	flags.Usage = func() { printLintUsage(flags, output) }
	return flags
}

func printLintUsage(flags *pflag.FlagSet, w io.Writer) {
	fmt.Fprint(w, `Usage: gopherd lint [--config FILE | --root DIR] [--dialect bucktooth|gophernicus]
                    [--width N] [--format text|json] [--strict] [PATH...]

Check every gophermap, .gophermap and .gph menu under the root (the
configuration's, every virtual host's, --root, or the current directory),
or only the maps and directories given as PATHs, each in the dialect it is
served in (--dialect: every gophermap in one), and say what visitors will
see of their mistakes: one finding a line, "file:line:col: RULE
severity: message", then a summary. Exit status 0 when there is no error
(with --strict, no warning either), 1 otherwise, 2 for a bad command line
or configuration.
The rules are listed in gopherd.gophermap(5). Nothing is ever executed.

Flags:
`)
	flags.SetOutput(w)
	flags.PrintDefaults()
}

// runLint is `gopherd lint`.
func runLint(s streams, args []string) int {
	var o lintFlags
	flags := newLintFlagSet(&o, s.Stderr)
	usage := func(format string, a ...any) int {
		fmt.Fprintf(s.Stderr, "gopherd lint: "+format+"\n", a...)
		printLintUsage(flags, s.Stderr)
		return exitUsage
	}
	if err := flags.Parse(args); err != nil {
		return usage("%v", err)
	}
	var rules *gophermap.RuleSet
	switch {
	case o.help:
		printLintUsage(flags, s.Stdout)
		return exitOK
	case o.configFile != "" && o.root != "":
		return usage("--config and --root exclude each other: the configuration names its roots")
	case o.width < 1:
		return usage("--width must be at least 1, got %d", o.width)
	case o.format != "text" && o.format != "json":
		return usage("--format must be text or json, got %q", o.format)
	case o.dialect != "":
		rs, ok := gophermap.RuleSetFor(o.dialect)
		if !ok {
			return usage("--dialect must be %s, got %q", strings.Join(gophermap.RuleSetNames(), " or "), o.dialect)
		}
		rules = &rs
	}
	cfg, err := loadConfig(&options{configFile: o.configFile, root: o.root})
	if err == nil {
		err = cfg.Validate()
	}
	if err != nil {
		fmt.Fprintln(s.Stderr, err)
		return exitUsage
	}
	res, err := lintConfig(cfg, version, lintSettings{width: o.width, rules: rules, paths: flags.Args()})
	if err != nil {
		fmt.Fprintf(s.Stderr, "gopherd lint: %v\n", err)
		return exitUsage
	}
	for _, e := range res.failed {
		fmt.Fprintf(s.Stderr, "gopherd lint: %s\n", e)
	}
	if o.format == "json" {
		enc := json.NewEncoder(s.Stdout)
		enc.SetEscapeHTML(false) // messages quote map text: keep it legible
		for _, f := range res.findings {
			_ = enc.Encode(jsonFinding{File: f.file, Line: f.Line, Col: f.Col, Rule: f.Rule, Severity: f.Severity.String(), Message: f.Message})
		}
		fmt.Fprintln(s.Stderr, res.summary())
	} else {
		for _, f := range res.findings {
			fmt.Fprintln(s.Stdout, f)
		}
		fmt.Fprintln(s.Stdout, res.summary())
	}
	if res.fails(o.strict) {
		return exitFailure
	}
	return exitOK
}

// jsonFinding is a finding as --format json writes it: these six fields,
// in this order, and no others.
type jsonFinding struct {
	File     string `json:"file"`
	Line     int    `json:"line"`
	Col      int    `json:"col"`
	Rule     string `json:"rule"`
	Severity string `json:"severity"`
	Message  string `json:"message"`
}

// lintSettings are what a lint run checks and how.
type lintSettings struct {
	width int
	// rules, when set, reads every map with that rule set.
	rules *gophermap.RuleSet
	// paths are the maps and directories to check (as the user wrote
	// them); none means every host's whole root.
	paths []string
}

// fileFinding is a finding in a named file.
type fileFinding struct {
	file string
	gophermap.Finding
}

// String is the finding as the text format writes it.
func (f fileFinding) String() string {
	return f.file + ":" + strconv.Itoa(f.Line) + ":" + strconv.Itoa(f.Col) + ": " + f.Rule + " " + f.Severity.String() + ": " + f.Message
}

// lintResult is what a lint run found: the findings sorted by file, line,
// column and rule, the number of maps checked, and the maps that could
// not be checked.
type lintResult struct {
	findings []fileFinding
	maps     int
	failed   []string
	count    map[gophermap.Severity]int
}

// fails reports whether the run should exit 1.
func (r lintResult) fails(strict bool) bool {
	return len(r.failed) > 0 || r.count[gophermap.SeverityError] > 0 || strict && r.count[gophermap.SeverityWarning] > 0
}

// summary is the one-line count of what was found.
func (r lintResult) summary() string {
	s := plural(r.maps, "map", "maps") + " checked: " +
		plural(r.count[gophermap.SeverityError]+len(r.failed), "error", "errors") + ", " +
		plural(r.count[gophermap.SeverityWarning], "warning", "warnings") + ", " +
		strconv.Itoa(r.count[gophermap.SeverityInfo]) + " info"
	if len(r.failed) > 0 {
		s += " (" + plural(len(r.failed), "map", "maps") + " not checked)"
	}
	return s
}

func plural(n int, one, more string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + more
}

// lintConfig lints the maps of configuration c: every host's root, each
// root once, with the host's names, menu port, routes (whatever the
// daemon's router sends elsewhere than the tree) and gateway settings, or
// only the paths of s, each checked with the host whose root holds it.
func lintConfig(c *config.Config, version string, s lintSettings) (lintResult, error) {
	d := offlineDaemon(c, version, nil)
	// The search handlers site makes are never started: lint only asks
	// the router where a selector goes.
	plan := d.searches.plan(d.logger)
	defer plan.abort()
	var hosts []lintHost
	for i, h := range c.Hosts() {
		abs, err := filepath.Abs(h.Root)
		if err != nil {
			return lintResult{}, err
		}
		if slices.ContainsFunc(hosts, func(x lintHost) bool { return x.abs == abs }) {
			continue // one tree served by two hosts: checked once
		}
		o, err := d.lintOptions(c, h, i == 0, plan, s)
		if err != nil {
			return lintResult{}, err
		}
		hosts = append(hosts, lintHost{abs: abs, root: h.Root, o: o})
	}
	// Each path goes to the host whose root holds it, the deepest root
	// when roots nest.
	only := make([][]string, len(hosts))
	for _, p := range s.paths {
		abs, err := filepath.Abs(p)
		if err != nil {
			return lintResult{}, err
		}
		best, rel := -1, ""
		for i, h := range hosts {
			r, err := filepath.Rel(h.abs, abs)
			if err != nil || r == ".." || strings.HasPrefix(r, ".."+string(filepath.Separator)) {
				continue
			}
			if best < 0 || len(h.abs) > len(hosts[best].abs) {
				best, rel = i, filepath.ToSlash(r)
			}
		}
		if best < 0 {
			return lintResult{}, fmt.Errorf("%s is not under the root %s", p, rootsOf(c))
		}
		only[best] = append(only[best], rel)
	}
	res := lintResult{count: map[gophermap.Severity]int{}}
	for i, h := range hosts {
		if len(s.paths) > 0 && len(only[i]) == 0 {
			continue
		}
		maps, err := lint.Check(h.o, only[i]...)
		if err != nil {
			return lintResult{}, err
		}
		for _, m := range maps {
			file := filepath.Join(h.root, filepath.FromSlash(m.Path))
			res.maps++
			if m.Err != nil {
				res.failed = append(res.failed, file+": "+m.Err.Error())
				continue
			}
			for _, f := range m.Findings {
				res.findings = append(res.findings, fileFinding{file: file, Finding: f})
				res.count[f.Severity]++
			}
		}
	}
	slices.SortStableFunc(res.findings, func(a, b fileFinding) int {
		return cmp.Or(strings.Compare(a.file, b.file), cmp.Compare(a.Line, b.Line), cmp.Compare(a.Col, b.Col), strings.Compare(a.Rule, b.Rule))
	})
	return res, nil
}

// lintHost is one tree lint checks: its root as configured and as an
// absolute path, and how its host serves it.
type lintHost struct {
	abs  string
	root string
	o    lint.Options
}

// lintOptions says how host h (the default host when first) of c serves its
// tree, from the handler chain site composes for it: its names and menu
// port, what its router sends elsewhere than the tree, and its tree, which
// says which dialect each directory's map is read in and reads the files
// their include lines name.
func (d *daemon) lintOptions(c *config.Config, h config.Vhost, first bool, plan *searchPlan, s lintSettings) (lint.Options, error) {
	mux, err := d.site(c, h, 0, cgi.NewSlots(), menuTimeout(c), plan)
	if err != nil {
		return lint.Options{}, err
	}
	o := lint.Options{
		Root:    h.Root,
		Host:    h.Hostname,
		Aliases: h.Aliases,
		Port:    d.hostPort(c, h, d.hostListener(h, first)),
		Width:   s.width,
		Routed: func(sel string) bool {
			_, pattern := mux.Handler(&gopher.Request{Selector: sel})
			return pattern != "/"
		},
		RunsPrograms: h.CGI != nil && h.CGI.ExecutableGophermaps,
	}
	// The tree is the router's fallback, registered for "/".
	fallback, _ := mux.Handler(&gopher.Request{Selector: "/"})
	if tree, ok := fallback.(*fs.Handler); ok {
		o.Tree = tree.MapTree
		o.Rules = func(dir string) gophermap.RuleSet { return gophermap.RuleSetOf(tree.Dialect(dir)) }
	}
	if s.rules != nil {
		rules := *s.rules
		o.Rules = func(string) gophermap.RuleSet { return rules }
	}
	return o, nil
}

// rootsOf names the roots of c, for a message.
func rootsOf(c *config.Config) string {
	var roots []string
	for _, h := range c.Hosts() {
		if !slices.Contains(roots, h.Root) {
			roots = append(roots, h.Root)
		}
	}
	return strings.Join(roots, " or ")
}
