package login

import (
	"errors"
	"maps"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/cliniconnects/identity/idp/internal/password"
	"github.com/cliniconnects/identity/idp/internal/storage"
)

// The page for a request refused because the provider is at capacity, or
// because its database is unavailable.
const (
	titleBusy      = "Please try again"
	msgBusy        = "Too many people are signing in right now. Please wait a moment and try again."
	msgUnavailable = "The service is temporarily unavailable. Please try again in a moment."
)

// errorPage is the data of the generic error page.
type errorPage struct {
	Title   string
	Message string
}

// RenderError shows the generic error page with status. title and message
// must be fixed, user-safe texts (never err.Error()); log the details.
func (h *Handler) RenderError(w http.ResponseWriter, r *http.Request, status int, title, message string) {
	h.render(w, r, status, pageError, errorPage{Title: title, Message: message})
}

// RenderUnavailable answers 503 with a Retry-After and the "please try
// again" page: nothing was checked or changed, because the provider is at
// capacity (password.ErrBusy: hashing, or the server's admission bound) or
// its database is unavailable (storage.ErrUnavailable).
func (h *Handler) RenderUnavailable(w http.ResponseWriter, r *http.Request, cause error) {
	msg, retry := msgBusy, password.RetryAfter
	if errors.Is(cause, storage.ErrUnavailable) {
		msg, retry = msgUnavailable, storage.RetryAfter
	}
	setRetryAfter(w, retry)
	h.RenderError(w, r, http.StatusServiceUnavailable, titleBusy, msg)
}

// RenderBusy is RenderUnavailable for a provider at capacity.
func (h *Handler) RenderBusy(w http.ResponseWriter, r *http.Request) {
	h.RenderUnavailable(w, r, password.ErrBusy)
}

// internalError logs err and shows the generic "something went wrong" page;
// when nothing could be checked because hashing is at capacity
// (password.ErrBusy) or the database is unavailable
// (storage.ErrUnavailable), it answers 503 with a Retry-After and a "try
// again" page instead.
func (h *Handler) internalError(w http.ResponseWriter, r *http.Request, what string, err error) {
	if errors.Is(err, password.ErrBusy) || errors.Is(err, storage.ErrUnavailable) {
		h.log.WarnContext(r.Context(), "login: "+what+": try again later", "err", err)
		h.RenderUnavailable(w, r, err)
		return
	}
	h.log.ErrorContext(r.Context(), "login: "+what, "err", err)
	h.RenderError(w, r, http.StatusInternalServerError, titleProblem, msgInternal)
}

func (h *Handler) expired(w http.ResponseWriter, r *http.Request) {
	h.RenderError(w, r, http.StatusBadRequest, titleExpired, msgExpired)
}

// forbidden answers a cross-origin request refused by CrossOriginProtection.
func (h *Handler) forbidden(w http.ResponseWriter, r *http.Request) {
	h.log.WarnContext(r.Context(), "login: cross-origin request refused",
		"method", r.Method, "path", r.URL.Path,
		"sec_fetch_site", r.Header.Get("Sec-Fetch-Site"), "origin", r.Header.Get("Origin"))
	h.RenderError(w, r, http.StatusForbidden, titleForbidden, msgForbidden)
}

// loggedOut shows the "signed out" page, where logout ends when it may not
// redirect back to the client. It changes nothing.
func (h *Handler) loggedOut(w http.ResponseWriter, r *http.Request) {
	h.render(w, r, http.StatusOK, pageLoggedOut, errorPage{Title: "Signed out"})
}

// confirmLogoutPage is the data of the "sign out?" page.
type confirmLogoutPage struct {
	Title  string
	Fields []hiddenField
}

type hiddenField struct{ Name, Value string }

// ConfirmLogout shows the "sign out?" page for end_session requests that
// may not sign out by themselves; its form posts fields back with
// confirm=1.
func (h *Handler) ConfirmLogout(w http.ResponseWriter, r *http.Request, fields url.Values) {
	p := confirmLogoutPage{Title: "Sign out?"}
	for _, k := range slices.Sorted(maps.Keys(fields)) {
		p.Fields = append(p.Fields, hiddenField{k, fields.Get(k)})
	}
	h.render(w, r, http.StatusOK, pageConfirmOut, p)
}

// setRetryAfter tells the client when to try again: d in whole seconds,
// rounded up, so it never says 0 while a lock still holds.
func setRetryAfter(w http.ResponseWriter, d time.Duration) {
	w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(d.Seconds()))))
}
