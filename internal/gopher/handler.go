package gopher

import (
	"context"
	"io"
)

// ResponseWriter is where a Handler writes its response. The server's
// implementation also implements io.ReaderFrom, so io.Copy from an *os.File
// reaches the kernel's sendfile; handlers must therefore not wrap it in a
// buffered writer when streaming files.
type ResponseWriter interface {
	io.Writer
	// Served records what the response is ("menu", "file", or an error
	// kind's name) for the access log. The last call wins.
	Served(what string)
}

// Handler answers one request. It must write a complete response (menus and
// errors end with the terminator); the server closes the connection after
// ServeGopher returns. ctx is cancelled when the server gives up on the
// connection.
type Handler interface {
	ServeGopher(ctx context.Context, w ResponseWriter, r *Request)
}

// HandlerFunc adapts a function to the Handler interface.
type HandlerFunc func(ctx context.Context, w ResponseWriter, r *Request)

// ServeGopher calls f(ctx, w, r).
func (f HandlerFunc) ServeGopher(ctx context.Context, w ResponseWriter, r *Request) {
	f(ctx, w, r)
}

// WriteError writes a complete error response for kind and selector sel and
// records it for the access log.
func WriteError(w ResponseWriter, k ErrorKind, sel, host string, port int) error {
	w.Served(k.String())
	_, err := w.Write(ErrorResponse(k, sel, host, port))
	return err
}

// Aborter is implemented by ResponseWriters that can end a response as
// failed. Gopher carries no length, so a file cut short (it shrank while it
// was sent) would look complete to the client; after Abort the server resets
// the connection instead of closing it, and the client reports an error.
type Aborter interface {
	Abort()
}

// Abort marks w's response as failed when w supports it.
func Abort(w ResponseWriter) {
	if a, ok := w.(Aborter); ok {
		a.Abort()
	}
}
