// Command refserver is a deliberately plain Gopher server used as the
// yardstick for gopherd's benchmarks. It does what a straightforward Go
// implementation would do and nothing more: a goroutine per connection, one
// request line, a fresh os.ReadDir or gophermap read on every request, files
// sent with io.Copy from *os.File (so Linux uses sendfile), then CloseWrite
// and close. It is neither slowed down nor tuned; it has no logging, no
// connection limits and no os.Root, so gopherd pays for safety it lacks.
//
// It is a benchmarking tool, not a server to expose: it only checks that no
// selector component is "..".
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// maxRequest matches gopherd's default request-bytes limit.
const maxRequest = 1024

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "refserver: %v\n", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("refserver", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:7071", "address to listen on")
	root := fs.String("root", ".", "directory to serve")
	host := fs.String("host", "localhost", "host name written into menus")
	port := fs.Int("port", 0, "port written into menus (0: the listening port)")
	timeout := fs.Duration("request-timeout", 10*time.Second, "time a client has to send its request line")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	abs, err := filepath.Abs(*root)
	if err != nil {
		return fmt.Errorf("root %q: %w", *root, err)
	}
	if fi, err := os.Stat(abs); err != nil || !fi.IsDir() {
		return fmt.Errorf("root %q is not a readable directory", *root)
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	if *port == 0 {
		*port = ln.Addr().(*net.TCPAddr).Port
	}
	s := &server{root: abs, host: *host, port: strconv.Itoa(*port), timeout: *timeout}
	return s.serve(ln)
}

// server holds the settings every connection needs.
type server struct {
	root    string
	host    string
	port    string
	timeout time.Duration
}

func (s *server) serve(ln net.Listener) error {
	for {
		c, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			// Out of descriptors and the like: back off briefly rather than
			// spin, as net/http does.
			time.Sleep(10 * time.Millisecond)
			continue
		}
		go s.handle(c.(*net.TCPConn))
	}
}

func (s *server) handle(c *net.TCPConn) {
	defer c.Close()
	sel, ok := readLine(c, s.timeout)
	if !ok {
		return
	}
	s.respond(c, sel)
	c.CloseWrite()
}

// readLine reads the request line and returns the selector without the line
// ending and without any TAB-separated search or Gopher+ fields.
func readLine(c *net.TCPConn, timeout time.Duration) (string, bool) {
	if err := c.SetReadDeadline(time.Now().Add(timeout)); err != nil {
		return "", false
	}
	buf := make([]byte, maxRequest)
	n := 0
	for {
		m, err := c.Read(buf[n:])
		n += m
		if i := bytes.IndexByte(buf[:n], '\n'); i >= 0 {
			line := bytes.TrimSuffix(buf[:i], []byte{'\r'})
			if j := bytes.IndexByte(line, '\t'); j >= 0 {
				line = line[:j]
			}
			return string(line), true
		}
		if err != nil || n == len(buf) {
			return "", false
		}
	}
}

func (s *server) respond(c *net.TCPConn, sel string) {
	rel := strings.Trim(sel, "/")
	for _, part := range strings.Split(rel, "/") {
		if part == ".." {
			c.Write(s.errorItem("not allowed"))
			return
		}
	}
	p := filepath.Join(s.root, filepath.FromSlash(rel))
	f, err := os.Open(p)
	if err != nil {
		c.Write(s.errorItem("not found"))
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		c.Write(s.errorItem("not found"))
		return
	}
	switch {
	case fi.IsDir():
		c.Write(s.menu(p, rel))
	case fi.Mode().IsRegular():
		io.Copy(c, f)
	default:
		c.Write(s.errorItem("not allowed"))
	}
}

func (s *server) errorItem(msg string) []byte {
	return []byte("3" + msg + "\tErr\t" + s.host + "\t" + s.port + "\r\n.\r\n")
}

// menu renders the directory's gophermap if it has one, its listing if not.
func (s *server) menu(dir, rel string) []byte {
	var b []byte
	if gm, err := os.ReadFile(filepath.Join(dir, "gophermap")); err == nil {
		b = s.gophermap(gm)
	} else {
		b = s.listing(dir, rel)
	}
	return append(b, ".\r\n"...)
}

// gophermap converts the simplest way: a line with a TAB is an item whose
// missing or empty host and port are filled in; any other line is info.
func (s *server) gophermap(gm []byte) []byte {
	var b []byte
	for line := range strings.Lines(string(gm)) {
		line = strings.TrimRight(line, "\r\n")
		if line == "." {
			break
		}
		if !strings.Contains(line, "\t") {
			b = append(b, "i"+line+"\t\t"+s.host+"\t"+s.port+"\r\n"...)
			continue
		}
		f := strings.Split(line, "\t")
		for len(f) < 4 {
			f = append(f, "")
		}
		if f[2] == "" {
			f[2] = s.host
		}
		if f[3] == "" {
			f[3] = s.port
		}
		b = append(b, strings.Join(f[:4], "\t")+"\r\n"...)
	}
	return b
}

// listing lists a directory, sorted by name, skipping dotfiles. Directories
// are type 1, everything else type 0.
func (s *server) listing(dir, rel string) []byte {
	ents, err := os.ReadDir(dir) // already sorted by name
	if err != nil {
		return []byte("3cannot list directory\tErr\t" + s.host + "\t" + s.port + "\r\n")
	}
	prefix := "/"
	if rel != "" {
		prefix = "/" + rel + "/"
	}
	var b []byte
	for _, e := range ents {
		name := e.Name()
		if strings.HasPrefix(name, ".") || strings.ContainsAny(name, "\t\r\n") {
			continue
		}
		t := byte('0')
		if e.IsDir() {
			t = '1'
		}
		b = append(b, t)
		b = append(b, name+"\t"+prefix+name+"\t"+s.host+"\t"+s.port+"\r\n"...)
	}
	return b
}
