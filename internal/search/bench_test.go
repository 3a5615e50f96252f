//go:build unix

package search

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"gopherd/internal/fs"
	"gopherd/internal/gopher"
)

// The benchmark corpus: 10,000 text files, 50 MiB in all, in 100
// directories each with a small gophermap, generated at benchmark time from
// a fixed seed (never committed). Words are drawn from a Zipf distribution
// over a vocabulary of 200,000 made-up words, which gives the long tail of
// rare terms that real text has; file sizes spread around the mean from a
// few hundred bytes to tens of KiB.
const (
	corpusFiles = 10_000
	corpusDirs  = 100
	corpusBytes = 50 << 20
	corpusVocab = 200_000
)

// genCorpus writes the corpus under root and returns the bytes of text
// written (maps included).
func genCorpus(tb testing.TB, root string) int64 {
	tb.Helper()
	r := rand.New(rand.NewPCG(15, 1436))
	// Word i is i written in bijective base 24 with syllables for digits:
	// the frequent words are the short ones, as in real text.
	syll := []string{"ka", "lo", "mi", "ne", "su", "ta", "ri", "po", "an", "el", "ur", "us", "gr", "th", "st", "ch", "ve", "do", "ba", "fi", "qu", "zo", "wy", "xe"}
	vocab := make([]string, corpusVocab)
	for i := range vocab {
		var sb strings.Builder
		for n := i + 1; n > 0; n = (n - 1) / len(syll) {
			sb.WriteString(syll[(n-1)%len(syll)])
		}
		vocab[i] = sb.String()
	}
	zipf := rand.NewZipf(r, 1.1, 2, corpusVocab-1)
	sizes := make([]float64, corpusFiles)
	var sum float64
	for i := range sizes {
		sizes[i] = math.Exp(r.NormFloat64() * 0.8)
		sum += sizes[i]
	}
	var total int64
	for d := range corpusDirs {
		dir := filepath.Join(root, fmt.Sprintf("d%03d", d))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			tb.Fatal(err)
		}
		m := fmt.Sprintf("Directory %d of the %s collection\n\n0First file\tf%05d.txt\n1Up\t/\n", d, vocab[d], d*corpusFiles/corpusDirs)
		if err := os.WriteFile(filepath.Join(dir, "gophermap"), []byte(m), 0o644); err != nil {
			tb.Fatal(err)
		}
		total += int64(len(m))
	}
	for i := range corpusFiles {
		p := filepath.Join(root, fmt.Sprintf("d%03d", i%corpusDirs), fmt.Sprintf("f%05d.txt", i))
		f, err := os.Create(p)
		if err != nil {
			tb.Fatal(err)
		}
		w := bufio.NewWriterSize(f, 64<<10)
		want := int64(sizes[i] / sum * corpusBytes)
		var n int64
		line := 0
		first := true
		for n < want {
			word := vocab[zipf.Uint64()]
			if first && r.IntN(3) == 0 {
				word = strings.ToUpper(word[:1]) + word[1:]
			}
			first = false
			if line+len(word)+1 > 72 {
				_ = w.WriteByte('\n')
				n++
				line = 0
			} else if line > 0 {
				_ = w.WriteByte(' ')
				n++
			}
			_, _ = w.WriteString(word)
			n += int64(len(word))
			line += len(word) + 1
			if r.IntN(12) == 0 {
				_, _ = w.WriteString(".")
				n++
				first = true
			}
		}
		_ = w.WriteByte('\n')
		n++
		if err := w.Flush(); err != nil {
			tb.Fatal(err)
		}
		if err := f.Close(); err != nil {
			tb.Fatal(err)
		}
		total += n
	}
	age(tb, root)
	return total
}

