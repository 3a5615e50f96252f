package e2e

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// soakEnv sets the number of soak requests. `make test` runs the default;
// the long soak is
//
//	GOPHERD_SOAK_REQUESTS=1000000 go test -v -count=1 -run '^TestSoak$' -timeout 60m ./e2e/
const soakEnv = "GOPHERD_SOAK_REQUESTS"

const (
	soakDefault = 5000
	soakWorkers = 16
)

// soakCase is one kind of request the soak sends, with the answer it must
// get: exact bytes, or an error item carrying msg.
type soakCase struct {
	name    string
	request string
	legit   bool   // a request a real client would make
	want    []byte // exact answer; nil means an error item with msg
	msg     string
}

// TestSoak sends GOPHERD_SOAK_REQUESTS mixed requests (menus, files of
// several sizes, not-found, traversal, dotfiles, gophermaps, escaping
// symlinks, NUL and oversized lines) from 16 workers at 16 addresses. Every
// answer must be exactly right, every request must appear in the access
// log, and the daemon's descriptors and memory must stay flat.
func TestSoak(t *testing.T) {
	slow(t)
	needProc(t)
	total := soakDefault
	if s := os.Getenv(soakEnv); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			t.Fatalf("%s=%q: want a positive number", soakEnv, s)
		}
		total = n
	}
	needFDs(t, 1024)

	base := t.TempDir()
	root := filepath.Join(base, "root")
	medium := bytes.Repeat([]byte("medium file line\n"), 1000) // 17 KB
	large := bytes.Repeat([]byte("0123456789abcdef"), 16<<10)  // 256 KiB
	writeTree(t, base, map[string]string{
		"outside.txt":              outsideMarker + "\n",
		"root/about.txt":           "About this hole.\n",
		"root/medium.txt":          string(medium),
		"root/large.bin":           string(large),
		"root/sub/deep.txt":        "deep\n",
		"root/sub/deeper/leaf.txt": "leaf\n",
		"root/.secret":             "DOT-SECRET\n",
		"root/mapdir/gophermap":    "GOPHERMAP-SOURCE\n", // its menu is never requested: a rendered map is fine
	})
	if err := os.Symlink("../outside.txt", filepath.Join(root, "link-out")); err != nil {
		t.Fatal(err)
	}
	cfg := baseConfig(t, root)
	cfg["log"] = map[string]any{"level": "info"}
	d, f := startFiltered(t, cfg)
	made := 0 // requests made outside the workers, for the access-log check

	cases := []soakCase{
		{name: "root menu", request: "/", legit: true},
		{name: "sub menu", request: "/sub", legit: true},
		{name: "deeper menu", request: "sub/deeper/", legit: true},
		{name: "small file", request: "/about.txt", legit: true, want: []byte("About this hole.\n")},
		{name: "medium file", request: "/medium.txt", legit: true, want: medium},
		{name: "large file", request: "/large.bin", legit: true, want: large},
		{name: "deep file", request: "/sub/deeper/leaf.txt\t+", legit: true, want: []byte("+-2\r\nleaf\n")},
		{name: "not found", request: "/no/such/file.txt", legit: true, msg: msgNotFound},
		{name: "traversal", request: "/sub/../../outside.txt", msg: msgNotAllowed},
		{name: "backslash traversal", request: `\..\outside.txt`, msg: msgNotAllowed},
		{name: "dotfile", request: "/.secret", msg: msgNotAllowed},
		{name: "gophermap", request: "/mapdir/gophermap", msg: msgNotAllowed},
		{name: "symlink out", request: "/link-out", msg: msgNotFound},
		{name: "NUL", request: "/about.txt\x00", msg: msgBadRequest},
		{name: "oversized", request: "/" + strings.Repeat("x", 2000), msg: msgTooLarge},
	}
	// Menus are checked against their first answer, which must itself be
	// well-formed and list what the tree holds.
	for i, c := range cases {
		if c.want != nil || c.msg != "" {
			continue
		}
		body, err := fetch(d.addr, "", c.request, 30*time.Second)
		made++
		if err != nil {
			t.Fatal(err)
		}
		items := parseMenu(t, c.request, body)
		if len(items) == 0 || bytes.Contains(body, []byte("secret")) || bytes.Contains(body, []byte("gophermap")) {
			t.Fatalf("%s: unexpected menu %q", c.request, body)
		}
		cases[i].want = body
	}

	// Warm-up, then the baseline.
	warm := min(max(total/10, 500), 5000)
	if fails := soakRun(d, cases, warm, time.Minute, nil); len(fails) > 0 {
		t.Fatalf("warm-up failures: %q", fails)
	}
	made += warm
	before := idleBaseline(d)
	t.Logf("baseline after %d warm-up requests: %v", warm, before)

	// Sample the daemon while the soak runs.
	var peak procStat
	var samples []string
	stopSampler := make(chan struct{})
	samplerDone := make(chan struct{})
	var done atomic.Int64
	go func() {
		defer close(samplerDone)
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-stopSampler:
				return
			case <-tick.C:
			}
			s, err := readProcStat(d.cmd.Process.Pid)
			if err != nil {
				continue
			}
			peak.FDs, peak.RSSKiB, peak.Threads = max(peak.FDs, s.FDs), max(peak.RSSKiB, s.RSSKiB), max(peak.Threads, s.Threads)
			if i%10 == 0 && len(samples) < 400 {
				samples = append(samples, fmt.Sprintf("%d requests: %v", done.Load(), s))
			}
		}
	}()

	// The soak is bounded in count and in time: it stops short of the
	// test's own deadline and then fails.
	budget := 55 * time.Minute
	if dl, ok := t.Deadline(); ok {
		budget = min(budget, time.Until(dl)-30*time.Second)
	}
	start := time.Now()
	fails := soakRun(d, cases, total, budget, &done)
	elapsed := time.Since(start)
	close(stopSampler)
	<-samplerDone
	made += int(done.Load())

	end := d.settle(before)
	rate := float64(done.Load()) / elapsed.Seconds()
	for _, s := range samples {
		t.Log("sample at " + s)
	}
	// The last access lines may still be on their way through the pipe.
	var counts map[string]int
	logged := 0
	for wait := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		counts, logged = f.counts(), 0
		for _, n := range counts {
			logged += n
		}
		if logged >= made || time.Now().After(wait) {
			break
		}
	}
	summary := fmt.Sprintf("soak: %d requests (%d workers) in %v, %.0f req/s, %d failures; fds %d -> %d (peak %d); RSS %.1f -> %.1f MiB (peak %.1f); threads %d -> %d; access log %v",
		done.Load(), soakWorkers, elapsed.Round(time.Millisecond), rate, len(fails),
		before.FDs, end.FDs, peak.FDs, float64(before.RSSKiB)/1024, float64(end.RSSKiB)/1024, float64(peak.RSSKiB)/1024,
		before.Threads, end.Threads, sortedCounts(counts))
	t.Log(summary)
	fmt.Println(summary)

	if int(done.Load()) < total {
		t.Errorf("soak stopped after %d of %d requests: out of time", done.Load(), total)
	}
	if len(fails) > 0 {
		t.Errorf("%d failed requests; first ones: %q", len(fails), fails[:min(10, len(fails))])
	}
	if logged != made {
		t.Errorf("access log has %d request lines, %d requests were made", logged, made)
	}
	if p := logProblems(d.log.String()); len(p) > 0 {
		t.Errorf("unexpected log lines:\n%s", strings.Join(p[:min(20, len(p))], "\n"))
	}
}

