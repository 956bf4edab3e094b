package login

import (
	"crypto/subtle"
	"net/http"
	"strings"
	"time"

	"github.com/cliniconnects/identity/idp/internal/account"
	"github.com/cliniconnects/identity/idp/internal/storage"
)

// The activation ticket: once the SMS code is confirmed,
// account.VerifyActivationCode returns a one-time secret (256 bits, stored
// as a hash, valid account.CodeTTL) that lets its holder choose the PIN and
// be signed in. It is as good as the code, so it never travels in a URL or
// a page: it lives in an HttpOnly cookie of this origin, SameSite=Strict,
// that names the authorization request it was issued for. The PIN page
// takes it only for that request, which loadRequest has found bound to
// this browser — so the ticket works in the browser and the flow that
// confirmed the code, and nowhere else.
const (
	ticketCookieName       = "cc_pin_ticket"
	secureTicketCookieName = "__Host-cc_pin_ticket"
	// maxTicketCookie bounds the cookie value read: a request id and a
	// ticket.
	maxTicketCookie = maxIDLen + 1 + 64
)

func (h *Handler) ticketCookie() string {
	if h.d.Binder.Secure {
		return secureTicketCookieName
	}
	return ticketCookieName
}

// setTicket gives the browser the ticket of request reqID.
func (h *Handler) setTicket(w http.ResponseWriter, reqID, ticket string) {
	http.SetCookie(w, &http.Cookie{
		Name: h.ticketCookie(), Value: reqID + "." + ticket, Path: "/",
		MaxAge: int(account.CodeTTL / time.Second), Secure: h.d.Binder.Secure,
		HttpOnly: true, SameSite: http.SameSiteStrictMode,
	})
}

// clearTicket expires the ticket cookie.
func (h *Handler) clearTicket(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{
		Name: h.ticketCookie(), Value: "", Path: "/", MaxAge: -1, Secure: h.d.Binder.Secure,
		HttpOnly: true, SameSite: http.SameSiteStrictMode,
	})
}

// ticketFor returns the browser's ticket when it was issued for req; ""
// when the browser has none, or one of another request.
func (h *Handler) ticketFor(r *http.Request, req storage.AuthRequest) string {
	c, err := r.Cookie(h.ticketCookie())
	if err != nil || len(c.Value) > maxTicketCookie {
		return ""
	}
	id, ticket, ok := strings.Cut(c.Value, ".")
	if !ok || ticket == "" || subtle.ConstantTimeCompare([]byte(id), []byte(req.ID)) != 1 {
		return ""
	}
	return ticket
}
