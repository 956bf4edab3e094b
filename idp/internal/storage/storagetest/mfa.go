package storagetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/cliniconnects/identity/idp/internal/storage"
)

// mfaTests are the conformance tests of storage.MFA; Run runs them with
// the others.
var mfaTests = []struct {
	name string
	fn   func(t *testing.T, s storage.Storage)
}{
	{"TOTPEnrolment", testTOTPEnrolment},
	{"TOTPReplay", testTOTPReplay},
	{"TOTPReplayConcurrent", testTOTPReplayConcurrent},
	{"TOTPConfirmConcurrent", testTOTPConfirmConcurrent},
	{"RecoveryCodes", testRecoveryCodes},
	{"RecoveryCodeConcurrent", testRecoveryCodeConcurrent},
	{"DeleteMFA", testDeleteMFA},
	{"MFAStatuses", testMFAStatuses},
	{"MFAInTx", testMFAInTx},
}

func pendingTOTP(u storage.User, secret string, created time.Time) storage.TOTP {
	return storage.TOTP{UserID: u.ID, Secret: []byte(secret), CreatedAt: created}
}

func getTOTP(t *testing.T, s storage.Storage, userID string) storage.TOTP {
	t.Helper()
	got, err := s.GetTOTP(t.Context(), userID)
	if err != nil {
		t.Fatalf("GetTOTP(%s): %v", userID, err)
	}
	return got
}

// enrolled gives u a confirmed TOTP whose last used step is step.
func enrolled(t *testing.T, s storage.Storage, u storage.User, step int64) storage.TOTP {
	t.Helper()
	must(t, s.PutPendingTOTP(t.Context(), pendingTOTP(u, "sealed-"+u.ID, base)))
	got, err := s.ConfirmTOTP(t.Context(), u.ID, step, base.Add(time.Minute))
	if err != nil {
		t.Fatalf("ConfirmTOTP: %v", err)
	}
	return got
}

// testTOTPEnrolment: a pending TOTP can be replaced until it is
// confirmed; confirming it once records the step; a confirmed TOTP is not
// replaced by a new enrolment.
func testTOTPEnrolment(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	ann := createUser(t, s, employee("Ann", "Lee", "ann@example.org"))
	_, err := s.GetTOTP(ctx, ann.ID)
	wantErr(t, "GetTOTP(none)", err, storage.ErrNotFound)
	wantErr(t, "PutPendingTOTP(unknown user)", s.PutPendingTOTP(ctx, pendingTOTP(storage.User{ID: "nobody"}, "s", base)), storage.ErrNotFound)

	first := pendingTOTP(ann, "sealed-1", base)
	must(t, s.PutPendingTOTP(ctx, first))
	equal(t, "pending TOTP", getTOTP(t, s, ann.ID), first)
	second := pendingTOTP(ann, "sealed-2", base.Add(time.Minute))
	must(t, s.PutPendingTOTP(ctx, second))
	equal(t, "pending TOTP replaced", getTOTP(t, s, ann.ID), second)
	wantErr(t, "UseTOTPStep(pending)", s.UseTOTPStep(ctx, ann.ID, 100), storage.ErrNotFound)

	now := base.Add(2 * time.Minute)
	got, err := s.ConfirmTOTP(ctx, ann.ID, 1000, now)
	must(t, err)
	want := second
	want.ConfirmedAt, want.LastStep = now, 1000
	equal(t, "ConfirmTOTP", got, want)
	equal(t, "confirmed TOTP", getTOTP(t, s, ann.ID), want)

	_, err = s.ConfirmTOTP(ctx, ann.ID, 1001, now.Add(time.Minute))
	wantErr(t, "ConfirmTOTP a second time", err, storage.ErrNotFound)
	wantErr(t, "PutPendingTOTP over a confirmed one", s.PutPendingTOTP(ctx, pendingTOTP(ann, "sealed-3", now)), storage.ErrAlreadyExists)
	equal(t, "confirmed TOTP after refused changes", getTOTP(t, s, ann.ID), want)
	_, err = s.ConfirmTOTP(ctx, "nobody", 1, now)
	wantErr(t, "ConfirmTOTP(unknown user)", err, storage.ErrNotFound)
}

