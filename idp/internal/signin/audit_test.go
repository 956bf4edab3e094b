package signin_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cliniconnects/identity/idp/internal/signin"
	"github.com/cliniconnects/identity/idp/internal/storage"
	api "github.com/cliniconnects/identity/shared/adminapi"
)

// auditLog is every entry, oldest first.
func auditLog(t *testing.T, st storage.Storage) []storage.AuditEntry {
	t.Helper()
	var all []storage.AuditEntry
	q := storage.AuditQuery{Limit: 500}
	for {
		page, next, err := st.ListAudit(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, page...)
		if next == 0 {
			break
		}
		q.Before = next
	}
	for i, j := 0, len(all)-1; i < j; i, j = i+1, j-1 {
		all[i], all[j] = all[j], all[i]
	}
	return all
}

func describe(e storage.AuditEntry) string {
	ch := ""
	for _, k := range []string{"reason", "counter", "device"} {
		if v, ok := e.Changes[k]; ok {
			ch += fmt.Sprintf(" %s=%v", k, v[1])
		}
	}
	return fmt.Sprintf("%s actor=%s target=%s:%s source=%s%s", e.Action, e.ActorID, e.TargetType, e.TargetID, e.SourceAddr, ch)
}

// Sign-in outcomes land in the audit log beside record changes, with the
// source address: success (actor = target = the user), each checked
// failure (target = the account; nothing at all about an email without
// one), the failure that locks, and an unlock. No entry holds a password
// or an attempted address; attempts refused while locked add nothing.
func TestSigninAudit(t *testing.T) {
	eachStore(t, func(t *testing.T, st storage.Storage) {
		ctx := context.Background()
		f := newFixture(t, st)
		f.withDevices(t, 1)
		grace := f.user(t, "grace@example.com", storage.StatusActive, goodPassword)

		f.authFrom(source, "grace@example.com", "hunter2-wrong-password", "")
		f.authFrom(attacker, "nobody.secret@example.com", "another-wrong-password", "")
		if _, err := f.authFrom(source, "grace@example.com", goodPassword, ""); err != nil {
			t.Fatal(err)
		}
		device := issue(t, f.svc.Devices, grace)
		if _, err := f.authFrom(source, "grace@example.com", goodPassword, device); err != nil {
			t.Fatal(err)
		}
		for range 5 {
			f.authFrom(attacker, "grace@example.com", "guess-guess-guess", "")
		}
		before := len(auditLog(t, st))
		if _, err := f.authFrom(attacker, "grace@example.com", goodPassword, ""); !isLocked(err) {
			t.Fatalf("locked account: %v", err)
		}
		if n := len(auditLog(t, st)); n != before {
			t.Fatalf("an attempt refused while locked wrote %d audit entries", n-before)
		}
		ok, err := signin.Unlock(ctx, st, grace, "admin-1", "192.0.2.99", f.clock.Now())
		if err != nil || !ok {
			t.Fatalf("Unlock = %v, %v", ok, err)
		}
		if ok, err := signin.Unlock(ctx, st, grace, "admin-1", "192.0.2.99", f.clock.Now()); err != nil || ok {
			t.Fatalf("second Unlock = %v, %v; want nothing to unlock", ok, err)
		}
		if _, err := f.authFrom(source, "grace@example.com", goodPassword, ""); err != nil {
			t.Fatalf("after the unlock: %v", err)
		}

		g := grace.ID
		want := []string{
			"signin.failure actor= target=user:" + g + " source=" + source + " reason=wrong_password",
			"signin.failure actor= target=: source=" + attacker + " reason=unknown_email",
			"signin.success actor=" + g + " target=user:" + g + " source=" + source,
			"signin.success actor=" + g + " target=user:" + g + " source=" + source + " device=trusted",
			"signin.failure actor= target=user:" + g + " source=" + attacker + " reason=wrong_password",
			"signin.failure actor= target=user:" + g + " source=" + attacker + " reason=wrong_password",
			"signin.failure actor= target=user:" + g + " source=" + attacker + " reason=wrong_password",
			"signin.failure actor= target=user:" + g + " source=" + attacker + " reason=wrong_password",
			"signin.failure actor= target=user:" + g + " source=" + attacker + " reason=wrong_password",
			"signin.lock actor= target=user:" + g + " source=" + attacker + " counter=account",
			"signin.unlock actor=admin-1 target=user:" + g + " source=192.0.2.99",
			"signin.success actor=" + g + " target=user:" + g + " source=" + source,
		}
		entries := auditLog(t, st)
		var got []string
		for _, e := range entries {
			got = append(got, describe(e))
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("audit log:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		lock := entries[9]
		if until, _ := lock.Changes["locked_until"][1].(string); until != f.clock.Now().Add(15*time.Minute).UTC().Format(time.RFC3339) {
			t.Errorf("lock entry: locked_until %q", until)
		}
		raw, _ := json.Marshal(entries)
		for _, secret := range []string{"hunter2", "another-wrong", "guess-guess", goodPassword, "nobody.secret", grace.PasswordHash} {
			if strings.Contains(string(raw), secret) {
				t.Errorf("audit log holds %q", secret)
			}
		}
		for _, a := range []string{api.ActionSigninSuccess, api.ActionSigninFailure, api.ActionSigninLock, api.ActionSigninUnlock} {
			if !strings.Contains(strings.Join(got, "\n"), a+" ") {
				t.Errorf("no %s entry", a)
			}
		}
	})
}

// A source that reaches its limit is recorded as locked, with no target.
func TestSigninAuditSourceLock(t *testing.T) {
	eachStore(t, func(t *testing.T, st storage.Storage) {
		f := newFixture(t, st)
		for i := range 20 {
			f.authFrom(attacker, fmt.Sprintf("spray%d@example.com", i), "Winter2026!", "")
		}
		var locks []string
		for _, e := range auditLog(t, st) {
			if e.Action == api.ActionSigninLock {
				locks = append(locks, describe(e))
			}
		}
		if len(locks) != 1 || locks[0] != "signin.lock actor= target=: source="+attacker+" counter=source" {
			t.Fatalf("lock entries %q", locks)
		}
	})
}
