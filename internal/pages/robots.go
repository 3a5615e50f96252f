package pages

import (
	"strconv"
	"strings"
)

// RobotsSelector is where crawlers look for robots.txt; "robots.txt"
// without the slash (which crawlers ask for too) is the same to the
// router.
const RobotsSelector = "/robots.txt"

// Robots describes the generated robots.txt.
type Robots struct {
	// Disallow lists the selector prefixes crawlers are asked to leave
	// alone, in order; the gateway's directories are among them.
	Disallow []string
	// CrawlDelay, when positive, is the Crawl-delay line, in seconds.
	CrawlDelay int
}

// Bytes renders robots.txt: one group for every user agent. Without an
// entry to disallow it has one empty Disallow line, which allows
// everything.
func (r Robots) Bytes() []byte {
	var b strings.Builder
	b.WriteString("User-agent: *\n")
	seen := map[string]bool{}
	for _, p := range r.Disallow {
		if seen[p] {
			continue
		}
		seen[p] = true
		b.WriteString("Disallow: " + p + "\n")
	}
	if len(seen) == 0 {
		b.WriteString("Disallow:\n")
	}
	if r.CrawlDelay > 0 {
		b.WriteString("Crawl-delay: " + strconv.Itoa(r.CrawlDelay) + "\n")
	}
	return []byte(b.String())
}
