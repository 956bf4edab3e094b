package account

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/cliniconnects/identity/idp/internal/storage"
)

// Actor is who makes a change, as the audit log records it beside the
// change: a signed-in user changing their own account, the user a link
// was sent to, an administrator, or the system.
type Actor struct {
	// ID is the acting user's id; "" for the system or the CLI.
	ID string
	// Source is the client's IP address; "" when there is none (the CLI).
	Source string
}

// audit appends one entry for a change of user userID by by, in tx: the
// change and its entry commit together or not at all.
func audit(ctx context.Context, tx storage.Storage, now time.Time, by Actor, action, userID string, changes map[string][2]any) error {
	err := tx.AppendAudit(ctx, storage.AuditEntry{
		At: now, ActorID: by.ID, Action: action, TargetType: "user", TargetID: userID,
		SourceAddr: by.Source, Changes: changes,
	})
	if err != nil {
		return fmt.Errorf("account: audit %s: %w", action, err)
	}
	return nil
}

// secretChanged stands for a secret's old and new value in an audit entry.
const secretChanged = "(changed)"

// UserChanges lists the fields that differ between before and after (a
// zero before: every field set at creation), as the audit log records
// them. The password hash shows only as changed.
func UserChanges(before, after storage.User) map[string][2]any {
	ch := map[string][2]any{}
	str := func(name, a, b string) {
		if a != b {
			ch[name] = [2]any{nilIfEmpty(a), nilIfEmpty(b)}
		}
	}
	if before.ID == "" {
		str("type", "", string(after.Type))
	}
	str("given_name", before.GivenName, after.GivenName)
	str("family_name", before.FamilyName, after.FamilyName)
	str("email", before.Email, after.Email)
	str("phone", before.Phone, after.Phone)
	str("status", string(before.Status), string(after.Status))
	str("job_title", before.JobTitle, after.JobTitle)
	str("department", before.Department, after.Department)
	str("discipline", before.Discipline, after.Discipline)
	if before.EmailVerified != after.EmailVerified {
		ch["email_verified"] = [2]any{before.EmailVerified, after.EmailVerified}
	}
	if !slices.Equal(roleStrings(before.Roles), roleStrings(after.Roles)) {
		ch["roles"] = [2]any{roleStrings(before.Roles), roleStrings(after.Roles)}
	}
	if before.PasswordHash != after.PasswordHash {
		ch["password"] = [2]any{secretChanged, secretChanged}
	}
	return ch
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// roleStrings lists roles highest first; none is [] (never null).
func roleStrings(roles []storage.Role) []string {
	out := []string{}
	for _, r := range storage.Roles {
		if slices.Contains(roles, r) {
			out = append(out, string(r))
		}
	}
	return out
}
