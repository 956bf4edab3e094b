package adminapi

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/cliniconnects/identity/idp/internal/account"
	"github.com/cliniconnects/identity/idp/internal/authz"
	"github.com/cliniconnects/identity/idp/internal/password"
	"github.com/cliniconnects/identity/idp/internal/storage"
	api "github.com/cliniconnects/identity/shared/adminapi"
)

// apiError is an answer with one of the contract's codes. Message and
// Fields are written for the caller; cause is for the log only.
type apiError struct {
	code    api.ErrorCode
	message string
	fields  map[string]string
	cause   error
	// challenge is the WWW-Authenticate error of a 401 or 403 from the
	// token check ("" for none).
	challenge string
}

func (e *apiError) Error() string {
	if e.cause != nil {
		return string(e.code) + ": " + e.message + ": " + e.cause.Error()
	}
	return string(e.code) + ": " + e.message
}

func (e *apiError) Unwrap() error { return e.cause }

func apiErr(code api.ErrorCode, msg string) *apiError { return &apiError{code: code, message: msg} }

func fieldsErr(code api.ErrorCode, msg string, fields map[string]string) *apiError {
	return &apiError{code: code, message: msg, fields: fields}
}

// Fixed messages of errors that come from the store or the use cases.
const (
	msgNotFound    = "no such record"
	msgInternal    = "something went wrong on the server; it has been logged"
	msgUnavailable = "the server cannot handle the request now; try again"
	msgValidation  = "some fields are invalid"
)

// toAPIError classifies err into a contract error. Anything unknown is a
// 500 whose detail goes only to the log.
func toAPIError(err error) *apiError {
	var ae *apiError
	var d *authz.Denial
	var fe *account.FieldError
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.As(err, &d):
		return apiErr(d.Code, d.Reason)
	case errors.As(err, &fe):
		return &apiError{code: api.CodeValidation, message: msgValidation, fields: map[string]string{fe.Field: fe.Message}, cause: err}
	case errors.Is(err, account.ErrNotInvited):
		return &apiError{code: api.CodeInvalidState, message: "the user has already accepted an invitation; send a password reset instead", cause: err}
	case errors.Is(err, account.ErrNotActive):
		return &apiError{code: api.CodeInvalidState, message: "the user is not active; only an active user can reset their password", cause: err}
	case errors.Is(err, storage.ErrEmailInUse):
		return &apiError{code: api.CodeAlreadyExists, message: "the email address is in use by another user",
			fields: map[string]string{"email": "is in use by another user"}, cause: err}
	case errors.Is(err, storage.ErrPhoneInUse):
		return &apiError{code: api.CodeAlreadyExists, message: "the phone number is in use by another user",
			fields: map[string]string{"phone": "is in use by another user"}, cause: err}
	case errors.Is(err, storage.ErrAlreadyExists):
		return &apiError{code: api.CodeAlreadyExists, message: "a record with this id already exists",
			fields: map[string]string{"id": "is taken"}, cause: err}
	case errors.Is(err, storage.ErrNotFound):
		return &apiError{code: api.CodeNotFound, message: msgNotFound, cause: err}
	case errors.Is(err, storage.ErrConflict):
		return &apiError{code: api.CodeVersionConflict, message: "the record was changed meanwhile; reload it and try again", cause: err}
	case errors.Is(err, storage.ErrNotMigrated), errors.Is(err, storage.ErrUnavailable),
		errors.Is(err, context.DeadlineExceeded), errors.Is(err, password.ErrBusy):
		return &apiError{code: api.CodeUnavailable, message: msgUnavailable, cause: err}
	}
	return &apiError{code: api.CodeInternal, message: msgInternal, cause: err}
}

// fail writes err as the contract's error body, with the status of its
// code, and logs it at a level chosen by that status.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	e := toAPIError(err)
	status := e.code.Status()
	level := slog.LevelDebug
	switch {
	case status >= 500:
		level = slog.LevelError
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		level = slog.LevelInfo
	}
	if r.Context().Err() != nil {
		level = slog.LevelDebug // the caller went away
	}
	h.d.Logger.Log(r.Context(), level, "admin API request refused",
		"method", r.Method, "path", r.URL.Path, "status", status, "code", e.code, "err", err)
	switch status {
	case http.StatusServiceUnavailable:
		WriteUnavailable(w)
		return
	case http.StatusUnauthorized:
		ch := `Bearer realm=` + strconv.Quote(h.d.Issuer)
		if e.challenge != "" {
			ch += `, error=` + strconv.Quote(e.challenge) + `, error_description=` + strconv.Quote(e.message)
		}
		w.Header().Set("WWW-Authenticate", ch)
	case http.StatusForbidden:
		if e.challenge != "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm=`+strconv.Quote(h.d.Issuer)+
				`, error=`+strconv.Quote(e.challenge)+`, scope=`+strconv.Quote(api.Scope))
		}
	}
	writeJSON(w, status, api.ErrorBody{Error: &api.Error{Code: e.code, Message: e.message, Fields: e.fields}})
}

// WriteUnavailable answers 503 with a Retry-After and the contract's
// "unavailable" error: the server could not handle the request now (its
// database is unavailable, or it is at capacity) and nothing was changed.
func WriteUnavailable(w http.ResponseWriter) {
	w.Header().Set("Retry-After", strconv.Itoa(int(max(password.RetryAfter, storage.RetryAfter)/time.Second)))
	writeJSON(w, http.StatusServiceUnavailable, api.ErrorBody{Error: &api.Error{Code: api.CodeUnavailable, Message: msgUnavailable}})
}

// writeJSON writes v with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	if v != nil {
		_ = json.NewEncoder(w).Encode(v)
	}
}
