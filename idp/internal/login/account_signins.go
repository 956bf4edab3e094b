package login

import (
	"context"
	"errors"
	"net/http"

	"github.com/cliniconnects/identity/idp/internal/account"
	"github.com/cliniconnects/identity/idp/internal/storage"
)

// signInsPage is /account/sign-ins: where the user is signed in —
// browser sessions and apps holding refresh tokens — with device and last
// use, each with a button that ends it.
type signInsPage struct {
	Title     string
	Notice    string
	FormError string
	Items     []signInItem
}

// signInItem is one sign-in as the page shows it.
type signInItem struct {
	Kind, ID string // what EndSignIn takes
	What     string
	Device   string
	SignedIn string
	LastUsed string
	Current  bool // this browser's own session
}

var signInsNotices = map[string]string{"ended": noticeSignInEnded}

// signInsPage lists u's sign-ins; current is this browser's session.
func (h *Handler) signInsPage(ctx context.Context, u storage.User, current storage.Session) (signInsPage, error) {
	list, err := h.acct.SignIns(ctx, u.ID)
	if err != nil {
		return signInsPage{}, err
	}
	p := signInsPage{Title: titleSignIns}
	names := map[string]string{}
	for _, si := range list {
		it := signInItem{Kind: si.Kind, ID: si.ID, Device: si.Device, SignedIn: when(si.SignedInAt), LastUsed: when(si.LastUsedAt)}
		switch {
		case si.Kind == storage.SignInSession && si.Method == storage.SignInPhone:
			it.What = "Browser, signed in with mobile number and PIN"
		case si.Kind == storage.SignInSession:
			it.What = "Browser, signed in with email and password"
			it.Current = si.ID == current.IDHash
		default:
			name, ok := names[si.ClientID]
			if !ok {
				name = si.ClientID
				if c, err := h.d.Store.GetClient(ctx, si.ClientID); err == nil && c.Name != "" {
					name = c.Name
				}
				names[si.ClientID] = name
			}
			it.What = "App: " + name
		}
		p.Items = append(p.Items, it)
	}
	return p, nil
}

// showSignIns answers GET /account/sign-ins.
func (h *Handler) showSignIns(w http.ResponseWriter, r *http.Request) {
	s, u, ok := h.signedIn(w, r)
	if !ok {
		return
	}
	p, err := h.signInsPage(r.Context(), u, s)
	if err != nil {
		h.internalError(w, r, "listing sign-ins", err)
		return
	}
	p.Notice = signInsNotices[r.URL.Query().Get("notice")]
	h.render(w, r, http.StatusOK, pageSignIns, p)
}

// endSignIn answers POST /account/sign-ins/end: one of the user's own
// sign-ins ends (account.EndSignIn checks it is theirs). Ending this
// browser's session signs it out.
func (h *Handler) endSignIn(w http.ResponseWriter, r *http.Request) {
	s, u, ok := h.signedIn(w, r)
	if !ok || !h.parseForm(w, r) {
		return
	}
	kind, id := r.PostForm.Get("kind"), r.PostForm.Get("id")
	err := account.ErrNoSuchSignIn
	if (kind == storage.SignInSession || kind == storage.SignInTokens) && id != "" && len(id) <= maxIDLen {
		err = h.acct.EndSignIn(r.Context(), self(r, u), kind, id)
	}
	switch {
	case errors.Is(err, account.ErrNoSuchSignIn):
		p, err := h.signInsPage(r.Context(), u, s)
		if err != nil {
			h.internalError(w, r, "listing sign-ins", err)
			return
		}
		p.Title, p.FormError = titleSignInsError, msgSignInGone
		h.render(w, r, http.StatusNotFound, pageSignIns, p)
	case err != nil:
		h.internalError(w, r, "ending sign-in", err)
	case kind == storage.SignInSession && id == s.IDHash:
		h.signOut(w, r)
	default:
		http.Redirect(w, r, "/account/sign-ins?notice=ended", http.StatusSeeOther)
	}
}
