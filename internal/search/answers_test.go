//go:build unix

package search

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopherd/internal/gopher"
)

// TestAnswersCache: a query asked again is answered from the cache, with
// the same bytes; the answer of one host is never another's; a change scan
// that changes the index starts with an empty cache, so no answer outlives
// the text it was made from.
func TestAnswersCache(t *testing.T) {
	root := fixtureTree(t)
	h, _ := built(t, root)
	x := h.cur.Load()
	first := ask(t, h, "aardvark").String()
	if n := x.answers.len(); n != 0 {
		t.Fatalf("a query asked once is kept (%d answers)", n)
	}
	if again := ask(t, h, "aardvark").String(); again != first {
		t.Fatalf("second answer differs:\n%s\n%s", first, again)
	}
	if n := x.answers.len(); n != 1 {
		t.Fatalf("a query asked twice is not kept (%d answers)", n)
	}
	// The kept answer is the one served: change it behind the cache's back
	// and ask again.
	key := answerKey{query: "aardvark", host: testHost, port: testPort}
	kept := x.answers.get(key)
	if !bytes.Equal(kept, []byte(first)) {
		t.Fatalf("kept answer %q", kept)
	}
	x.answers.byKey[key].Value.(*answer).body = []byte("marker")
	if got := ask(t, h, "aardvark").String(); got != "marker" {
		t.Fatalf("the kept answer is not served: %q", got)
	}
	x.answers.byKey[key].Value.(*answer).body = kept

	// Another host or port, another answer.
	for _, hp := range []struct {
		host string
		port int
	}{{"other.test", testPort}, {testHost, 7071}} {
		for range 3 {
			rec := &recorder{}
			h.ServeGopher(context.Background(), rec, &gopher.Request{Selector: "/search", Search: "aardvark", HasSearch: true, Host: hp.host, Port: hp.port})
			if want := fmt.Sprintf("\t%s\t%d\r\n", hp.host, hp.port); !strings.Contains(rec.String(), want) || strings.Contains(rec.String(), fmt.Sprintf("\t%s\t%d\r\n", testHost, testPort)) {
				t.Fatalf("answer for %s:%d names another host: %q", hp.host, hp.port, rec.String())
			}
		}
	}
	// Queries spelled differently are answered apart (the count line
	// repeats the query as written).
	ask(t, h, "AARDVARK")
	if head, _ := results(t, h, "AARDVARK"); head != `3 results for "AARDVARK"` {
		t.Errorf("count line %q", head)
	}

	// An edit found by a change scan: the new index answers afresh.
	write(t, filepath.Join(root, "notes", "new.txt"), "New\nAnother aardvark.\n")
	if err := h.update(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, sels := results(t, h, "aardvark"); !slices.Contains(sels, "/notes/new.txt") {
		t.Errorf("answer from before the change scan: %q", sels)
	}
	if n := h.cur.Load().answers.len(); n != 0 {
		t.Errorf("the new index starts with %d answers", n)
	}
}

// TestAnswersBounds: the cache stays within its bytes, drops the least
// recently used answer first, and queries asked only once never push out
// one asked again.
func TestAnswersBounds(t *testing.T) {
	if newAnswers(1000) != nil {
		t.Error("a cache too small to be of use was made")
	}
	a := newAnswers(64 << 10)
	body := bytes.Repeat([]byte("x"), 4<<10)
	key := func(i int) answerKey { return answerKey{query: fmt.Sprint("q", i), host: "h", port: 70} }
	offer := func(k answerKey) {
		if a.get(k) == nil {
			a.put(k, body)
		}
	}
	for i := range 20 {
		offer(key(i))
		offer(key(i))
		if a.bytes > a.maxBytes {
			t.Fatalf("%d bytes kept, budget %d", a.bytes, a.maxBytes)
		}
	}
	if a.get(key(0)) != nil || a.get(key(19)) == nil {
		t.Error("not the least recently used answer went first")
	}
	// Asked once, any number of them: the kept answers stay.
	kept := a.len()
	for i := 100; i < 100+3*maxSeen; i++ {
		offer(key(i))
	}
	if a.len() != kept || a.get(key(19)) == nil {
		t.Errorf("queries asked once displaced kept answers: %d kept, was %d", a.len(), kept)
	}
	// An answer larger than an eighth of the budget is never kept.
	big := answerKey{query: "big"}
	for range 3 {
		a.put(big, bytes.Repeat([]byte("y"), 9<<10))
	}
	if a.get(big) != nil {
		t.Error("an answer over the entry bound was kept")
	}
	var none *answers
	none.put(key(1), body)
	if none.get(key(1)) != nil || none.len() != 0 {
		t.Error("a nil cache keeps answers")
	}
}
