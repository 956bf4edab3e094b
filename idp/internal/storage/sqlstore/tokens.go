package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/cliniconnects/identity/idp/internal/storage"
)

// accessTokenColumns are the columns an access token is stored with, in
// accessTokenArgs' order.
const accessTokenColumns = `id, family_id, client_id, subject, audience, scopes, created_at,
	expires_at, revoked_at`

const insertAccessTokenSQL = `INSERT INTO access_tokens (` + accessTokenColumns + `)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`

// accessTokenArgs are t's values for accessTokenColumns.
func accessTokenArgs(t storage.AccessToken) []any {
	return []any{t.ID, t.FamilyID, t.ClientID, t.Subject, listArg(t.Audience), listArg(t.Scopes),
		t.CreatedAt, t.ExpiresAt, nullTime(t.RevokedAt)}
}

func (s *Store) CreateAccessToken(ctx context.Context, t storage.AccessToken) error {
	return s.retry(ctx, func() error { return s.insertAccessToken(ctx, s.q, t) })
}

// insertAccessToken runs in a transaction (rotation) or not; the caller
// retries.
func (s *Store) insertAccessToken(ctx context.Context, q querier, t storage.AccessToken) error {
	if t.ID == "" {
		return errors.New("create access token: empty id")
	}
	if t.CreatedAt.IsZero() {
		t.CreatedAt = s.now()
	}
	if _, err := q.ExecContext(ctx, insertAccessTokenSQL, accessTokenArgs(t)...); err != nil {
		return s.writeErr("create access token", err)
	}
	return nil
}

// accessTokenReadColumns are what every access token query reads, in
// accessTokenDest's order: the token (t) and when its family was revoked
// (f). A token stored concurrently with (after) the revocation of its
// family has no revoked_at of its own and is dead all the same.
var accessTokenReadColumns = qualified("t", accessTokenColumns) + `, f.revoked_at`

// accessTokenDest are the scan destinations of accessTokenReadColumns.
func accessTokenDest(t *storage.AccessToken, familyRevoked *time.Time) []any {
	return []any{&t.ID, &t.FamilyID, &t.ClientID, &t.Subject, listCol[string]{&t.Audience},
		listCol[string]{&t.Scopes}, timeCol{&t.CreatedAt}, timeCol{&t.ExpiresAt}, timeCol{&t.RevokedAt},
		timeCol{familyRevoked}}
}

// accessTokenUserColumns are accessTokenReadColumns and the subject's user row
// (u) with its roles, read through accessTokenUserJoins; the user's
// columns are NULL when the subject is no user.
var accessTokenUserColumns = accessTokenReadColumns + `, ` + joinedUserColumns

// accessTokenUserJoins join the family's revocation and the subject's user
// to the access token t.
const accessTokenUserJoins = `LEFT JOIN revoked_families f ON f.family_id = t.family_id
	LEFT JOIN users u ON u.id = t.subject`

// accessTokenUserDest are the scan destinations of accessTokenUserColumns;
// the user's take NULL.
func accessTokenUserDest(t *storage.AccessToken, familyRevoked *time.Time, u *storage.User) []any {
	return append(accessTokenDest(t, familyRevoked), joinedUserDest(u)...)
}

// accessTokenUser is what a read of accessTokenUserColumns returns:
// RevokedAt is the token's own revocation or else its family's, and the
// user is the zero User when the subject is no user.
func accessTokenUser(t storage.AccessToken, familyRevoked time.Time, u storage.User) (storage.AccessToken, storage.User) {
	if t.RevokedAt.IsZero() {
		t.RevokedAt = familyRevoked
	}
	return t, joinedUser(u)
}

// joinedUserColumns are a user row (u) LEFT JOINed to a token, with its
// roles; all NULL when there is no such user.
var joinedUserColumns = qualified("u", userColumns) + `, ` + rolesOf("u")

// joinedUserDest are the scan destinations of joinedUserColumns: NULLs
// leave u zero.
func joinedUserDest(u *storage.User) []any {
	return orZero(append(userDest(u), rolesCol{&u.Roles}))
}

