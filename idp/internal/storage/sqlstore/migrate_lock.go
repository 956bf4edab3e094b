package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"time"
)

// fileLocker is goose's session locker for SQLite: an exclusive lock on a
// file next to the database, held while migrations run, so that two
// processes starting on one file apply each migration once.
type fileLocker struct {
	path string
	f    *os.File // open while locked
}

// lockPoll is how often a waiting migrator tries the lock again.
const lockPoll = 50 * time.Millisecond

func (l *fileLocker) SessionLock(ctx context.Context, _ *sql.Conn) error {
	f, err := os.OpenFile(l.path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("migration lock: %w", err)
	}
	for {
		ok, err := tryLock(f)
		if err != nil {
			_ = f.Close()
			return fmt.Errorf("migration lock %s: %w", l.path, err)
		}
		if ok {
			l.f = f
			return nil
		}
		select {
		case <-ctx.Done():
			_ = f.Close()
			return fmt.Errorf("migration lock %s: %w", l.path, ctx.Err())
		case <-time.After(lockPoll):
		}
	}
}

func (l *fileLocker) SessionUnlock(context.Context, *sql.Conn) error {
	if l.f == nil {
		return nil
	}
	err := unlock(l.f)
	if cerr := l.f.Close(); err == nil {
		err = cerr
	}
	l.f = nil
	if err != nil {
		return fmt.Errorf("migration unlock %s: %w", l.path, err)
	}
	return nil
}
