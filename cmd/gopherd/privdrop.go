package main

import (
	"errors"
	"fmt"
	"os"
	"os/user"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"go.uber.org/zap"
)

// credentials are the uid, gid and supplementary groups gopherd switches to.
type credentials struct {
	name   string
	uid    int
	gid    int
	groups []int
}

// lookupCredentials resolves the config's "user": a user name, or a numeric
// "uid" or "uid:gid".
func lookupCredentials(spec string) (credentials, error) {
	uidPart, gidPart, hasGID := strings.Cut(spec, ":")
	if uid, err := strconv.Atoi(uidPart); err == nil {
		c := credentials{name: spec, uid: uid, gid: uid}
		if u, err := user.LookupId(uidPart); err == nil {
			c.name = u.Username
			if g, err := strconv.Atoi(u.Gid); err == nil {
				c.gid = g
			}
		}
		if hasGID {
			g, err := strconv.Atoi(gidPart)
			if err != nil {
				return c, fmt.Errorf("user %q: gid %q is not a number", spec, gidPart)
			}
			c.gid = g
		}
		c.groups = []int{c.gid}
		return c, nil
	}
	u, err := user.Lookup(spec)
	if err != nil {
		return credentials{}, fmt.Errorf("user %q: %w", spec, err)
	}
	c := credentials{name: u.Username}
	if c.uid, err = strconv.Atoi(u.Uid); err != nil {
		return c, fmt.Errorf("user %q: uid %q is not a number", spec, u.Uid)
	}
	if c.gid, err = strconv.Atoi(u.Gid); err != nil {
		return c, fmt.Errorf("user %q: gid %q is not a number", spec, u.Gid)
	}
	ids, err := u.GroupIds()
	if err != nil {
		return c, fmt.Errorf("user %q: listing groups: %w", spec, err)
	}
	c.groups = []int{c.gid}
	for _, id := range ids {
		if g, err := strconv.Atoi(id); err == nil && !slices.Contains(c.groups, g) {
			c.groups = append(c.groups, g)
		}
	}
	return c, nil
}

// dropPrivileges switches to the configured user after the listeners are
// bound and the root is open: supplementary groups first (root's own must
// not survive), then gid, then uid — the reverse order would leave no
// permission to change the groups. It then checks that the drop holds.
// The same calls work on every system gopherd builds for: on Linux Go's
// syscall.Setuid and friends apply to every thread of the process, on the
// BSDs and darwin the credentials belong to the process itself.
func dropPrivileges(spec string, logger *zap.Logger) error {
	euid := os.Geteuid()
	if spec == "" {
		if euid == 0 {
			logger.Warn("RUNNING AS ROOT: set \"user\" in the config (or use systemd's DynamicUser=) so a bug in gopherd cannot become a root compromise")
			if locked, err := lockDown(logger); err != nil || !locked {
				return err
			}
			return verifyNoNewPrivileges()
		}
		return nil
	}
	c, err := lookupCredentials(spec)
	if err != nil {
		return err
	}
	if euid != 0 {
		if os.Getuid() == c.uid && euid == c.uid {
			logger.Info("already running as the configured user", zap.String("user", c.name))
			return nil
		}
		return fmt.Errorf("running as uid %d, which cannot switch to user %s (uid %d): start gopherd as root or as that user", euid, c.name, c.uid)
	}
	if err := syscall.Setgroups(c.groups); err != nil {
		return fmt.Errorf("setgroups %v: %w", c.groups, err)
	}
	if err := syscall.Setgid(c.gid); err != nil {
		return fmt.Errorf("setgid %d: %w", c.gid, err)
	}
	// Before setuid, which takes the CAP_SETPCAP this needs.
	locked, err := lockDown(logger)
	if err != nil {
		return err
	}
	if err := syscall.Setuid(c.uid); err != nil {
		return fmt.Errorf("setuid %d: %w", c.uid, err)
	}
	if err := verifyDrop(c, locked); err != nil {
		return fmt.Errorf("privilege drop to %s did not hold: %w", c.name, err)
	}
	logger.Info("dropped privileges", zap.String("user", c.name), zap.Int("uid", c.uid), zap.Int("gid", c.gid), zap.Ints("groups", c.groups), zap.Bool("no_new_privs", locked))
	return nil
}

func verifyDrop(c credentials, locked bool) error {
	if u, e := os.Getuid(), os.Geteuid(); u != c.uid || e != c.uid {
		return fmt.Errorf("uid %d euid %d, want %d", u, e, c.uid)
	}
	if g, e := os.Getgid(), os.Getegid(); g != c.gid || e != c.gid {
		return fmt.Errorf("gid %d egid %d, want %d", g, e, c.gid)
	}
	groups, err := os.Getgroups()
	if err != nil {
		return fmt.Errorf("getgroups: %w", err)
	}
	for _, g := range groups {
		if !slices.Contains(c.groups, g) {
			return fmt.Errorf("supplementary group %d survived", g)
		}
	}
	if c.uid != 0 {
		if err := syscall.Setuid(0); err == nil {
			return errors.New("setuid(0) succeeded afterwards")
		}
	}
	if locked {
		return verifyNoNewPrivileges()
	}
	return nil
}
