package oidcprovider

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/cliniconnects/identity/idp/internal/binding"
	"github.com/cliniconnects/identity/idp/internal/storage"
	adminapi "github.com/cliniconnects/identity/shared/adminapi"
)

// DefaultAuthRequestTTL is how long a user has between /authorize and the
// code exchange.
const DefaultAuthRequestTTL = 10 * time.Minute

// authRequest adapts storage.AuthRequest to op.AuthRequest.
type authRequest struct {
	r storage.AuthRequest
	// codeHash is set when the request was found by its code: the code is
	// redeemed only once the client is authenticated and PKCE and the
	// redirect URI are verified (redeem).
	codeHash string
	// adminAudience is added to the audience of tokens granted scope admin
	// (the admin API checks it); "" on error paths, where no token is made.
	adminAudience string
}

var (
	_ op.AuthRequest    = (*authRequest)(nil)
	_ op.LogAuthRequest = (*authRequest)(nil)
)

// AdaptAuthRequest lets callers outside this package (the login pages)
// hand a stored request to op, for example to op.AuthRequestError.
func AdaptAuthRequest(r storage.AuthRequest) op.AuthRequest { return &authRequest{r: r} }

// adapt wraps a stored request for op, with the admin API's audience.
func (s *Storage) adapt(r storage.AuthRequest) *authRequest {
	return &authRequest{r: r, adminAudience: adminapi.Audience(s.issuer)}
}

func (a *authRequest) GetID() string { return a.r.ID }

// GetACR is "mfa" when the user signed in with two factors (the value
// acr_values=mfa asks for), else none.
func (a *authRequest) GetACR() string {
	if slices.Contains(a.r.AMR, "mfa") {
		return ACRMFA
	}
	return ""
}
func (a *authRequest) GetAMR() []string { return a.r.AMR }
func (a *authRequest) GetAudience() []string {
	if a.adminAudience != "" && slices.Contains(a.r.Scopes, ScopeAdmin) {
		return []string{a.r.ClientID, a.adminAudience}
	}
	return []string{a.r.ClientID}
}
func (a *authRequest) GetAuthTime() time.Time { return a.r.AuthTime }
func (a *authRequest) GetClientID() string    { return a.r.ClientID }
func (a *authRequest) GetNonce() string       { return a.r.Nonce }
func (a *authRequest) GetRedirectURI() string { return a.r.RedirectURI }
func (a *authRequest) GetScopes() []string    { return a.r.Scopes }
func (a *authRequest) GetState() string       { return a.r.State }
func (a *authRequest) GetSubject() string     { return a.r.UserID }
func (a *authRequest) Done() bool             { return a.r.Done && a.r.UserID != "" }
func (a *authRequest) GetResponseType() oidc.ResponseType {
	return oidc.ResponseType(a.r.ResponseType)
}
func (a *authRequest) GetResponseMode() oidc.ResponseMode {
	return oidc.ResponseMode(a.r.ResponseMode)
}

// GetCodeChallenge passes the stored method through, so that op's
// verification refuses anything but S256 (CreateAuthRequest already did).
func (a *authRequest) GetCodeChallenge() *oidc.CodeChallenge {
	if a.r.CodeChallenge == "" {
		return nil
	}
	return &oidc.CodeChallenge{Challenge: a.r.CodeChallenge, Method: oidc.CodeChallengeMethod(a.r.CodeChallengeMethod)}
}

// LogValue keeps state, nonce and challenge out of logs.
func (a *authRequest) LogValue() slog.Value {
	return slog.GroupValue(slog.String("client", a.r.ClientID), slog.Bool("done", a.r.Done))
}

// CreateAuthRequest stores a validated authorization request. On top of
// op's checks it refuses PKCE methods other than S256 (op honours plain),
// requires PKCE from public clients and drops scopes the client may not
// have. Errors are oidc errors, so op redirects them to the (already
// validated) redirect URI.
func (s *Storage) CreateAuthRequest(ctx context.Context, req *oidc.AuthRequest, hintSubject string) (op.AuthRequest, error) {
	c, err := s.client(ctx, req.ClientID)
	if err != nil {
		return nil, oidc.ErrServerError().WithParent(err)
	}
	switch {
	case req.CodeChallenge != "" && req.CodeChallengeMethod != oidc.CodeChallengeMethodS256:
		return nil, oidc.ErrInvalidRequest().WithDescription("code_challenge_method must be S256")
	case req.CodeChallenge == "" && req.CodeChallengeMethod != "":
		return nil, oidc.ErrInvalidRequest().WithDescription("code_challenge is missing")
	case req.CodeChallenge == "" && c.Public:
		return nil, oidc.ErrInvalidRequest().WithDescription("PKCE with S256 is required for this client")
	}
	switch req.ResponseMode {
	case "", oidc.ResponseModeQuery, oidc.ResponseModeFragment:
	default:
		// form_post needs an inline script, which our CSP forbids.
		return nil, oidc.ErrInvalidRequest().WithDescription("response_mode must be query or fragment")
	}
	scopes := allowedScopes(c, req.Scopes)
	if len(scopes) == 0 {
		return nil, oidc.ErrInvalidScope().WithDescription("no supported scope requested")
	}
	browser := binding.HashFrom(ctx)
	if browser == "" {
		return nil, oidc.ErrServerError().WithParent(errors.New("authorization request without a browser binding"))
	}
	now := s.now().UTC()
	r := storage.AuthRequest{
		ID:                  randomToken(32),
		BrowserHash:         browser,
		ACRValues:           []string(req.ACRValues),
		ClientID:            c.ID,
		RedirectURI:         req.RedirectURI,
		State:               req.State,
		Nonce:               req.Nonce,
		Scopes:              scopes,
		ResponseType:        string(req.ResponseType),
		ResponseMode:        string(req.ResponseMode),
		CodeChallenge:       req.CodeChallenge,
		CodeChallengeMethod: string(req.CodeChallengeMethod),
		Prompt:              []string(req.Prompt),
		LoginHint:           req.LoginHint,
		HintSubject:         hintSubject,
		CreatedAt:           now,
		ExpiresAt:           now.Add(s.authRequestTTL),
	}
	if req.MaxAge != nil {
		d := time.Duration(*req.MaxAge) * time.Second
		r.MaxAge = &d
	}
	if err := s.store.CreateAuthRequest(ctx, r); err != nil {
		return nil, oidc.ErrServerError().WithParent(err)
	}
	return s.adapt(r), nil
}

