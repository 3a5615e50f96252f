package fs

import (
	"strconv"
	"sync"

	"go.uber.org/zap"

	"gopherd/internal/gopher"
)

// maxProblemLines is how many problems of one map or listing are logged
// one by one; the rest are counted in one more line. An author's bad map of
// two million lines is then a handful of log lines, not two million.
const maxProblemLines = 8

// problems collects what is wrong with one version of a map or listing,
// to be logged once.
type problems struct {
	lines []problemLine
	more  int
}

// problemLine is one warning: its message and the path (and error) it
// concerns, escaped when logged.
type problemLine struct {
	msg  string
	path string
	err  error
	col  int    // the column in a map's line, when known
	rule string // the lint rule that finds the same problem (gopherd lint)
}

// full reports whether further problems are only counted; callers check it
// before putting a problem into words.
func (p *problems) full() bool { return len(p.lines) >= maxProblemLines }

// add records one problem about path (err may be nil).
func (p *problems) add(msg, path string, err error) {
	if p.full() {
		p.more++
		return
	}
	p.lines = append(p.lines, problemLine{msg: msg, path: path, err: err})
}

// addLine records problem l of a map's line.
func (p *problems) addLine(l problemLine) {
	if p.full() {
		p.more++
		return
	}
	p.lines = append(p.lines, l)
}

// addFirst records a problem that must be logged whatever else was found:
// it goes before the others, over the limit.
func (p *problems) addFirst(l problemLine) {
	p.lines = append([]problemLine{l}, p.lines...)
}

// log writes the problems of what as warnings, then the count of those
// left out.
func (p *problems) log(log *zap.Logger, what string) {
	for _, l := range p.lines {
		fields := []zap.Field{quotedPath(l.path)}
		if l.err != nil {
			fields = append(fields, quotedErr(l.err))
		}
		if l.col > 0 {
			fields = append(fields, zap.Int("col", l.col))
		}
		if l.rule != "" {
			fields = append(fields, zap.String("rule", l.rule))
		}
		log.Warn(gopher.Quote(l.msg, 2*maxLogPath), fields...)
	}
	if p.more > 0 {
		log.Warn(gopher.Quote(what, maxLogPath)+": and "+thousands(p.more)+" more", quotedPath(what))
	}
}

// thousands writes a count with commas between groups of three digits, as
// in "and 1,999,995 more".
func thousands(n int) string {
	s := strconv.Itoa(n)
	if n < 0 {
		return s
	}
	head := len(s) % 3
	if head == 0 {
		head = 3
	}
	out := []byte(s[:head])
	for i := head; i < len(s); i += 3 {
		out = append(out, ',')
		out = append(out, s[i:i+3]...)
	}
	return string(out)
}

// maxReported bounds how many versions reported keeps; beyond it, it
// starts over, and a map may warn once more.
const maxReported = 4096

// reported remembers which version of each map or directory has had its
// problems logged, so that a version evicted from the cache, or kept out of
// it by its size, does not log them again when it is made again.
type reported struct {
	mu sync.Mutex
	m  map[string]dirID
}

// first reports whether this is the first time version id of what is
// reported, and records it.
func (r *reported) first(what string, id dirID) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if old, ok := r.m[what]; ok && old == id {
		return false
	}
	if len(r.m) >= maxReported {
		clear(r.m)
	}
	r.m[what] = id
	return true
}