// joinedUser is u as read through joinedUserDest: the zero User when
// there was none (its roles aggregate may still have read an empty list).
func joinedUser(u storage.User) storage.User {
	if u.ID == "" {
		return storage.User{}
	}
	return u
}

var getAccessTokenSQL = `SELECT ` + accessTokenReadColumns + `
FROM access_tokens t LEFT JOIN revoked_families f ON f.family_id = t.family_id
WHERE t.id = $1`

// GetAccessToken returns the token whatever its state; RevokedAt is its own
// revocation or else its family's.
func (s *Store) GetAccessToken(ctx context.Context, id string) (storage.AccessToken, error) {
	var t storage.AccessToken
	var familyRevoked time.Time
	err := s.q.QueryRowContext(ctx, getAccessTokenSQL, id).Scan(accessTokenDest(&t, &familyRevoked)...)
	if errors.Is(err, sql.ErrNoRows) {
		return storage.AccessToken{}, fmt.Errorf("access token: %w", storage.ErrNotFound)
	}
	if err != nil {
		return storage.AccessToken{}, fmt.Errorf("get access token: %w", err)
	}
	if t.RevokedAt.IsZero() {
		t.RevokedAt = familyRevoked
	}
	return t, nil
}

// getAccessTokenUserSQL is getAccessTokenSQL and the subject's user row
// with its roles.
var getAccessTokenUserSQL = `SELECT ` + accessTokenUserColumns + `
FROM access_tokens t ` + accessTokenUserJoins + `
WHERE t.id = $1`

// GetAccessTokenUser reads the token, its user and the user's roles in one
// statement: what userinfo and introspection need, in one round trip.
func (s *Store) GetAccessTokenUser(ctx context.Context, id string) (storage.AccessToken, storage.User, error) {
	var t storage.AccessToken
	var familyRevoked time.Time
	var u storage.User
	err := s.q.QueryRowContext(ctx, getAccessTokenUserSQL, id).Scan(accessTokenUserDest(&t, &familyRevoked, &u)...)
	if errors.Is(err, sql.ErrNoRows) {
		return storage.AccessToken{}, storage.User{}, fmt.Errorf("access token: %w", storage.ErrNotFound)
	}
	if err != nil {
		return storage.AccessToken{}, storage.User{}, fmt.Errorf("get access token and user: %w", err)
	}
	t, u = accessTokenUser(t, familyRevoked, u)
	return t, u, nil
}

