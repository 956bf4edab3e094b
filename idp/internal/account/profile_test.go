package account_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cliniconnects/identity/idp/internal/account"
	"github.com/cliniconnects/identity/idp/internal/storage"
	"github.com/cliniconnects/identity/idp/internal/testenv"
)

// A user changes their own name through EditUser: trimmed, validated,
// audited as theirs with the source address; bad input changes nothing.
func TestChangeName(t *testing.T) {
	testenv.EachStore(t, func(t *testing.T, st storage.Storage) {
		f := newFixture(t, st)
		ctx := context.Background()
		u := f.active("grace@example.com")
		by := account.Actor{ID: u.ID, Source: src}

		for _, tc := range []struct{ given, family, field string }{
			{"  ", "Hopper", "given_name"},
			{"Grace", "", "family_name"},
			{"Gr\x07ace", "Hopper", "given_name"},
			{strings.Repeat("g", 101), "Hopper", "given_name"},
		} {
			var fe *account.FieldError
			if _, err := f.svc.ChangeName(ctx, by, tc.given, tc.family); !errors.As(err, &fe) || fe.Field != tc.field {
				t.Errorf("ChangeName(%q, %q) = %v, want a field error for %s", tc.given, tc.family, err, tc.field)
			}
		}
		got, err := f.svc.ChangeName(ctx, by, " Grace Brewster ", "Murray Hopper")
		if err != nil || got.GivenName != "Grace Brewster" || got.FamilyName != "Murray Hopper" {
			t.Fatalf("ChangeName = %+v, %v", got, err)
		}
		if _, err := f.svc.ChangeName(ctx, by, "Grace Brewster", "Murray Hopper"); err != nil {
			t.Fatalf("the same name again: %v", err)
		}
		es, _, err := st.ListAudit(ctx, storage.AuditQuery{TargetID: u.ID, Action: account.ActionNameChange})
		if err != nil || len(es) != 1 || es[0].ActorID != u.ID || es[0].SourceAddr != src ||
			es[0].Changes["family_name"] != [2]any{u.FamilyName, "Murray Hopper"} {
			t.Fatalf("audit: %+v, %v", es, err)
		}
		if _, err := f.svc.DisableUser(ctx, u.ID, account.Actor{}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.ChangeName(ctx, by, "Ada", "Lovelace"); !errors.Is(err, account.ErrNotActive) {
			t.Fatalf("a disabled user's change: %v", err)
		}
	})
}

// The request that uses up an SMS allowance is audited, once per lock,
// with its counter, window, source and (per number) the number.
func TestSMSLimitAudited(t *testing.T) {
	testenv.EachStore(t, func(t *testing.T, st storage.Storage) {
		f := newMobileFixture(t, st)
		ctx := context.Background()
		u := f.clinician("ama@example.com", clinPhone)
		for range 5 {
			_ = f.m.RequestActivationCode(ctx, clinPhone, src)
		}
		es, _, err := st.ListAudit(ctx, storage.AuditQuery{Action: account.ActionMobileSMSLimit})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range es {
			got = append(got, e.Changes["counter"][1].(string)+"/"+e.TargetID+"/"+e.SourceAddr)
			if e.Changes["counter"][1] == "number" && e.Changes["phone"][1] != clinPhone {
				t.Errorf("number entry without the number: %+v", e)
			}
			if lu, _ := time.Parse(time.RFC3339, e.Changes["locked_until"][1].(string)); !lu.After(f.clock.Now()) {
				t.Errorf("locked_until %v", e.Changes["locked_until"])
			}
		}
		slices.Sort(got)
		if want := []string{"clinician/" + u.ID + "/" + src, "number//" + src}; !slices.Equal(got, want) {
			t.Fatalf("SMS limit entries %v, want %v", got, want)
		}
	})
}
