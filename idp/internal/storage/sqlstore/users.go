package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/cliniconnects/identity/idp/internal/storage"
)

// userColumns are what every user query reads, in scanUser's order.
const userColumns = `id, type, given_name, family_name, email, email_verified, phone, status,
	password_hash, job_title, department, discipline, created_at, updated_at, version`

func scanUser(sc scanner) (storage.User, error) {
	var u storage.User
	err := sc.Scan(userDest(&u)...)
	return u, err
}

// userDest are the scan destinations of userColumns in u.
func userDest(u *storage.User) []any {
	return []any{&u.ID, &u.Type, &u.GivenName, &u.FamilyName, &u.Email, &u.EmailVerified,
		textCol{&u.Phone}, &u.Status, &u.PasswordHash, &u.JobTitle, &u.Department, &u.Discipline,
		timeCol{&u.CreatedAt}, timeCol{&u.UpdatedAt}, &u.Version}
}

// userFields are the values of the columns CreateUser and UpdateUser both
// write, type through name_key, including the two derived keys.
func userFields(u storage.User) []any {
	return []any{string(u.Type), u.GivenName, u.FamilyName, u.Email,
		nullText(emailKey(u.Email)), u.EmailVerified, nullText(u.Phone), string(u.Status),
		u.PasswordHash, u.JobTitle, u.Department, u.Discipline, strings.ToLower(u.Name())}
}

// emailKey is the unique sign-in key of an email: compared case-insensitively.
// Lower-casing happens here, as for name_key, rather than in SQL, so that
// both dialects fold non-ASCII letters alike (SQLite's lower() folds only
// ASCII).
func emailKey(email string) string { return strings.ToLower(email) }

const insertUserSQL = `INSERT INTO users (id, type, given_name, family_name, email, email_key,
	email_verified, phone, status, password_hash, job_title, department, discipline, name_key,
	created_at, updated_at, version)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)`

func (s *Store) CreateUser(ctx context.Context, u storage.User) (storage.User, error) {
	if u.ID == "" {
		u.ID = newID()
	}
	if u.CreatedAt.IsZero() {
		u.CreatedAt = s.now()
	}
	if u.UpdatedAt.IsZero() {
		u.UpdatedAt = u.CreatedAt
	}
	if u.Version == 0 {
		u.Version = 1
	}
	u.CreatedAt, u.UpdatedAt = normTime(u.CreatedAt), normTime(u.UpdatedAt)
	u.Roles = normRoles(u.Roles)
	if err := validateUser(u); err != nil {
		return storage.User{}, fmt.Errorf("create user: %w", err)
	}
	args := append([]any{u.ID}, userFields(u)...)
	args = append(args, u.CreatedAt, u.UpdatedAt, u.Version)
	err := s.inTx(ctx, func(tx querier) error {
		if _, err := tx.ExecContext(ctx, insertUserSQL, args...); err != nil {
			return s.userWriteErr("create user", err)
		}
		return insertRoles(ctx, tx, u.ID, u.Roles)
	})
	if err != nil {
		return storage.User{}, err
	}
	return u, nil
}

func (s *Store) GetUser(ctx context.Context, id string) (storage.User, error) {
	return getUser(ctx, s.q, "id = $1", id)
}

func (s *Store) GetUserByEmail(ctx context.Context, email string) (storage.User, error) {
	return getUser(ctx, s.q, "email_key = $1", emailKey(email))
}

func (s *Store) GetUserByPhone(ctx context.Context, phone string) (storage.User, error) {
	return getUser(ctx, s.q, "phone = $1", phone)
}

// getUser reads the one user matching where (one $1 placeholder) and its
// roles, in one statement.
func getUser(ctx context.Context, q querier, where string, arg string) (storage.User, error) {
	var u storage.User
	sc := q.QueryRowContext(ctx, `SELECT `+userColumns+`, `+rolesOf("users")+` FROM users WHERE `+where, arg)
	err := sc.Scan(append(userDest(&u), rolesCol{&u.Roles})...)
	if errors.Is(err, sql.ErrNoRows) {
		return storage.User{}, fmt.Errorf("user: %w", storage.ErrNotFound)
	}
	if err != nil {
		return storage.User{}, fmt.Errorf("get user: %w", err)
	}
	return u, nil
}

