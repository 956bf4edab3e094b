package adminapi

import (
	"cmp"
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/cliniconnects/identity/idp/internal/account"
	"github.com/cliniconnects/identity/idp/internal/authz"
	"github.com/cliniconnects/identity/idp/internal/clients"
	"github.com/cliniconnects/identity/idp/internal/password"
	"github.com/cliniconnects/identity/idp/internal/storage"
	api "github.com/cliniconnects/identity/shared/adminapi"
)

// targetTypeClient is the audit target type of OIDC clients.
const targetTypeClient = "client"

// listClients answers GET /clients.
func (h *Handler) listClients(w http.ResponseWriter, r *http.Request, c *call) {
	if d := authz.Can(c.actor, api.PermClientsRead, nil); d != nil {
		h.fail(w, r, d)
		return
	}
	list, err := h.d.Store.ListClients(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := api.OIDCClientList{Items: []api.OIDCClient{}}
	for _, cl := range list {
		out.Items = append(out.Items, toAPIClient(cl))
	}
	writeJSON(w, http.StatusOK, out)
}

// getClient answers GET /clients/{id} with its ETag.
func (h *Handler) getClient(w http.ResponseWriter, r *http.Request, c *call) {
	if d := authz.Can(c.actor, api.PermClientsRead, nil); d != nil {
		h.fail(w, r, d)
		return
	}
	cl, err := h.d.Store.GetClient(r.Context(), r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	respondClient(w, http.StatusOK, cl)
}

func respondClient(w http.ResponseWriter, status int, cl storage.Client) {
	setETag(w, clientVersion(cl))
	writeJSON(w, status, toAPIClient(cl))
}

// createClient answers POST /clients: validated and stored by
// clients.Register; a confidential client gets a generated secret,
// answered once and stored only as a hash.
func (h *Handler) createClient(w http.ResponseWriter, r *http.Request, c *call) {
	if d := authz.Can(c.actor, api.PermClientsWrite, nil); d != nil {
		h.fail(w, r, d)
		return
	}
	var in api.NewOIDCClient
	if err := decode(w, r, &in); err != nil {
		h.fail(w, r, err)
		return
	}
	nc := newClientInput(in)
	if !in.Public {
		nc.Secret, nc.SecretGenerated = password.GenerateSecret(), true
	}
	ctx := r.Context()
	var out storage.Client
	err := h.d.Store.InTx(ctx, func(tx storage.Storage) error {
		cl, err := clients.Register(ctx, tx, h.d.Hasher, nc)
		if err != nil {
			return clientFieldErr(err)
		}
		if err := c.audit(ctx, tx, h.d.Now(), api.ActionClientCreate, targetTypeClient, cl.ID, clientChanges(storage.Client{}, cl)); err != nil {
			return err
		}
		out = cl
		return nil
	})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Location", api.BasePath+"/clients/"+url.PathEscape(out.ID))
	setETag(w, clientVersion(out))
	writeJSON(w, http.StatusCreated, api.OIDCClientWithSecret{Client: toAPIClient(out), Secret: nc.Secret})
}

func newClientInput(in api.NewOIDCClient) clients.NewClient {
	nc := clients.NewClient{
		ID: in.ID, Name: in.Name, Public: in.Public,
		RedirectURIs: in.RedirectURIs, PostLogoutRedirectURIs: in.PostLogoutRedirectURIs,
		GrantTypes: in.GrantTypes, AdmitRoles: fromAPIRoles(in.AdmitRoles), Scopes: in.Scopes,
		SignInMethod: string(in.SignInMethod), RequireMFA: in.RequireMFA,
	}
	for _, t := range in.AdmitTypes {
		nc.AdmitTypes = append(nc.AdmitTypes, storage.UserType(t))
	}
	return nc
}

// clientFieldErr names the JSON member of a clients validation error.
func clientFieldErr(err error) error {
	var fe *account.FieldError
	if !errors.As(err, &fe) {
		return err
	}
	members := map[string]string{
		"redirect_uri": "redirect_uris", "post_logout_redirect_uri": "post_logout_redirect_uris",
		"grant": "grant_types", "admit_role": "admit_roles", "admit_type": "admit_types", "scope": "scopes",
		"sign_in": "sign_in_method",
	}
	field := fe.Field
	if m, ok := members[field]; ok {
		field = m
	}
	return &apiError{code: api.CodeValidation, message: msgValidation, fields: map[string]string{field: fe.Message}, cause: err}
}

// updateClient answers PATCH /clients/{id}, guarded by the version. The
// merged client is validated as a new registration would be.
func (h *Handler) updateClient(w http.ResponseWriter, r *http.Request, c *call) {
	if d := authz.Can(c.actor, api.PermClientsWrite, nil); d != nil {
		h.fail(w, r, d)
		return
	}
	var in api.OIDCClientUpdate
	err := decode(w, r, &in)
	var pre precondition
	if err == nil {
		pre, err = readPrecondition(r, in.Version)
	}
	if err == nil {
		err = pre.require()
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	id := r.PathValue("id")
	out, err := h.changeClient(r.Context(), c, id, pre, api.ActionClientUpdate, func(cl *storage.Client) error {
		merged := clients.NewClient{
			ID: cl.ID, Name: cl.Name, Public: cl.Public, RedirectURIs: cl.RedirectURIs,
			PostLogoutRedirectURIs: cl.PostLogoutRedirectURIs, GrantTypes: cl.GrantTypes,
			AdmitRoles: cl.AdmitRoles, AdmitTypes: cl.AdmitTypes, Scopes: cl.Scopes, SignInMethod: cl.SignInMethod,
			RequireMFA: cl.RequireMFA,
		}
		if in.Name != nil {
			merged.Name = *in.Name
		}
		if in.RedirectURIs != nil {
			merged.RedirectURIs = *in.RedirectURIs
		}
		if in.PostLogoutRedirectURIs != nil {
			merged.PostLogoutRedirectURIs = *in.PostLogoutRedirectURIs
		}
		if in.GrantTypes != nil {
			merged.GrantTypes = *in.GrantTypes
		}
		if in.AdmitRoles != nil {
			merged.AdmitRoles = fromAPIRoles(*in.AdmitRoles)
		}
		if in.AdmitTypes != nil {
			merged.AdmitTypes = []storage.UserType{}
			for _, t := range *in.AdmitTypes {
				merged.AdmitTypes = append(merged.AdmitTypes, storage.UserType(t))
			}
		}
		if in.Scopes != nil {
			merged.Scopes = *in.Scopes
		}
		if in.SignInMethod != nil {
			merged.SignInMethod = string(*in.SignInMethod)
		}
		if in.RequireMFA != nil {
			merged.RequireMFA = *in.RequireMFA
		}
		valid, err := validateClient(merged)
		if err != nil {
			return err
		}
		next := *cl
		next.Name, next.RedirectURIs, next.PostLogoutRedirectURIs = valid.Name, valid.RedirectURIs, valid.PostLogoutRedirectURIs
		next.GrantTypes, next.AdmitRoles, next.AdmitTypes, next.Scopes = valid.GrantTypes, valid.AdmitRoles, valid.AdmitTypes, valid.Scopes
		next.SignInMethod, next.RequireMFA = valid.SignInMethod, valid.RequireMFA
		if c.token.ClientID == cl.ID && (!slices.Contains(next.Scopes, api.Scope) || !next.Admits(c.actor)) {
			return apiErr(api.CodeSelfLockout, "this change would lock you out of the client you are signed in with")
		}
		if len(clientChanges(*cl, next)) == 0 {
			return errUnchanged
		}
		*cl = next
		return nil
	})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	respondClient(w, http.StatusOK, out.client)
}

// rotateClientSecret answers POST /clients/{id}/secret: a new secret for a
// confidential client, answered once; the old one stops working.
func (h *Handler) rotateClientSecret(w http.ResponseWriter, r *http.Request, c *call) {
	if d := authz.Can(c.actor, api.PermClientsWrite, nil); d != nil {
		h.fail(w, r, d)
		return
	}
	pre, err := actionPrecondition(w, r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	secret := password.GenerateSecret()
	hash, err := clients.HashSecret(h.d.Hasher, secret, true)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out, err := h.changeClient(r.Context(), c, r.PathValue("id"), pre, api.ActionClientRotateSecret, func(cl *storage.Client) error {
		if cl.Public {
			return apiErr(api.CodeInvalidState, "a public client has no secret")
		}
		cl.SecretHash = hash
		return nil
	})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	setETag(w, clientVersion(out.client))
	writeJSON(w, http.StatusOK, api.OIDCClientWithSecret{Client: toAPIClient(out.client), Secret: secret})
}

// deleteClient answers DELETE /clients/{id}: the client goes, and with it
// every auth request and token issued to it.
func (h *Handler) deleteClient(w http.ResponseWriter, r *http.Request, c *call) {
	if d := authz.Can(c.actor, api.PermClientsWrite, nil); d != nil {
		h.fail(w, r, d)
		return
	}
	pre, err := readPrecondition(r, 0)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	id := r.PathValue("id")
	if id == c.token.ClientID {
		h.fail(w, r, apiErr(api.CodeSelfLockout, "you cannot delete the client you are signed in with"))
		return
	}
	ctx := r.Context()
	err = h.d.Store.InTx(ctx, func(tx storage.Storage) error {
		cl, err := tx.GetClient(ctx, id)
		if err != nil {
			return err
		}
		if err := pre.check(clientVersion(cl)); err != nil {
			return err
		}
		if err := tx.DeleteClient(ctx, id); err != nil {
			return err
		}
		return c.audit(ctx, tx, h.d.Now(), api.ActionClientDelete, targetTypeClient, id, clientChanges(cl, storage.Client{}))
	})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

type clientResult struct{ client storage.Client }

// changeClient applies fn to the current client, guarded by pre, and
// audits, in one transaction.
func (h *Handler) changeClient(ctx context.Context, c *call, id string, pre precondition, action string, fn func(*storage.Client) error) (clientResult, error) {
	var out clientResult
	err := h.d.Store.InTx(ctx, func(tx storage.Storage) error {
		var before storage.Client
		after, err := tx.UpdateClient(ctx, id, func(cl *storage.Client) error {
			before = *cl
			if err := pre.check(clientVersion(*cl)); err != nil {
				return err
			}
			return fn(cl)
		})
		if errors.Is(err, errUnchanged) {
			out.client = before
			return nil
		}
		if err != nil {
			return err
		}
		out.client = after
		return c.audit(ctx, tx, h.d.Now(), action, targetTypeClient, id, clientChanges(before, after))
	})
	return out, err
}

// validateClient runs the clients package's validation (the one
// registration uses) on a merged client. The secret is not changed here:
// a confidential client gets a stand-in of the minimum length, which
// passes the secret check and is thrown away.
func validateClient(nc clients.NewClient) (storage.Client, error) {
	nc.Secret = ""
	if !nc.Public {
		nc.Secret = strings.Repeat("x", clients.MinSecretLength)
	}
	out, err := clients.Validate(nc)
	if err != nil {
		return storage.Client{}, clientFieldErr(err)
	}
	return out, nil
}

// clientChanges lists the fields that differ (the secret only as changed).
func clientChanges(before, after storage.Client) map[string][2]any {
	ch := map[string][2]any{}
	str := func(name, a, b string) {
		if a != b {
			ch[name] = [2]any{nilIfEmpty(a), nilIfEmpty(b)}
		}
	}
	list := func(name string, a, b []string) {
		if !slices.Equal(a, b) {
			ch[name] = [2]any{nonNil(a), nonNil(b)}
		}
	}
	str("id", before.ID, after.ID)
	str("name", before.Name, after.Name)
	if before.Public != after.Public {
		ch["public"] = [2]any{before.Public, after.Public}
	}
	list("redirect_uris", before.RedirectURIs, after.RedirectURIs)
	list("post_logout_redirect_uris", before.PostLogoutRedirectURIs, after.PostLogoutRedirectURIs)
	list("grant_types", before.GrantTypes, after.GrantTypes)
	list("admit_roles", roleStrings(before.AdmitRoles), roleStrings(after.AdmitRoles))
	var bt, at []string
	for _, t := range before.AdmitTypes {
		bt = append(bt, string(t))
	}
	for _, t := range after.AdmitTypes {
		at = append(at, string(t))
	}
	list("admit_types", bt, at)
	list("scopes", before.Scopes, after.Scopes)
	if before.ID == "" || after.ID == "" || cmp.Or(before.SignInMethod, storage.SignInEmail) != cmp.Or(after.SignInMethod, storage.SignInEmail) {
		str("sign_in_method", before.SignInMethod, after.SignInMethod)
	}
	if before.RequireMFA != after.RequireMFA {
		ch["require_mfa"] = [2]any{before.RequireMFA, after.RequireMFA}
	}
	if before.SecretHash != after.SecretHash {
		ch["secret"] = [2]any{secretChanged, secretChanged}
	}
	return ch
}
