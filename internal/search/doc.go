// Package search is gopherd's built-in full-text search (item type 7): an
// in-memory inverted index of the text under the served root, kept fresh in
// the background, and the gopher.Handler that answers queries with a menu.
//
// # What is indexed
//
// Exactly what serving shows, under the rules of internal/fs, which this
// package calls rather than copies: no path component starting with "." or
// naming a gophermap (fs.AllowedName), none that cannot go into a menu line
// (fs.MenuSafeName), every open and stat through the os.Root (nothing
// outside the root, no symlink that leaves it), regular files only
// (fs.OpenRegular), and of those only text by gopherd's own typing (fs.TypeOf
// gives '0'). A directory's gophermap (the one fs.FindGophermap says
// applies) is indexed by its display strings and info text only, never its
// selectors or hosts, and a hit on it links to its directory (type 1).
// Symlinks to files are indexed under their own names; symlinks to
// directories are not descended (a link to an ancestor would loop, and a
// directory inside the root is indexed under its own path). A file reached
// by several paths is indexed once.
//
// Patterns (the "include" and "exclude" keys) are path.Match globs. One
// without a "/" is matched against a file's or directory's name, one with a
// "/" against its selector ("/cgi-bin/x"; a leading "/" is implied); a
// trailing "/" restricts it to directories. A pattern matching a directory
// applies to everything below it. A file is indexed when an include pattern
// matches it or a directory above it and no exclude pattern does. Patterns
// never make a dotfile visible: ".gophermap" in the include list only lets
// spacecookie's maps be indexed as maps.
//
// Terms are runs of Unicode letters and digits (with their combining marks),
// case-folded, 2 to 40 characters long. Of each file the first
// max-file-bytes are indexed. The index keeps each file's text (for titles
// and snippets: a query never reads a file) and, per term, a varint posting
// list of (document, frequency, first offset). It is written by hand: an
// in-memory index of this kind is a few hundred lines, and the libraries
// (bleve, bluge) bring dozens of modules and an on-disk format for nothing
// gopherd needs.
//
// # Building and freshness
//
// Start builds the index in one background goroutine (one core: serving
// keeps the others). Until the first build is done a query gets "Search
// index is being built, try again soon."; serving never waits for indexing.
// Every Options.Reindex, and whenever Reindex is called, the tree is walked
// again and only files whose size, modification time or identity (device,
// inode, change time) differ are read; the postings of the others are
// copied into the new index, which then replaces the old one atomically.
// Files modified within two seconds of being read are read again at the
// next scan (their time stamps might not show a second write). When the
// index's estimated memory reaches max-index-bytes indexing stops, with one
// warning until a later scan fits again. While a new index is built the old
// one stays in use, so memory briefly holds both.
//
// # Queries
//
// RFC 1436's grammar as the issue states it: words are ANDed; "and", "or"
// and "not" (any case) are operators applied left to right without
// precedence ("a or b c" is "(a or b) and c"; "a not b" is a and not b; a
// leading "not b" starts from every document); a trailing "*" makes a
// prefix. A word splits into terms as text does ("foo-bar" needs both);
// one-character terms are dropped, longer-than-40 ones match nothing.
// Over max-query-bytes or max-terms: "Query too long."; over query-timeout:
// "Search took too long: try fewer or longer words."; no searchable word:
// "No words to search for: use words of 2 to 40 letters or digits."; an
// empty query: a help menu ending in the search item; before the first
// build: "Search index is being built, try again soon.".
//
// Results are ranked by the hits of the query's positive words divided by
// the square root of the document's length in terms, then by hits, then
// shorter documents first, then selector. The menu is an info line `N
// results for "<query>"` (the query with control characters replaced by
// spaces, cut to 70 columns), then up to max-results links, each with its
// title (first non-blank line, else the name, cut to 67 columns) and an
// info line with a snippet around the first hit, then ".". Everything from
// a client or a file has its control characters (C0, C1, DEL, Unicode line
// separators, bidirectional controls) replaced before it reaches a menu
// line, so nothing can add a line or a field.
//
// A query asked again of the same index is answered from a cache of
// answers (see answers): a query is kept once asked twice, least recently
// used first out, within a sixteenth of max-index-bytes (at most 4 MiB,
// beside the index). A new index starts with an empty cache, so an answer
// never outlives the text it was made from.
//
// # Wiring
//
// cmd/gopherd (site.go and search.go) makes one Handler per configured
// search from the host's root and search section, with every gateway
// directory added to Exclude, mounts it with ServeMux.Handle at its
// selector, and has the root's automatic listing offer Item (through
// fs.Options.RootItems). It starts the Handler once the server uses the
// chain that mounts it, after the privilege drop. On SIGHUP an unchanged
// configuration keeps the Handler and calls Reindex; a changed one gets a
// new Handler, and the old one is closed once the new chain is in use
// (until the new one's first build is done its queries get the
// being-built answer: keeping the old one would answer by rules the
// operator just changed, an exclude added among them). Menus name the
// request's Host and Port; Options.Hostname and Port are for requests
// that carry none.
package search
