//go:build !linux

package main

import "errors"

// errThreadsUnreachable is never returned where there is nothing to set.
var errThreadsUnreachable = errors.New("not applicable")

// forbidNewPrivileges does nothing: no_new_privs and the capability
// bounding set are Linux's.
func forbidNewPrivileges() error { return nil }

// verifyNoNewPrivileges has nothing to check.
func verifyNoNewPrivileges() error { return nil }
