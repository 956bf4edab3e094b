package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/cliniconnects/identity/idp/internal/storage"
)

// authRequestColumns are what every auth request query reads, in
// scanAuthRequest's order.
const authRequestColumns = `id, client_id, redirect_uri, state, nonce, scopes, response_type,
	response_mode, code_challenge, code_challenge_method, prompt, max_age_ns, login_hint,
	created_at, expires_at, user_id, auth_time, amr, session_id, done, code_hash, redeemed_at,
	family_id, hint_subject, browser_hash, acr_values`

func scanAuthRequest(sc scanner, more ...any) (storage.AuthRequest, error) {
	var r storage.AuthRequest
	var maxAge sql.NullInt64
	err := sc.Scan(append([]any{&r.ID, &r.ClientID, &r.RedirectURI, &r.State, &r.Nonce, listCol[string]{&r.Scopes},
		&r.ResponseType, &r.ResponseMode, &r.CodeChallenge, &r.CodeChallengeMethod,
		listCol[string]{&r.Prompt}, &maxAge, &r.LoginHint, timeCol{&r.CreatedAt}, timeCol{&r.ExpiresAt},
		&r.UserID, timeCol{&r.AuthTime}, listCol[string]{&r.AMR}, &r.SessionID, &r.Done,
		textCol{&r.CodeHash}, timeCol{&r.RedeemedAt}, &r.FamilyID, &r.HintSubject, &r.BrowserHash,
		listCol[string]{&r.ACRValues}}, more...)...)
	if maxAge.Valid {
		d := time.Duration(maxAge.Int64)
		r.MaxAge = &d
	}
	return r, err
}

const insertAuthRequestSQL = `INSERT INTO auth_requests (` + authRequestColumns + `)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19,
	$20, $21, $22, $23, $24, $25, $26)`

func (s *Store) CreateAuthRequest(ctx context.Context, r storage.AuthRequest) error {
	if r.ID == "" {
		return errors.New("create auth request: empty id")
	}
	if r.CreatedAt.IsZero() {
		r.CreatedAt = s.now()
	}
	var maxAge sql.NullInt64
	if r.MaxAge != nil {
		maxAge = sql.NullInt64{Int64: int64(*r.MaxAge), Valid: true}
	}
	_, err := s.exec(ctx, insertAuthRequestSQL, r.ID, r.ClientID, r.RedirectURI, r.State, r.Nonce,
		listArg(r.Scopes), r.ResponseType, r.ResponseMode, r.CodeChallenge, r.CodeChallengeMethod,
		listArg(r.Prompt), maxAge, r.LoginHint, r.CreatedAt, r.ExpiresAt, r.UserID,
		nullTime(r.AuthTime), listArg(r.AMR), r.SessionID, r.Done, nullText(r.CodeHash),
		nullTime(r.RedeemedAt), r.FamilyID, r.HintSubject, r.BrowserHash, listArg(r.ACRValues))
	if err != nil {
		return s.writeErr("create auth request", err)
	}
	return nil
}

// GetAuthRequest returns the request whatever its state; callers check
// ExpiresAt.
func (s *Store) GetAuthRequest(ctx context.Context, id string) (storage.AuthRequest, error) {
	return getAuthRequest(ctx, s.q, `id = $1`, id)
}

// getAuthRequestClientSQL reads a request and its client in one row; the
// client's columns are NULL when it is gone.
var getAuthRequestClientSQL = `SELECT ` + qualified("r", authRequestColumns) + `, ` + qualified("c", clientColumns) + `
FROM auth_requests r LEFT JOIN clients c ON c.id = r.client_id
WHERE r.id = $1`

// GetAuthRequestClient is GetAuthRequest and GetClient of the request's
// client in one statement: the client is the zero Client (empty ID) when
// there is none.
func (s *Store) GetAuthRequestClient(ctx context.Context, id string) (storage.AuthRequest, storage.Client, error) {
	var c storage.Client
	var version int64
	r, err := scanAuthRequest(s.q.QueryRowContext(ctx, getAuthRequestClientSQL, id), orZero(clientDest(&c, &version))...)
	if errors.Is(err, sql.ErrNoRows) {
		return storage.AuthRequest{}, storage.Client{}, fmt.Errorf("auth request: %w", storage.ErrNotFound)
	}
	if err != nil {
		return storage.AuthRequest{}, storage.Client{}, fmt.Errorf("get auth request and client: %w", err)
	}
	return r, c, nil
}

