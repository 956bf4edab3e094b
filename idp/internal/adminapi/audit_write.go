package adminapi

import (
	"context"
	"slices"
	"time"

	"github.com/cliniconnects/identity/idp/internal/storage"
)

// audit appends one entry for the caller's change, in tx: the change and
// its record commit together or not at all.
func (c *call) audit(ctx context.Context, tx storage.Storage, at time.Time, action, targetType, targetID string, changes map[string][2]any) error {
	return tx.AppendAudit(ctx, storage.AuditEntry{
		At: at, ActorID: c.actor.ID, Action: action, TargetType: targetType, TargetID: targetID,
		SourceAddr: c.source, Changes: changes,
	})
}

// secretChanged stands for a secret's old and new value in an audit entry.
const secretChanged = "(changed)"

// userChanges lists the fields that differ between before and after (a
// zero before: every field set at creation). The password hash shows only
// as changed.
func userChanges(before, after storage.User) map[string][2]any {
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

func roleStrings(roles []storage.Role) []string {
	out := []string{}
	for _, r := range toAPIRoles(roles) {
		out = append(out, string(r))
	}
	return out
}
