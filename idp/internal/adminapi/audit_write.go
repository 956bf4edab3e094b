package adminapi

import (
	"context"
	"time"

	"github.com/cliniconnects/identity/idp/internal/storage"
)

// audit appends one entry for the caller's change of a client, in tx: the
// change and its record commit together or not at all. (Changes of users
// are audited by the account package, with the same actor and source.)
func (c *call) audit(ctx context.Context, tx storage.Storage, at time.Time, action, targetType, targetID string, changes map[string][2]any) error {
	return tx.AppendAudit(ctx, storage.AuditEntry{
		At: at, ActorID: c.actor.ID, Action: action, TargetType: targetType, TargetID: targetID,
		SourceAddr: c.source, Changes: changes,
	})
}

// secretChanged stands for a secret's old and new value in an audit entry.
const secretChanged = "(changed)"

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