// GetAuthRequestByCode finds the unexpired request holding the code hash.
func (s *Store) GetAuthRequestByCode(ctx context.Context, codeHash string) (storage.AuthRequest, error) {
	return getAuthRequest(ctx, s.q, `code_hash = $1 AND expires_at > $2`, codeHash, s.now())
}

func getAuthRequest(ctx context.Context, q querier, where string, args ...any) (storage.AuthRequest, error) {
	r, err := scanAuthRequest(q.QueryRowContext(ctx, `SELECT `+authRequestColumns+` FROM auth_requests WHERE `+where, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return storage.AuthRequest{}, fmt.Errorf("auth request: %w", storage.ErrNotFound)
	}
	if err != nil {
		return storage.AuthRequest{}, fmt.Errorf("get auth request: %w", err)
	}
	return r, nil
}

const completeAuthRequestSQL = `UPDATE auth_requests
SET user_id = $2, auth_time = $3, amr = $4, session_id = $5, done = TRUE
WHERE id = $1 AND expires_at > $6`

// CompleteAuthRequest records who authenticated, unless the request is gone
// or expired by the store's clock.
func (s *Store) CompleteAuthRequest(ctx context.Context, id string, res storage.AuthResult) error {
	n, err := s.exec(ctx, completeAuthRequestSQL, id, res.UserID, nullTime(res.AuthTime),
		listArg(res.AMR), res.SessionID, s.now())
	if err != nil {
		return fmt.Errorf("complete auth request: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("auth request: %w", storage.ErrNotFound)
	}
	return nil
}

// SetAuthRequestCode stores the code hash of a completed request that has
// none yet: the condition in the UPDATE makes one code per request, however
// many callbacks race.
func (s *Store) SetAuthRequestCode(ctx context.Context, id, codeHash string) error {
	if codeHash == "" {
		return errors.New("set auth request code: empty code hash")
	}
	n, err := s.exec(ctx, `UPDATE auth_requests SET code_hash = $2
		WHERE id = $1 AND done AND code_hash IS NULL AND expires_at > $3`, id, codeHash, s.now())
	if err != nil {
		return s.writeErr("set auth request code", err)
	}
	if n == 0 {
		return fmt.Errorf("completed auth request without a code: %w", storage.ErrNotFound)
	}
	return nil
}

// redeemCodeSQL is the single atomic step that lets exactly one caller
// exchange a code: the row changes only while redeemed_at is NULL.
const redeemCodeSQL = `UPDATE auth_requests SET redeemed_at = $3, family_id = $2
WHERE code_hash = $1 AND redeemed_at IS NULL AND expires_at > $3
RETURNING ` + authRequestColumns

// RedeemCode marks the code exchanged into familyID. A second exchange of a
// redeemed code revokes what the first produced — tokens the first is
// still storing included (revoked_families), and inside InTx even if the
// transaction then rolls back — and returns storage.ErrReused.
func (s *Store) RedeemCode(ctx context.Context, codeHash, familyID string, now time.Time) (storage.AuthRequest, error) {
	if codeHash == "" || familyID == "" {
		return storage.AuthRequest{}, errors.New("redeem code: empty code hash or family")
	}
	var r storage.AuthRequest
	err := s.retry(ctx, func() (err error) {
		r, err = scanAuthRequest(s.q.QueryRowContext(ctx, redeemCodeSQL, codeHash, familyID, now))
		return err
	})
	if err == nil {
		return r, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return storage.AuthRequest{}, fmt.Errorf("redeem code: %w", err)
	}
	// Not redeemable: unknown, expired, or redeemed before.
	prev, err := getAuthRequest(ctx, s.q, `code_hash = $1`, codeHash)
	if err != nil {
		return storage.AuthRequest{}, err
	}
	if prev.RedeemedAt.IsZero() {
		return storage.AuthRequest{}, fmt.Errorf("auth request: code expired: %w", storage.ErrNotFound)
	}
	err = s.inTx(ctx, func(tx querier) error { return s.revokeReused(ctx, tx, prev.FamilyID, now) })
	if err != nil {
		return storage.AuthRequest{}, fmt.Errorf("redeem code: revoke reused family: %w", err)
	}
	s.log.Warn("authorization code reused; token family revoked", "client", prev.ClientID, "family", prev.FamilyID)
	return storage.AuthRequest{}, fmt.Errorf("redeem code: %w", storage.ErrReused)
}

func (s *Store) DeleteAuthRequest(ctx context.Context, id string) error {
	n, err := s.exec(ctx, `DELETE FROM auth_requests WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("delete auth request: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("auth request: %w", storage.ErrNotFound)
	}
	return nil
}
