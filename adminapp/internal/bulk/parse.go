package bulk

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/cliniconnects/identity/shared/adminapi"
)

// MaxRows is the most data rows one import file may have.
const MaxRows = 10000

// Row is one data row of an import file.
type Row struct {
	Line       int // the row number in the file (header = 1)
	GivenName  string
	FamilyName string
	Email      string
	Phone      string
	Discipline string
	JobTitle   string
	Department string
	Roles      []adminapi.Role
	// Raw is the row's cells as read, in the file's column order.
	Raw []string
}

// Employee is the row as the API's create request.
func (r Row) Employee() adminapi.NewEmployee {
	return adminapi.NewEmployee{GivenName: r.GivenName, FamilyName: r.FamilyName, Email: r.Email,
		Phone: r.Phone, JobTitle: r.JobTitle, Department: r.Department, Roles: r.Roles}
}

// Clinician is the row as the API's create request.
func (r Row) Clinician() adminapi.NewClinician {
	return adminapi.NewClinician{GivenName: r.GivenName, FamilyName: r.FamilyName, Email: r.Email,
		Phone: r.Phone, Discipline: r.Discipline, JobTitle: r.JobTitle, Department: r.Department, Roles: r.Roles}
}

// File is a read import file.
type File struct {
	Kind   adminapi.UserType
	Header []string // as written in the file
	Rows   []Row
}

// Columns lists the columns of an import file for kind, in the order
// exports write them.
func Columns(kind adminapi.UserType) []string {
	if kind == adminapi.UserTypeClinician {
		return []string{"given_name", "family_name", "email", "phone", "discipline", "job_title", "department", "roles"}
	}
	return []string{"given_name", "family_name", "email", "phone", "job_title", "department", "roles"}
}

// required lists the columns a file must have.
func required(kind adminapi.UserType) []string {
	if kind == adminapi.UserTypeClinician {
		return []string{"given_name", "family_name", "email", "phone", "discipline"}
	}
	return []string{"given_name", "family_name", "email"}
}

// ErrFile is wrapped by every error that makes a whole file unusable.
var ErrFile = errors.New("the file cannot be imported")

// Read reads an import file of kind. Problems with single rows are not
// its business (see Check); a file it cannot read at all (not CSV, no or
// a wrong header, too many rows) is an error wrapping ErrFile.
func Read(r io.Reader, kind adminapi.UserType) (File, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1 // rows with a wrong cell count are reported per row
	cr.ReuseRecord = false
	header, err := cr.Read()
	if err == io.EOF {
		return File{}, fmt.Errorf("%w: it is empty", ErrFile)
	}
	if err != nil {
		return File{}, fmt.Errorf("%w: %v", ErrFile, csvErr(err))
	}
	cols, err := columnIndex(header, kind)
	if err != nil {
		return File{}, err
	}
	f := File{Kind: kind, Header: header}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return File{}, fmt.Errorf("%w: %v", ErrFile, csvErr(err))
		}
		line, _ := cr.FieldPos(0)
		if blank(rec) {
			continue
		}
		if len(f.Rows) == MaxRows {
			return File{}, fmt.Errorf("%w: it has more than %d rows; split it", ErrFile, MaxRows)
		}
		f.Rows = append(f.Rows, rowOf(line, rec, cols))
	}
	if len(f.Rows) == 0 {
		return File{}, fmt.Errorf("%w: it has a header but no rows", ErrFile)
	}
	return f, nil
}

func csvErr(err error) string {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return fmt.Sprintf("row %d is not valid CSV (%v)", pe.Line, pe.Err)
	}
	return err.Error()
}

// columnIndex maps each known column to its index in header.
func columnIndex(header []string, kind adminapi.UserType) (map[string]int, error) {
	known := Columns(kind)
	idx := map[string]int{}
	for i, h := range header {
		name := normalizeColumn(h, i == 0)
		if slices.Contains(exportOnly, name) {
			continue // written by an export; not imported
		}
		if !slices.Contains(known, name) {
			return nil, fmt.Errorf("%w: column %q is not one of %s", ErrFile, h, strings.Join(known, ", "))
		}
		if _, dup := idx[name]; dup {
			return nil, fmt.Errorf("%w: column %q appears twice", ErrFile, h)
		}
		idx[name] = i
	}
	var missing []string
	for _, c := range required(kind) {
		if _, ok := idx[c]; !ok {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%w: the header lacks the column(s) %s (the first row must name the columns)", ErrFile, strings.Join(missing, ", "))
	}
	return idx, nil
}

// normalizeColumn turns "Given name", "given-name" and "GIVEN_NAME" into
// given_name; the first cell loses a UTF-8 byte order mark.
func normalizeColumn(h string, first bool) string {
	if first {
		h = strings.TrimPrefix(h, "\uFEFF")
	}
	h = strings.ToLower(strings.TrimSpace(h))
	return strings.NewReplacer(" ", "_", "-", "_").Replace(h)
}

func blank(rec []string) bool {
	for _, c := range rec {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

func rowOf(line int, rec []string, cols map[string]int) Row {
	cell := func(name string) string {
		i, ok := cols[name]
		if !ok || i >= len(rec) {
			return ""
		}
		return strings.TrimSpace(rec[i])
	}
	r := Row{Line: line, GivenName: cell("given_name"), FamilyName: cell("family_name"), Email: cell("email"),
		Phone: cell("phone"), Discipline: cell("discipline"), JobTitle: cell("job_title"),
		Department: cell("department"), Raw: rec}
	for _, f := range strings.FieldsFunc(cell("roles"), func(c rune) bool { return c == ';' || c == ',' || c == ' ' }) {
		r.Roles = append(r.Roles, adminapi.Role(strings.ToLower(f)))
	}
	return r
}
