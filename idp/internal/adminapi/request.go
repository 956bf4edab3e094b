package adminapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"strconv"
	"strings"

	api "github.com/cliniconnects/identity/shared/adminapi"
)

// decode reads the body as exactly one JSON object into v: at most
// api.MaxBodyBytes, application/json, no unknown members, nothing after it.
// Every failure is a 400 (415 for another media type).
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			return apiErr(api.CodeUnsupportedMediaType, "the body must be application/json")
		}
	} else {
		return apiErr(api.CodeUnsupportedMediaType, "the body must be application/json (Content-Type is missing)")
	}
	body, err := readBody(w, r)
	if err != nil {
		return err
	}
	return decodeBytes(body, v)
}

// decodeOptional is decode for actions whose body may be empty: an empty
// body leaves v as it is.
func decodeOptional(w http.ResponseWriter, r *http.Request, v any) error {
	body, err := readBody(w, r)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			return apiErr(api.CodeUnsupportedMediaType, "the body must be application/json")
		}
	}
	return decodeBytes(body, v)
}

func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, api.MaxBodyBytes))
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return nil, apiErr(api.CodeBodyTooLarge, fmt.Sprintf("the body is larger than %d bytes", api.MaxBodyBytes))
	case err != nil:
		return nil, apiErr(api.CodeInvalidJSON, "the body could not be read")
	}
	return body, nil
}

func decodeBytes(body []byte, v any) error {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return apiErr(api.CodeInvalidJSON, "the body is empty; a JSON object is required")
	}
	if trimmed[0] != '{' {
		return apiErr(api.CodeInvalidJSON, "the body must be a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se), errors.Is(err, io.ErrUnexpectedEOF):
			return apiErr(api.CodeInvalidJSON, "the body is not valid JSON")
		case errors.As(err, &te):
			field := te.Field
			if field == "" {
				field = "body"
			}
			return fieldsErr(api.CodeInvalidJSON, "a member has the wrong type",
				map[string]string{field: "must be " + jsonKind(te.Type.Kind().String())})
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			name, _ := strconv.Unquote(strings.TrimPrefix(err.Error(), "json: unknown field "))
			return fieldsErr(api.CodeInvalidJSON, "the body has a member this request does not take",
				map[string]string{name: "unknown field"})
		}
		return apiErr(api.CodeInvalidJSON, "the body is not valid JSON")
	}
	if _, err := dec.Token(); err != io.EOF {
		return apiErr(api.CodeInvalidJSON, "the body has data after the JSON object")
	}
	return nil
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "slice", "array":
		return "an array"
	case "struct", "map":
		return "an object"
	case "int", "int64", "int32", "uint", "uint64", "float64":
		return "a number"
	case "ptr":
		return "a value of the documented type"
	}
	return "of the documented type"
}

// precondition is the version an update was made against, from If-Match
// or the body's version field.
type precondition struct {
	version  int64 // 0: none given
	any      bool  // If-Match: *
	fromBody bool  // the body's version field, not If-Match
}

// readPrecondition reads If-Match ("<version>", W/ ignored for a strong
// comparison is not possible, or *) and falls back on bodyVersion.
func readPrecondition(r *http.Request, bodyVersion int64) (precondition, error) {
	raw := strings.TrimSpace(r.Header.Get("If-Match"))
	if raw == "" {
		return precondition{version: bodyVersion, fromBody: bodyVersion != 0}, nil
	}
	if raw == "*" {
		return precondition{any: true}, nil
	}
	v, err := strconv.ParseInt(strings.Trim(raw, `"`), 10, 64)
	if err != nil || v <= 0 || !strings.HasPrefix(raw, `"`) || !strings.HasSuffix(raw, `"`) {
		// An ETag we never issued cannot match.
		return precondition{}, apiErr(api.CodePreconditionFailed, "If-Match does not match the record's current ETag")
	}
	if bodyVersion != 0 && bodyVersion != v {
		return precondition{}, apiErr(api.CodePreconditionFailed, "If-Match and the version field disagree")
	}
	return precondition{version: v}, nil
}

// require refuses an update that carries no version.
func (p precondition) require() error {
	if p.version == 0 && !p.any {
		return apiErr(api.CodePreconditionRequired,
			`send the record's version: If-Match: "<version>" (its ETag) or a version field`)
	}
	return nil
}

// stale is the error for a version that is no longer current: 412 for
// If-Match, 409 for the version field.
func (p precondition) stale() error {
	if p.fromBody {
		return apiErr(api.CodeVersionConflict, "the record was changed meanwhile (version is stale); reload it and try again")
	}
	return apiErr(api.CodePreconditionFailed, "the record was changed meanwhile (If-Match is stale); reload it and try again")
}

// check compares the record's current version with p.
func (p precondition) check(current int64) error {
	if p.version != 0 && p.version != current {
		return p.stale()
	}
	return nil
}

// setETag sets the ETag of a record at version.
func setETag(w http.ResponseWriter, version int64) { w.Header().Set("ETag", api.ETag(version)) }

// sourceAddr is the caller's IP address for the audit log: the
// connection's peer, which the server rewrites from X-Forwarded-For only
// for peers listed in IDP_TRUSTED_PROXIES.
func sourceAddr(r *http.Request) string {
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}
