package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/cliniconnects/identity/idp/internal/storage"
)

// clientColumns are what every client query reads, in scanClient's order;
// version is the hidden compare-and-swap guard of UpdateClient.
const clientColumns = `id, name, secret_hash, public, redirect_uris, post_logout_redirect_uris,
	grant_types, admit_roles, admit_types, scopes, sign_in_method, require_mfa, created_at, updated_at, version`

func scanClient(sc scanner) (storage.Client, int64, error) {
	var c storage.Client
	var version int64
	err := sc.Scan(clientDest(&c, &version)...)
	return c, version, err
}

// clientDest are the scan destinations of clientColumns in c and version.
func clientDest(c *storage.Client, version *int64) []any {
	return []any{&c.ID, &c.Name, &c.SecretHash, &c.Public, listCol[string]{&c.RedirectURIs},
		listCol[string]{&c.PostLogoutRedirectURIs}, listCol[string]{&c.GrantTypes},
		listCol[storage.Role]{&c.AdmitRoles}, listCol[storage.UserType]{&c.AdmitTypes},
		listCol[string]{&c.Scopes}, &c.SignInMethod, &c.RequireMFA, timeCol{&c.CreatedAt}, timeCol{&c.UpdatedAt}, version}
}

// clientFields are the values of the columns CreateClient and UpdateClient
// both write, name through require_mfa.
func clientFields(c storage.Client) []any {
	return []any{c.Name, c.SecretHash, c.Public, listArg(c.RedirectURIs),
		listArg(c.PostLogoutRedirectURIs), listArg(c.GrantTypes), listArg(c.AdmitRoles),
		listArg(c.AdmitTypes), listArg(c.Scopes), c.SignInMethod, c.RequireMFA}
}

const insertClientSQL = `INSERT INTO clients (id, name, secret_hash, public, redirect_uris,
	post_logout_redirect_uris, grant_types, admit_roles, admit_types, scopes, sign_in_method,
	require_mfa, created_at, updated_at, version)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, 1)`

func (s *Store) CreateClient(ctx context.Context, c storage.Client) (storage.Client, error) {
	if c.ID == "" {
		return storage.Client{}, errors.New("create client: empty id")
	}
	if c.CreatedAt.IsZero() {
		c.CreatedAt = s.now()
	}
	if c.UpdatedAt.IsZero() {
		c.UpdatedAt = c.CreatedAt
	}
	c.CreatedAt, c.UpdatedAt = normTime(c.CreatedAt), normTime(c.UpdatedAt)
	args := append([]any{c.ID}, clientFields(c)...)
	if _, err := s.exec(ctx, insertClientSQL, append(args, c.CreatedAt, c.UpdatedAt)...); err != nil {
		return storage.Client{}, s.writeErr("create client", err)
	}
	return normClient(c), nil
}

// normClient makes empty lists nil, as they read back.
func normClient(c storage.Client) storage.Client {
	for _, l := range []*[]string{&c.RedirectURIs, &c.PostLogoutRedirectURIs, &c.GrantTypes, &c.Scopes} {
		*l = normList(*l)
	}
	c.AdmitRoles, c.AdmitTypes = normList(c.AdmitRoles), normList(c.AdmitTypes)
	return c
}

func (s *Store) GetClient(ctx context.Context, id string) (storage.Client, error) {
	c, _, err := getClient(ctx, s.q, id)
	return c, err
}

