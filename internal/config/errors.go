package config

import (
	"sort"
	"strconv"
	"strings"
	"unicode"
)

// Problem is one thing wrong with a configuration.
type Problem struct {
	File string // file name; "" when the Config did not come from a file
	Line int    // 1-based; 0 when unknown (a missing key, a hand-built Config)
	Col  int    // 1-based byte column; only set for JSON syntax errors
	Key  string // key path such as "listen[1].port"; "" for syntax errors
	Msg  string // never contains a newline
	Err  error  // underlying error, if any (for errors.Is)
}

// String formats the problem as "file:line: key: message" (or
// "file:line:col: message" for syntax errors), leaving out the parts that
// are unknown.
func (p Problem) String() string {
	var b strings.Builder
	loc := p.File
	if p.Line > 0 {
		if loc == "" {
			loc = "line " + strconv.Itoa(p.Line)
		} else {
			loc += ":" + strconv.Itoa(p.Line)
		}
		if p.Col > 0 {
			loc += ":" + strconv.Itoa(p.Col)
		}
	}
	if loc != "" {
		b.WriteString(loc)
		b.WriteString(": ")
	}
	if p.Key != "" {
		b.WriteString(p.Key)
		b.WriteString(": ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// Error lists every problem Parse or Validate found. It is always returned
// as *Error and always holds at least one Problem.
type Error struct {
	Problems []Problem
}

// Error prints one line per problem.
func (e *Error) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// Unwrap returns the underlying errors, so that errors.Is(err,
// fs.ErrNotExist) works for a missing root.
func (e *Error) Unwrap() []error {
	var errs []error
	for _, p := range e.Problems {
		if p.Err != nil {
			errs = append(errs, p.Err)
		}
	}
	return errs
}

// quote returns s as a Go string literal, cut to a length that fits in a
// message line. User-supplied text goes through it so that a message can
// never span lines or carry terminal escapes.
func quote(s string) string {
	const max = 64 // bytes of output, escapes included
	if q := strconv.Quote(s); len(q) <= max+2 {
		return q
	}
	prev := `""`
	for i := range s {
		q := strconv.Quote(s[:i])
		if len(q) > max+2 {
			break
		}
		prev = q
	}
	return prev + "…"
}

// keyPath appends key to the dotted path prefix, quoting keys that are not
// plain words so that an odd key cannot break the message format.
func keyPath(prefix, key string) string {
	if !plainKey(key) {
		key = quote(key)
	}
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}

func plainKey(k string) bool {
	if k == "" || len(k) > 64 {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// indexPath names element i of the list at prefix.
func indexPath(prefix string, i int) string {
	return prefix + "[" + strconv.Itoa(i) + "]"
}

// sortProblems puts problems in file order, those without a line last.
func sortProblems(ps []Problem) {
	sort.SliceStable(ps, func(i, j int) bool {
		li, lj := ps[i].Line, ps[j].Line
		if li == 0 || lj == 0 {
			return lj == 0 && li != 0
		}
		return li < lj
	})
}

// oneLine escapes control characters in a message and cuts it to a length
// that fits a line: a safety net for messages that carry text from the
// file without quote, such as an UnmarshalText error.
func oneLine(msg string) string {
	const max = 256
	if len(msg) <= max && !strings.ContainsFunc(msg, unicode.IsControl) {
		return msg
	}
	var b strings.Builder
	for _, r := range msg {
		if b.Len() >= max {
			b.WriteString("…")
			break
		}
		if unicode.IsControl(r) {
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}
