package storagetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/cliniconnects/identity/idp/internal/storage"
)

func listAudit(t *testing.T, s storage.Storage, q storage.AuditQuery) ([]storage.AuditEntry, int64) {
	t.Helper()
	entries, next, err := s.ListAudit(t.Context(), q)
	if err != nil {
		t.Fatalf("ListAudit(%+v): %v", q, err)
	}
	return entries, next
}

func auditActions(entries []storage.AuditEntry) []string {
	actions := make([]string, len(entries))
	for i, e := range entries {
		actions[i] = e.Action
	}
	return actions
}

func testAuditAppendList(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	in := []storage.AuditEntry{
		{At: base, ActorID: "admin1", Action: "employee.create", TargetType: "user", TargetID: "u1",
			SourceAddr: "10.0.0.1", Changes: map[string][2]any{"email": {nil, "ann@example.org"}, "roles": {nil, "admin"}}},
		{At: base.Add(time.Minute), ActorID: "admin2", Action: "user.disable", TargetType: "user", TargetID: "u1",
			SourceAddr: "10.0.0.2", Changes: map[string][2]any{"status": {"active", "disabled"}, "email_verified": {false, true}}},
		{At: base.Add(2 * time.Minute), Action: "client.rotate_secret", TargetType: "client", TargetID: "sched"}, // the system, no changes
		{At: base.Add(3 * time.Minute), ActorID: "admin1", Action: "user.disable", TargetType: "user", TargetID: "u2"},
	}
	for _, e := range in {
		must(t, s.AppendAudit(ctx, e))
	}

	all, next := listAudit(t, s, storage.AuditQuery{})
	equal(t, "next cursor of the only page", next, int64(0))
	if len(all) != len(in) {
		t.Fatalf("ListAudit: %d entries, want %d", len(all), len(in))
	}
	for i, got := range all { // newest first
		want := in[len(in)-1-i]
		if got.ID <= 0 || (i > 0 && got.ID >= all[i-1].ID) {
			t.Fatalf("entry %d: id %d, want positive and decreasing", i, got.ID)
		}
		want.ID = got.ID
		equal(t, fmt.Sprintf("entry %d", i), got, want)
	}

	for _, tc := range []struct {
		name string
		q    storage.AuditQuery
		want []string
	}{
		{"actor", storage.AuditQuery{ActorID: "admin1"}, []string{"user.disable", "employee.create"}},
		{"target", storage.AuditQuery{TargetID: "u1"}, []string{"user.disable", "employee.create"}},
		{"action", storage.AuditQuery{Action: "user.disable"}, []string{"user.disable", "user.disable"}},
		{"actor and action", storage.AuditQuery{ActorID: "admin1", Action: "user.disable"}, []string{"user.disable"}},
		{"from (inclusive)", storage.AuditQuery{From: base.Add(2 * time.Minute)}, []string{"user.disable", "client.rotate_secret"}},
		{"to (exclusive)", storage.AuditQuery{To: base.Add(time.Minute)}, []string{"employee.create"}},
		{"from and to", storage.AuditQuery{From: base.Add(time.Minute), To: base.Add(3 * time.Minute)}, []string{"client.rotate_secret", "user.disable"}},
		{"before", storage.AuditQuery{Before: all[1].ID}, []string{"user.disable", "employee.create"}},
		{"no match", storage.AuditQuery{ActorID: "nobody"}, []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, next := listAudit(t, s, tc.q)
			equal(t, "actions", auditActions(got), tc.want)
			equal(t, "next", next, int64(0))
		})
	}

	if err := s.AppendAudit(ctx, storage.AuditEntry{At: base}); err == nil {
		t.Fatal("AppendAudit without an action: want an error")
	}
}

func testAuditPages(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	const total = 60
	// In one transaction: sixty round trips less on a remote database.
	must(t, s.InTx(ctx, func(tx storage.Storage) error {
		for i := range total {
			if err := tx.AppendAudit(ctx, storage.AuditEntry{Action: fmt.Sprintf("a%02d", i), TargetType: "user", TargetID: "u"}); err != nil {
				return err
			}
		}
		return nil
	}))

	first, next := listAudit(t, s, storage.AuditQuery{})
	equal(t, "default page size", len(first), 50)
	equal(t, "newest first", first[0].Action, "a59")
	if first[0].At.IsZero() {
		t.Error("At not set by the store")
	}
	equal(t, "next cursor", next, first[49].ID)
	rest, next := listAudit(t, s, storage.AuditQuery{Before: next})
	equal(t, "rest", len(rest), 10)
	equal(t, "last entry", rest[9].Action, "a00")
	equal(t, "next cursor at the end", next, int64(0))

	// Pages of 7 walk every entry once.
	var seen []string
	for before := int64(0); ; {
		page, next := listAudit(t, s, storage.AuditQuery{TargetID: "u", Before: before, Limit: 7})
		seen = append(seen, auditActions(page)...)
		if next == 0 {
			break
		}
		before = next
	}
	equal(t, "entries walked", len(seen), total)
	equal(t, "walked in order", seen[0]+" "+seen[total-1], "a59 a00")
	// An exact multiple of the page size ends with next 0 on the last page.
	page, next := listAudit(t, s, storage.AuditQuery{Limit: total})
	equal(t, "one page of all", len(page), total)
	equal(t, "next after one page of all", next, int64(0))
}