// RevokeAccessToken revokes the token; revoking it again keeps the first time.
func (s *Store) RevokeAccessToken(ctx context.Context, id string, now time.Time) error {
	n, err := s.exec(ctx, `UPDATE access_tokens SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1`, id, now)
	if err != nil {
		return fmt.Errorf("revoke access token: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("access token: %w", storage.ErrNotFound)
	}
	return nil
}

// refreshTokenInsertColumns are the columns a refresh token is stored
// with, in refreshTokenArgs' order.
const refreshTokenInsertColumns = `id_hash, family_id, client_id, user_id, scopes, audience,
	auth_time, amr, created_at, expires_at, rotated_at, revoked_at, device`

const insertRefreshTokenSQL = `INSERT INTO refresh_tokens (` + refreshTokenInsertColumns + `)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`

// refreshTokenArgs are t's values for refreshTokenInsertColumns.
func refreshTokenArgs(t storage.RefreshToken) []any {
	return []any{t.IDHash, t.FamilyID, t.ClientID, t.UserID, listArg(t.Scopes), listArg(t.Audience),
		t.AuthTime, listArg(t.AMR), t.CreatedAt, t.ExpiresAt, nullTime(t.RotatedAt), nullTime(t.RevokedAt),
		t.Device}
}

func (s *Store) CreateRefreshToken(ctx context.Context, t storage.RefreshToken) error {
	return s.retry(ctx, func() error { return s.insertRefreshToken(ctx, s.q, t) })
}

// insertRefreshToken runs in a transaction (rotation) or not; the caller
// retries.
func (s *Store) insertRefreshToken(ctx context.Context, q querier, t storage.RefreshToken) error {
	if t.IDHash == "" || t.FamilyID == "" {
		return errors.New("create refresh token: empty id hash or family")
	}
	if t.CreatedAt.IsZero() {
		t.CreatedAt = s.now()
	}
	if _, err := q.ExecContext(ctx, insertRefreshTokenSQL, refreshTokenArgs(t)...); err != nil {
		return s.writeErr("create refresh token", err)
	}
	return nil
}

// refreshTokenColumns are what every refresh token query reads, in
// refreshDest's order: the token and when its family was revoked, as
// getAccessTokenSQL does.
const refreshTokenColumns = `t.id_hash, t.family_id, t.client_id, t.user_id, t.scopes,
	t.audience, t.auth_time, t.amr, t.created_at, t.expires_at, t.rotated_at, t.revoked_at,
	t.successor_hash, t.device, f.revoked_at`

// refreshDest are the scan destinations of refreshTokenColumns.
func refreshDest(t *storage.RefreshToken, familyRevoked *time.Time) []any {
	return []any{&t.IDHash, &t.FamilyID, &t.ClientID, &t.UserID, listCol[string]{&t.Scopes},
		listCol[string]{&t.Audience}, timeCol{&t.AuthTime}, listCol[string]{&t.AMR}, timeCol{&t.CreatedAt},
		timeCol{&t.ExpiresAt}, timeCol{&t.RotatedAt}, timeCol{&t.RevokedAt}, textCol{&t.SuccessorHash},
		&t.Device, timeCol{familyRevoked}}
}

const getRefreshTokenSQL = `SELECT ` + refreshTokenColumns + `
FROM refresh_tokens t LEFT JOIN revoked_families f ON f.family_id = t.family_id
WHERE t.id_hash = $1`

// GetRefreshToken returns the token whatever its state; RevokedAt is its
// own revocation or else its family's.
func (s *Store) GetRefreshToken(ctx context.Context, idHash string) (storage.RefreshToken, error) {
	return getRefreshToken(ctx, s.q, idHash)
}

func getRefreshToken(ctx context.Context, q querier, idHash string) (storage.RefreshToken, error) {
	var t storage.RefreshToken
	var familyRevoked time.Time
	err := q.QueryRowContext(ctx, getRefreshTokenSQL, idHash).Scan(refreshDest(&t, &familyRevoked)...)
	if errors.Is(err, sql.ErrNoRows) {
		return storage.RefreshToken{}, fmt.Errorf("refresh token: %w", storage.ErrNotFound)
	}
	if err != nil {
		return storage.RefreshToken{}, fmt.Errorf("get refresh token: %w", err)
	}
	if t.RevokedAt.IsZero() {
		t.RevokedAt = familyRevoked
	}
	return t, nil
}

// getRefreshTokenUserSQL is getRefreshTokenSQL and the token's user row
// with its roles (NULLs when the user is gone).
var getRefreshTokenUserSQL = `SELECT ` + refreshTokenColumns + `, ` + joinedUserColumns + `
FROM refresh_tokens t LEFT JOIN revoked_families f ON f.family_id = t.family_id
	LEFT JOIN users u ON u.id = t.user_id
WHERE t.id_hash = $1`

// GetRefreshTokenUser reads the token, its user and the user's roles in
// one statement: what a refresh checks before it rotates.
func (s *Store) GetRefreshTokenUser(ctx context.Context, idHash string) (storage.RefreshToken, storage.User, error) {
	var t storage.RefreshToken
	var familyRevoked time.Time
	var u storage.User
	dest := append(refreshDest(&t, &familyRevoked), joinedUserDest(&u)...)
	err := s.q.QueryRowContext(ctx, getRefreshTokenUserSQL, idHash).Scan(dest...)
	if errors.Is(err, sql.ErrNoRows) {
		return storage.RefreshToken{}, storage.User{}, fmt.Errorf("refresh token: %w", storage.ErrNotFound)
	}
	if err != nil {
		return storage.RefreshToken{}, storage.User{}, fmt.Errorf("get refresh token and user: %w", err)
	}
	if t.RevokedAt.IsZero() {
		t.RevokedAt = familyRevoked
	}
	return t, joinedUser(u), nil
}

// rotateRefreshTokenSQL lets exactly one caller rotate a token: the row
// changes only while it is unrotated, unrevoked, unexpired and of a family
// not revoked, and concurrent callers queue on its row lock and then find
// it rotated.
const rotateRefreshTokenSQL = `UPDATE refresh_tokens SET rotated_at = $2, successor_hash = $3
WHERE id_hash = $1 AND rotated_at IS NULL AND revoked_at IS NULL AND expires_at > $2
	AND NOT EXISTS (SELECT 1 FROM revoked_families f WHERE f.family_id = refresh_tokens.family_id)
RETURNING family_id, device`

// rotateInOneStatementSQL is rotateRefreshTokenSQL and the inserts of the
// successor and the access token in the old token's family, as one
// statement (PostgreSQL's data-modifying WITH: dialect.rotateInOneStatement):
// atomic on its own, and one round trip instead of a transaction's five.
// It returns the family, or no row when the token is not rotatable as it
// is — then nothing was written. A concurrent caller's UPDATE waits on the
// row lock and, READ COMMITTED, re-checks its row once the first commits:
// rotated, so no row, and its transaction judges it a retry (or reuse).
// Arguments: rotateInOneStatementArgs.
var rotateInOneStatementSQL = `WITH old AS (` + rotateRefreshTokenSQL + `),
successor AS (INSERT INTO refresh_tokens (` + refreshTokenInsertColumns + `)
	SELECT $3, old.family_id, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, COALESCE(NULLIF($14, ''), old.device)
	FROM old RETURNING family_id)
INSERT INTO access_tokens (` + accessTokenColumns + `)
	SELECT $15, successor.family_id, $16, $17, $18, $19, $20, $21, $22 FROM successor
RETURNING family_id`

// rotateInOneStatementArgs are rotateInOneStatementSQL's: those of
// rotateRefreshTokenSQL, then the successor's and the access token's
// values, their families left out (the old token's is taken).
func rotateInOneStatementArgs(oldHash string, now time.Time, next storage.RefreshToken, access storage.AccessToken) []any {
	rt, at := refreshTokenArgs(next), accessTokenArgs(access)
	args := append([]any{oldHash, now, next.IDHash}, rt[2:]...) // rt[0] is next.IDHash, rt[1] the family
	return append(append(args, at[0]), at[2:]...)
}

// retireSuccessorSQL revokes a successor that was never used, so that a
// retry within the reuse window can replace it; 0 rows when it was used
// (or revoked) meanwhile.
const retireSuccessorSQL = `UPDATE refresh_tokens SET revoked_at = $2
WHERE id_hash = $1 AND rotated_at IS NULL AND revoked_at IS NULL`

// RotateRefreshToken marks oldHash rotated and stores next in its family
// (next.FamilyID is taken from the old token, and so is next.Device when
// empty) together with access, the access token issued with next (its
// FamilyID is the old token's too): all of it or none. On PostgreSQL one
// statement does it when the token is rotatable, the common case
// (rotateInOneStatementSQL); otherwise, and always on SQLite, one
// transaction decides.
//
// A retry — oldHash presented again at most reuseWindow after its
// rotation, its family not revoked, its successor never used — revokes
// that successor and stores next and access in its place. The old
// token's row lock (PostgreSQL) or the database's single writer (SQLite)
// serializes retries of one token, on one replica or several, so two
// retries both succeed and the later one's token is the live one; a
// rotation that waited for a concurrent one counts as its retry.
//
// Every other presentation of a rotated or revoked token, or one whose
// family was revoked, revokes its whole family — that revocation is
// committed, inside InTx too — and gives storage.ErrReused; an unknown or
// expired token gives storage.ErrNotFound. Neither stores next or access.
func (s *Store) RotateRefreshToken(ctx context.Context, oldHash string, next storage.RefreshToken, access storage.AccessToken, now time.Time, reuseWindow time.Duration) error {
	if next.IDHash == "" || access.ID == "" {
		return errors.New("rotate refresh token: empty successor hash or access token id")
	}
	if next.CreatedAt.IsZero() {
		next.CreatedAt = s.now()
	}
	if access.CreatedAt.IsZero() {
		access.CreatedAt = s.now()
	}
	oneStatement := s.d.rotateInOneStatement != ""
	if oneStatement {
		rotated, err := s.rotateInOneStatement(ctx, oldHash, next, access, now)
		if err != nil || rotated {
			return err
		}
	}
	var reused storage.RefreshToken
	err := s.inTx(ctx, func(tx querier) error {
		reused = storage.RefreshToken{}
		if !oneStatement {
			var family, device string
			err := tx.QueryRowContext(ctx, rotateRefreshTokenSQL, oldHash, now, next.IDHash).Scan(&family, &device)
			if err == nil {
				return s.insertSuccessors(ctx, tx, family, device, next, access)
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("rotate refresh token: %w", err)
			}
		}
		// Not rotatable as it is: hold the row while deciding.
		var locked string
		err := tx.QueryRowContext(ctx, `SELECT id_hash FROM refresh_tokens WHERE id_hash = $1`+s.d.lockRow, oldHash).Scan(&locked)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("refresh token: %w", storage.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("rotate refresh token: lock: %w", err)
		}
		old, err := getRefreshToken(ctx, tx, oldHash)
		if err != nil {
			return err
		}
		switch {
		case old.RotatedAt.IsZero() && old.RevokedAt.IsZero():
			return fmt.Errorf("refresh token expired: %w", storage.ErrNotFound)
		case reuseWindow > 0 && old.RevokedAt.IsZero() && now.Before(old.ExpiresAt) && old.SuccessorHash != "" &&
			!now.After(old.RotatedAt.Add(reuseWindow)):
			n, err := execTx(ctx, tx, retireSuccessorSQL, old.SuccessorHash, now)
			if err != nil {
				return fmt.Errorf("rotate refresh token: retire successor: %w", err)
			}
			if n == 1 {
				if _, err := execTx(ctx, tx, `UPDATE refresh_tokens SET successor_hash = $2 WHERE id_hash = $1`, oldHash, next.IDHash); err != nil {
					return fmt.Errorf("rotate refresh token: %w", err)
				}
				return s.insertSuccessors(ctx, tx, old.FamilyID, old.Device, next, access)
			}
		}
		reused = old
		return s.revokeReused(ctx, tx, old.FamilyID, now)
	})
	if err != nil {
		return err
	}
	if reused.FamilyID != "" {
		s.log.Warn("refresh token reused; family revoked", slog.Any("token", reused))
		return fmt.Errorf("rotate refresh token: %w", storage.ErrReused)
	}
	return nil
}

// rotateInOneStatement runs the dialect's one-statement rotation, with
// retries, and reports whether it rotated oldHash; when not, it wrote
// nothing and the transaction must decide.
func (s *Store) rotateInOneStatement(ctx context.Context, oldHash string, next storage.RefreshToken, access storage.AccessToken, now time.Time) (bool, error) {
	args := rotateInOneStatementArgs(oldHash, now, next, access)
	rotated := false
	err := s.retry(ctx, func() error {
		var family string
		err := s.q.QueryRowContext(ctx, s.d.rotateInOneStatement, args...).Scan(&family)
		rotated = err == nil
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		return err
	})
	if err != nil {
		return false, s.writeErr("rotate refresh token", err)
	}
	return rotated, nil
}

// insertSuccessors stores next and access, in tx, in the rotated token's
// family; next keeps its device unless it names its own.
func (s *Store) insertSuccessors(ctx context.Context, tx querier, family, device string, next storage.RefreshToken, access storage.AccessToken) error {
	next.FamilyID, access.FamilyID = family, family
	if next.Device == "" {
		next.Device = device
	}
	if err := s.insertRefreshToken(ctx, tx, next); err != nil {
		return err
	}
	return s.insertAccessToken(ctx, tx, access)
}

// RevokeRefreshToken revokes one token; revoking it again keeps the first
// time.
func (s *Store) RevokeRefreshToken(ctx context.Context, idHash string, now time.Time) error {
	n, err := s.exec(ctx, `UPDATE refresh_tokens SET revoked_at = COALESCE(revoked_at, $2) WHERE id_hash = $1`, idHash, now)
	if err != nil {
		return fmt.Errorf("revoke refresh token: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("refresh token: %w", storage.ErrNotFound)
	}
	return nil
}

// RevokeFamily revokes every refresh and access token of the family, and
// records the family as revoked so that tokens stored in it later read back
// revoked too.
func (s *Store) RevokeFamily(ctx context.Context, familyID string, now time.Time) error {
	return s.inTx(ctx, func(tx querier) error { return revokeFamily(ctx, tx, familyID, now) })
}

// revokeReused revokes the family of a reused code or refresh token. Inside
// InTx it also notes the family, so that it stays revoked however the
// transaction ends.
func (s *Store) revokeReused(ctx context.Context, tx querier, familyID string, now time.Time) error {
	if err := revokeFamily(ctx, tx, familyID, now); err != nil {
		return err
	}
	if s.tx != nil {
		s.tx.reused = append(s.tx.reused, revocation{family: familyID, at: now})
	}
	return nil
}

// revokeFamilySQL: the family's record first (the first revocation time is
// kept; concurrent revokers queue on its key), then its tokens. The record
// stays after DeleteExpired: it is one small row per revoked family.
var revokeFamilySQL = []string{
	`INSERT INTO revoked_families (family_id, revoked_at) VALUES ($1, $2) ON CONFLICT (family_id) DO NOTHING`,
	`UPDATE refresh_tokens SET revoked_at = $2 WHERE family_id = $1 AND revoked_at IS NULL`,
	`UPDATE access_tokens SET revoked_at = $2 WHERE family_id = $1 AND revoked_at IS NULL`,
}

func revokeFamily(ctx context.Context, tx querier, familyID string, now time.Time) error {
	if familyID == "" { // "" is every client_credentials token, not a family
		return errors.New("revoke family: empty family id")
	}
	for _, q := range revokeFamilySQL {
		if _, err := tx.ExecContext(ctx, q, familyID, now); err != nil {
			return fmt.Errorf("revoke family: %w", err)
		}
	}
	return nil
}

// revokeUserFamiliesSQL records the families of the tokens RevokeUserGrants
// ($1 the user, $2 the time) just revoked in revoked_families
// (revoked_at = $2 types the parameter on both backends).
const revokeUserFamiliesSQL = `INSERT INTO revoked_families (family_id, revoked_at)
	SELECT family_id, revoked_at FROM refresh_tokens WHERE user_id = $1 AND revoked_at = $2
	UNION SELECT family_id, revoked_at FROM access_tokens WHERE subject = $1 AND family_id <> '' AND revoked_at = $2
	ON CONFLICT (family_id) DO NOTHING`

// RevokeUserGrants revokes every session, refresh token and access token of
// the user and voids their open one-time links, in one transaction.
//
// It also records the families of the tokens it revokes as revoked
// (revoked_families), as RevokeFamily does: a refresh rotating while the
// revocation runs stores its successor in a family the revocation's UPDATE
// cannot see (on PostgreSQL the UPDATE waits for the rotated row, rechecks
// that row only, and the successor committed after its snapshot), and a
// client refreshing in a loop would otherwise keep a live token through a
// password reset or "sign out everywhere". Recorded, the family reads back
// revoked, successor included.
func (s *Store) RevokeUserGrants(ctx context.Context, userID string, now time.Time) error {
	return s.inTx(ctx, func(tx querier) error {
		for _, q := range []string{
			`UPDATE sessions SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL`,
			`UPDATE refresh_tokens SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL`,
			`UPDATE access_tokens SET revoked_at = $2 WHERE subject = $1 AND revoked_at IS NULL`,
			`UPDATE one_time_tokens SET voided_at = $2 WHERE user_id = $1 AND used_at IS NULL AND voided_at IS NULL`,
			revokeUserFamiliesSQL,
		} {
			if _, err := tx.ExecContext(ctx, q, userID, now); err != nil {
				return fmt.Errorf("revoke user grants: %w", err)
			}
		}
		return nil
	})
}
