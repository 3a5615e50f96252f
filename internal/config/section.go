package config

import (
	"encoding"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strconv"
	"time"
)

// This file is the machinery the key declarations in keys.go run on. Each
// declaration (s.String("hostname", &c.Hostname, checkHostname)) is run by
// Parse, which reads the key from the file into the field, checking its
// shape (JSON type, unknown and duplicate keys, values that cannot be
// stored) and recording its line; and by Validate, which checks the
// field's value and names the key and that line. So a key is written down
// in one place, and its shape rule and its value rule each exist once.
//
// The value kinds, each a method of *section (objectList and objectOrList
// are functions because Go methods cannot be generic):
//
//	String    a string; rule checks it
//	Dir, File a file name; Validate checks its syntax, then that it is a
//	          readable directory or regular file
//	Bool      true or false
//	Int       a whole number, checked against [lo, hi]
//	Bytes     a byte size: a whole number or a string such as "512MiB"
//	Duration  a Go duration string such as "1m30s"; rule checks it
//	Text      a string read by the value's UnmarshalText (an error there
//	          means it cannot be stored: a Parse problem) and checked by
//	          its validate method, if it has one: enums such as TLSMode
//	Strings   a list of strings; rule checks each element
//	StringMap an object used as a string→string map: its keys are data
//	Prefixes  a list of CIDR prefixes ("10.0.0.0/8") as netip.Prefix
//	Object    a nested object with known keys, declared by a function
//	OptionalObject  the same, for a section the Config may lack
//	objectList      a list of objects
//	objectOrList    a list of objects, or one object alone (spacecookie's
//	          "listen")
//
// A value with a syntax of its own, such as a rate ("120/1m", "512MiB/1h"),
// is a type with an UnmarshalText method (parseSize and time.ParseDuration
// help), declared with Text.
//
// Rules that involve more than one key are declared with Rule, next to the
// key they are reported on; Require declares a key an object must have.

// A walk is one pass of the declarations: reading (Parse, over the file's
// tree) or checking (Validate, over a Config).
type walk struct {
	reading  bool
	checkFS  bool // checking: look at the file system too
	file     string
	where    *positions // reading: filled in; checking: looked up, may be nil
	problems []Problem
}

// positions is what Parse remembers of the file for Validate's messages.
type positions struct {
	lines  map[string]int  // key path such as "listen[1].port" → its line
	single map[string]bool // list keys the file wrote as a single object
}

func newPositions() *positions {
	return &positions{lines: map[string]int{}, single: map[string]bool{}}
}

// set reports whether the file set the key at path to something other
// than null.
func (p *positions) set(path string) bool {
	if p == nil {
		return false
	}
	_, ok := p.lines[path]
	return ok
}

// lineOf returns the line path was read from, or that of the nearest
// enclosing key that was ("listen[1]" for "listen[1].port" when the port
// was left out), or 0.
func (p *positions) lineOf(path string) int {
	if p == nil {
		return 0
	}
	for path != "" {
		if l, ok := p.lines[path]; ok {
			return l
		}
		i := lastSeparator(path)
		if i < 0 {
			break
		}
		path = path[:i]
	}
	return 0
}

// lastSeparator returns the index of the last '.' or '[' of path that is
// not inside a quoted key, or -1.
func lastSeparator(path string) int {
	last, quoted := -1, false
	for i := 0; i < len(path); i++ {
		switch c := path[i]; {
		case c == '\\' && quoted:
			i++
		case c == '"':
			quoted = !quoted
		case (c == '.' || c == '[') && !quoted:
			last = i
		}
	}
	return last
}

// elemPath names element i of the list at path, n elements long, as the
// file did: "listen" when it wrote a single object, else "listen[i]".
func (p *positions) elemPath(path string, i, n int) string {
	if n == 1 && p != nil && p.single[path] {
		return path
	}
	return indexPath(path, i)
}

// A section is one object of the configuration as the declarations see
// it. Its methods each declare one key of that object.
type section struct {
	w        *walk
	o        *object
	optional bool
}

