package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// The configuration is first read into a small tree that remembers the line
// of every key and value, keeps keys in file order and keeps duplicates,
// none of which encoding/json's Unmarshal would tell us.

type kind uint8

const (
	kindNull kind = iota
	kindBool
	kindNumber
	kindString
	kindObject
	kindList
)

func (k kind) String() string {
	switch k {
	case kindNull:
		return "null"
	case kindBool:
		return "boolean"
	case kindNumber:
		return "number"
	case kindString:
		return "string"
	case kindObject:
		return "object"
	case kindList:
		return "list"
	}
	return "unknown"
}

type node struct {
	kind   kind
	line   int
	text   string // string value, or the number's literal text
	bool   bool
	fields []field // objects, in file order, duplicates included
	elems  []*node // lists
}

type field struct {
	key  string
	line int
	val  *node
}

// maxDepth bounds nesting, which no configuration needs more than three
// levels of, so that hostile input cannot make the walk recurse deeply.
const maxDepth = 32

// lineIndex converts byte offsets into line and column numbers.
type lineIndex struct {
	starts []int // offset of the first byte of each line
}

func newLineIndex(data []byte) lineIndex {
	starts := []int{0}
	for i, c := range data {
		if c == '\n' {
			starts = append(starts, i+1)
		}
	}
	return lineIndex{starts: starts}
}

// pos returns the 1-based line and byte column of offset off.
func (li lineIndex) pos(off int) (line, col int) {
	i := sort.Search(len(li.starts), func(i int) bool { return li.starts[i] > off }) - 1
	if i < 0 {
		i = 0
	}
	return i + 1, off - li.starts[i] + 1
}

var bom = []byte{0xEF, 0xBB, 0xBF}

// decodeTree parses data into a tree. A syntax error comes back as a
// Problem with line and column.
func decodeTree(file string, data []byte) (*node, *Problem) {
	skip := 0
	if bytes.HasPrefix(data, bom) { // some editors write one; it is harmless
		skip = len(bom)
	}
	body := data[skip:]
	li := newLineIndex(data)
	syntax := func(off int, msg string) *Problem {
		line, col := li.pos(skip + off)
		return &Problem{File: file, Line: line, Col: col, Msg: msg}
	}

	if len(bytes.TrimSpace(body)) == 0 {
		return nil, syntax(len(body), "empty file, expected a JSON object")
	}
	// The Decoder's token stream reports syntax errors with offsets that
	// are not always relative to the input start, so check the syntax on
	// the whole buffer first: Unmarshal's offsets are exact.
	var raw json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			if strings.HasPrefix(se.Error(), "unexpected end") {
				end := len(bytes.TrimRight(body, " \t\r\n"))
				return nil, syntax(end, "unexpected end of input")
			}
			return nil, syntax(int(se.Offset)-1, se.Error())
		}
		return nil, syntax(0, err.Error())
	}

	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	w := walker{dec: dec, li: li, skip: skip, file: file}
	tok, err := dec.Token()
	if err != nil {
		return nil, w.fail(err)
	}
	n, err := w.value(tok, 0)
	if err != nil {
		return nil, w.fail(err)
	}
	return n, nil
}

type walker struct {
	dec  *json.Decoder
	li   lineIndex
	skip int
	file string
}

// line returns the line of the token just read: it ends at InputOffset and
// no token spans lines (JSON strings cannot hold a raw newline).
func (w *walker) line() int {
	off := int(w.dec.InputOffset()) - 1
	if off < 0 {
		off = 0
	}
	l, _ := w.li.pos(w.skip + off)
	return l
}

func (w *walker) fail(err error) *Problem {
	off := int(w.dec.InputOffset())
	line, col := w.li.pos(w.skip + off)
	return &Problem{File: w.file, Line: line, Col: col, Msg: err.Error()}
}

var errTooDeep = fmt.Errorf("nesting deeper than %d levels", maxDepth)

func (w *walker) value(tok json.Token, depth int) (*node, error) {
	n := &node{line: w.line()}
	switch t := tok.(type) {
	case nil:
		n.kind = kindNull
	case bool:
		n.kind, n.bool = kindBool, t
	case json.Number:
		n.kind, n.text = kindNumber, string(t)
	case string:
		n.kind, n.text = kindString, t
	case json.Delim:
		if depth >= maxDepth {
			return nil, errTooDeep
		}
		switch t {
		case '{':
			n.kind = kindObject
			for w.dec.More() {
				kt, err := w.dec.Token()
				if err != nil {
					return nil, err
				}
				key, ok := kt.(string)
				if !ok {
					return nil, fmt.Errorf("object key is %v, not a string", kt)
				}
				f := field{key: key, line: w.line()}
				vt, err := w.dec.Token()
				if err != nil {
					return nil, err
				}
				if f.val, err = w.value(vt, depth+1); err != nil {
					return nil, err
				}
				n.fields = append(n.fields, f)
			}
		case '[':
			n.kind = kindList
			for w.dec.More() {
				et, err := w.dec.Token()
				if err != nil {
					return nil, err
				}
				e, err := w.value(et, depth+1)
				if err != nil {
					return nil, err
				}
				n.elems = append(n.elems, e)
			}
		default:
			return nil, fmt.Errorf("unexpected %q", rune(t))
		}
		end, err := w.dec.Token()
		if err != nil {
			return nil, err
		}
		if d, ok := end.(json.Delim); !ok || (t == '{') != (d == '}') {
			return nil, fmt.Errorf("unexpected %v", end)
		}
	default:
		return nil, fmt.Errorf("unexpected token %v", tok)
	}
	return n, nil
}
