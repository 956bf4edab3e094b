package sqlstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/cliniconnects/identity/idp/internal/storage"
)

// auditColumns are what every audit query reads, in scanAudit's order.
const auditColumns = `id, at, actor_id, action, target_type, target_id, source_addr, changes`

func scanAudit(sc scanner) (storage.AuditEntry, error) {
	var e storage.AuditEntry
	var changes string
	if err := sc.Scan(&e.ID, timeCol{&e.At}, &e.ActorID, &e.Action, &e.TargetType, &e.TargetID,
		&e.SourceAddr, &changes); err != nil {
		return storage.AuditEntry{}, err
	}
	if err := json.Unmarshal([]byte(changes), &e.Changes); err != nil {
		return storage.AuditEntry{}, fmt.Errorf("audit entry %d: changes: %w", e.ID, err)
	}
	if len(e.Changes) == 0 {
		e.Changes = nil
	}
	return e, nil
}

const insertAuditSQL = `INSERT INTO audit_log (at, actor_id, action, target_type, target_id,
	source_addr, changes)
VALUES ($1, $2, $3, $4, $5, $6, $7)`

// AppendAudit writes e (At defaults to now); the ID is the store's.
func (s *Store) AppendAudit(ctx context.Context, e storage.AuditEntry) error {
	if e.Action == "" {
		return errors.New("append audit: empty action")
	}
	if e.At.IsZero() {
		e.At = s.now()
	}
	changes := []byte("{}")
	if len(e.Changes) > 0 {
		var err error
		if changes, err = json.Marshal(e.Changes); err != nil {
			return fmt.Errorf("append audit %s: changes: %w", e.Action, err)
		}
	}
	_, err := s.exec(ctx, insertAuditSQL, e.At, e.ActorID, e.Action, e.TargetType, e.TargetID,
		e.SourceAddr, string(changes))
	if err != nil {
		return fmt.Errorf("append audit %s: %w", e.Action, err)
	}
	return nil
}

// ListAudit filters with one WHERE clause built from the query's set
// fields and pages newest first by id (keyset: id < Before). The next
// cursor is the last entry's id when more follow, else 0.
func (s *Store) ListAudit(ctx context.Context, q storage.AuditQuery) ([]storage.AuditEntry, int64, error) {
	limit := pageLimit(q.Limit)
	var where []string
	var vals []any
	arg := func(v any) string {
		vals = append(vals, v)
		return "$" + strconv.Itoa(len(vals))
	}
	if q.ActorID != "" {
		where = append(where, "actor_id = "+arg(q.ActorID))
	}
	if q.TargetID != "" {
		where = append(where, "target_id = "+arg(q.TargetID))
	}
	if q.Action != "" {
		where = append(where, "action = "+arg(q.Action))
	}
	if !q.From.IsZero() {
		where = append(where, "at >= "+arg(q.From))
	}
	if !q.To.IsZero() {
		where = append(where, "at < "+arg(q.To))
	}
	if q.Before > 0 {
		where = append(where, "id < "+arg(q.Before))
	}
	query := `SELECT ` + auditColumns + ` FROM audit_log`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, " AND ")
	}
	query += ` ORDER BY id DESC LIMIT ` + arg(limit+1)

	rows, err := s.q.QueryContext(ctx, query, vals...)
	if err != nil {
		return nil, 0, fmt.Errorf("list audit: %w", err)
	}
	defer rows.Close()
	var entries []storage.AuditEntry
	for rows.Next() {
		e, err := scanAudit(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("list audit: %w", err)
		}
		entries = append(entries, e)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("list audit: %w", err)
	}
	var next int64
	if len(entries) > limit {
		entries = entries[:limit]
		next = entries[limit-1].ID
	}
	return entries, next, nil
}
