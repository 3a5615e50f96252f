package gophermap

import (
	"context"

	"gopherd/internal/gopher"
)

// Tree is the served tree as the directives of a map see it: the automatic
// listing that a KindListing line appends and the maps that KindInclude
// lines include. The package knows no file system; the caller (internal/fs)
// supplies a Tree for the directory the map is in, with its own rules
// (os.Root, the dotfile rule, caching). A Renderer without a Tree shows
// nothing for either line, with a warning.
type Tree interface {
	// Listing returns the automatic listing of the map's directory, in
	// the order the server lists it.
	Listing(ctx context.Context) ([]ListEntry, error)
	// Include returns the map that an include line names, arg as
	// written: name identifies the file (include cycles are found by it,
	// and warnings about its lines name it) and text is its content. An error says why nothing is included: the file is
	// missing, outside the root, too large, or would have to be run.
	// Include never runs anything.
	Include(ctx context.Context, arg string) (name, text string, err error)
}

// ListEntry is one entry of a directory's automatic listing.
type ListEntry struct {
	// Name is the entry's name in the directory; its selector is the
	// directory's joined with it.
	Name string
	// Type is the item type the server gives the entry.
	Type gopher.ItemType
	// Dir is true for a directory, whose type no override changes.
	Dir bool
}

// Limits of includes. Gophernicus stops at the same depth (a map and four
// levels of maps included in it); the count bounds the work of a map that
// includes the same file over and over without a cycle.
const (
	// MaxIncludeDepth is how deep includes may nest below the map.
	MaxIncludeDepth = 4
	// MaxIncludes is how many include lines one render carries out.
	MaxIncludes = 256
)
