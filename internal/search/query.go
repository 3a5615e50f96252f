package search

import (
	"errors"
	"strings"
	"unicode"
)

// The query language (RFC 1436's search grammar as the issue states it):
// words separated by white space are ANDed; the words "and", "or" and "not"
// (any case) are operators, applied left to right without precedence, so
// "a or b c" is "(a or b) and c". "not" negates the word after it: "a not
// b" is a and not b, "a or not b" is a or not b, and a query that starts
// with "not b" starts from every document without b. A word ending in "*"
// is a prefix: "gopher*" matches "gopher", "gophers" and "gopherhole".
//
// A word is split into terms as the text is ("foo-bar" is foo and bar, both
// needed). Terms of one character are dropped, like stop words; a term of
// more than 40 characters is kept but matches nothing, since the index
// holds none. Operators that lead to nothing (a trailing "and") are
// ignored; when two binary operators follow each other the last one wins.

// Query errors, each answered by its own error item.
var (
	errTooLong = errors.New("query too long")
	errNoWords = errors.New("no words to search for")
)

// qterm is one term of a query.
type qterm struct {
	text   string // folded, as in the index
	prefix bool
	never  bool // longer than any indexed term: matches nothing
}

// clause is one operand of the left-to-right chain.
type clause struct {
	or    bool    // joined to what comes before by OR, else AND
	neg   bool    // negated by "not"
	terms []qterm // all needed: one word can hold several terms
}

// query is a parsed query.
type query struct {
	clauses []clause
	terms   int
}

// isQuerySpace separates query words: white space and any control byte.
func isQuerySpace(r rune) bool {
	return unicode.IsSpace(r) || unsafeRune(r)
}

// parseQuery parses s, allowing at most maxTerms terms. The byte limit is
// the caller's, checked before.
func parseQuery(s string, maxTerms int) (query, error) {
	var q query
	var buf []byte
	pendingOr, pendingNeg := false, false
	for _, w := range strings.FieldsFunc(s, isQuerySpace) {
		switch {
		case strings.EqualFold(w, "and"):
			pendingOr = false
			continue
		case strings.EqualFold(w, "or"):
			pendingOr = true
			continue
		case strings.EqualFold(w, "not"):
			pendingNeg = !pendingNeg
			continue
		}
		body := strings.TrimRight(w, "*")
		prefix := len(body) < len(w)
		var ts []qterm
		buf = tokenize(body, buf, func(t []byte, runes, _, end int) bool {
			if runes < minTermRunes {
				return true
			}
			qt := qterm{text: string(t), prefix: prefix && end == len(body)}
			if runes > maxTermRunes {
				qt = qterm{never: true}
			}
			ts = append(ts, qt)
			return true
		})
		if len(ts) == 0 {
			continue
		}
		q.terms += len(ts)
		if q.terms > maxTerms {
			return query{}, errTooLong
		}
		q.clauses = append(q.clauses, clause{or: pendingOr && len(q.clauses) > 0, neg: pendingNeg, terms: ts})
		pendingOr, pendingNeg = false, false
	}
	if len(q.clauses) == 0 {
		return query{}, errNoWords
	}
	return q, nil
}