// testTOTPReplay: a step is accepted only when later than the last one.
func testTOTPReplay(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	ann := createUser(t, s, employee("Ann", "Lee", "ann@example.org"))
	enrolled(t, s, ann, 1000)
	wantErr(t, "UseTOTPStep(the confirming step)", s.UseTOTPStep(ctx, ann.ID, 1000), storage.ErrReused)
	wantErr(t, "UseTOTPStep(an earlier step)", s.UseTOTPStep(ctx, ann.ID, 999), storage.ErrReused)
	must(t, s.UseTOTPStep(ctx, ann.ID, 1001))
	wantErr(t, "UseTOTPStep(1001 again)", s.UseTOTPStep(ctx, ann.ID, 1001), storage.ErrReused)
	must(t, s.UseTOTPStep(ctx, ann.ID, 1003))
	wantErr(t, "UseTOTPStep(1002 after 1003)", s.UseTOTPStep(ctx, ann.ID, 1002), storage.ErrReused)
	equal(t, "LastStep", getTOTP(t, s, ann.ID).LastStep, int64(1003))
	wantErr(t, "UseTOTPStep(no TOTP)", s.UseTOTPStep(ctx, "nobody", 2000), storage.ErrNotFound)
}

// testTOTPReplayConcurrent: of many callers presenting one code's step at
// once exactly one wins.
func testTOTPReplayConcurrent(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	ann := createUser(t, s, employee("Ann", "Lee", "ann@example.org"))
	enrolled(t, s, ann, 1000)
	for step := int64(1001); step <= 1003; step++ {
		errs := race(concurrency, func(int) error { return s.UseTOTPStep(ctx, ann.ID, step) })
		equal(t, fmt.Sprintf("callers that used step %d", step), winners(t, errs, storage.ErrReused), 1)
	}
	equal(t, "LastStep", getTOTP(t, s, ann.ID).LastStep, int64(1003))
}

// testTOTPConfirmConcurrent: of many confirmations of one pending TOTP
// exactly one wins.
func testTOTPConfirmConcurrent(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	ann := createUser(t, s, employee("Ann", "Lee", "ann@example.org"))
	must(t, s.PutPendingTOTP(ctx, pendingTOTP(ann, "sealed", base)))
	errs := race(concurrency, func(i int) error {
		_, err := s.ConfirmTOTP(ctx, ann.ID, 1000+int64(i), base.Add(time.Minute))
		return err
	})
	equal(t, "confirmations that won", winners(t, errs, storage.ErrNotFound), 1)
}

func testRecoveryCodes(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	ann := createUser(t, s, employee("Ann", "Lee", "ann@example.org"))
	bo := createUser(t, s, employee("Bo", "Kim", "bo@example.org"))
	enrolled(t, s, ann, 1)
	enrolled(t, s, bo, 1)
	wantErr(t, "ReplaceRecoveryCodes(unknown user)", s.ReplaceRecoveryCodes(ctx, "nobody", []string{"h"}, base), storage.ErrNotFound)
	must(t, s.ReplaceRecoveryCodes(ctx, ann.ID, []string{"a1", "a2", "a3"}, base))
	must(t, s.ReplaceRecoveryCodes(ctx, bo.ID, []string{"b1"}, base))

	wantErr(t, "UseRecoveryCode(another user's)", s.UseRecoveryCode(ctx, ann.ID, "b1", base), storage.ErrNotFound)
	wantErr(t, "UseRecoveryCode(unknown)", s.UseRecoveryCode(ctx, ann.ID, "zz", base), storage.ErrNotFound)
	must(t, s.UseRecoveryCode(ctx, ann.ID, "a2", base))
	wantErr(t, "UseRecoveryCode a second time", s.UseRecoveryCode(ctx, ann.ID, "a2", base.Add(time.Second)), storage.ErrReused)
	equal(t, "codes left", statusOf(t, s, ann.ID).RecoveryCodesLeft, 2)

	// New codes replace the old ones, used or not.
	must(t, s.ReplaceRecoveryCodes(ctx, ann.ID, []string{"n1", "n2"}, base.Add(time.Hour)))
	wantErr(t, "UseRecoveryCode(replaced)", s.UseRecoveryCode(ctx, ann.ID, "a1", base.Add(time.Hour)), storage.ErrNotFound)
	wantErr(t, "UseRecoveryCode(replaced, used)", s.UseRecoveryCode(ctx, ann.ID, "a2", base.Add(time.Hour)), storage.ErrNotFound)
	equal(t, "codes left after replacement", statusOf(t, s, ann.ID).RecoveryCodesLeft, 2)
	equal(t, "other user's codes left", statusOf(t, s, bo.ID).RecoveryCodesLeft, 1)
}

// testRecoveryCodeConcurrent: of many callers using one code at once
// exactly one wins.
func testRecoveryCodeConcurrent(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	ann := createUser(t, s, employee("Ann", "Lee", "ann@example.org"))
	enrolled(t, s, ann, 1)
	must(t, s.ReplaceRecoveryCodes(ctx, ann.ID, []string{"c1", "c2"}, base))
	errs := race(concurrency, func(int) error { return s.UseRecoveryCode(ctx, ann.ID, "c1", base.Add(time.Minute)) })
	equal(t, "callers that used the code", winners(t, errs, storage.ErrReused), 1)
	equal(t, "codes left", statusOf(t, s, ann.ID).RecoveryCodesLeft, 1)
}

