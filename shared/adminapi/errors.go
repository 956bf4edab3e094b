package adminapi

import (
	"errors"
	"fmt"
	"net/http"
)

// ErrorCode identifies a machine-readable admin API error. Codes are stable:
// clients branch on them, never on the message.
type ErrorCode string

// Error codes, with the HTTP status the server answers them with.
const (
	// CodeInvalidJSON (400): the body is not one JSON object of the
	// expected shape: malformed, trailing data, or an unknown field.
	CodeInvalidJSON ErrorCode = "invalid_json"
	// CodeBodyTooLarge (400): the body is over MaxBodyBytes.
	CodeBodyTooLarge ErrorCode = "body_too_large"
	// CodeValidation (400): one or more fields are invalid; Fields says
	// which and why.
	CodeValidation ErrorCode = "validation_failed"
	// CodeInvalidQuery (400): a query parameter is invalid (Fields).
	CodeInvalidQuery ErrorCode = "invalid_query"
	// CodeUnauthorized (401): no bearer token, or one that is invalid,
	// expired or revoked, or whose user may no longer sign in.
	CodeUnauthorized ErrorCode = "unauthorized"
	// CodeInsufficientScope (403): the token lacks scope "admin".
	CodeInsufficientScope ErrorCode = "insufficient_scope"
	// CodeMFARequired (401, RFC 9470 insufficient_user_authentication): the caller's roles require two-step sign-in
	// and the token was issued after a password alone; sign in again with
	// the second factor.
	CodeMFARequired ErrorCode = "mfa_required"
	// CodeForbidden (403): the caller's roles do not allow this action on
	// this record.
	CodeForbidden ErrorCode = "forbidden"
	// CodeRoleNotGrantable (403): a role in the request is the caller's
	// to neither grant nor revoke.
	CodeRoleNotGrantable ErrorCode = "role_not_grantable"
	// CodeSelfLockout (403): the change would lock the caller out
	// (disabling themselves, dropping their own role, deleting the client
	// their token was issued to).
	CodeSelfLockout ErrorCode = "self_lockout"
	// CodeNotFound (404): no such record, or not in this section (an
	// employee's id under /clinicians).
	CodeNotFound ErrorCode = "not_found"
	// CodeMethodNotAllowed (405).
	CodeMethodNotAllowed ErrorCode = "method_not_allowed"
	// CodeAlreadyExists (409): a unique value is taken; Fields names it.
	CodeAlreadyExists ErrorCode = "already_exists"
	// CodeVersionConflict (409): the version in the body is not the
	// record's current version. Nothing was changed.
	CodeVersionConflict ErrorCode = "version_conflict"
	// CodeLastSuperAdmin (409): the change would leave no active super admin.
	CodeLastSuperAdmin ErrorCode = "last_super_admin"
	// CodeInvalidState (409): the action does not apply to the record's
	// current state (re-sending an invitation to an active user, rotating
	// the secret of a public client).
	CodeInvalidState ErrorCode = "invalid_state"
	// CodePreconditionFailed (412): If-Match does not match the record's
	// current ETag. Nothing was changed.
	CodePreconditionFailed ErrorCode = "precondition_failed"
	// CodeUnsupportedMediaType (415): the body is not application/json.
	CodeUnsupportedMediaType ErrorCode = "unsupported_media_type"
	// CodePreconditionRequired (428): an update came with neither If-Match
	// nor a version field.
	CodePreconditionRequired ErrorCode = "precondition_required"
	// CodeInternal (500): something failed on the server; the log has it.
	CodeInternal ErrorCode = "internal_error"
	// CodeUnavailable (503): the server cannot serve the request now
	// (for example the database is unreachable).
	CodeUnavailable ErrorCode = "unavailable"
)

// ErrorCodes lists every code with its HTTP status.
var ErrorCodes = map[ErrorCode]int{
	CodeInvalidJSON:          http.StatusBadRequest,
	CodeBodyTooLarge:         http.StatusBadRequest,
	CodeValidation:           http.StatusBadRequest,
	CodeInvalidQuery:         http.StatusBadRequest,
	CodeUnauthorized:         http.StatusUnauthorized,
	CodeInsufficientScope:    http.StatusForbidden,
	CodeForbidden:            http.StatusForbidden,
	CodeMFARequired:          http.StatusUnauthorized,
	CodeRoleNotGrantable:     http.StatusForbidden,
	CodeSelfLockout:          http.StatusForbidden,
	CodeNotFound:             http.StatusNotFound,
	CodeMethodNotAllowed:     http.StatusMethodNotAllowed,
	CodeAlreadyExists:        http.StatusConflict,
	CodeVersionConflict:      http.StatusConflict,
	CodeLastSuperAdmin:       http.StatusConflict,
	CodeInvalidState:         http.StatusConflict,
	CodePreconditionFailed:   http.StatusPreconditionFailed,
	CodeUnsupportedMediaType: http.StatusUnsupportedMediaType,
	CodePreconditionRequired: http.StatusPreconditionRequired,
	CodeInternal:             http.StatusInternalServerError,
	CodeUnavailable:          http.StatusServiceUnavailable,
}

// Status is the HTTP status the server answers code with (500 for an
// unknown code).
func (c ErrorCode) Status() int {
	if s, ok := ErrorCodes[c]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// MaxBodyBytes is the largest request body the server reads (1 MiB).
const MaxBodyBytes = 1 << 20

// Error is a failed request: the "error" member of every error body.
type Error struct {
	Code    ErrorCode `json:"code"`
	Message string    `json:"message"`
	// Fields maps an input (a JSON member or query parameter name) to what
	// is wrong with it.
	Fields map[string]string `json:"fields,omitempty"`
	// Status is the HTTP status of the response (set by Client; not sent).
	Status int `json:"-"`
}

// ErrorBody is the JSON body of every error response.
type ErrorBody struct {
	Error *Error `json:"error"`
}

// Error implements the error interface.
func (e *Error) Error() string {
	msg := string(e.Code)
	if e.Message != "" {
		msg += ": " + e.Message
	}
	if e.Status != 0 {
		msg = fmt.Sprintf("%s (HTTP %d)", msg, e.Status)
	}
	return msg
}

// Is makes errors.Is(err, &Error{Code: c}) match any *Error with code c.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code && t.Message == "" && t.Fields == nil
}

// IsCode reports whether err is an *Error with code c.
func IsCode(err error, c ErrorCode) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == c
}
