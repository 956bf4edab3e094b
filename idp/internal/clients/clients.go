package clients

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/cliniconnects/identity/idp/internal/account"
	"github.com/cliniconnects/identity/idp/internal/config"
	"github.com/cliniconnects/identity/idp/internal/password"
	"github.com/cliniconnects/identity/idp/internal/storage"
)

// MinSecretLength is the shortest client secret accepted (characters).
const MinSecretLength = 32

// Scopes a client may be granted beyond the standard OIDC ones.
var extraScopes = []string{"admin"}

var idPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// NewClient is what registering a client takes.
type NewClient struct {
	ID     string
	Name   string
	Secret string // confidential clients; "" with Public
	// SecretGenerated says Secret came from password.GenerateSecret (256
	// random bits): it is stored as a SHA-256 digest and checked without
	// argon2id. Otherwise a person chose it and it gets argon2id.
	SecretGenerated        bool
	Public                 bool
	RedirectURIs           []string
	PostLogoutRedirectURIs []string
	GrantTypes             []string // default: authorization_code, refresh_token
	AdmitRoles             []storage.Role
	AdmitTypes             []storage.UserType
	Scopes                 []string
	// SignInMethod is storage.SignInEmail ("" means it) or
	// storage.SignInPhone: users sign in with mobile number and PIN, and
	// only clinicians are admitted.
	SignInMethod string
	// RequireMFA: everyone signs in to this client with two factors.
	RequireMFA bool
}

