// Package packaging holds no code, only the tests of what ships around the
// binary: "make install" and "make uninstall", the example configuration
// and the served root, the Debian package built by "make deb" (contents,
// lintian, installation and purge), the version scheme and the build's
// reproducibility, and the checks an ordinary user runs. They drive the
// real Makefile, so they also check that it keeps honouring PREFIX,
// DESTDIR and the other installation directories.
package packaging