// corpusHandler generates the corpus and builds its index, with the cache
// of answers or without.
func corpusHandler(b *testing.B, answers bool) (*Handler, string, int64) {
	b.Helper()
	root := b.TempDir()
	text := genCorpus(b, root)
	h, _ := newHandler(b, root, func(o *Options) { o.Logger = nil; o.Limits.MaxIndexBytes = 1 << 30 })
	h.noAnswers = !answers
	if err := h.update(context.Background()); err != nil {
		b.Fatal(err)
	}
	if st := h.Stats(); st.Docs != corpusFiles+corpusDirs || st.Full {
		b.Fatalf("corpus index: %+v", st)
	}
	return h, root, text
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func heapAlloc() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// BenchmarkBuild builds the index of the corpus from scratch. It reports
// MB/s of wall time (the build runs in one goroutine) and MB per CPU second
// of the whole process (the GC works on the other core too: this is the
// per-core figure), and the heap the index holds relative to the text it
// indexed.
func BenchmarkBuild(b *testing.B) {
	root := b.TempDir()
	text := genCorpus(b, root)
	b.SetBytes(text)
	var cpu time.Duration
	var heap, indexed, estimate int64
	for b.Loop() {
		before := heapAlloc()
		h, err := New(Options{Root: root, Hostname: testHost, Port: testPort, Limits: Limits{MaxIndexBytes: 1 << 30}})
		if err != nil {
			b.Fatal(err)
		}
		c0 := cpuTime()
		if err := h.update(context.Background()); err != nil {
			b.Fatal(err)
		}
		cpu += cpuTime() - c0
		heap = int64(heapAlloc() - before)
		st := h.Stats()
		indexed, estimate = st.TextBytes, st.IndexBytes
		runtime.KeepAlive(h)
		_ = h.Close()
	}
	b.ReportMetric(float64(text)*float64(b.N)/1e6/cpu.Seconds(), "MB/cpu-s")
	b.ReportMetric(float64(heap)/float64(indexed), "heap/text")
	b.ReportMetric(float64(estimate)/float64(indexed), "estimate/text")
	b.ReportMetric(float64(heap)/(1<<20), "heap-MiB")
}

// BenchmarkRescan measures a change scan of the unchanged corpus (a walk
// and a stat per file) and one after a single file changed.
func BenchmarkRescan(b *testing.B) {
	h, root, _ := corpusHandler(b, true)
	b.Run("unchanged", func(b *testing.B) {
		for b.Loop() {
			if err := h.update(context.Background()); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("one-changed", func(b *testing.B) {
		p := filepath.Join(root, "d007", "f00007.txt")
		i := 0
		for b.Loop() {
			i++
			write(b, p, fmt.Sprintf("changed %d\n", i))
			if err := h.update(context.Background()); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// Query mixes: how sampleQueries draws the words of a document.
const (
	// mixCommon draws words by occurrence, so common words come up as
	// often as they occur in text: the pessimistic case, most queries
	// match most files.
	mixCommon = "common"
	// mixTypical draws each distinct word of the document alike: a word
	// the document is about is as likely as a function word.
	mixTypical = "typical"
)

// sampleQueries draws n queries of k terms each, all from one random
// document (ANDed, so that every query has at least one result), by mix.
func sampleQueries(x *index, n, k int, prefix bool, mix string) []string {
	r := rand.New(rand.NewPCG(uint64(k), 70))
	out := make([]string, 0, n)
	for len(out) < n {
		d := x.docs[r.IntN(len(x.docs))]
		var terms []string
		tokenize(d.text, nil, func(t []byte, runes, _, _ int) bool {
			if validTerm(runes) && (mix == mixCommon || !slices.Contains(terms, string(t))) {
				terms = append(terms, string(t))
			}
			return true
		})
		if len(terms) < k {
			continue
		}
		var q []string
		for len(q) < k {
			t := terms[r.IntN(len(terms))]
			if prefix {
				t = t[:min(len(t), 3)] + "*"
			}
			if !slices.Contains(q, t) {
				q = append(q, t)
			}
		}
		out = append(out, strings.Join(q, " "))
	}
	return out
}

type discard struct{ n int }

func (d *discard) Write(p []byte) (int, error) { d.n += len(p); return len(p), nil }
func (d *discard) Served(string)               {}

// BenchmarkQuery measures whole answers (parse, evaluate, rank, the result
// menu with titles and snippets) for one-, two- and five-term queries, and
// three-letter prefixes, and reports the p50 and p99 latencies. The cache
// of answers is off: every query is evaluated, as a query asked for the
// first time is.
func BenchmarkQuery(b *testing.B) {
	h, _, _ := corpusHandler(b, false)
	x := h.cur.Load()
	for _, tc := range []struct {
		name   string
		k      int
		prefix bool
		mix    string
	}{
		{"common/terms=1", 1, false, mixCommon}, {"common/terms=2", 2, false, mixCommon},
		{"common/terms=5", 5, false, mixCommon}, {"common/prefix=1", 1, true, mixCommon},
		{"typical/terms=1", 1, false, mixTypical}, {"typical/terms=2", 2, false, mixTypical},
		{"typical/terms=5", 5, false, mixTypical}, {"typical/prefix=1", 1, true, mixTypical},
	} {
		qs := sampleQueries(x, 2000, tc.k, tc.prefix, tc.mix)
		b.Run(tc.name, func(b *testing.B) {
			lat := make([]time.Duration, 0, b.N)
			var results int
			i := 0
			for b.Loop() {
				q := qs[i%len(qs)]
				i++
				w := &discard{}
				t0 := time.Now()
				h.ServeGopher(context.Background(), w, &gopher.Request{Selector: "/search", Search: q, HasSearch: true})
				lat = append(lat, time.Since(t0))
				results += w.n
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds())/1e3, "p50-µs")
			b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds())/1e3, "p99-µs")
			b.ReportMetric(float64(results)/float64(len(lat)), "resp-bytes")
		})
	}
}

// BenchmarkServe compares search requests with a static menu (the cached
// root listing) through a real server on a loopback port. Each of seven
// rounds runs three phases of 2,000 requests from 8 clients: static,
// search, and search without the cache of answers, the two searches on the
// same queries; the ratios of each round are taken within the round (so
// that the machine's load, which drifts, mostly cancels) and their medians
// reported, with the median rates. One-, two- and five-word queries come in
// equal parts, in three streams: the two mixes, where the 1,500 queries
// come round in turn (so each is asked again only after all the others,
// and a cache of answers smaller than all of them helps only with the
// queries drawn twice), and "repeated", the common mix's queries drawn
// with a Zipf distribution (s = 1.1), as popular queries repeat.
// repeat-share is the share of requests whose query was asked before in
// the stream, hit-share the share of the cached searches answered from the
// cache. Each phase is bounded by count and time. A query that times
// out (the machine is busy) is a valid answer; their share is reported.
func BenchmarkServe(b *testing.B) {
	for _, mix := range []string{mixTypical, mixCommon, mixRepeated} {
		b.Run(mix, func(b *testing.B) { benchServe(b, mix) })
	}
}

// mixRepeated is mixCommon's queries drawn with repetition.
const mixRepeated = "repeated"

func benchServe(b *testing.B, mix string) {
	h, root, _ := corpusHandler(b, true)
	plain, _ := newHandler(b, root, func(o *Options) { o.Logger = nil; o.Limits.MaxIndexBytes = 1 << 30 })
	plain.noAnswers = true
	if err := plain.update(context.Background()); err != nil {
		b.Fatal(err)
	}
	files, err := fs.New(fs.Options{Root: root})
	if err != nil {
		b.Fatal(err)
	}
	defer files.Close()
	const (
		workers  = 8
		rounds   = 7
		requests = 2000 // per phase
		maxPhase = 20 * time.Second
	)
	addr := startServer(b, gopher.HandlerFunc(func(ctx context.Context, w gopher.ResponseWriter, r *gopher.Request) {
		switch r.Selector {
		case DefaultSelector:
			h.ServeGopher(ctx, w, r)
		case "/plain":
			plain.ServeGopher(ctx, w, r)
		default:
			files.ServeGopher(ctx, w, r)
		}
	}), nil)
	x := h.cur.Load()
	var qs []string
	queryMix := mix
	if mix == mixRepeated {
		queryMix = mixCommon
	}
	for _, k := range []int{1, 2, 5} {
		qs = append(qs, sampleQueries(x, 500, k, false, queryMix)...)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	rng.Shuffle(len(qs), func(i, j int) { qs[i], qs[j] = qs[j], qs[i] })
	stream := make([]string, rounds*requests)
	zipf := rand.NewZipf(rng, 1.1, 4, uint64(len(qs)-1))
	seen := make(map[string]bool)
	repeats := 0
	for i := range stream {
		if mix == mixRepeated {
			stream[i] = qs[zipf.Uint64()]
		} else {
			stream[i] = qs[i%len(qs)]
		}
		if seen[stream[i]] {
			repeats++
		}
		seen[stream[i]] = true
	}
	var timeouts, searches atomic.Int64
	phase := func(req func(i int) string) float64 {
		var next atomic.Int64
		var wg sync.WaitGroup
		deadline := time.Now().Add(maxPhase)
		start := time.Now()
		errs := make(chan error, workers)
		for range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					i := int(next.Add(1)) - 1
					if i >= requests || time.Now().After(deadline) {
						return
					}
					line := req(i)
					timedOut, err := roundTrip(addr, line)
					if err != nil {
						errs <- err
						return
					}
					if line != "/\r\n" {
						searches.Add(1)
						if timedOut {
							timeouts.Add(1)
						}
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			b.Fatal(err)
		}
		return float64(min(int(next.Load()), requests)) / time.Since(start).Seconds()
	}
	var static, cached, uncached, ratio, ratioPlain []float64
	for b.Loop() {
		for r := range rounds {
			window := stream[r*requests : (r+1)*requests]
			st := phase(func(int) string { return "/\r\n" })
			se := phase(func(i int) string { return "/search\t" + window[i] + "\r\n" })
			pl := phase(func(i int) string { return "/plain\t" + window[i] + "\r\n" })
			static, cached, uncached = append(static, st), append(cached, se), append(uncached, pl)
			ratio, ratioPlain = append(ratio, se/st), append(ratioPlain, pl/st)
		}
	}
	b.ReportMetric(median(static), "static-req/s")
	b.ReportMetric(median(cached), "search-req/s")
	b.ReportMetric(median(uncached), "nocache-req/s")
	b.ReportMetric(median(ratio), "search/static")
	b.ReportMetric(median(ratioPlain), "nocache/static")
	b.ReportMetric(float64(repeats)/float64(len(stream)), "repeat-share")
	b.ReportMetric(float64(x.answers.served())/float64(len(static)*requests), "hit-share")
	b.ReportMetric(float64(timeouts.Load())/float64(max(searches.Load(), 1)), "timeout-share")
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

// roundTrip sends one request and reads the response to the end, checking
// that it is a complete menu; timedOut tells the query-timeout answer.
func roundTrip(addr, line string) (timedOut bool, err error) {
	c, err := net.DialTimeout("tcp", addr, patience)
	if err != nil {
		return false, err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(patience))
	if _, err := io.WriteString(c, line); err != nil {
		return false, err
	}
	body, err := io.ReadAll(c)
	if err != nil {
		return false, err
	}
	if strings.HasPrefix(string(body), "3"+msgTimeout+"\t") {
		return true, nil
	}
	if !strings.HasSuffix(string(body), ".\r\n") || strings.HasPrefix(string(body), "3") {
		return false, fmt.Errorf("request %q: bad response %.200q", line, body)
	}
	return false, nil
}