// object is what the sections of one object share.
type object struct {
	path   string
	line   int              // reading: line of the object; 0 when absent
	fields map[string]field // reading: the keys the file set; nil when absent
	order  []field          // reading: the first of each key, in file order
	known  []string         // the keys declared so far
	nested map[string][]string
}

// top returns the section of the top-level object; n is nil when checking.
func (w *walk) top(n *node) *section {
	s := &section{w: w, o: &object{}}
	if n != nil {
		s.open(n, n.line)
	}
	return s
}

// open indexes the keys of n, reporting duplicates; the first of duplicate
// keys is the one used.
func (s *section) open(n *node, line int) {
	s.o.line = line
	s.o.fields = make(map[string]field, len(n.fields))
	for _, f := range n.fields {
		if first, dup := s.o.fields[f.key]; dup {
			s.errorf(f.line, s.path(f.key), "duplicate key (first set on line %d)", first.line)
			continue
		}
		s.o.fields[f.key] = f
		s.o.order = append(s.o.order, f)
	}
}

// finish reports the keys of the object that no declaration asked for.
func (s *section) finish() {
	for _, f := range s.o.order {
		if slices.Contains(s.o.known, f.key) {
			continue
		}
		if hint := suggest(f.key, s.o.known, s.o.nested); hint != "" {
			s.errorf(f.line, s.path(f.key), "unknown key (did you mean %q?)", hint)
		} else {
			s.errorf(f.line, s.path(f.key), "unknown key")
		}
	}
}

// sub returns the section of the nested object (or list element) at path.
func (s *section) sub(path string) *section {
	return &section{w: s.w, o: &object{path: path}}
}

// learn remembers the keys of the nested object sub declared at key, so
// that an unknown key here can point to one of them ("level" to
// "log.level").
func (s *section) learn(key string, sub *section) {
	if s.o.nested == nil {
		s.o.nested = map[string][]string{}
	}
	s.o.nested[key] = sub.o.known
	for k, keys := range sub.o.nested {
		s.o.nested[key+"."+k] = keys
	}
}

// Optional returns s for declaring keys whose zero value means "not set":
// Validate checks such a key only when its value is not zero or when the
// file set it, so that "public-port": 0 is an error and a Config that
// leaves PublicPort at 0 is not.
func (s *section) Optional() *section {
	o := *s
	o.optional = true
	return &o
}

// Set reports whether the file set key to something other than null.
func (s *section) Set(key string) bool { return s.w.where.set(s.path(key)) }

// Path returns the key path of the section itself, such as "listen[1]".
func (s *section) Path() string { return s.o.path }

func (s *section) path(key string) string {
	if key == "" {
		return s.o.path
	}
	return keyPath(s.o.path, key)
}

// errorf records a problem found while reading, at a line of the file.
func (s *section) errorf(line int, path, format string, args ...any) {
	s.w.problems = append(s.w.problems, Problem{File: s.w.file, Line: line, Key: path, Msg: oneLine(fmt.Sprintf(format, args...))})
}

// report records a problem found while checking; msg "" means none.
func (s *section) report(path, msg string, err error) {
	if msg == "" {
		return
	}
	s.w.problems = append(s.w.problems, Problem{File: s.w.file, Line: s.w.where.lineOf(path), Key: path, Msg: oneLine(msg), Err: err})
}

// read returns the value of key when reading and the file sets it to
// anything but null, and records its line. The key counts as declared.
func (s *section) read(key string) (n *node, path string, line int, ok bool) {
	s.o.known = append(s.o.known, key)
	path = s.path(key)
	f, found := s.o.fields[key]
	if !found || f.val.kind == kindNull {
		return nil, path, 0, false
	}
	s.w.where.lines[path] = f.line
	return f.val, path, f.line, true
}

// readKind is read for values of one JSON kind; want says it in words.
func (s *section) readKind(key string, k kind, want string) (*node, string, int, bool) {
	n, path, line, ok := s.read(key)
	if ok && n.kind != k {
		s.errorf(line, path, "must be %s, got %s", want, n.kind)
		return nil, path, line, false
	}
	return n, path, line, ok
}

