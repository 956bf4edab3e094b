package bulk

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/cliniconnects/identity/shared/adminapi"
)

func read(t *testing.T, kind adminapi.UserType, s string) File {
	t.Helper()
	f, err := Read(strings.NewReader(s), kind)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	return f
}

func TestReadHeader(t *testing.T) {
	f := read(t, adminapi.UserTypeEmployee, "\uFEFFGiven Name,FAMILY-NAME,Email,roles\nAda,Lovelace,ada@example.test,admin; assigning_manager\n\n , ,\n")
	if len(f.Rows) != 1 {
		t.Fatalf("rows %+v", f.Rows)
	}
	r := f.Rows[0]
	if r.Line != 2 || r.GivenName != "Ada" || r.Email != "ada@example.test" ||
		!slices.Equal(r.Roles, []adminapi.Role{adminapi.RoleAdmin, adminapi.RoleAssigningManager}) {
		t.Errorf("row %+v", r)
	}
	for _, tc := range []struct {
		kind     adminapi.UserType
		in, want string
	}{
		{adminapi.UserTypeEmployee, "", "empty"},
		{adminapi.UserTypeEmployee, "given_name,family_name,email,shoe_size\n", "shoe_size"},
		{adminapi.UserTypeEmployee, "given_name,family_name\nA,B\n", "email"},
		{adminapi.UserTypeEmployee, "given_name,family_name,email,email\n", "twice"},
		{adminapi.UserTypeEmployee, "given_name,family_name,email,discipline\n", "discipline"},
		{adminapi.UserTypeClinician, "given_name,family_name,email,phone\n", "discipline"},
		{adminapi.UserTypeEmployee, "given_name,family_name,email\n", "no rows"},
		{adminapi.UserTypeEmployee, "given_name,family_name,email\n\"A,B\n", "not valid CSV"},
	} {
		_, err := Read(strings.NewReader(tc.in), tc.kind)
		if !errors.Is(err, ErrFile) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Read(%q) = %v, want ErrFile mentioning %q", tc.in, err, tc.want)
		}
	}
}

func TestReadTooManyRows(t *testing.T) {
	var b strings.Builder
	b.WriteString("given_name,family_name,email\n")
	for i := range MaxRows + 1 {
		fmt.Fprintf(&b, "A,B,a%d@example.test\n", i)
	}
	if _, err := Read(strings.NewReader(b.String()), adminapi.UserTypeEmployee); !errors.Is(err, ErrFile) {
		t.Errorf("Read of %d rows = %v, want ErrFile", MaxRows+1, err)
	}
}