// rolesOf is a column of the roles of the user in table (or alias) tbl,
// for single-user reads: comma-separated in loadRoles' order, NULL when
// none (rolesCol reads it). string_agg with ORDER BY is one spelling for
// both PostgreSQL and SQLite (3.44+); roles hold no comma (Role.Valid).
func rolesOf(tbl string) string {
	return `(SELECT string_agg(r.role, ',' ORDER BY r.role) FROM user_roles r WHERE r.user_id = ` + tbl + `.id)`
}

// rolesCol scans a rolesOf column into roles: NULL gives nil.
type rolesCol struct{ roles *[]storage.Role }

func (c rolesCol) Scan(src any) error {
	var s string
	if err := (textCol{&s}).Scan(src); err != nil {
		return err
	}
	*c.roles = nil
	if s == "" {
		return nil
	}
	for r := range strings.SplitSeq(s, ",") {
		*c.roles = append(*c.roles, storage.Role(r))
	}
	return nil
}

func (s *Store) CountUsers(ctx context.Context) (int, error) {
	var n int
	if err := s.q.QueryRowContext(ctx, `SELECT count(*) FROM users`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count users: %w", err)
	}
	return n, nil
}

// errStale: the row's version moved between read and write.
var errStale = errors.New("stale version")

// UpdateUser reads the user, applies fn and writes the result in one short
// transaction, guarded by the version read. When wantVersion is 0 and a
// concurrent update wins the race, the read and fn run again on the new
// state, so fn may run more than once and must only modify the user.
func (s *Store) UpdateUser(ctx context.Context, id string, wantVersion int64, fn func(*storage.User) error) (storage.User, error) {
	for attempt := 1; ; attempt++ {
		u, err := s.updateUser(ctx, id, wantVersion, fn)
		if !errors.Is(err, errStale) {
			return u, err
		}
		if wantVersion != 0 || attempt == maxAttempts {
			return storage.User{}, fmt.Errorf("update user: %w", storage.ErrConflict)
		}
	}
}

const updateUserSQL = `UPDATE users SET type = $3, given_name = $4, family_name = $5, email = $6,
	email_key = $7, email_verified = $8, phone = $9, status = $10, password_hash = $11,
	job_title = $12, department = $13, discipline = $14, name_key = $15, updated_at = $16,
	version = version + 1
WHERE id = $1 AND version = $2`

func (s *Store) updateUser(ctx context.Context, id string, wantVersion int64, fn func(*storage.User) error) (storage.User, error) {
	var out storage.User
	err := s.inTx(ctx, func(tx querier) error {
		cur, err := getUser(ctx, tx, "id = $1", id)
		if err != nil {
			return err
		}
		if wantVersion != 0 && cur.Version != wantVersion {
			return errStale
		}
		next := cur
		next.Roles = slices.Clone(cur.Roles)
		if err := fn(&next); err != nil {
			return err
		}
		next.ID, next.CreatedAt, next.Version = cur.ID, cur.CreatedAt, cur.Version+1
		next.UpdatedAt = s.now()
		next.Roles = normRoles(next.Roles)
		if err := validateUser(next); err != nil {
			return fmt.Errorf("update user: %w", err)
		}
		args := append([]any{id, cur.Version}, userFields(next)...)
		n, err := execTx(ctx, tx, updateUserSQL, append(args, next.UpdatedAt)...)
		if err != nil {
			return s.userWriteErr("update user", err)
		}
		if n == 0 {
			return errStale
		}
		if !slices.Equal(cur.Roles, next.Roles) {
			if _, err := tx.ExecContext(ctx, `DELETE FROM user_roles WHERE user_id = $1`, id); err != nil {
				return fmt.Errorf("update user roles: %w", err)
			}
			if err := insertRoles(ctx, tx, id, next.Roles); err != nil {
				return err
			}
		}
		out = next
		return nil
	})
	return out, err
}

// userWriteErr tells a taken email from a taken phone.
func (s *Store) userWriteErr(op string, err error) error {
	key, _ := s.d.uniqueViolation(err)
	switch {
	case strings.Contains(key, "email_key"):
		return fmt.Errorf("%s: %w", op, storage.ErrEmailInUse)
	case strings.Contains(key, "phone"):
		return fmt.Errorf("%s: %w", op, storage.ErrPhoneInUse)
	}
	return s.writeErr(op, err)
}

func validateUser(u storage.User) error {
	if !u.Type.Valid() {
		return fmt.Errorf("unknown user type %q", u.Type)
	}
	if !u.Status.Valid() {
		return fmt.Errorf("unknown user status %q", u.Status)
	}
	for _, r := range u.Roles {
		if !r.Valid() {
			return fmt.Errorf("unknown role %q", r)
		}
	}
	return nil
}