// checks says whether to check key's value now: when checking, unless the
// key is optional, its value zero and the file did not set it.
func (s *section) checks(key string, zero bool) (string, bool) {
	path := s.path(key)
	if s.w.reading || s.optional && zero && !s.w.where.set(path) {
		return path, false
	}
	return path, true
}

// String declares a string; rule, if not nil, checks its value.
func (s *section) String(key string, dst *string, rule func(string) string) {
	if s.w.reading {
		if n, _, _, ok := s.readKind(key, kindString, "a string"); ok {
			*dst = n.text
		}
		return
	}
	if path, ok := s.checks(key, *dst == ""); ok && rule != nil {
		s.report(path, rule(*dst), nil)
	}
}

// Dir declares the name of a directory that must exist and be readable.
func (s *section) Dir(key string, dst *string) { s.pathKey(key, dst, dirProblem) }

// File declares the name of a regular file that must exist and be
// readable.
func (s *section) File(key string, dst *string) { s.pathKey(key, dst, fileProblem) }

func (s *section) pathKey(key string, dst *string, fsCheck func(string) (string, error)) {
	if s.w.reading {
		s.String(key, dst, nil)
		return
	}
	path, ok := s.checks(key, *dst == "")
	if !ok {
		return
	}
	if msg := checkPath(*dst); msg != "" {
		s.report(path, msg, nil)
	} else if s.w.checkFS {
		msg, err := fsCheck(*dst)
		s.report(path, msg, err)
	}
}

// Bool declares true or false.
func (s *section) Bool(key string, dst *bool) {
	if s.w.reading {
		if n, _, _, ok := s.readKind(key, kindBool, "true or false"); ok {
			*dst = n.bool
		}
	}
}

// Int declares a whole number in [lo, hi].
func (s *section) Int(key string, dst *int, lo, hi int) {
	if s.w.reading {
		n, path, line, ok := s.readKind(key, kindNumber, "a number")
		if !ok {
			return
		}
		v, err := strconv.Atoi(n.text)
		if err != nil {
			s.badNumber(line, path, n.text, err, int64(lo), int64(hi))
			return
		}
		*dst = v
		return
	}
	if path, ok := s.checks(key, *dst == 0); ok {
		s.report(path, inRange(*dst, lo, hi), nil)
	}
}

// badNumber reports a number literal that does not fit the field.
func (s *section) badNumber(line int, path, text string, err error, lo, hi int64) {
	if errors.Is(err, strconv.ErrRange) {
		s.errorf(line, path, "must be between %d and %d, got %s", lo, hi, quoteNumber(text))
	} else {
		s.errorf(line, path, "must be a whole number, got %s", quoteNumber(text))
	}
}

// Bytes declares a byte size in [lo, hi]: a whole number of bytes, or a
// string with a unit such as "512KiB" or "8MiB" (see parseSize).
func (s *section) Bytes(key string, dst *int64, lo, hi int64) {
	if s.w.reading {
		n, path, line, ok := s.read(key)
		if !ok {
			return
		}
		var v int64
		var err error
		switch n.kind {
		case kindNumber:
			v, err = strconv.ParseInt(n.text, 10, 64)
		case kindString:
			if v, err = parseSize(n.text); err != nil && !errors.Is(err, strconv.ErrRange) {
				s.errorf(line, path, "invalid size %s (want a number of bytes, or one with a unit such as \"512KiB\" or \"8MiB\")", quote(n.text))
				return
			}
		default:
			s.errorf(line, path, "must be a number of bytes or a size such as \"8MiB\", got %s", n.kind)
			return
		}
		if err != nil {
			s.badNumber(line, path, n.text, err, lo, hi)
			return
		}
		*dst = v
		return
	}
	if path, ok := s.checks(key, *dst == 0); ok {
		s.report(path, inRange(*dst, lo, hi), nil)
	}
}

