package account

import (
	"fmt"
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"

	"github.com/cliniconnects/identity/idp/internal/storage"
)

// FieldError says which input is wrong and why, in words fit for a user.
type FieldError struct {
	Field   string // the input's name: email, phone, given_name, …
	Message string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Message }

func fieldErr(field, format string, args ...any) error {
	return &FieldError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// NormalizeEmail checks that s is a plain address (no display name, no
// surrounding spaces) and returns it with the domain lower-cased.
func NormalizeEmail(s string) (string, error) {
	if s == "" {
		return "", fieldErr("email", "is required")
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || len(s) > 254 {
		return "", fieldErr("email", "%q is not a valid email address", s)
	}
	at := strings.LastIndexByte(s, '@')
	return s[:at] + strings.ToLower(s[at:]), nil
}

// NormalizePhone parses s, which must be in international form (+ and the
// country code), and returns it in E.164. "" stays "".
func NormalizePhone(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	if !strings.HasPrefix(s, "+") {
		return "", fieldErr("phone", "%q must be in international form, e.g. +14155550123", s)
	}
	n, err := phonenumbers.Parse(s, "")
	if err != nil || !phonenumbers.IsValidNumber(n) {
		return "", fieldErr("phone", "%q is not a valid phone number", s)
	}
	return phonenumbers.Format(n, phonenumbers.E164), nil
}

// checkName requires a non-empty printable name of at most 100 characters.
func checkName(field, s string) error {
	switch {
	case strings.TrimSpace(s) == "":
		return fieldErr(field, "is required")
	case !utf8.ValidString(s) || utf8.RuneCountInString(s) > 100:
		return fieldErr(field, "must be at most 100 characters of text")
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		return fieldErr(field, "must not contain control characters")
	}
	return nil
}

// checkRoles rejects unknown roles and returns them deduplicated in the
// canonical order (highest first).
func checkRoles(roles []storage.Role) ([]storage.Role, error) {
	want := map[storage.Role]bool{}
	for _, r := range roles {
		if !r.Valid() {
			return nil, fieldErr("role", "%q is not a role (super_admin, admin, assigning_manager)", r)
		}
		want[r] = true
	}
	out := []storage.Role{}
	for _, r := range storage.Roles {
		if want[r] {
			out = append(out, r)
		}
	}
	return out, nil
}