// Check finds what no single row shows: a wrong cell count, and an
// address or number on two rows. Everything else is the server's to say.
func TestCheck(t *testing.T) {
	f := read(t, adminapi.UserTypeClinician, strings.Join([]string{
		"given_name,family_name,email,phone,discipline,roles",
		"Ada,Lovelace,ada@example.test,+14155550101,rn,",        // 2 ok
		",Hopper,grace@example.test,+14155550102,Pilot,boss",    // 3 the server's business
		"Mary,Jackson,ADA@example.test,+14155550104,OT,",        // 4 duplicate email (case)
		"Annie,Easley,annie@example.test,+1 (415) 555-0101,OT,", // 5 duplicate phone (written otherwise)
		"Rosa,Parks,rosa@example.test,+14155550110,RN",          // 6 cell count
	}, "\n"))
	got := map[int]string{}
	for _, p := range Check(f) {
		got[p.Line] += p.String() + "|"
	}
	want := map[int]string{4: "email \"ADA@example.test\" is also on row 2", 5: "phone \"+1 (415) 555-0101\" is also on row 2", 6: "has 5 cells; the header has 6"}
	for line, w := range want {
		if !strings.Contains(got[line], w) {
			t.Errorf("row %d: got %q, want %q", line, got[line], w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("rows flagged %v", got)
	}
}

// The dry run reports each row as the server refused it, one problem per
// field it named, with the file's own problems, by row.
func TestDryRunReportsServerRefusals(t *testing.T) {
	f := read(t, adminapi.UserTypeEmployee, "given_name,family_name,email,roles\n"+
		"A,B,a@example.test,\nA,,bad,\nA,B,taken@example.test,\nA,B,c@example.test,admin\nA,B,a@example.test,\n")
	var calls atomic.Int32
	ps, err := DryRun(context.Background(), f, func(_ context.Context, r Row) error {
		calls.Add(1)
		switch r.Line {
		case 3:
			return &adminapi.Error{Status: 400, Code: adminapi.CodeValidation, Message: "some fields are invalid",
				Fields: map[string]string{"family_name": "is required", "email": `"bad" is not a valid email address`}}
		case 4:
			return &adminapi.Error{Status: 409, Code: adminapi.CodeAlreadyExists, Message: "in use", Fields: map[string]string{"email": "is in use by another user"}}
		case 5:
			return &adminapi.Error{Status: 403, Code: adminapi.CodeRoleNotGrantable, Message: "you may not grant or revoke the role admin"}
		}
		return nil
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range ps {
		got = append(got, p.String())
	}
	want := []string{
		`Row 3: email "bad" is not a valid email address`, "Row 3: family_name is required",
		"Row 4: email is in use by another user",
		"Row 5: you may not grant or revoke the role admin",
		`Row 6: email "a@example.test" is also on row 2`,
	}
	if !slices.Equal(got, want) || calls.Load() != 5 {
		t.Errorf("problems (%d calls):\n%s\nwant\n%s", calls.Load(), strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// A failure that is not the server's refusal of a row — the session
// ended, the provider down — ends the dry run with that error instead of
// passing or failing rows it could not check.
func TestDryRunStopsOnOtherErrors(t *testing.T) {
	f := read(t, adminapi.UserTypeEmployee, "given_name,family_name,email\n"+strings.Repeat("A,B,c@example.test\n", 50))
	for _, fail := range []error{
		&adminapi.Error{Status: 401, Code: adminapi.CodeUnauthorized, Message: "token expired"},
		&adminapi.Error{Status: 500, Code: adminapi.CodeInternal, Message: "logged"},
		errors.New("connection refused"),
	} {
		var calls atomic.Int32
		ps, err := DryRun(context.Background(), f, func(context.Context, Row) error {
			if calls.Add(1) == 3 {
				return fail
			}
			return nil
		}, nil)
		if err != fail || ps != nil || calls.Load() == 50 {
			t.Errorf("%v: problems %v, err %v after %d calls", fail, ps, err, calls.Load())
		}
	}
}

func TestRunCancel(t *testing.T) {
	f := read(t, adminapi.UserTypeEmployee, "given_name,family_name,email\n"+strings.Repeat("A,B,c@example.test\n", 50))
	ctx, cancel := context.WithCancel(context.Background())
	var calls atomic.Int32
	res := Run(ctx, f.Rows, func(context.Context, Row) error {
		if calls.Add(1) == 10 {
			cancel()
		}
		return nil
	}, nil)
	if len(res.NotRun) == 0 || res.Created+len(res.NotRun) != 50 || res.Created != int(calls.Load()) {
		t.Errorf("created %d, not run %d, calls %d", res.Created, len(res.NotRun), calls.Load())
	}
}

func TestRunReportsServerMessages(t *testing.T) {
	f := read(t, adminapi.UserTypeEmployee, "given_name,family_name,email\nA,B,a@example.test\nA,B,b@example.test\n")
	res := Run(context.Background(), f.Rows, func(_ context.Context, r Row) error {
		if r.Line == 3 {
			return &adminapi.Error{Code: adminapi.CodeAlreadyExists, Message: "taken", Fields: map[string]string{"email": "is already in use"}}
		}
		return nil
	}, nil)
	if res.Created != 1 || len(res.Failed) != 1 || res.Failed[0].Message != "email is already in use" {
		t.Errorf("result %+v", res)
	}
	var b bytes.Buffer
	if err := WriteFailed(&b, f, res.Failed); err != nil {
		t.Fatal(err)
	}
	if want := "given_name,family_name,email,error\nA,B,b@example.test,row 3: email is already in use\n"; b.String() != want {
		t.Errorf("failed CSV:\n%s\nwant\n%s", b.String(), want)
	}
}

// An export can be imported again: the columns only exports write are
// ignored.
func TestExportImportsAgain(t *testing.T) {
	var b bytes.Buffer
	users := []adminapi.User{{ID: "u1", GivenName: "Florence", FamilyName: "Nightingale", Email: "fn@example.test",
		Phone: "+14155550101", Discipline: "RN", Status: adminapi.StatusActive, Roles: []adminapi.Role{adminapi.RoleAdmin}}}
	if err := WriteUsers(&b, adminapi.UserTypeClinician, users); err != nil {
		t.Fatal(err)
	}
	f := read(t, adminapi.UserTypeClinician, b.String())
	if ps := Check(f); len(ps) != 0 {
		t.Fatalf("exported file has problems: %v", ps)
	}
	r := f.Rows[0]
	if r.Email != "fn@example.test" || r.Discipline != "RN" || !slices.Equal(r.Roles, []adminapi.Role{adminapi.RoleAdmin}) {
		t.Errorf("row %+v", r)
	}
}
