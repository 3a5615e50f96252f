package main

import (
	"errors"

	"go.uber.org/zap"
)

// lockDown forbids the process ever to gain privileges again (see
// forbidNewPrivileges), where it starts as root. It reports whether that
// applies: a cgo build cannot reach every thread, which is logged as a
// warning and otherwise accepted, since the privilege switch itself still
// holds; any other failure is an error.
func lockDown(logger *zap.Logger) (bool, error) {
	err := forbidNewPrivileges()
	if errors.Is(err, errThreadsUnreachable) {
		logger.Warn("not setting no_new_privs and the capability bounding set: " + err.Error())
		return false, nil
	}
	return err == nil, err
}