// Duration declares a duration string such as "10s" or "1m30s"; rule, if
// not nil, checks its value.
func (s *section) Duration(key string, dst *time.Duration, rule func(time.Duration) string) {
	if s.w.reading {
		n, path, line, ok := s.read(key)
		if !ok {
			return
		}
		if n.kind != kindString {
			s.errorf(line, path, "must be a duration string such as \"10s\", got %s", n.kind)
			return
		}
		d, err := time.ParseDuration(n.text)
		if err != nil {
			s.errorf(line, path, "invalid duration %s", quote(n.text))
			return
		}
		*dst = d
		return
	}
	if path, ok := s.checks(key, *dst == 0); ok && rule != nil {
		s.report(path, rule(*dst), nil)
	}
}

// validator is implemented by values declared with Text that have a value
// rule of their own; validate returns what is wrong, or "".
type validator interface{ validate() string }

// Text declares a string stored by dst's UnmarshalText. Its error is the
// message (write it with quote, so that it stays on one line): the string
// cannot be stored. When dst also has a validate method, Validate uses it.
func (s *section) Text(key string, dst encoding.TextUnmarshaler) {
	if s.w.reading {
		if n, path, line, ok := s.readKind(key, kindString, "a string"); ok {
			if err := dst.UnmarshalText([]byte(n.text)); err != nil {
				s.errorf(line, path, "%s", err.Error())
			}
		}
		return
	}
	if v, ok := dst.(validator); ok {
		if path, ok := s.checks(key, false); ok {
			s.report(path, v.validate(), nil)
		}
	}
}

// Strings declares a list of strings; rule, if not nil, checks each one.
func (s *section) Strings(key string, dst *[]string, rule func(string) string) {
	if s.w.reading {
		n, path, _, ok := s.readKind(key, kindList, "a list of strings")
		if !ok {
			return
		}
		list := make([]string, 0, len(n.elems))
		for i, e := range n.elems {
			p := indexPath(path, i)
			if e.kind != kindString {
				s.errorf(e.line, p, "must be a string, got %s", e.kind)
				continue
			}
			s.w.where.lines[p] = e.line
			list = append(list, e.text)
		}
		*dst = list
		return
	}
	if path, ok := s.checks(key, len(*dst) == 0); ok && rule != nil {
		for i, v := range *dst {
			s.report(indexPath(path, i), rule(v), nil)
		}
	}
}

// StringMap declares an object whose keys are data (environment variable
// names, selector prefixes) and whose values are strings. rule, if not
// nil, checks each entry.
func (s *section) StringMap(key string, dst *map[string]string, rule func(k, v string) string) {
	if s.w.reading {
		n, path, line, ok := s.readKind(key, kindObject, "an object")
		if !ok {
			return
		}
		m := s.sub(path)
		m.open(n, line)
		*dst = make(map[string]string, len(m.o.order))
		for _, f := range m.o.order {
			p := keyPath(path, f.key)
			if f.val.kind != kindString {
				s.errorf(f.line, p, "must be a string, got %s", f.val.kind)
				continue
			}
			s.w.where.lines[p] = f.line
			(*dst)[f.key] = f.val.text
		}
		return
	}
	if path, ok := s.checks(key, len(*dst) == 0); ok && rule != nil {
		keys := make([]string, 0, len(*dst))
		for k := range *dst {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			s.report(keyPath(path, k), rule(k, (*dst)[k]), nil)
		}
	}
}

// Prefixes declares a list of CIDR prefixes such as "10.0.0.0/8" or
// "2001:db8::/32". A prefix with bits set past its length ("10.0.0.1/8")
// is a value problem: it is most likely a typo for a /32.
func (s *section) Prefixes(key string, dst *[]netip.Prefix) {
	if s.w.reading {
		n, path, _, ok := s.readKind(key, kindList, "a list of prefixes")
		if !ok {
			return
		}
		list := make([]netip.Prefix, 0, len(n.elems))
		for i, e := range n.elems {
			p := indexPath(path, i)
			if e.kind != kindString {
				s.errorf(e.line, p, "must be a string, got %s", e.kind)
				continue
			}
			pfx, err := netip.ParsePrefix(e.text)
			if err != nil {
				s.errorf(e.line, p, "invalid prefix %s: want an address and a length such as \"10.0.0.0/8\"", quote(e.text))
				continue
			}
			s.w.where.lines[p] = e.line
			list = append(list, pfx)
		}
		*dst = list
		return
	}
	if path, ok := s.checks(key, len(*dst) == 0); ok {
		for i, p := range *dst {
			if p != p.Masked() {
				s.report(indexPath(path, i), fmt.Sprintf("%s has bits set past the prefix length (write %s)", p, p.Masked()), nil)
			}
		}
	}
}

