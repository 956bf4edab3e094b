package bulk

import (
	"encoding/csv"
	"encoding/json"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/cliniconnects/identity/shared/adminapi"
)

// exportOnly are the columns an export adds; an import ignores them, so an
// exported file can be edited and imported again.
var exportOnly = []string{"id", "status", "email_verified", "created_at", "updated_at"}

// WriteFailed writes the rows that were not created, as they were in the
// import file, with an error column saying why.
func WriteFailed(w io.Writer, f File, failures []Failure) error {
	cw := csv.NewWriter(w)
	cw.Write(append(append([]string(nil), f.Header...), "error")) //nolint:errcheck // cw.Error below
	sort.SliceStable(failures, func(i, j int) bool { return failures[i].Row.Line < failures[j].Row.Line })
	for _, fl := range failures {
		rec := append([]string(nil), fl.Row.Raw...)
		for len(rec) < len(f.Header) {
			rec = append(rec, "")
		}
		cw.Write(append(rec[:len(f.Header)], "row "+strconv.Itoa(fl.Row.Line)+": "+fl.Message)) //nolint:errcheck // cw.Error below
	}
	cw.Flush()
	return cw.Error()
}

// WriteUsers exports users of kind: the import columns, then id, status,
// email_verified, created_at and updated_at.
func WriteUsers(w io.Writer, kind adminapi.UserType, users []adminapi.User) error {
	cw := csv.NewWriter(w)
	cw.Write(append(Columns(kind), exportOnly...)) //nolint:errcheck // cw.Error below
	for _, u := range users {
		roles := make([]string, len(u.Roles))
		for i, r := range u.Roles {
			roles[i] = string(r)
		}
		rec := []string{u.GivenName, u.FamilyName, u.Email, u.Phone}
		if kind == adminapi.UserTypeClinician {
			rec = append(rec, u.Discipline)
		}
		rec = append(rec, u.JobTitle, u.Department, strings.Join(roles, ";"),
			u.ID, string(u.Status), strconv.FormatBool(u.EmailVerified),
			u.CreatedAt.UTC().Format(time.RFC3339), u.UpdatedAt.UTC().Format(time.RFC3339))
		cw.Write(rec) //nolint:errcheck // cw.Error below
	}
	cw.Flush()
	return cw.Error()
}

// WriteAudit exports audit entries; changes are a JSON object.
func WriteAudit(w io.Writer, entries []adminapi.AuditEntry) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"id", "at", "actor_id", "action", "target_type", "target_id", "source_addr", "changes"}) //nolint:errcheck // cw.Error below
	for _, e := range entries {
		changes := ""
		if len(e.Changes) > 0 {
			b, err := json.Marshal(e.Changes)
			if err != nil {
				return err
			}
			changes = string(b)
		}
		cw.Write([]string{strconv.FormatInt(e.ID, 10), e.At.UTC().Format(time.RFC3339Nano), e.ActorID, e.Action, //nolint:errcheck // cw.Error below
			e.TargetType, e.TargetID, e.SourceAddr, changes})
	}
	cw.Flush()
	return cw.Error()
}
