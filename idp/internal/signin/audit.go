package signin

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/cliniconnects/identity/idp/internal/storage"
	api "github.com/cliniconnects/identity/shared/adminapi"
)

// Sign-in outcomes go to the audit log beside the record changes, with the
// source address:
//
//   - signin.success: actor and target are the user (they proved who they
//     are);
//   - signin.failure: a password that was checked and did not sign in;
//     target is the account when the email has one. The actor is empty:
//     a failure does not tell who tried. For an email without an account
//     the target is empty and nothing about the address is stored — not
//     even a hash, since people type passwords into the email field;
//   - signin.lock: the failure that locked a counter ("account",
//     "device" or "source") and until when;
//   - signin.unlock: a lock lifted before it ran out (Unlock).
//
// Attempts refused while a lock is in force are not checked and not
// written (the log has them), so a flood cannot fill the audit log. No
// entry ever holds a password or an attempted email address.
const targetUser = "user"

// event is one sign-in outcome for the audit log.
type event struct {
	action  string
	user    storage.User // zero for an email without an account
	source  string
	trusted bool // through a device cookie
	details map[string][2]any
}

func (s *Service) audit(ctx context.Context, now time.Time, e event) error {
	entry := storage.AuditEntry{At: now, Action: e.action, SourceAddr: e.source, Changes: e.details}
	if e.user.ID != "" {
		entry.TargetType, entry.TargetID = targetUser, e.user.ID
	}
	if e.action == api.ActionSigninSuccess {
		entry.ActorID = e.user.ID
	}
	if e.trusted {
		if entry.Changes == nil {
			entry.Changes = map[string][2]any{}
		}
		entry.Changes["device"] = [2]any{nil, "trusted"}
	}
	if err := s.Store.AppendAudit(ctx, entry); err != nil {
		s.observeAudited(e.action, false)
		return fmt.Errorf("signin: audit %s: %w", e.action, err)
	}
	s.observeAudited(e.action, true)
	return nil
}

// auditBestEffort writes an entry for an attempt that fails anyway; a
// store error is logged, not returned.
func (s *Service) auditBestEffort(ctx context.Context, log *slog.Logger, now time.Time, e event) {
	if err := s.audit(ctx, now, e); err != nil {
		log.ErrorContext(ctx, "sign-in: writing audit entry", "action", e.action, "err", err)
	}
}

func lockDetails(counter string, t storage.Throttle) map[string][2]any {
	return map[string][2]any{
		"counter":      {nil, counter},
		"locked_until": {nil, t.LockedUntil.UTC().Format(time.RFC3339)},
	}
}

// Unlock lifts the sign-in lock of u's account (the counter shared by
// browsers without a device cookie) before it runs out and records
// signin.unlock by actorID ("" for the CLI or the system) from sourceAddr.
// st may be a transaction. It reports whether a lock was in force; without
// one it changes nothing and writes nothing.
func Unlock(ctx context.Context, st storage.Storage, u storage.User, actorID, sourceAddr string, now time.Time) (bool, error) {
	key := AccountKey(u.Email)
	t, err := st.GetThrottle(ctx, key)
	if err != nil {
		return false, fmt.Errorf("signin: reading throttle: %w", err)
	}
	if !t.LockedUntil.After(now) {
		return false, nil
	}
	if err := st.ResetThrottle(ctx, key); err != nil {
		return false, fmt.Errorf("signin: lifting lock: %w", err)
	}
	err = st.AppendAudit(ctx, storage.AuditEntry{
		At: now, ActorID: actorID, Action: api.ActionSigninUnlock, TargetType: targetUser, TargetID: u.ID,
		SourceAddr: sourceAddr, Changes: map[string][2]any{"locked_until": {t.LockedUntil.UTC().Format(time.RFC3339), nil}},
	})
	if err != nil {
		return false, fmt.Errorf("signin: audit %s: %w", api.ActionSigninUnlock, err)
	}
	return true, nil
}
