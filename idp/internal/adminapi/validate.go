package adminapi

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/cliniconnects/identity/idp/internal/account"
	api "github.com/cliniconnects/identity/shared/adminapi"
)

// fieldErrors collects what is wrong with a request's members.
type fieldErrors map[string]string

func (f fieldErrors) add(field, msg string) {
	if _, ok := f[field]; !ok {
		f[field] = msg
	}
}

// addErr records a validation error of the account package under its
// field name (or under field when it has none).
func (f fieldErrors) addErr(field string, err error) {
	if fe, ok := err.(*account.FieldError); ok {
		f.add(field, fe.Message)
		return
	}
	f.add(field, "is invalid")
}

func (f fieldErrors) err() error {
	if len(f) == 0 {
		return nil
	}
	return fieldsErr(api.CodeValidation, msgValidation, f)
}

// maxText is the longest name or profile text accepted (characters).
const maxText = 100

// text checks a required (or optional, when !required) line of text: at
// most maxText characters, no control characters, not only spaces.
func (f fieldErrors) text(field, s string, required bool) string {
	switch {
	case strings.TrimSpace(s) == "" && required:
		f.add(field, "is required")
	case strings.TrimSpace(s) == "" && s != "":
		f.add(field, "must not be only spaces")
	case !utf8.ValidString(s) || utf8.RuneCountInString(s) > maxText:
		f.add(field, "must be at most 100 characters of text")
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		f.add(field, "must not contain control characters")
	}
	return s
}

// email normalizes an address (account.NormalizeEmail).
func (f fieldErrors) email(s string) string {
	out, err := account.NormalizeEmail(s)
	if err != nil {
		f.addErr("email", err)
	}
	return out
}

// phone normalizes a number to E.164 (account.NormalizePhone).
func (f fieldErrors) phone(s string, required bool) string {
	if s == "" && required {
		f.add("phone", "is required (E.164, e.g. +14155550123)")
		return ""
	}
	out, err := account.NormalizePhone(s)
	if err != nil {
		f.addErr("phone", err)
	}
	return out
}

// discipline accepts one of api.Disciplines, case-insensitively.
func (f fieldErrors) discipline(s string) string {
	up := strings.ToUpper(strings.TrimSpace(s))
	if up == "" {
		f.add("discipline", "is required ("+strings.Join(api.Disciplines, ", ")+")")
		return ""
	}
	if !slices.Contains(api.Disciplines, up) {
		f.add("discipline", "must be one of "+strings.Join(api.Disciplines, ", "))
	}
	return up
}

// roles checks role names.
func (f fieldErrors) roles(roles []api.Role) {
	for _, r := range roles {
		if !slices.Contains(api.Roles, r) {
			f.add("roles", "unknown role "+strings.ToValidUTF8(string(r), "?")+" (super_admin, admin, assigning_manager)")
		}
	}
}