func testDeleteMFA(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	ann := createUser(t, s, employee("Ann", "Lee", "ann@example.org"))
	bo := createUser(t, s, employee("Bo", "Kim", "bo@example.org"))
	wantErr(t, "DeleteMFA(none)", s.DeleteMFA(ctx, ann.ID), storage.ErrNotFound)
	enrolled(t, s, ann, 1)
	enrolled(t, s, bo, 1)
	must(t, s.ReplaceRecoveryCodes(ctx, ann.ID, []string{"a1"}, base))
	must(t, s.ReplaceRecoveryCodes(ctx, bo.ID, []string{"b1"}, base))

	must(t, s.DeleteMFA(ctx, ann.ID))
	_, err := s.GetTOTP(ctx, ann.ID)
	wantErr(t, "GetTOTP after DeleteMFA", err, storage.ErrNotFound)
	wantErr(t, "UseRecoveryCode after DeleteMFA", s.UseRecoveryCode(ctx, ann.ID, "a1", base), storage.ErrNotFound)
	wantErr(t, "DeleteMFA a second time", s.DeleteMFA(ctx, ann.ID), storage.ErrNotFound)
	getTOTP(t, s, bo.ID)
	must(t, s.UseRecoveryCode(ctx, bo.ID, "b1", base))

	// A new enrolment starts afresh: pending, no step used.
	must(t, s.PutPendingTOTP(ctx, pendingTOTP(ann, "again", base.Add(time.Hour))))
	equal(t, "new pending TOTP", getTOTP(t, s, ann.ID), pendingTOTP(ann, "again", base.Add(time.Hour)))
	// A pending TOTP is deleted too.
	must(t, s.DeleteMFA(ctx, ann.ID))
}

func statusOf(t *testing.T, s storage.Storage, userID string) storage.MFAStatus {
	t.Helper()
	m, err := s.MFAStatuses(t.Context(), []string{userID})
	must(t, err)
	st, ok := m[userID]
	if !ok {
		t.Fatalf("MFAStatuses: %s has no confirmed TOTP", userID)
	}
	return st
}

func testMFAStatuses(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	ann := createUser(t, s, employee("Ann", "Lee", "ann@example.org"))
	bo := createUser(t, s, employee("Bo", "Kim", "bo@example.org"))
	cy := createUser(t, s, employee("Cy", "Park", "cy@example.org"))
	enrolled(t, s, ann, 1)
	must(t, s.ReplaceRecoveryCodes(ctx, ann.ID, []string{"a1", "a2", "a3"}, base))
	must(t, s.UseRecoveryCode(ctx, ann.ID, "a3", base))
	must(t, s.PutPendingTOTP(ctx, pendingTOTP(bo, "pending", base))) // pending: not enabled

	got, err := s.MFAStatuses(ctx, []string{ann.ID, bo.ID, cy.ID, "nobody"})
	must(t, err)
	equal(t, "MFAStatuses", got, map[string]storage.MFAStatus{
		ann.ID: {EnabledAt: base.Add(time.Minute), RecoveryCodesLeft: 2},
	})
	got, err = s.MFAStatuses(ctx, nil)
	must(t, err)
	equal(t, "MFAStatuses(none)", len(got), 0)
}

// testMFAInTx: the MFA methods join InTx's transaction, so an enrolment
// confirmed with its codes rolls back as a whole.
func testMFAInTx(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	ann := createUser(t, s, employee("Ann", "Lee", "ann@example.org"))
	must(t, s.PutPendingTOTP(ctx, pendingTOTP(ann, "sealed", base)))
	errStop := fmt.Errorf("stop")
	err := s.InTx(ctx, func(tx storage.Storage) error {
		if _, err := tx.ConfirmTOTP(ctx, ann.ID, 5, base); err != nil {
			return err
		}
		if err := tx.ReplaceRecoveryCodes(ctx, ann.ID, []string{"x"}, base); err != nil {
			return err
		}
		return errStop
	})
	wantErr(t, "InTx", err, errStop)
	if getTOTP(t, s, ann.ID).Confirmed() {
		t.Fatal("confirmation kept after rollback")
	}
	wantErr(t, "recovery code kept after rollback", s.UseRecoveryCode(ctx, ann.ID, "x", base), storage.ErrNotFound)
	must(t, s.InTx(ctx, func(tx storage.Storage) error {
		if _, err := tx.ConfirmTOTP(ctx, ann.ID, 5, base); err != nil {
			return err
		}
		return tx.ReplaceRecoveryCodes(ctx, ann.ID, []string{"x", "y"}, base)
	}))
	equal(t, "codes after commit", statusOf(t, s, ann.ID).RecoveryCodesLeft, 2)
}