func getClient(ctx context.Context, q querier, id string) (storage.Client, int64, error) {
	c, version, err := scanClient(q.QueryRowContext(ctx, `SELECT `+clientColumns+` FROM clients WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return storage.Client{}, 0, fmt.Errorf("client %q: %w", id, storage.ErrNotFound)
	}
	if err != nil {
		return storage.Client{}, 0, fmt.Errorf("get client: %w", err)
	}
	return c, version, nil
}

// clientThrottleColumns are a throttle counter (th) and a client (c), in
// clientThrottleDest's order.
var clientThrottleColumns = `th.failures, th.last_failure_at, th.locked_until, ` + qualified("c", clientColumns)

// clientThrottleDest are the scan destinations of clientThrottleColumns.
func clientThrottleDest(th *storage.Throttle, c *storage.Client, version *int64) []any {
	return append([]any{&th.Failures, timeCol{&th.LastFailureAt}, timeCol{&th.LockedUntil}}, clientDest(c, version)...)
}

// clientThrottleFrom reads a client ($1) and a throttle counter ($2) in
// one row, off a one-row table so that either may be missing: the missing
// side's columns are NULL.
const clientThrottleFrom = `
FROM (SELECT 1 AS one) one
	LEFT JOIN throttles th ON th.throttle_key = $2
	LEFT JOIN clients c ON c.id = $1`

var getClientThrottleSQL = `SELECT ` + clientThrottleColumns + clientThrottleFrom

// getClientThrottleTokenSQL adds an access token ($3) to
// getClientThrottleSQL's row, with what getAccessTokenUserSQL reads with
// it; its columns are NULL when there is no such token.
var getClientThrottleTokenSQL = `SELECT ` + clientThrottleColumns + `, ` + accessTokenUserColumns + clientThrottleFrom + `
	LEFT JOIN access_tokens t ON t.id = $3
	` + accessTokenUserJoins

// GetClientThrottleToken is GetClient(clientID), GetThrottle(key) and,
// when tokenID is not "", GetAccessTokenUser(tokenID) in one statement.
// Whatever is missing is its zero value (empty ID). Without a token id
// the token's joins are left out of the statement rather than probed with
// "": the token endpoint, which reads none, pays nothing for them.
func (s *Store) GetClientThrottleToken(ctx context.Context, clientID, key, tokenID string) (storage.Client, storage.Throttle, storage.AccessToken, storage.User, error) {
	var c storage.Client
	var version int64
	th := storage.Throttle{Key: key}
	var t storage.AccessToken
	var familyRevoked time.Time
	var u storage.User
	query, args, dest := getClientThrottleSQL, []any{clientID, key}, clientThrottleDest(&th, &c, &version)
	if tokenID != "" {
		query, args = getClientThrottleTokenSQL, append(args, tokenID)
		dest = append(dest, accessTokenUserDest(&t, &familyRevoked, &u)...)
	}
	if err := s.q.QueryRowContext(ctx, query, args...).Scan(orZero(dest)...); err != nil {
		return storage.Client{}, storage.Throttle{}, storage.AccessToken{}, storage.User{},
			fmt.Errorf("get client, throttle and access token: %w", err)
	}
	t, u = accessTokenUser(t, familyRevoked, u)
	return c, th, t, u, nil
}

func (s *Store) ListClients(ctx context.Context) ([]storage.Client, error) {
	rows, err := s.q.QueryContext(ctx, `SELECT `+clientColumns+` FROM clients ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list clients: %w", err)
	}
	defer rows.Close()
	var clients []storage.Client
	for rows.Next() {
		c, _, err := scanClient(rows)
		if err != nil {
			return nil, fmt.Errorf("list clients: %w", err)
		}
		clients = append(clients, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list clients: %w", err)
	}
	return clients, nil
}

const updateClientSQL = `UPDATE clients SET name = $3, secret_hash = $4, public = $5,
	redirect_uris = $6, post_logout_redirect_uris = $7, grant_types = $8, admit_roles = $9,
	admit_types = $10, scopes = $11, sign_in_method = $12, require_mfa = $13, updated_at = $14, version = version + 1
WHERE id = $1 AND version = $2`

// UpdateClient reads the client, applies fn and writes the result if no
// other update came in between; if one did, it reads and applies fn again,
// so fn may run more than once and must only modify the client. ID and
// CreatedAt are not fn's to set.
func (s *Store) UpdateClient(ctx context.Context, id string, fn func(*storage.Client) error) (storage.Client, error) {
	for attempt := 1; ; attempt++ {
		var out storage.Client
		err := s.inTx(ctx, func(tx querier) error {
			cur, version, err := getClient(ctx, tx, id)
			if err != nil {
				return err
			}
			next := cur
			if err := fn(&next); err != nil {
				return err
			}
			next.ID, next.CreatedAt, next.UpdatedAt = cur.ID, cur.CreatedAt, s.now()
			args := append([]any{id, version}, clientFields(next)...)
			n, err := execTx(ctx, tx, updateClientSQL, append(args, next.UpdatedAt)...)
			if err != nil {
				return fmt.Errorf("update client: %w", err)
			}
			if n == 0 {
				return errStale
			}
			out = normClient(next)
			return nil
		})
		if !errors.Is(err, errStale) {
			return out, err
		}
		if attempt == maxAttempts {
			return storage.Client{}, fmt.Errorf("update client: %w", storage.ErrConflict)
		}
	}
}

// DeleteClient removes the client; its auth requests and tokens go with it
// (ON DELETE CASCADE).
func (s *Store) DeleteClient(ctx context.Context, id string) error {
	n, err := s.exec(ctx, `DELETE FROM clients WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("delete client: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("client %q: %w", id, storage.ErrNotFound)
	}
	return nil
}