func fieldErr(field, format string, args ...any) error {
	return &account.FieldError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// Register validates c and stores it. Validation failures are
// *account.FieldError; a taken id is storage.ErrAlreadyExists.
func Register(ctx context.Context, store storage.Storage, hasher password.Hasher, c NewClient) (storage.Client, error) {
	out, err := validate(c)
	if err != nil {
		return storage.Client{}, err
	}
	if !c.Public {
		if out.SecretHash, err = HashSecret(hasher, c.Secret, c.SecretGenerated); err != nil {
			return storage.Client{}, err
		}
	}
	return store.CreateClient(ctx, out)
}

// HashSecret is the stored form of a client secret: a SHA-256 digest for
// one password.GenerateSecret made (generated), argon2id for one a person
// chose. A "generated" secret of another shape is refused, so a chosen
// secret never ends up behind the fast hash.
func HashSecret(hasher password.Hasher, secret string, generated bool) (string, error) {
	if generated {
		h, err := password.HashGenerated(secret)
		if err != nil {
			return "", fmt.Errorf("hash client secret: %w", err)
		}
		return h, nil
	}
	h, err := hasher.Hash(secret)
	if err != nil {
		return "", fmt.Errorf("hash client secret: %w", err)
	}
	return h, nil
}

// Validate checks c as registration does and returns the client it would
// store, without its secret hash; nothing is written. Failures are
// *account.FieldError. A confidential client's Secret is checked too, so a
// caller validating changes to an existing client (whose secret is not at
// hand) passes a stand-in of MinSecretLength characters.
func Validate(c NewClient) (storage.Client, error) {
	return validate(c)
}

func validate(c NewClient) (storage.Client, error) {
	if !idPattern.MatchString(c.ID) {
		return storage.Client{}, fieldErr("id", "%q must be 1–64 letters, digits, '.', '_' or '-'", c.ID)
	}
	switch {
	case c.Public && c.Secret != "":
		return storage.Client{}, fieldErr("secret", "a public client has no secret")
	case !c.Public && utf8.RuneCountInString(c.Secret) < MinSecretLength:
		return storage.Client{}, fieldErr("secret", "must be at least %d characters (or register a public client)", MinSecretLength)
	}
	grants := c.GrantTypes
	if len(grants) == 0 {
		grants = []string{storage.GrantAuthorizationCode, storage.GrantRefreshToken}
	}
	for _, g := range grants {
		switch g {
		case storage.GrantAuthorizationCode, storage.GrantRefreshToken:
		case storage.GrantClientCredentials:
			if c.Public {
				return storage.Client{}, fieldErr("grant", "client_credentials needs a confidential client")
			}
		default:
			return storage.Client{}, fieldErr("grant", "%q is not a grant type (authorization_code, refresh_token, client_credentials)", g)
		}
	}
	usesCode := slices.Contains(grants, storage.GrantAuthorizationCode)
	if usesCode && len(c.RedirectURIs) == 0 {
		return storage.Client{}, fieldErr("redirect_uri", "at least one is required for authorization_code")
	}
	for _, u := range c.RedirectURIs {
		if err := checkRedirectURI("redirect_uri", u); err != nil {
			return storage.Client{}, err
		}
	}
	for _, u := range c.PostLogoutRedirectURIs {
		if err := checkRedirectURI("post_logout_redirect_uri", u); err != nil {
			return storage.Client{}, err
		}
	}
	for _, r := range c.AdmitRoles {
		if !r.Valid() {
			return storage.Client{}, fieldErr("admit_role", "%q is not a role (super_admin, admin, assigning_manager)", r)
		}
	}
	for _, t := range c.AdmitTypes {
		if !t.Valid() {
			return storage.Client{}, fieldErr("admit_type", "%q is not a user type (employee, clinician)", t)
		}
	}
	for _, s := range c.Scopes {
		if !slices.Contains(extraScopes, s) {
			return storage.Client{}, fieldErr("scope", "%q is not a scope that can be granted (%s)", s, strings.Join(extraScopes, ", "))
		}
	}
	admitTypes := c.AdmitTypes
	switch c.SignInMethod {
	case "", storage.SignInEmail:
		c.SignInMethod = storage.SignInEmail
	case storage.SignInPhone:
		// Phone sign-in is the clinicians' mobile credential: nobody else
		// has one, so nobody else is admitted.
		if len(c.AdmitRoles) > 0 || slices.ContainsFunc(c.AdmitTypes, func(t storage.UserType) bool { return t != storage.UserTypeClinician }) {
			return storage.Client{}, fieldErr("sign_in", "a phone sign-in client admits clinicians only (drop the other admit rules)")
		}
		if !usesCode {
			return storage.Client{}, fieldErr("sign_in", "a phone sign-in client signs users in: it needs authorization_code")
		}
		if c.RequireMFA {
			// Number and PIN is the sign-in; there is no second step to ask.
			return storage.Client{}, fieldErr("sign_in", "a phone sign-in client cannot require two-step sign-in")
		}
		admitTypes = []storage.UserType{storage.UserTypeClinician}
	default:
		return storage.Client{}, fieldErr("sign_in", "%q is not a sign-in method (email, phone)", c.SignInMethod)
	}
	name := c.Name
	if name == "" {
		name = c.ID
	}
	return storage.Client{
		ID: c.ID, Name: name, Public: c.Public,
		RedirectURIs: c.RedirectURIs, PostLogoutRedirectURIs: c.PostLogoutRedirectURIs,
		GrantTypes: grants, AdmitRoles: c.AdmitRoles, AdmitTypes: admitTypes, Scopes: c.Scopes,
		SignInMethod: c.SignInMethod, RequireMFA: c.RequireMFA,
	}, nil
}

// checkRedirectURI accepts an absolute URI without fragment that is https,
// http on a loopback host (development, native apps per RFC 8252), or a
// private-use scheme of a native app (reverse domain name, with a dot).
func checkRedirectURI(field, raw string) error {
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Fragment != "" || strings.Contains(raw, "#") {
		return fieldErr(field, "%q must be an absolute URI without a fragment", raw)
	}
	switch {
	case u.Scheme == "https" && u.Host != "":
	case u.Scheme == "http" && config.IsLoopback(u.Hostname()):
	case u.Scheme == "http":
		return fieldErr(field, "%q uses http on a non-loopback host; use https", raw)
	case strings.Contains(u.Scheme, "."):
	default:
		return fieldErr(field, "%q must use https, loopback http, or a reverse-domain private scheme", raw)
	}
	return nil
}

// IsValidation reports whether err is a validation failure of input.
func IsValidation(err error) bool {
	var fe *account.FieldError
	return errors.As(err, &fe)
}
