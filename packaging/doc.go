// Package packaging holds no code, only the tests of what ships around the
// binary: "make install" and "make uninstall", the example configuration
// and the Debian package built by "make deb". They drive the real Makefile,
// so they also check that it keeps honouring PREFIX, DESTDIR and the other
// installation directories.
package packaging
