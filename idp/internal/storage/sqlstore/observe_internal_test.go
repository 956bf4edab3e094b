package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

// A database that cannot be reached is told apart from other failures.
func TestErrorKind(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{fmt.Errorf("get user: %w", &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}), ErrorUnavailable},
		{driver.ErrBadConn, ErrorUnavailable},
		{sql.ErrConnDone, ErrorUnavailable},
		{fmt.Errorf("read: %w", io.ErrUnexpectedEOF), ErrorUnavailable}, // the server went away mid-answer
		{&pgconn.PgError{Code: "57P01"}, ErrorUnavailable},              // admin shutdown
		{&pgconn.PgError{Code: "08006"}, ErrorUnavailable},              // connection failure
		{&pgconn.PgError{Code: "42P01"}, ErrorOther},                    // undefined table
		{errors.New("something else"), ErrorOther},
	} {
		if got := errorKind((&Store{d: dialectPostgres}).check(context.Background(), tc.err)); got != tc.want {
			t.Errorf("%v: %s, want %s", tc.err, got, tc.want)
		}
	}
	var told []string
	h := &errHook{}
	h.fn.Store(ptr(func(kind string) { told = append(told, kind) }))
	for _, err := range []error{nil, sql.ErrNoRows, context.Canceled, fmt.Errorf("x: %w", context.Canceled)} {
		_ = h.failed(dialectPostgres, err)
	}
	if len(told) != 0 {
		t.Fatalf("told %v", told)
	}
}

func ptr[T any](v T) *T { return &v }
