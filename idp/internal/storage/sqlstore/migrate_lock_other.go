//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package sqlstore

import "os"

// Without flock (Windows and the rarer Unixes) the lock is a no-op: run one
// migrator at a time there (`idp migrate`, or one replica), as SQLite is the
// single-process default anyway.
func tryLock(*os.File) (bool, error) { return true, nil }

func unlock(*os.File) error { return nil }