// Object declares a nested object whose keys fill declares.
func (s *section) Object(key string, fill func(*section)) { s.object(key, true, fill) }

// OptionalObject declares a nested object the Config may lack, such as
// tls: present says whether it has it (Validate checks the keys of a
// present section only; Parse does not look at present).
func (s *section) OptionalObject(key string, present bool, fill func(*section)) {
	s.object(key, present, fill)
}

func (s *section) object(key string, present bool, fill func(*section)) {
	sub := s.sub(s.path(key))
	if !s.w.reading {
		if present {
			fill(sub)
		}
		return
	}
	// Absent or of the wrong type, fill still runs, with no keys to read,
	// so that the keys it declares are known for suggestions.
	if n, _, line, ok := s.readKind(key, kindObject, "an object"); ok {
		sub.open(n, line)
	}
	fill(sub)
	sub.finish()
	s.learn(key, sub)
}

// objectList declares a list of objects, each read into a copy of def and
// filled by fill.
func objectList[T any](s *section, key string, dst *[]T, def T, fill func(*section, *T)) {
	list(s, key, dst, def, false, fill)
}

// objectOrList is objectList that also accepts a single object for a list
// of one, which messages then name without an index.
func objectOrList[T any](s *section, key string, dst *[]T, def T, fill func(*section, *T)) {
	list(s, key, dst, def, true, fill)
}

func list[T any](s *section, key string, dst *[]T, def T, single bool, fill func(*section, *T)) {
	path := s.path(key)
	if !s.w.reading {
		for i := range *dst {
			fill(s.sub(s.w.where.elemPath(path, i, len(*dst))), &(*dst)[i])
		}
		return
	}
	learned := false
	elem := func(p string, n *node) {
		sub := s.sub(p)
		sub.open(n, n.line)
		s.w.where.lines[p] = n.line
		v := def
		fill(sub, &v)
		sub.finish()
		*dst = append(*dst, v)
		if !learned {
			s.learn(key, sub)
			learned = true
		}
	}
	n, _, line, ok := s.read(key)
	switch {
	case !ok:
	case n.kind == kindObject && single:
		s.w.where.single[path] = true
		*dst = nil
		elem(path, n)
	case n.kind == kindList:
		*dst = nil
		for i, e := range n.elems {
			p := indexPath(path, i)
			if e.kind != kindObject {
				s.errorf(e.line, p, "must be an object, got %s", e.kind)
				continue
			}
			elem(p, e)
		}
	case single:
		s.errorf(line, path, "must be an object or a list of objects, got %s", n.kind)
	default:
		s.errorf(line, path, "must be a list of objects, got %s", n.kind)
	}
	if !learned { // learn the element's keys from a dry run
		sub := s.sub(path)
		v := def
		fill(sub, &v)
		s.learn(key, sub)
	}
}

// Require declares that an object, when the file has it, must set key.
// what says what the key holds, for the message.
func (s *section) Require(key, what string) {
	if !s.w.reading || s.o.fields == nil {
		return
	}
	if f, ok := s.o.fields[key]; !ok || f.val.kind == kindNull {
		s.errorf(s.o.line, s.path(key), "required key is missing (%s)", what)
	}
}

// Rule declares a value rule that involves more than the key it is
// reported on (key "" is the section itself): Validate calls check and
// reports what it returns, unless "".
func (s *section) Rule(key string, check func() string) {
	if !s.w.reading {
		s.report(s.path(key), check(), nil)
	}
}