// normRoles sorts and de-duplicates roles; none is nil.
func normRoles(roles []storage.Role) []storage.Role {
	if len(roles) == 0 {
		return nil
	}
	return slices.Compact(slices.Sorted(slices.Values(roles)))
}

func insertRoles(ctx context.Context, tx querier, userID string, roles []storage.Role) error {
	for _, r := range roles {
		if _, err := tx.ExecContext(ctx, `INSERT INTO user_roles (user_id, role) VALUES ($1, $2)`, userID, string(r)); err != nil {
			return fmt.Errorf("insert role: %w", err)
		}
	}
	return nil
}

// loadRoles fills in the roles of users with one query.
func loadRoles(ctx context.Context, q querier, users []storage.User) error {
	if len(users) == 0 {
		return nil
	}
	index := make(map[string]int, len(users))
	args := make([]any, len(users))
	marks := make([]string, len(users))
	for i, u := range users {
		index[u.ID] = i
		args[i] = u.ID
		marks[i] = "$" + strconv.Itoa(i+1)
	}
	rows, err := q.QueryContext(ctx, `SELECT user_id, role FROM user_roles
		WHERE user_id IN (`+strings.Join(marks, ", ")+`) ORDER BY user_id, role`, args...)
	if err != nil {
		return fmt.Errorf("load roles: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var role storage.Role
		if err := rows.Scan(&id, &role); err != nil {
			return fmt.Errorf("load roles: %w", err)
		}
		if i, ok := index[id]; ok {
			users[i].Roles = append(users[i].Roles, role)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("load roles: %w", err)
	}
	return nil
}

// Page sizes of ListUsers.
const (
	defaultUserLimit = 50
	maxUserLimit     = 500
)

// ListUsers filters with one WHERE clause built from the query's set fields,
// pages by id (keyset: id > After), and reads the page's roles in one more
// query.
func (s *Store) ListUsers(ctx context.Context, q storage.UserQuery) ([]storage.User, string, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = defaultUserLimit
	}
	limit = min(limit, maxUserLimit)
	var where []string
	var vals []any
	arg := func(v any) string {
		vals = append(vals, v)
		return "$" + strconv.Itoa(len(vals))
	}
	if q.Type != "" {
		where = append(where, "type = "+arg(string(q.Type)))
	}
	if q.Status != "" {
		where = append(where, "status = "+arg(string(q.Status)))
	}
	if q.Role != "" {
		where = append(where, "EXISTS (SELECT 1 FROM user_roles r WHERE r.user_id = users.id AND r.role = "+arg(string(q.Role))+")")
	}
	if len(q.WithoutRoles) > 0 {
		marks := make([]string, len(q.WithoutRoles))
		for i, r := range q.WithoutRoles {
			marks[i] = arg(string(r))
		}
		where = append(where, "NOT EXISTS (SELECT 1 FROM user_roles r WHERE r.user_id = users.id AND r.role IN ("+strings.Join(marks, ", ")+"))")
	}
	if q.Search != "" {
		// The full name holds given and family name; the keys are lower-case
		// already, the phone has no case.
		p := arg(likeContains(strings.ToLower(q.Search)))
		where = append(where, `(name_key LIKE `+p+` ESCAPE '\' OR email_key LIKE `+p+` ESCAPE '\' OR phone LIKE `+p+` ESCAPE '\')`)
	}
	if q.After != "" {
		where = append(where, "id > "+arg(q.After))
	}
	query := `SELECT ` + userColumns + ` FROM users`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, " AND ")
	}
	query += ` ORDER BY id LIMIT ` + arg(limit+1)

	rows, err := s.q.QueryContext(ctx, query, vals...)
	if err != nil {
		return nil, "", fmt.Errorf("list users: %w", err)
	}
	defer rows.Close()
	var users []storage.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, "", fmt.Errorf("list users: %w", err)
		}
		users = append(users, u)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("list users: %w", err)
	}
	var next string
	if len(users) > limit {
		users = users[:limit]
		next = users[limit-1].ID
	}
	if err := loadRoles(ctx, s.q, users); err != nil {
		return nil, "", err
	}
	return users, next, nil
}

// likeContains is a LIKE pattern (with ESCAPE '\') matching s anywhere, with
// s's own wildcards taken literally.
func likeContains(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(s) + "%"
}
