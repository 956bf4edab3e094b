package bulk

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

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

// DryRun checks every row of f before anything is created and returns the
// problems by row. Each row goes to the server's dry run of its create
// (check: the create request with ?dry_run=true), which validates it with
// the very checks of a create — the members, roles the caller may grant,
// an email or phone another account has — and creates nothing; what it
// refuses becomes the row's problems, in its words. The file's own
// problems, which no single request shows, are added (Check). Rows are
// checked Workers at a time, calling progress(done, total) after each.
//
// An error that is not a refusal of the row (the provider unreachable,
// the session ended, a server error) ends the dry run with that error: a
// row that could not be checked is not reported as checked.
func DryRun(ctx context.Context, f File, check Create, progress func(done, total int)) ([]Problem, error) {
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	var (
		mu    sync.Mutex
		out   = Check(f)
		first error
	)
	notRun := forEach(ctx, f.Rows, func(ctx context.Context, r Row) {
		err := check(ctx, r)
		if err == nil {
			return
		}
		ps, ok := refusal(r.Line, err)
		mu.Lock()
		defer mu.Unlock()
		if !ok {
			if first == nil {
				first = err
			}
			stop()
			return
		}
		out = append(out, ps...)
	}, progress)
	switch {
	case first != nil:
		return nil, first
	case len(notRun) > 0:
		return nil, context.Cause(ctx)
	}
	SortProblems(out)
	return out, nil
}

// refusal turns the server's refusal of a row — the codes a create
// answers about what it was sent — into the row's problems, one per
// field the server named. ok is false for any other error.
func refusal(line int, err error) (ps []Problem, ok bool) {
	var ae *adminapi.Error
	if !errors.As(err, &ae) {
		return nil, false
	}
	switch ae.Code {
	case adminapi.CodeValidation, adminapi.CodeInvalidJSON, adminapi.CodeAlreadyExists, adminapi.CodeRoleNotGrantable:
	default:
		return nil, false
	}
	if len(ae.Fields) == 0 {
		return []Problem{{Line: line, Message: ae.Message}}, true
	}
	fields := make([]string, 0, len(ae.Fields))
	for k := range ae.Fields {
		fields = append(fields, k)
	}
	sort.Strings(fields)
	for _, k := range fields {
		ps = append(ps, Problem{Line: line, Field: k, Message: ae.Fields[k]})
	}
	return ps, true
}

// Check finds the problems of the file as a whole, which the server,
// seeing one row at a time, cannot: a row with more or fewer cells than
// the header, and an email address or phone number on two rows (the
// second would be refused only once the first exists).
func Check(f File) []Problem {
	var out []Problem
	emails, phones := map[string]int{}, map[string]int{}
	for _, r := range f.Rows {
		if n := len(r.Raw); n != len(f.Header) {
			out = append(out, Problem{Line: r.Line, Message: fmt.Sprintf("has %d cells; the header has %d", n, len(f.Header))})
		}
		if k := strings.ToLower(r.Email); k != "" {
			if first, dup := emails[k]; dup {
				out = append(out, Problem{Line: r.Line, Field: "email", Message: fmt.Sprintf("%q is also on row %d", r.Email, first)})
			} else {
				emails[k] = r.Line
			}
		}
		if k := phoneKey(r.Phone); k != "" {
			if first, dup := phones[k]; dup {
				out = append(out, Problem{Line: r.Line, Field: "phone", Message: fmt.Sprintf("%q is also on row %d", r.Phone, first)})
			} else {
				phones[k] = r.Line
			}
		}
	}
	return out
}

// phoneKey is a number without the spaces, dashes and parentheses people
// write in it.
func phoneKey(s string) string {
	return strings.NewReplacer(" ", "", "-", "", "(", "", ")", "", ".", "").Replace(s)
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
