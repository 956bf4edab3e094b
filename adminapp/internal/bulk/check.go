package bulk

import (
	"context"
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/cliniconnects/identity/shared/adminapi"
)

// Problem is what is wrong with one row.
type Problem struct {
	Line    int
	Field   string // the column, "" for the whole row
	Message string
}

func (p Problem) String() string {
	if p.Field == "" {
		return fmt.Sprintf("Row %d: %s", p.Line, p.Message)
	}
	return fmt.Sprintf("Row %d: %s %s", p.Line, p.Field, p.Message)
}

// Check is the dry run's first pass: each row against the rules the API
// documents for its create request (required members, text of at most
// 100 characters without control characters, a plain email address, a
// phone in international form, a known discipline), roles the caller may
// grant, and addresses or phone numbers that appear twice in the file.
// The server stays the judge: it validates every row again when it is
// created, and what it refuses is reported then.
func Check(f File, assignable []adminapi.Role) []Problem {
	var out []Problem
	emails, phones := map[string]int{}, map[string]int{}
	for _, r := range f.Rows {
		var ps []Problem
		add := func(field, msg string) { ps = append(ps, Problem{Line: r.Line, Field: field, Message: msg}) }
		if n := len(r.Raw); n != len(f.Header) {
			add("", fmt.Sprintf("has %d cells; the header has %d", n, len(f.Header)))
		}
		text(add, "given_name", r.GivenName, true)
		text(add, "family_name", r.FamilyName, true)
		text(add, "job_title", r.JobTitle, false)
		text(add, "department", r.Department, false)
		if msg := emailProblem(r.Email); msg != "" {
			add("email", msg)
		} else if first, dup := emails[foldEmail(r.Email)]; dup {
			add("email", fmt.Sprintf("%q is also on row %d", r.Email, first))
		} else {
			emails[foldEmail(r.Email)] = r.Line
		}
		clinician := f.Kind == adminapi.UserTypeClinician
		if msg := phoneProblem(r.Phone, clinician); msg != "" {
			add("phone", msg)
		} else if r.Phone != "" {
			if first, dup := phones[r.Phone]; dup {
				add("phone", fmt.Sprintf("%q is also on row %d", r.Phone, first))
			} else {
				phones[r.Phone] = r.Line
			}
		}
		if clinician {
			if msg := disciplineProblem(r.Discipline); msg != "" {
				add("discipline", msg)
			}
		}
		for _, role := range r.Roles {
			switch {
			case !slices.Contains(adminapi.Roles, role):
				add("roles", fmt.Sprintf("%q is not a role (super_admin, admin, assigning_manager)", role))
			case !slices.Contains(assignable, role):
				add("roles", fmt.Sprintf("%s is not a role you may grant", role))
			}
		}
		out = append(out, ps...)
	}
	return out
}

// Exists reports whether an account with this email exists (the admin
// API's search).
type Exists func(ctx context.Context, email string) (bool, error)

// CheckExisting is the dry run's second pass: rows whose address already
// has an account. Rows already in problems are skipped. progress, if set,
// is called after each row.
func CheckExisting(ctx context.Context, f File, problems []Problem, exists Exists, progress func(done, total int)) ([]Problem, error) {
	bad := Lines(problems)
	var out []Problem
	for i, r := range f.Rows {
		if !bad[r.Line] {
			ok, err := exists(ctx, r.Email)
			if err != nil {
				return nil, err
			}
			if ok {
				out = append(out, Problem{Line: r.Line, Field: "email", Message: fmt.Sprintf("%q already has an account", r.Email)})
			}
		}
		if progress != nil {
			progress(i+1, len(f.Rows))
		}
	}
	return out, nil
}

// Lines is the set of row numbers that have a problem.
func Lines(problems []Problem) map[int]bool {
	m := map[int]bool{}
	for _, p := range problems {
		m[p.Line] = true
	}
	return m
}

// SortProblems orders problems by row.
func SortProblems(ps []Problem) {
	slices.SortStableFunc(ps, func(a, b Problem) int { return a.Line - b.Line })
}

func text(add func(field, msg string), field, s string, required bool) {
	switch {
	case s == "" && required:
		add(field, "is required")
	case !utf8.ValidString(s) || utf8.RuneCountInString(s) > 100:
		add(field, "must be at most 100 characters of text")
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		add(field, "must not contain control characters")
	}
}

// emailProblem: a plain address, as the API requires (no display name).
func emailProblem(s string) string {
	if s == "" {
		return "is required"
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || len(s) > 254 {
		return fmt.Sprintf("%q is not a valid email address", s)
	}
	return ""
}

// foldEmail is the address as accounts are matched (case-insensitive).
func foldEmail(s string) string { return strings.ToLower(s) }

// phoneProblem: + and 8 to 15 digits (E.164); the server checks that the
// number exists in its country's plan.
func phoneProblem(s string, required bool) string {
	if s == "" {
		if required {
			return "is required (international form, e.g. +14155550123)"
		}
		return ""
	}
	digits := strings.TrimPrefix(strings.NewReplacer(" ", "", "-", "", "(", "", ")", "").Replace(s), "+")
	if !strings.HasPrefix(s, "+") || len(digits) < 8 || len(digits) > 15 || strings.IndexFunc(digits, func(c rune) bool { return c < '0' || c > '9' }) >= 0 {
		return fmt.Sprintf("%q must be in international form, e.g. +14155550123", s)
	}
	return ""
}

func disciplineProblem(s string) string {
	if s == "" {
		return "is required (" + strings.Join(adminapi.Disciplines, ", ") + ")"
	}
	if !slices.Contains(adminapi.Disciplines, strings.ToUpper(s)) {
		return "must be one of " + strings.Join(adminapi.Disciplines, ", ")
	}
	return ""
}
