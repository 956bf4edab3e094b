package storage

import (
	"log/slog"
	"time"
)

// AuthRequest is an authorization request between /authorize and the token
// exchange. Its ID travels through the login pages; the authorization code
// is stored only as a hash.
type AuthRequest struct {
	ID                  string // random, ≥128 bits
	ClientID            string
	RedirectURI         string
	State               string
	Nonce               string
	Scopes              []string
	ResponseType        string
	ResponseMode        string
	CodeChallenge       string
	CodeChallengeMethod string
	Prompt              []string
	MaxAge              *time.Duration // nil when not sent
	LoginHint           string
	HintSubject         string // subject of a valid id_token_hint sent with the request; "" when none
	// BrowserHash is the SHA-256 of the binding cookie of the browser that
	// sent /authorize: only that browser may finish the request.
	BrowserHash string
	// ACRValues are the request's acr_values; ACRMFA asks for two factors.
	ACRValues []string
	CreatedAt time.Time
	ExpiresAt time.Time

	// Set by CompleteAuthRequest once the user has authenticated.
	UserID    string
	AuthTime  time.Time
	AMR       []string
	SessionID string // the browser session's id hash, when there is one
	Done      bool

	// Set by SetAuthRequestCode and RedeemCode.
	CodeHash   string    // hash of the issued authorization code
	RedeemedAt time.Time // zero until the code has been exchanged
	FamilyID   string    // token family the redemption produced
}

// AuthResult is what a successful authentication adds to an AuthRequest.
type AuthResult struct {
	UserID    string
	AuthTime  time.Time
	AMR       []string
	SessionID string
}

// Session is a browser (SSO) session. The cookie carries a random id; the
// store keeps only its hash.
type Session struct {
	IDHash     string
	UserID     string
	AuthTime   time.Time
	AMR        []string
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time
	RevokedAt  time.Time // zero while valid
	// SignInMethod is SignInEmail or SignInPhone ("" reads as email):
	// sessions signed in by phone end when the clinician's phone changes.
	SignInMethod string
	Device       string // what the browser said it was, for the account page
}

// LogValue keeps the id hash out of logs.
func (s Session) LogValue() slog.Value { return slog.GroupValue(slog.String("user", s.UserID)) }

// AccessToken records an issued access token (a JWT) so that it can be
// revoked and introspected. ID is the token's jti.
type AccessToken struct {
	ID        string
	FamilyID  string // "" for client_credentials tokens
	ClientID  string
	Subject   string // user id, or the client id for client_credentials
	Audience  []string
	Scopes    []string
	CreatedAt time.Time
	ExpiresAt time.Time
	RevokedAt time.Time
}

// RefreshToken is stored only by the hash of its value. Tokens that descend
// from one authorization code form a family; presenting a rotated token
// revokes the whole family.
type RefreshToken struct {
	IDHash    string
	FamilyID  string
	ClientID  string
	UserID    string
	Scopes    []string
	Audience  []string
	AuthTime  time.Time
	AMR       []string
	CreatedAt time.Time
	ExpiresAt time.Time
	RotatedAt time.Time // zero until exchanged for a successor
	RevokedAt time.Time // zero while valid
	// SuccessorHash is the hash of the token this one was rotated into
	// (the latest, when a retry within the reuse window replaced it).
	SuccessorHash string
	// Device is the app that holds the family, for the account page; a
	// successor stored by RotateRefreshToken without one keeps its
	// predecessor's.
	Device string
}

// LogValue keeps the token hash out of logs.
func (t RefreshToken) LogValue() slog.Value {
	return slog.GroupValue(slog.String("family", t.FamilyID), slog.String("client", t.ClientID))
}

// SigningKey is a token signing key. The private key is encrypted with the
// key-encryption key before it reaches the store.
type SigningKey struct {
	ID         string // the JWK kid
	Algorithm  string // RS256
	PrivateKey []byte // encrypted PKCS#8
	PublicKey  []byte // PKIX DER
	CreatedAt  time.Time
	// ActivateAt: signs from then on (published in the JWKS before that).
	ActivateAt time.Time
	// ExpireAt: no longer published; nothing it signed is still valid.
	ExpireAt time.Time
}

// LogValue keeps key material out of logs.
func (k SigningKey) LogValue() slog.Value { return slog.StringValue(k.ID) }

// Throttle counts failed attempts for one key ("account:<id>", "ip:<addr>").
type Throttle struct {
	Key           string
	Failures      int
	LastFailureAt time.Time
	LockedUntil   time.Time // zero when not locked
}

// Failure describes one failed attempt for RecordFailure. The backend applies
// it atomically: a count whose last failure is before ResetBefore starts
// again at 1; when the count reaches LockAfter, LockedUntil is set.
type Failure struct {
	Now         time.Time
	ResetBefore time.Time
	LockAfter   int
	LockUntil   time.Time
}