// soakRun sends n requests, cycling through cases, from soakWorkers
// workers at their own loopback addresses, within budget. It returns a
// description of every failure (at most 1000) and counts finished
// requests in done.
func soakRun(d *daemon, cases []soakCase, n int, budget time.Duration, done *atomic.Int64) []string {
	var next atomic.Int64
	var mu sync.Mutex
	var fails []string
	fail := func(s string) {
		mu.Lock()
		defer mu.Unlock()
		if len(fails) < 1000 {
			fails = append(fails, s)
		}
	}
	end := time.Now().Add(budget)
	var wg sync.WaitGroup
	for w := range soakWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			from := src(40, 0, w+1)
			var buf bytes.Buffer
			for {
				i := int(next.Add(1)) - 1
				if i >= n || time.Now().After(end) {
					return
				}
				c := cases[i%len(cases)]
				err := fetchInto(&buf, d.addr, from, c.request, 30*time.Second)
				if done != nil {
					done.Add(1)
				}
				got := buf.Bytes()
				switch {
				case err != nil:
					fail(fmt.Sprintf("#%d %s: %v", i, c.name, err))
				case bytes.Contains(got, []byte(outsideMarker)) || bytes.Contains(got, []byte("DOT-SECRET")) || bytes.Contains(got, []byte("GOPHERMAP-SOURCE")):
					fail(fmt.Sprintf("#%d %s: LEAKED %q", i, c.name, trim(got)))
				case c.want != nil && !bytes.Equal(got, c.want):
					fail(fmt.Sprintf("#%d %s: got %d bytes %q", i, c.name, len(got), trim(got)))
				case c.want == nil && !errorItem(got, c.msg):
					fail(fmt.Sprintf("#%d %s: got %q, want an error item with %q", i, c.name, trim(got), c.msg))
				}
			}
		}()
	}
	wg.Wait()
	return fails
}

// fetchInto is fetch with the response read into buf, which is reused.
func fetchInto(buf *bytes.Buffer, addr, from, request string, timeout time.Duration) error {
	buf.Reset()
	c, err := dialFrom(addr, from, timeout)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(timeout))
	if _, err := io.WriteString(c, request+"\r\n"); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	if _, err := buf.ReadFrom(c); err != nil {
		return fmt.Errorf("read: %w", err)
	}
	return nil
}

func sortedCounts(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%d", k, m[k])
	}
	return strings.Join(parts, " ")
}
