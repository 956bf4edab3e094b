package sqlstore

import (
	"crypto/rand"
	"database/sql"
	"encoding/base32"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/cliniconnects/identity/idp/internal/storage"
)

// Conversions between Go values and columns, shared by both dialects.

// nullTime stores the zero time ("not set") as NULL.
func nullTime(t time.Time) sql.NullTime { return sql.NullTime{Time: t.UTC(), Valid: !t.IsZero()} }

// timeCol scans a timestamp column into t: NULL gives the zero time, and
// every time comes back in UTC whatever the driver's location.
type timeCol struct{ t *time.Time }

func (c timeCol) Scan(src any) error {
	var n sql.NullTime
	if err := n.Scan(src); err != nil {
		return err
	}
	*c.t = time.Time{}
	if n.Valid {
		*c.t = n.Time.UTC()
	}
	return nil
}

// nullText stores "" as NULL, for columns that are unique only when set.
func nullText(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

// textCol scans a nullable text column into s: NULL gives "".
type textCol struct{ s *string }

func (c textCol) Scan(src any) error {
	var n sql.NullString
	if err := n.Scan(src); err != nil {
		return err
	}
	*c.s = n.String
	return nil
}

// orZero makes scan destinations take NULL as the zero value, for the
// columns of an outer join's missing side. Scanners (timeCol, listCol)
// take NULL already; the plain types the store scans into are wrapped.
func orZero(dest []any) []any {
	for i, d := range dest {
		switch p := d.(type) {
		case *string:
			dest[i] = nullOrZero[string]{p}
		case *bool:
			dest[i] = nullOrZero[bool]{p}
		case *int:
			dest[i] = nullOrZero[int]{p}
		case *int64:
			dest[i] = nullOrZero[int64]{p}
		case *storage.UserType:
			dest[i] = nullOrZero[storage.UserType]{p}
		case *storage.UserStatus:
			dest[i] = nullOrZero[storage.UserStatus]{p}
		case sql.Scanner:
		default:
			panic(fmt.Sprintf("sqlstore: orZero: no NULL handling for %T", d))
		}
	}
	return dest
}

type nullOrZero[T any] struct{ dst *T }

func (n nullOrZero[T]) Scan(src any) error {
	var v sql.Null[T]
	if err := v.Scan(src); err != nil {
		return err
	}
	*n.dst = v.V
	return nil
}

// qualified prefixes each of the comma-separated columns cols with alias.
func qualified(alias, cols string) string {
	list := strings.Split(cols, ",")
	for i, c := range list {
		list[i] = alias + "." + strings.TrimSpace(c)
	}
	return strings.Join(list, ", ")
}

// listArg encodes a list as the JSON array text both dialects store.
func listArg[T ~string](v []T) string {
	if len(v) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(v) // a slice of strings always marshals
	return string(b)
}

// listCol scans a JSON array column into dst; an empty array gives nil, so
// a zero-value field round-trips.
type listCol[T ~string] struct{ dst *[]T }

func (c listCol[T]) Scan(src any) error {
	var b []byte
	switch v := src.(type) {
	case string:
		b = []byte(v)
	case []byte:
		b = v
	case nil:
		*c.dst = nil
		return nil
	default:
		return fmt.Errorf("list column: unexpected %T", src)
	}
	var list []T
	if err := json.Unmarshal(b, &list); err != nil {
		return fmt.Errorf("list column: %w", err)
	}
	if len(list) == 0 {
		list = nil
	}
	*c.dst = list
	return nil
}

// normList is what a list reads back as: nil when empty.
func normList[T any](v []T) []T {
	if len(v) == 0 {
		return nil
	}
	return v
}

// normTime is what a time reads back as: UTC, whole microseconds (both
// databases keep microseconds). Values returned to callers go through it so
// that what Create returns equals what Get returns.
func normTime(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Truncate(time.Microsecond)
}

// idEncoding writes ids in lower-case base32 without padding: 26 characters
// for 16 bytes, all the same length, safe in URLs and file names.
var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// newID returns a random opaque id of 128 bits.
func newID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go ≥1.24)
	return idEncoding.EncodeToString(b)
}
