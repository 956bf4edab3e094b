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

func TestCheck(t *testing.T) {
	f := read(t, adminapi.UserTypeClinician, strings.Join([]string{
		"given_name,family_name,email,phone,discipline,roles",
		"Ada,Lovelace,ada@example.test,+14155550101,rn,",                   // 2 ok (discipline case-insensitive)
		",Hopper,grace@example.test,+14155550102,PT,",                      // 3 given_name required
		"Alan,Turing,Alan <alan@example.test>,+14155550103,OT,",            // 4 display name
		"Mary,Jackson,ADA@example.test,+14155550104,OT,",                   // 5 duplicate email (case)
		"Edith,Clarke,edith@example.test,4155550105,OT,",                   // 6 phone not international
		"Annie,Easley,annie@example.test,+14155550101,OT,",                 // 7 duplicate phone
		"Kate,Johnson,kate@example.test,+14155550107,Pilot,",               // 8 discipline
		"Dot,Vaughan,dot@example.test,+14155550108,RN,admin",               // 9 role not grantable
		"Hedy,Lamarr,hedy@example.test,+14155550109,RN,boss",               // 10 no such role
		"Rosa,Parks,rosa@example.test,+14155550110,RN",                     // 11 cell count
		"X\x01,Y,x@example.test,+14155550111,RN,",                          // 12 control character
		strings.Repeat("a", 101) + ",Y,long@example.test,+14155550112,RN,", // 13 too long
	}, "\n"))
	got := map[int]string{}
	for _, p := range Check(f, []adminapi.Role{adminapi.RoleAssigningManager}) {
		got[p.Line] += p.String() + "|"
	}
	want := map[int]string{
		3: "given_name is required", 4: "not a valid email", 5: "also on row 2", 6: "international form",
		7: "also on row 2", 8: "must be one of", 9: "not a role you may grant", 10: "is not a role",
		11: "has 5 cells", 12: "control characters", 13: "at most 100",
	}
	for line, w := range want {
		if !strings.Contains(got[line], w) {
			t.Errorf("row %d: got %q, want %q", line, got[line], w)
		}
	}
	if got[2] != "" {
		t.Errorf("row 2 flagged: %s", got[2])
	}
	if len(got) != len(want) {
		t.Errorf("rows flagged %v", got)
	}
}

func TestCheckExistingSkipsBadRows(t *testing.T) {
	f := read(t, adminapi.UserTypeEmployee, "given_name,family_name,email\nA,B,taken@example.test\nA,B,free@example.test\n,B,bad@example.test\n")
	var asked []string
	ps, err := CheckExisting(context.Background(), f, Check(f, nil), func(_ context.Context, e string) (bool, error) {
		asked = append(asked, e)
		return e == "taken@example.test", nil
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 1 || ps[0].Line != 2 || !slices.Equal(asked, []string{"taken@example.test", "free@example.test"}) {
		t.Errorf("problems %v, asked %v", ps, asked)
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
	if ps := Check(f, []adminapi.Role{adminapi.RoleAdmin}); len(ps) != 0 {
		t.Fatalf("exported file has problems: %v", ps)
	}
	r := f.Rows[0]
	if r.Email != "fn@example.test" || r.Discipline != "RN" || !slices.Equal(r.Roles, []adminapi.Role{adminapi.RoleAdmin}) {
		t.Errorf("row %+v", r)
	}
}