// AuthRequestByID is used by op's callback after the login page completed
// the request; it takes the request callbackGuard read in the same HTTP
// request. A request whose code was already issued is not handed out
// again, so the callback cannot mint a second code (SetAuthRequestCode
// holds that under races).
func (s *Storage) AuthRequestByID(ctx context.Context, id string) (op.AuthRequest, error) {
	r, ok := keptAuthRequest(ctx, id)
	if !ok {
		var err error
		if r, err = s.store.GetAuthRequest(ctx, id); err != nil {
			return nil, oidc.ErrInvalidRequest().WithDescription("the sign-in request has expired; please start again").WithParent(err)
		}
	}
	if r.CodeHash != "" || !s.now().Before(r.ExpiresAt) {
		return nil, oidc.ErrInvalidRequest().WithDescription("the sign-in request was already used or has expired; please start again")
	}
	return s.adapt(r), nil
}

// SaveAuthCode stores the hash of the code op minted for request id.
func (s *Storage) SaveAuthCode(ctx context.Context, id, code string) error {
	if err := s.store.SetAuthRequestCode(ctx, id, hashToken(code)); err != nil {
		return oidc.ErrServerError().WithParent(err)
	}
	return nil
}

// AuthRequestByCode finds the request of a code without redeeming it: op
// calls it before it authenticates the client and checks PKCE and the
// redirect URI, so a leaked code sent without them must not burn the real
// client's exchange. The code is redeemed by redeem, when tokens are made.
// A code that was redeemed before is a replay: its tokens are revoked.
func (s *Storage) AuthRequestByCode(ctx context.Context, code string) (op.AuthRequest, error) {
	h := hashToken(code)
	r, err := s.store.GetAuthRequestByCode(ctx, h)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return nil, oidc.ErrInvalidGrant().WithDescription("invalid or expired authorization code")
	case err != nil:
		return nil, oidc.ErrServerError().WithParent(err)
	case !r.Done || r.UserID == "":
		return nil, oidc.ErrInvalidGrant().WithDescription("invalid or expired authorization code")
	case !r.RedeemedAt.IsZero():
		_, err := s.redeemCode(ctx, h)
		return nil, err
	}
	a := s.adapt(r)
	a.codeHash = h
	return a, nil
}

// redeem exchanges a request's code, once its client has been
// authenticated and PKCE and the redirect URI verified: the first
// exchange opens a new token family; any later one revokes that family and
// fails with invalid_grant. Requests not found by a code pass unchanged.
func (s *Storage) redeem(ctx context.Context, a *authRequest) error {
	if a.codeHash == "" {
		return nil
	}
	r, err := s.redeemCode(ctx, a.codeHash)
	if err != nil {
		return err
	}
	a.r, a.codeHash = r, ""
	return nil
}

func (s *Storage) redeemCode(ctx context.Context, codeHash string) (storage.AuthRequest, error) {
	r, err := s.store.RedeemCode(ctx, codeHash, randomToken(16), s.now().UTC())
	switch {
	case errors.Is(err, storage.ErrReused):
		s.logger.WarnContext(ctx, "authorization code presented again; its tokens were revoked")
		return r, oidc.ErrInvalidGrant().WithDescription("the authorization code was already used")
	case errors.Is(err, storage.ErrNotFound):
		return r, oidc.ErrInvalidGrant().WithDescription("invalid or expired authorization code")
	case err != nil:
		return r, oidc.ErrServerError().WithParent(err)
	}
	return r, nil
}

// DeleteAuthRequest is called by op after a successful code exchange. The
// row is kept: it is the record of the redeemed code that lets a replay
// revoke the tokens. DeleteExpired removes it when it expires.
func (s *Storage) DeleteAuthRequest(context.Context, string) error { return nil }
